"""The live engine's movement modes (core/movement): exercise mode counts repetitions
and raises form cues, gait mode analyses a walker, both on the analysis thread as result
sinks, publishing on the engine's bus. A mixin of LiveEngine (core/run/live.py), which
owns the capture worker, the analysis worker and the bus these use."""

from __future__ import annotations

import threading
from dataclasses import replace

from posture_monitor.core.common.settings import ExerciseSettings, GaitSettings
from posture_monitor.core.movement.tracker import ExerciseTracker, FormCue, RepFinished
from posture_monitor.core.run import events as ev
from posture_monitor.core.run.exercise_sink import ExerciseSink, make_tracker
from posture_monitor.core.run.gait_sink import GaitSink
from posture_monitor.core.run.sinks import Analysed


class GuardedSink:
    """A sink written on the analysis thread and closed from another one (the window, or
    the capture thread at the end of a file): one lock, so a close never meets a write
    half done."""

    def __init__(self, sink) -> None:
        self.sink = sink
        self._lock = threading.Lock()

    def write(self, item: Analysed) -> None:
        with self._lock:
            self.sink.write(item)

    def close(self, status: str) -> None:
        with self._lock:
            self.sink.close(status)


class MovementModes:
    """Exercise and gait mode of the live engine (needs self.analysis, self.capture and
    self.bus)."""

    def _init_movement_modes(self) -> None:
        self._exercise: ExerciseSink | None = None  # exercise mode (counts on the bus)
        self._exercise_settings: ExerciseSettings | None = None
        self._gait: GuardedSink | None = None  # gait mode (GaitUpdated on the bus)
        self._gait_settings: GaitSettings | None = None  # kept at the end, for a seek

    # --- exercise mode -------------------------------------------------------------
    def start_exercise(self, settings: ExerciseSettings) -> ExerciseTracker:
        """Count repetitions of `settings.name` on every analysed frame from now on:
        ExerciseStarted, then RepCompleted and FormCueRaised as they happen, on the bus.
        A recording started while it runs also writes <stem>_reps.csv and stores the
        exercise with its session. Replaces an exercise already running. Posture alerts
        are not raised meanwhile (a squat is not a slouch); a seek in a video starts the
        count again."""
        tracker = make_tracker(settings)  # an unknown preset raises here, not later
        self.stop_exercise()
        sink = ExerciseSink(tracker, on_event=self._exercise_event)
        self._exercise, self._exercise_settings = sink, settings
        self.analysis.alerts_paused = True
        self.analysis.measure_angles = True
        self.analysis.add_sink(sink)
        self.bus.publish(ev.ExerciseStarted(tracker.preset.name, tracker.preset.title,
                                            tracker.side))
        return tracker

    def stop_exercise(self) -> dict | None:
        """End exercise mode (a repetition under way is reported as incomplete);
        ExerciseStopped carries the summary, which is also returned."""
        sink, self._exercise = self._exercise, None
        self._exercise_settings = None
        if sink is None:
            return None
        self.analysis.remove_sink(sink)
        self.analysis.alerts_paused = self._gait_settings is not None
        self.analysis.measure_angles = False
        sink.close("complete")
        self.bus.publish(ev.ExerciseStopped(sink.summary))
        return sink.summary

    @property
    def exercise(self) -> ExerciseTracker | None:
        """The tracker of exercise mode. Its state changes on the analysis thread: views
        use only its pure helpers (primary_value, signal_name) and the bus."""
        return self._exercise.tracker if self._exercise is not None else None

    def _exercise_event(self, event) -> None:  # on the analysis thread
        if isinstance(event, RepFinished):
            rep = event.rep
            count = self._exercise.tracker.complete_count() if self._exercise else 0
            self.bus.publish(ev.RepCompleted(rep.movement.end_s, rep.row(), count))
        elif isinstance(event, FormCue):
            f = event.fault
            self.bus.publish(ev.FormCueRaised(f.t, f.check, event.title, event.cue, f.side))

    # --- gait mode -----------------------------------------------------------------
    def start_gait(self, settings: GaitSettings | None = None) -> None:
        """Analyse the gait of whoever walks across the view from the next frame on:
        GaitUpdated on the bus about every second of stream time while someone is seen,
        and a final one (t=None) at the end of a video or when gait mode stops. The pose
        model looks for two people meanwhile (the walker is chosen among them: a person
        standing or jumping is not); posture alerts are not raised; a seek in a video
        starts the analysis again. A recording started meanwhile also writes
        <stem>_gait.csv and <stem>_gait_cycles.csv. Replaces a gait analysis running."""
        settings = replace(settings or GaitSettings(), enabled=True)
        self._end_gait(publish=False)
        sink = GuardedSink(GaitSink(settings, on_event=self.bus.publish))
        self._gait, self._gait_settings = sink, settings
        self.analysis.alerts_paused = True
        # Gait events need every frame: a file plays at the pace analysis allows
        self.capture.lossless = not self.capture.is_live
        self.analysis.people_sought = replace(self.analysis.settings,
                                              gait=settings).people_sought
        self.analysis.add_sink(sink)

    def stop_gait(self) -> dict | None:
        """End gait mode; the final GaitUpdated carries the analysis of the whole walk,
        whose summary (the sidecar's `gait` object) is also returned."""
        if self._gait_settings is None:
            return None
        self._gait_settings = None
        summary = self._end_gait(publish=True)
        self.analysis.people_sought = self.analysis.settings.people_sought
        self.capture.lossless = False
        self.analysis.alerts_paused = self._exercise is not None
        return summary

    @property
    def gait(self) -> GaitSettings | None:
        """The settings of gait mode; None outside it."""
        return self._gait_settings

    def _end_gait(self, publish: bool) -> dict | None:
        """The analysis so far finished: the final GaitUpdated when `publish` (at the
        end of a video, or gait mode stopping), none when it is void (a seek)."""
        guarded, self._gait = self._gait, None
        if guarded is None:
            return None
        self.analysis.remove_sink(guarded)
        if not publish:
            guarded.sink.on_event = None
        guarded.close("complete")
        return guarded.sink.summary

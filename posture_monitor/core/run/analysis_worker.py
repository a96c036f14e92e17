"""The window's analysis thread: the newest captured frame through the pipeline, into the
result sinks, and what happened onto the event bus.

It owns the pipeline (one MediaPipe landmarker per thread), so everything that changes
the pipeline or reads its results happens here, in frame order: a new baseline, a
calibration (the person's neutral posture collected frame by frame), the check that the
camera set-up still matches the baseline, and the alert events. Those are derived from
every analysed frame's alert state, so a view never misses a start between two looks:
each transition into "alert" is one AlertStarted, whatever the frame rate. Whom to
measure (the window's click on a person) is applied here too, and given up when that
person has left the view for good (PersonChoice).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace

from posture_monitor.core.capture.worker import CaptureWorker
from posture_monitor.core.common.errors import UserError
from posture_monitor.core.common.settings import AnalysisSettings
from posture_monitor.core.posture.baseline import BaselineCollector, setup_change
from posture_monitor.core.posture.person_choice import parse_rule
from posture_monitor.core.posture.pipeline import FrameResult, PosePipeline
from posture_monitor.core.run import events as ev
from posture_monitor.core.run.sinks import Analysed, ResultSink
from posture_monitor.core.vision.people import PeopleTracker

# Every frame is checked against the baseline's set-up: a change must hold this long (in
# stream time) before alerts are paused, so one odd frame (a turn, a wrong detection)
# does not pause them.
SETUP_CHANGE_S = 1.0
PROGRESS_STEP = 0.02  # calibration progress is published in steps of this fraction
# A chosen person unseen this long (stream time) has left for good: the tracker has ended
# their track, and if they come back they get a new number. Measurement goes back to auto.
PERSON_GONE_S = PeopleTracker().max_gap_s


@dataclass(frozen=True)
class PersonChoice(ev.Event):
    """Whom the pipeline measures from stream time `t` on: `rule` is 'auto', 'largest' or
    a person's number. `gone`: the number of the chosen person who left the view for
    longer than the tracker keeps them, so measurement went back to 'auto'."""
    t: float
    rule: str | int
    gone: int | None = None


class AnalysisWorker:
    def __init__(self, capture: CaptureWorker, settings: AnalysisSettings, bus: ev.EventBus,
                 camera: Callable[[], dict], clock: Callable[[], float],
                 on_state: Callable[[str], None] | None = None) -> None:
        self.capture = capture
        self.settings = settings
        self.bus = bus
        self._camera = camera  # the set-up a baseline records and is checked against
        self._clock = clock
        self._on_state = on_state  # the alert state changed (the engine's desk-mode rate)
        self._sinks: list[ResultSink] = []
        self._sinks_lock = threading.Lock()
        self.pipeline: PosePipeline | None = None
        self.ready = threading.Event()
        self._stop = threading.Event()
        self._pending_baseline: tuple | None = None
        self.baseline = None  # the baseline in force (None: the classifier's labels)
        self._setup_since: float | None = None
        self._pending_calibration: tuple | None = None
        self._calibration: tuple | None = None  # (collector, slouch, reference, shown)
        self._state: str | None = None
        # Exercise mode: a squat is not a slouch. Alert events are not published (the
        # CSV's alert columns still say what the posture rules saw).
        self.alerts_paused = False
        # Joint angles for exercise mode (the pipeline measures them only when asked).
        self.measure_angles = False
        # People the pose model looks for beyond the settings' own (the window's gait mode).
        self.people_sought = 1
        # Whom to measure: the rule in force (applied before a frame, like a baseline).
        self.person_rule: str | int = settings.person
        self._pending_person: str | int | None = None
        self._person_seen_t: float | None = None  # when the chosen person was last seen
        self.on_analysed: Callable[[Analysed], None] | None = None  # rates, for stats
        self.on_sink_error: Callable[[ResultSink, Exception], None] | None = None
        self.thread = threading.Thread(target=self._run, name="analysis", daemon=True)

    # --- control (any thread) ------------------------------------------------------
    def add_sink(self, sink: ResultSink) -> None:
        with self._sinks_lock:
            self._sinks.append(sink)

    def remove_sink(self, sink: ResultSink) -> None:
        """After this returns, `sink` gets no more frames."""
        with self._sinks_lock:
            self._sinks = [s for s in self._sinks if s is not sink]

    def set_baseline(self, baseline, rules=None) -> None:
        """Applied before the next frame, with a grace period."""
        self._pending_baseline = (baseline, rules)

    def choose_person(self, rule: str | int) -> None:
        """Measure 'auto', 'largest' or a person's number from the next frame on (the
        window's click on a person). A chosen number is kept while that person is in
        view; once they are gone for PERSON_GONE_S, 'auto' again (PersonChoice says so).
        Changing the measured person starts their smoothing, scores and alerts afresh
        (the pipeline's own rule when several people are sought)."""
        self._pending_person = parse_rule(rule)

    def calibrate(self, seconds: float, slouch: bool = False, baseline=None) -> None:
        """Collect `seconds` of usable frames from the next frame on; `slouch`: the second
        point of a two-point calibration, added to `baseline` (default: the one in
        force)."""
        self._pending_calibration = (seconds, slouch, baseline)

    def cancel_calibration(self) -> None:
        self._pending_calibration = ("cancel",)

    @property
    def calibrating(self) -> bool:
        return self._calibration is not None or self._pending_calibration is not None

    def start(self) -> None:
        self.thread.start()

    def stop(self, timeout: float) -> bool:
        self._stop.set()
        if self.thread.is_alive():
            self.thread.join(timeout)
        return not self.thread.is_alive()

    # --- the thread ----------------------------------------------------------------
    def _run(self) -> None:
        try:
            pipeline = self._open_pipeline()
        except Exception as exc:  # a model that cannot load: tell the window, do not die
            self.bus.publish(ev.EngineError(str(exc)))
            self.ready.set()
            return
        self.pipeline = pipeline
        self.ready.set()
        with pipeline:
            while not self._stop.is_set():
                captured = self.capture.get(timeout=0.2)
                if captured is None:
                    continue
                t = captured.frame.time_s
                self._apply_requests(pipeline, t)
                pipeline.measure_angles = self.measure_angles or pipeline.angles_asked
                pipeline.seek_people(max(self.people_sought, self.settings.people_sought))
                result = pipeline.process(captured.frame)
                item = Analysed(result, captured.t_capture, self._clock())
                with self._sinks_lock:
                    sinks = list(self._sinks)
                for sink in sinks:
                    try:
                        sink.write(item)
                    except Exception as exc:  # a full disk: that sink stops, analysis not
                        self.remove_sink(sink)
                        if self.on_sink_error is not None:
                            self.on_sink_error(sink, exc)
                if self.on_analysed is not None:
                    self.on_analysed(item)
                self._follow_person(pipeline, result)
                self._alert_events(pipeline, result)
                self._calibration_step(result)
                self._check_setup(pipeline, result)

    def _open_pipeline(self) -> PosePipeline:
        """The pipeline; a posture classifier that cannot load (missing, or built for
        other features) costs only the posture labels: the measurements go on without it,
        and a warning says so."""
        sequence = self.capture.last_source.is_sequence
        try:
            return PosePipeline(self.settings, sequence=sequence)
        except Exception as exc:
            if self.settings.classifier == "none":
                raise
            fallback = replace(self.settings, classifier="none")
            try:
                pipeline = PosePipeline(fallback, sequence=sequence)
            except Exception:
                raise exc from None  # not the classifier: report the first problem
            self.settings = fallback  # what recordings' sidecars then say was used
            self.bus.publish(ev.EngineWarning(
                f"Posture classifier not available ({exc}); measurements go on without "
                "posture labels."))
            return pipeline

    def _apply_requests(self, pipeline: PosePipeline, t: float) -> None:
        if self._pending_person is not None:
            rule, self._pending_person = self._pending_person, None
            pipeline.choose_person(rule)
            self.person_rule, self._person_seen_t = rule, t
            self.bus.publish(PersonChoice(t, rule))
        if self._pending_baseline is not None:
            (baseline, rules), self._pending_baseline = self._pending_baseline, None
            pipeline.set_baseline(baseline, t, rules)
            self.baseline, self._setup_since = baseline, None
        if self._pending_calibration is not None:
            request, self._pending_calibration = self._pending_calibration, None
            if request[0] == "cancel":
                self._calibration = None
            else:
                seconds, slouch, reference = request
                self._calibration = (BaselineCollector(seconds), slouch,
                                     reference or self.baseline, -1.0)

    def _follow_person(self, pipeline: PosePipeline, result: FrameResult) -> None:
        """A chosen person is kept while in view; gone for longer than the tracker keeps
        them (they would come back with a new number), measurement goes back to auto."""
        rule = self.person_rule
        if not isinstance(rule, int):
            return
        t = result.frame.time_s
        if any(p.id == rule for p in result.people) or self._person_seen_t is None:
            self._person_seen_t = t
            return
        if abs(t - self._person_seen_t) <= PERSON_GONE_S:  # abs: a seek back in a file
            return
        pipeline.choose_person("auto")
        self.person_rule, self._person_seen_t = "auto", None
        self.bus.publish(PersonChoice(t, "auto", gone=rule))

    def _alert_events(self, pipeline: PosePipeline, result: FrameResult) -> None:
        alert = result.alert
        if alert is None or self.alerts_paused:
            return
        state, previous, t = alert.state.value, self._state, result.frame.time_s
        # A new alert can start while the previous state was already "alert": when
        # someone else is measured, their own alert engine starts afresh (pipeline).
        # Each start the engine reports (the CSV's alert_event) is one AlertStarted.
        if state == previous and not alert.new_alert:
            return
        self._state = state
        publish = self.bus.publish
        if previous == "alert":
            publish(ev.AlertEnded(t))
        if state != previous:
            publish(ev.AlertStateChanged(t, state, previous))
        if alert.new_alert:
            rule = pipeline.alerts.alert_rule if pipeline.alerts is not None else None
            publish(ev.AlertStarted(t, alert.reason or "Posture deviation",
                                    (rule.key,) if rule is not None else ()))
        if state == "away":
            publish(ev.PersonAway(t))
        elif previous == "away":
            publish(ev.PersonBack(t))
        if self._on_state is not None:
            self._on_state(state)

    def _calibration_step(self, result: FrameResult) -> None:
        if self._calibration is None:
            return
        collector, slouch, reference, shown = self._calibration
        collector.add(result)
        fraction = collector.progress()
        if fraction - shown >= PROGRESS_STEP or (collector.done and shown < 1.0):
            self.bus.publish(ev.CalibrationProgress(fraction))
            self._calibration = (collector, slouch, reference, fraction)
        if not collector.done:
            return
        self._calibration = None
        try:
            if slouch:
                if reference is None:
                    raise UserError("calibrate the neutral posture first")
                baseline = replace(reference, slouch=collector.slouch_medians())
            else:
                baseline = collector.baseline(self._camera())
        except UserError as exc:
            self.bus.publish(ev.CalibrationFinished(None, str(exc), slouch))
            return
        self.bus.publish(ev.CalibrationFinished(baseline, None, slouch))

    def _check_setup(self, pipeline: PosePipeline, result: FrameResult) -> None:
        """A baseline whose set-up is gone would raise false alarms: pause its alerts
        (no rules) until the person calibrates again, and say so once."""
        if self.baseline is None or self.calibrating or self._pending_baseline is not None:
            self._setup_since = None
            return
        reason = setup_change(self.baseline, self._camera(), result)
        t = result.frame.time_s
        if reason is None:
            self._setup_since = None
            return
        if self._setup_since is None:
            self._setup_since = t
        if t - self._setup_since < SETUP_CHANGE_S:
            return
        pipeline.set_baseline(None, t, ())
        self.baseline, self._setup_since = None, None
        self.bus.publish(ev.SetupChanged(t, reason))

"""Movement analysis as result sinks: the exercise tracker fed with every analysed frame,
and the angle time series for OpenSim users. `analyze --exercise/--mot` and the window's
exercise mode use the same ones; the names of every extra file a run writes are here
(the marker file of --opensim, `<stem>.trc`, too: core/run/trc_sink.py writes it).

At close (whatever the status: an interrupted run keeps the repetitions it saw) the
exercise sink reports a repetition still under way as incomplete, writes
`<stem>_reps.csv` (and `<stem>_reps.mot` with --mot), puts the `exercise` object into the
sidecar and hands the summary to the stored session, if any.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from posture_monitor.core.common.settings import ExerciseSettings
from posture_monitor.core.measure.joints import ANGLE_COLUMNS
from posture_monitor.core.movement.exercises import resolve_preset
from posture_monitor.core.movement.tracker import ExerciseTracker
from posture_monitor.core.posture.pipeline import FrameResult
from posture_monitor.core.records.exercise_files import (
    ANGLES_MOT_SUFFIX,
    REP_SUFFIX,
    REPS_MOT_SUFFIX,
    write_mot,
    write_reps_csv,
)
from posture_monitor.core.records.recorder import SessionRecorder
from posture_monitor.core.records.trc_files import TRC_SUFFIX
from posture_monitor.core.run.sinks import Analysed


def make_tracker(settings: ExerciseSettings) -> ExerciseTracker:
    preset = resolve_preset(settings.name, tuple(settings.joints), settings.target)
    return ExerciseTracker(preset, settings.side, dict(settings.thresholds))


def frame_values(result: FrameResult) -> dict[str, float | None]:
    """What the tracker reads of one frame: the joint angles and the posture metrics."""
    return {**result.measurement.values, **result.angles.values}


_FILES = (("reps_csv", REP_SUFFIX), ("reps_mot", REPS_MOT_SUFFIX),
          ("angles_mot", ANGLES_MOT_SUFFIX), ("trc", TRC_SUFFIX))


def extra_suffixes(exercise: bool, mot: bool, trc: bool = False) -> tuple[str, ...]:
    """The endings of the extra files a run writes beside <stem>.csv (checked before any
    work, like the CSV): the repetitions with an exercise, the .mot tables with --mot,
    the marker file with --opensim."""
    on = {"reps_csv": exercise, "reps_mot": exercise and mot, "angles_mot": mot, "trc": trc}
    return tuple(suffix for key, suffix in _FILES if on[key])


def result_files(out_dir: Path, stem: str, exercise: bool, mot: bool,
                 trc: bool = False) -> dict[str, Path]:
    on = set(extra_suffixes(exercise, mot, trc))
    return {key: out_dir / f"{stem}{suffix}" for key, suffix in _FILES if suffix in on}


class ExerciseSink:
    """The tracker on every analysed frame; `on_event` hears each repetition and form cue
    as it happens (the window's bus); files and the sidecar object at close."""

    def __init__(self, tracker: ExerciseTracker, recorder: SessionRecorder | None = None,
                 files: dict[str, Path] | None = None,
                 on_event: Callable[[object], None] | None = None, session=None) -> None:
        self.tracker = tracker
        self.recorder = recorder
        self.files = files or {}
        self.on_event = on_event
        self.session = session  # a StoredSession: it stores the summary when it closes
        self.summary: dict | None = None
        self._closed = False

    def write(self, item: Analysed) -> None:
        r = item.result
        events = self.tracker.update(r.frame.time_s, r.measurement.view, frame_values(r))
        if self.on_event is not None:
            for e in events:
                self.on_event(e)

    def close(self, status: str) -> None:
        if self._closed:
            return
        self._closed = True
        events = self.tracker.finish()
        if self.on_event is not None:
            for e in events:
                self.on_event(e)
        self.summary = self.tracker.summary()
        rows = [r.row() for r in self.tracker.reps]
        written = {}
        if "reps_csv" in self.files:
            written["reps_csv"] = str(write_reps_csv(self.files["reps_csv"], rows))
        if "reps_mot" in self.files:
            # the numeric columns (text ones such as view or faults have no place in a
            # Storage table); the start is the time column
            cols = [c for c in dict.fromkeys(k for r in rows for k in r) if c != "start_s"
                    and all(_number(r[c]) is not None for r in rows if r.get(c) is not None)
                    and any(r.get(c) is not None for r in rows)]
            data = [[_number(r.get(c)) for c in cols] for r in rows]
            written["reps_mot"] = str(write_mot(self.files["reps_mot"], "repetitions",
                                                [r["start_s"] for r in rows], cols, data))
        if self.session is not None:
            self.session.exercise = self.summary
        if self.recorder is not None:
            self.recorder.add_meta({"exercise": {**self.summary, "files": written}})


class AnglesMotSink:
    """Every frame's joint angles into `<stem>_angles.mot` at close (time = stream time)."""

    def __init__(self, path: Path, recorder: SessionRecorder | None = None) -> None:
        self.path, self.recorder = path, recorder
        self.times: list[float] = []
        self.rows: list[list[float | None]] = []

    def write(self, item: Analysed) -> None:
        r = item.result
        self.times.append(r.frame.time_s)
        self.rows.append([r.angles.values[c] for c in ANGLE_COLUMNS])

    def close(self, status: str) -> None:
        write_mot(self.path, "joint_angles", self.times, ANGLE_COLUMNS, self.rows)
        if self.recorder is not None:
            self.recorder.add_meta({"angles_mot": str(self.path)})


def _number(v: object) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None

"""Where analysed frames go: result sinks, fed in order by the analysis loop of `analyze`
and of the window's engine alike.

A sink has `write(item)` (one analysed frame) and `close(status)` ("complete",
"interrupted" or "error: ..."). The CSV recorder, the session store and the statistics
are sinks in both places; the window adds its display timeline. The pose model and
classifier records that recordings and stored sessions keep are built here, once.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from posture_monitor.core.common.errors import OutputError
from posture_monitor.core.posture.pipeline import FrameResult, PosePipeline
from posture_monitor.core.records.recorder import SessionRecorder
from posture_monitor.core.vision.model_files import ModelFile


@dataclass
class Analysed:
    result: FrameResult
    t_capture: float  # the capture worker's clock when the frame was read
    t_done: float  # ...when its analysis finished


class ResultSink(Protocol):
    def write(self, item: Analysed) -> None: ...

    def close(self, status: str) -> None: ...


def pose_model_info(model: ModelFile) -> dict:
    """What a recording and a stored session say of the pose model."""
    return {"name": model.name, "file": model.path.name, "sha256": model.sha256}


def open_recorder(out_dir: Path, stem: str, source_info: dict, settings: dict,
                  pipeline: PosePipeline, landmarks: bool,
                  overwrite: bool = False, angles: bool = False) -> SessionRecorder:
    """The CSV + JSON recorder for a run of `pipeline` (its models, as they are recorded)."""
    images = source_info.get("kind") in ("image", "folder")
    return SessionRecorder(
        out_dir, stem, source_info, settings, pose_model_info(pipeline.model),
        images=images, landmarks=landmarks,
        classifier=pipeline.classifier.info() if pipeline.classifier else None,
        overwrite=overwrite, angles=angles)


class RecorderSink:
    """Rows into the recorder (and the frames into a video file, when one is kept)."""

    def __init__(self, recorder: SessionRecorder, video_writer=None) -> None:
        self.recorder = recorder
        self.video_writer = video_writer

    def write(self, item: Analysed) -> None:
        self.recorder.write(item.result)
        image = item.result.frame.image
        if self.video_writer is not None and image is not None:
            self.video_writer.write(image)

    def close(self, status: str) -> None:
        if self.video_writer is not None:
            self.video_writer.release()
        self.recorder.close(status)


class StoredSession:
    """A session of `patient` in the local store: samples as they come, then the summary
    and where its CSV is.

    Lazy by default: it begins with the first analysed frame, so an input that fails
    before (unreadable, bad --baseline-from seconds, an unusable output) stores nothing
    and leaves no empty 'interrupted' session behind. The window calls `begin()` first,
    so a store that cannot be written stops the recording before it starts."""

    def __init__(self, store, patient: str, source: str, model: str, settings: dict,
                 csv_path: Path | None = None) -> None:
        from posture_monitor.core.records.store import now_iso

        self.store, self.patient = store, patient
        self.args = (source, model, settings)
        self.started = now_iso()  # when the run began, not its first frame
        self.id: int | None = None
        self.writer = None
        self.csv_path = csv_path
        self.exercise: dict | None = None  # an exercise's summary, set before close
        self.gait: dict | None = None  # the gait object (GaitSink), set before close

    def _stored(self, call, *args):
        try:
            return call(*args)
        except sqlite3.Error as exc:  # e.g. "database or disk is full"
            raise OutputError(f"cannot store the session in {self.store.path} ({exc}): free "
                              "some space, or analyse without --save; the CSV keeps every "
                              "frame") from None

    def begin(self) -> int:
        """Start the session now (the patient is added when new); returns its id."""
        if self.id is None:
            from posture_monitor.core.records.store import SampleWriter

            if self.store.patient(self.patient) is None:
                self._stored(self.store.add_patient, self.patient)
            self.id = self._stored(lambda: self.store.start_session(
                self.patient, *self.args, started=self.started, csv_path=self.csv_path))
            self.writer = SampleWriter(self.store, self.id)
        return self.id

    def set_csv_path(self, csv_path: Path) -> None:
        """Stored at once: a session whose process dies still leads to its CSV."""
        self.csv_path = csv_path
        if self.id is not None:
            self._stored(self.store.set_csv_path, self.id, csv_path)

    def add_result(self, result: FrameResult) -> None:
        self.begin()
        self._stored(self.writer.add_result, result)

    def write(self, item: Analysed) -> None:
        self.add_result(item.result)

    def close(self, status: str) -> None:
        """Finish with the summary of its samples; nothing when it never began."""
        from posture_monitor.core.records.store import summarize

        if self.id is None:
            return
        self._stored(self.writer.close)
        if self.exercise is not None:  # before its end: a finished session has it
            from posture_monitor.core.records.exercise_store import save_exercise

            self._stored(save_exercise, self.store, self.id, self.exercise)
        if self.gait is not None:  # the same: a finished gait session has its figures
            from posture_monitor.core.records.gait_store import save_gait

            self._stored(save_gait, self.store, self.id, self.gait)
        self._stored(lambda: self.store.finish_session(
            self.id, summarize(self.store.samples(self.id)), status,
            csv_path=self.csv_path))

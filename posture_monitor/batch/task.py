"""One video of a batch, as it runs on a Dask worker: the same analysis as `analyze`
(core/run/analysis.py), written into a folder of its own under DIR/.partial and renamed
into DIR only when every file is complete, so nothing half-written ever carries a
result's name. A video that fails keeps what it recorded in DIR/incomplete/<stem>/.

The function returns a plain dict (no exception for a bad video: the batch goes on and
the manifest says why); only a worker that dies loses the video it was on."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import socket
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from posture_monitor import __version__
from posture_monitor.core.common.errors import UserError
from posture_monitor.core.common.hashing import file_sha256
from posture_monitor.core.common.settings import AnalysisSettings

PROGRESS_TOPIC = "posture-monitor-progress"
STAGING = ".partial"  # DIR/.partial/<stem>-<token>/ while a video is analysed
INCOMPLETE = "incomplete"  # DIR/incomplete/<stem>/: what a failed video recorded
# One thread each for the numeric libraries: a worker is one process per core, and
# MediaPipe's graph runs on its own; more threads would only compete for the same cores.
THREAD_LIMITS = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
                 "MKL_NUM_THREADS": "1", "NUMEXPR_NUM_THREADS": "1"}


@dataclass(frozen=True)
class TaskSpec:
    input: str  # absolute path of the video or folder of photos
    stem: str
    out_dir: str
    settings: AnalysisSettings
    baseline_from: tuple[float, float] | None = None
    camera_tilt_from: tuple[float, float] | None = None
    long: bool = False  # <stem>_long.csv
    parquet: bool = False  # parquet/frames/<stem>.parquet, parquet/long/<stem>.parquet
    previous_outputs: tuple[str, ...] = ()  # an earlier run's files of this input (ours)
    stop_event: str = ""  # a Dask Event the batch sets on Ctrl+C: stop, move nothing


def input_fingerprint(path: Path) -> tuple[str, int, int]:
    """(sha256, bytes, mtime_ns) of a video; a folder of photos hashes its file names and
    contents in order."""
    if path.is_dir():
        digest = hashlib.sha256()
        size, mtime = 0, 0
        for f in sorted(p for p in path.iterdir() if p.is_file()):
            st = f.stat()
            size, mtime = size + st.st_size, max(mtime, st.st_mtime_ns)
            digest.update(f.name.encode() + b"\0" + file_sha256(f).encode())
        return digest.hexdigest(), size, mtime
    st = path.stat()
    return file_sha256(path), st.st_size, st.st_mtime_ns


def _undo_malloc_trim() -> None:
    """Dask's nanny starts workers with MALLOC_TRIM_THRESHOLD_=65536, which also turns off
    glibc's adaptive mmap threshold: every 6 MB video frame is then mmap'd, zeroed and
    unmapped again. Measured here: 2.7x the system time and each video 40 % slower. The
    thresholds are set back to sizes above a frame (a local cluster also starts its
    workers without the variable, cluster.py)."""
    if not os.environ.get("MALLOC_TRIM_THRESHOLD_") or not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc (musl): no such variable there either
        return
    m_trim_threshold, m_mmap_threshold = -1, -3  # glibc's mallopt parameters
    libc.mallopt(m_mmap_threshold, 64 << 20)
    libc.mallopt(m_trim_threshold, 128 << 20)


def _prepare_process() -> None:
    """What `posture-monitor` does at start, for a worker that did not start through it:
    user-only files, one OpenCV thread, glibc's usual memory reuse."""
    from posture_monitor.core.common.private_files import make_private_by_default

    make_private_by_default()
    _undo_malloc_trim()
    os.environ.update({k: v for k, v in THREAD_LIMITS.items() if k not in os.environ})
    import cv2

    cv2.setNumThreads(1)


def _progress(stem: str):
    """Frames done, sent to the batch's terminal through the scheduler at most twice a
    second; nothing outside a Dask worker."""
    try:
        from distributed import get_worker

        worker = get_worker()
    except (ImportError, ValueError):
        return None
    last = [0.0]

    def report(done: int, total: int | None) -> None:
        now = time.monotonic()
        if now - last[0] >= 0.5 or done == total:
            last[0] = now
            worker.log_event(PROGRESS_TOPIC, {"stem": stem, "frames": done, "total": total})
    return report


class _StopFlag:
    """analyze_source's `stop`, set when the batch is interrupted: the Dask Event is asked
    at most once a second (the analysis asks every frame)."""

    def __init__(self, name: str) -> None:
        self._event, self._asked, self._set = None, 0.0, False
        if name:
            try:
                from distributed import Event, get_worker

                get_worker()
                self._event = Event(name)
            except (ImportError, ValueError):
                pass

    def is_set(self, fresh: bool = False) -> bool:
        now = time.monotonic()
        if self._event is not None and not self._set and (fresh or now - self._asked >= 1.0):
            self._asked = now
            try:
                self._set = bool(self._event.is_set())
            except Exception:  # the scheduler is gone: the batch has ended
                self._set = True
        return self._set


@functools.lru_cache(maxsize=4)
def _resolved(model_spec: str, classifier: str):
    """The pose model checked (and the classifier found) once per worker process, as
    `analyze` does once per run, not for every video."""
    from posture_monitor.core.vision.model_files import resolve_pose_model

    model = resolve_pose_model(model_spec)
    if classifier != "none":
        from posture_monitor.core.classify.classifier import resolve_classifier

        resolve_classifier(classifier)
    return model


def _analyze(spec: TaskSpec, staging: Path, stop: _StopFlag):
    from posture_monitor.core.capture.sources import open_source
    from posture_monitor.core.run.analysis import analyze_source

    model = _resolved(spec.settings.model, spec.settings.classifier)
    with open_source(spec.input) as source:
        return analyze_source(source, staging, spec.stem, spec.settings, model,
                              _progress(spec.stem), stop, baseline_from=spec.baseline_from,
                              camera_tilt_from=spec.camera_tilt_from), model


def _retarget_sidecars(staging: Path, out: Path) -> None:
    """Paths the sidecars name (the .mot, repetition and gait files) point into DIR, where
    the files will be, not at the staging folder."""
    old, new = str(staging), str(out)

    def fix(value):
        if isinstance(value, str):
            return new + value[len(old):] if value.startswith(old) else value
        if isinstance(value, list):
            return [fix(v) for v in value]
        if isinstance(value, dict):
            return {k: fix(v) for k, v in value.items()}
        return value

    from posture_monitor.core.common.private_files import write_private_text

    for sidecar in staging.glob("*.json"):
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
        write_private_text(sidecar, json.dumps(fix(meta), indent=2, default=str))


def _files(folder: Path) -> list[Path]:
    return sorted(p.relative_to(folder) for p in folder.rglob("*") if p.is_file())


def _move_into_place(staging: Path, out: Path, previous: tuple[str, ...]) -> list[str]:
    """Remove this input's earlier outputs (listed in the manifest: ours), then rename
    every new file into DIR; the sidecar last, as the analysis itself finishes it."""
    for rel in previous:
        (out / rel).unlink(missing_ok=True)
    moved = sorted(_files(staging), key=lambda p: (p.suffix == ".json", str(p)))
    for rel in moved:
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging / rel, out / rel)
    shutil.rmtree(staging, ignore_errors=True)
    return [str(p) for p in moved]


def _keep_incomplete(staging: Path, out: Path, stem: str) -> list[str]:
    """A failed video's rows so far, in DIR/incomplete/<stem>/ (replacing an earlier
    failure's), never under a result's name in DIR."""
    if not _files(staging):
        shutil.rmtree(staging, ignore_errors=True)
        return []
    target = out / INCOMPLETE / stem
    shutil.rmtree(target, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staging, target)
    return [str(Path(INCOMPLETE) / stem / p) for p in _files(target)]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def run_task(spec: TaskSpec) -> dict:
    """Analyse one input; the manifest's cells for it (and its study-table row)."""
    _prepare_process()
    t0 = time.perf_counter()
    out = Path(spec.out_dir)
    done: dict = {"started": _now(), "worker": f"{socket.gethostname()}:{os.getpid()}",
                  "software_version": __version__}
    try:
        sha, size, mtime = input_fingerprint(Path(spec.input))
        done.update(input_sha256=sha, input_bytes=size, input_mtime_ns=mtime)
    except OSError as exc:
        return {**done, "status": "failed", "finished": _now(),
                "error": f"{spec.input} cannot be read on worker {done['worker']} ({exc}): "
                "give every worker the same path to the videos (a shared folder)"}
    staging = out / STAGING / f"{spec.stem}-{uuid.uuid4().hex[:8]}"
    try:
        staging.mkdir(parents=True)
        stop = _StopFlag(spec.stop_event)
        report, model = _analyze(spec, staging, stop)
        if stop.is_set():  # Ctrl+C: the rows so far stay out of DIR (removed next run)
            return {**done, "status": "interrupted", "finished": _now(),
                    "error": "stopped by Ctrl+C: run the batch again to finish"}
        done.update(pose_model=model.name, pose_model_sha256=model.sha256)
        csv_path, json_path = staging / f"{spec.stem}.csv", staging / f"{spec.stem}.json"
        from posture_monitor.batch.study_table import summary_row

        if spec.long:
            from posture_monitor.batch.frame_tables import write_long_csv

            write_long_csv(csv_path, staging / f"{spec.stem}_long.csv", spec.stem)
        if spec.parquet:
            from posture_monitor.batch.frame_tables import write_parquet

            write_parquet(csv_path, spec.stem,
                          staging / "parquet" / "frames" / f"{spec.stem}.parquet",
                          staging / "parquet" / "long" / f"{spec.stem}.parquet")
        summary = summary_row(csv_path, json_path)
        _retarget_sidecars(staging, out)
        if stop.is_set(fresh=True):  # asked now: Ctrl+C may have come a moment ago
            return {**done, "status": "interrupted", "finished": _now(),
                    "error": "stopped by Ctrl+C: run the batch again to finish"}
        outputs = _move_into_place(staging, out, spec.previous_outputs)
    except (UserError, OSError) as exc:
        kept = _keep_incomplete(staging, out, spec.stem)
        where = f" (rows so far in {INCOMPLETE}/{spec.stem}/)" if kept else ""
        return {**done, "status": "failed", "finished": _now(), "outputs": kept,
                "wall_s": round(time.perf_counter() - t0, 3), "error": f"{exc}{where}"}
    return {**done, "status": "done", "finished": _now(), "outputs": outputs,
            "frames": report.frames, "frames_with_pose": report.with_pose,
            "wall_s": round(time.perf_counter() - t0, 3), "summary": summary}

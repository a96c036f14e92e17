"""The batch itself, on the machine that started it: decide what to analyse (what the
manifest says is done with the same input and settings is skipped; failed, interrupted
and unfinished inputs are analysed again), send one task per video to Dask, keep the
manifest and the terminal up to date as tasks finish, and write the study table.

Nothing is replaced without --overwrite: a result in DIR that this batch did not write,
or an input that changed (content or settings) since it was done, stops the batch before
any work with one line."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import json
import shutil
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from posture_monitor.batch.inputs import Job
from posture_monitor.batch.manifest import RETRIED, Manifest
from posture_monitor.batch.progress import BatchProgress
from posture_monitor.batch.task import PROGRESS_TOPIC, STAGING, TaskSpec, input_fingerprint
from posture_monitor.core.common.errors import OutputError, UserError
from posture_monitor.core.common.settings import AnalysisSettings

EXIT_INTERRUPTED = 130
SUMMARY_NAME = "summary.csv"
SUMMARY_FIRST = ["stem", "input", "patient", "status", "error"]
SAVE_EVERY_S = 2.0  # the manifest is rewritten at most this often while tasks finish
STOP_WAIT_S = 15.0  # on Ctrl+C, how long running tasks may take to say how they ended


@dataclass(frozen=True)
class PlannedJob:
    job: Job
    settings: AnalysisSettings
    baseline_from: tuple[float, float] | None = None
    camera_tilt_from: tuple[float, float] | None = None
    patient: str = ""


@dataclass
class BatchOptions:
    out_dir: Path
    long: bool = False
    parquet: bool = False
    overwrite: bool = False
    quiet: bool = False
    scheduler: str | None = None
    scheduler_file: str | None = None
    workers: int | None = None
    # the file endings of one video's results (analyze's), for the no-overwrite check
    suffixes: tuple[str, ...] = (".csv", ".json")
    stream: object = field(default=None)


@functools.cache  # once per model, not per video: resolving reads the bundle
def _model_identity(model_spec: str, classifier: str) -> dict[str, str]:
    from posture_monitor.core.common.hashing import file_sha256_cached
    from posture_monitor.core.vision.model_files import resolve_pose_model

    model = resolve_pose_model(model_spec)  # a missing model: one line, before any work
    ident = {"pose_model": model.name, "pose_model_sha256": model.sha256,
             "classifier": classifier, "classifier_sha256": ""}
    if classifier != "none":
        from posture_monitor.core.classify.classifier import resolve_classifier

        ident["classifier_sha256"] = file_sha256_cached(resolve_classifier(classifier))
    return ident


def settings_sha256(planned: PlannedJob, opts: BatchOptions, models: dict) -> str:
    """What decides a video's outputs besides its content: the analysis settings, the
    seconds of a first pass, the output options and the model files themselves (not the
    software version: a bug-fix release does not redo a study; the manifest records it)."""
    record = {"settings": planned.settings.to_dict(), "baseline_from": planned.baseline_from,
              "camera_tilt_from": planned.camera_tilt_from, "long": opts.long,
              "parquet": opts.parquet, "pose_model_sha256": models["pose_model_sha256"],
              "classifier_sha256": models["classifier_sha256"]}
    text = json.dumps(record, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@contextlib.contextmanager
def _locked(out_dir: Path) -> Iterator[None]:
    """One batch at a time per DIR: two would write the same manifest."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks here
        yield
        return
    lock = open(out_dir / ".batch.lock", "a+")  # noqa: SIM115 (held for the whole run)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        lock.close()
        raise OutputError(f"another batch is writing into {out_dir}: wait for it to finish, "
                          "or choose another --out folder") from None
    try:
        yield
    finally:
        lock.close()


def _new_stem(job: Job, used: set[str]) -> str:
    """The result name of a new input: its name (compared without case, as macOS and
    Windows file names are), `-2`, `-3`, ... when another input of the batch has it."""
    stem = job.name or job.input.stem or "input"
    candidate, n = stem, 2
    while candidate.casefold() in used:
        candidate, n = f"{stem}-{n}", n + 1
    used.add(candidate.casefold())
    return candidate


def _same_input(row: dict, path: Path) -> bool:
    """The input is the one that was analysed: same size and modification time (then its
    sha256 is the recorded one, as rsync and git decide), else the same sha256."""
    try:
        sha, size, mtime = (input_fingerprint(path) if path.is_dir()
                            else (None, path.stat().st_size, path.stat().st_mtime_ns))
    except OSError:
        return False
    if str(size) == row["input_bytes"] and str(mtime) == row["input_mtime_ns"]:
        return True
    return (sha or input_fingerprint(path)[0]) == row["input_sha256"]


@dataclass
class _Plan:
    run: list[tuple[PlannedJob, TaskSpec]] = field(default_factory=list)
    skipped: list[PlannedJob] = field(default_factory=list)


def plan(planned: list[PlannedJob], manifest: Manifest, opts: BatchOptions) -> _Plan:
    """Which inputs to analyse now, each with its task; refuses (before any work) to
    replace what it should not."""
    from posture_monitor.core.records.outputs import check_result_files

    out = _Plan()
    models = {id(p): _model_identity(p.settings.model, p.settings.classifier)
              for p in planned}
    used = manifest.stems()
    changed: list[str] = []
    for p in planned:
        row = manifest.row(p.job.input)
        digest = settings_sha256(p, opts, models[id(p)])
        previous: tuple[str, ...] = ()
        if row is None:
            stem = _new_stem(p.job, used)
            check_result_files(opts.out_dir, [stem], opts.suffixes, opts.overwrite)
        else:
            stem = row["stem"]
            if row["status"] == "done" and row["settings_sha256"] == digest \
                    and _same_input(row, p.job.input):
                manifest.update(p.job.input, patient=p.patient)  # the list may correct it
                out.skipped.append(p)
                continue
            if row["status"] == "done" and not opts.overwrite:
                changed.append(str(p.job.input))
            previous = tuple(o for o in row["outputs"].split(";") if o)
        manifest.update(p.job.input, stem=stem, status="pending", settings_sha256=digest,
                        patient=p.patient, error="",
                        options=";".join(f"{k}={v}" for k, v in p.job.options.items()),
                        **{k: v for k, v in models[id(p)].items()})
        out.run.append((p, TaskSpec(str(p.job.input), stem, str(opts.out_dir), p.settings,
                                    p.baseline_from, p.camera_tilt_from, opts.long,
                                    opts.parquet, previous)))
    if changed:
        more = f" (and {len(changed) - 1} more)" if len(changed) > 1 else ""
        raise OutputError(f"{changed[0]}{more} changed since it was analysed (its content or "
                          "the settings differ from the manifest's): pass --overwrite to "
                          "analyse it again, or choose another --out folder")
    return out


def _summary_rows(manifest: Manifest, fresh: dict[str, dict], out_dir: Path) -> list[dict]:
    from posture_monitor.batch.study_table import summary_row

    rows = []
    for row in manifest.rows.values():
        base = {k: row[k] for k in SUMMARY_FIRST}
        if row["status"] == "done":
            measures = fresh.get(row["stem"])
            if measures is None:
                try:  # done by an earlier run: read back from its files
                    measures = summary_row(out_dir / f"{row['stem']}.csv",
                                           out_dir / f"{row['stem']}.json")
                except (OSError, ValueError) as exc:
                    base.update(status="failed", error=f"its results cannot be read ({exc})")
                    measures = {}
            base.update({k: v for k, v in measures.items() if k not in base})
        rows.append(base)
    return rows


def _failure(exc: BaseException) -> dict:
    name = type(exc).__name__
    if name == "KilledWorker":
        return {"status": "failed", "error": "the worker analysing it died each time it "
                "was tried (out of memory, or a crash in the pose model): see the "
                "workers' logs"}
    return {"status": "failed", "error": f"{name}: {exc}"}


def _record(manifest: Manifest, spec: TaskSpec, result: dict) -> None:
    cells = {k: v for k, v in result.items() if k != "summary"}
    if isinstance(cells.get("outputs"), list):
        cells["outputs"] = ";".join(cells["outputs"])
    manifest.update(Path(spec.input), **cells)


def run_batch(planned: list[PlannedJob], opts: BatchOptions) -> int:
    """The whole batch; 0 when every input is done, 2 when some failed, 130 on Ctrl+C."""
    from posture_monitor.batch.cluster import import_distributed, open_client
    from posture_monitor.batch.study_table import write_summary
    from posture_monitor.core.records.outputs import check_output_dir

    import_distributed()  # without the [batch] extra: one line, before any work
    stream = opts.stream or sys.stderr
    out_dir = opts.out_dir
    check_output_dir(out_dir)
    with _locked(out_dir):
        manifest = Manifest.load(out_dir)
        work = plan(planned, manifest, opts)
        shutil.rmtree(out_dir / STAGING, ignore_errors=True)  # a killed batch's leftovers
        manifest.save()
        fresh: dict[str, dict] = {}
        progress = BatchProgress(len(planned), len(work.skipped), stream, quiet=opts.quiet)
        status = 0
        try:
            if work.run:
                status = _run_tasks(work, manifest, fresh, progress, opts, open_client)
        finally:
            manifest.save()  # even on a second Ctrl+C while the cluster closes
        # what killed or stopped tasks left half-way (the next run would remove it too)
        shutil.rmtree(out_dir / STAGING, ignore_errors=True)
        write_summary(out_dir / SUMMARY_NAME, _summary_rows(manifest, fresh, out_dir),
                      first=SUMMARY_FIRST)
        progress.close(out_dir / "manifest.csv", out_dir / SUMMARY_NAME)
    if status:
        return status
    failed = sum(row["status"] != "done" for row in manifest.rows.values()
                 if Path(row["input"]) in {p.job.input for p in planned})
    return 2 if failed else 0


def _run_tasks(work: _Plan, manifest: Manifest, fresh: dict, progress: BatchProgress,
               opts: BatchOptions, open_client) -> int:
    from distributed import Event, as_completed

    token = uuid.uuid4().hex[:6]
    stop_name = f"posture-monitor-stop-{token}"
    specs = {spec.stem: replace(spec, stop_event=stop_name) for _, spec in work.run}
    with open_client(opts.scheduler, opts.scheduler_file, opts.workers) as client:
        stop = Event(stop_name, client=client)
        progress.started(client, len(work.run))

        def heard(event) -> None:  # on the client's event loop thread
            msg = event[1] if isinstance(event, tuple) else event
            if isinstance(msg, dict) and msg.get("stem") in specs:
                progress.frames(msg["stem"], msg.get("frames", 0), msg.get("total"))

        client.subscribe_topic(PROGRESS_TOPIC, heard)
        futures = {client.submit(_task, spec, key=f"posture-monitor-{spec.stem}-{token}",
                                 pure=False): spec for spec in specs.values()}
        pending = as_completed(futures)
        last_save = time.monotonic()
        try:
            while not pending.is_empty():
                finished = pending.next_batch(block=False)
                if not finished:
                    _mark_running(manifest, progress, specs)
                    progress.draw()
                    time.sleep(0.25)
                    continue
                for fut in finished:
                    _take(fut, futures.pop(fut), manifest, fresh, progress)
                    # forgotten by the scheduler: Dask would otherwise analyse a finished
                    # video again when the worker that holds its result dies later
                    fut.release()
                if time.monotonic() - last_save > SAVE_EVERY_S:
                    manifest.save()
                    last_save = time.monotonic()
        except KeyboardInterrupt:
            _stop(client, stop, futures, manifest, fresh, progress)
            return EXIT_INTERRUPTED
    return 0


def _take(fut, spec: TaskSpec, manifest: Manifest, fresh: dict, progress: BatchProgress,
          timeout: float | None = None) -> None:
    """A finished task's cells into the manifest (and its study-table row)."""
    try:
        result = fut.result(timeout=timeout)
    except (TimeoutError, asyncio.TimeoutError):  # one class from Python 3.11 on
        raise
    except Exception as exc:  # a worker that died, an unexpected bug
        result = _failure(exc)
    if result.get("summary") is not None:
        fresh[spec.stem] = result["summary"]
    _record(manifest, spec, result)
    progress.finished(spec.stem, result)


def _stop(client, stop, futures: dict, manifest: Manifest, fresh: dict,
          progress: BatchProgress) -> None:
    """Ctrl+C: tasks not started are cancelled; the running ones are told to stop (they
    return within a second or two, moving nothing into DIR) and what they say is kept, as
    is every result that arrived meanwhile; the rest is marked interrupted."""
    stop.set()
    running = progress.running()
    client.cancel([f for f, spec in futures.items()
                   if not f.done() and spec.stem not in running])
    deadline = time.monotonic() + STOP_WAIT_S
    for fut, spec in futures.items():
        row = manifest.row(Path(spec.input))
        if fut.cancelled() or row is None or row["status"] not in RETRIED:
            continue
        # still running: marked interrupted below
        with contextlib.suppress(TimeoutError, asyncio.TimeoutError):
            _take(fut, spec, manifest, fresh, progress,
                  timeout=max(0.1, deadline - time.monotonic()))
    client.cancel(list(futures))
    for spec in futures.values():
        row = manifest.row(Path(spec.input))
        if row is not None and row["status"] in RETRIED:
            manifest.update(Path(spec.input), status="interrupted",
                            error="stopped by Ctrl+C: run the batch again to finish")
    progress.interrupted()


def _mark_running(manifest: Manifest, progress: BatchProgress, specs: dict) -> None:
    for stem in progress.take_started():
        row = manifest.row(Path(specs[stem].input))
        if row is not None and row["status"] == "pending":  # not one that finished since
            manifest.update(Path(specs[stem].input), status="running")


def _task(spec: TaskSpec) -> dict:
    """The worker's entry point, a module-level function so Dask pickles it by name."""
    from posture_monitor.batch.task import run_task

    return run_task(spec)


def plan_jobs(jobs: list[Job], settings_for) -> list[PlannedJob]:
    """Each job with its own settings (`settings_for(job)`: the batch options with the
    job's manifest row applied), checked before any work."""
    planned = []
    for job in jobs:
        try:
            planned.append(settings_for(job))
        except UserError as exc:
            raise UserError(f"{job.origin}: {exc}" if job.options else str(exc)) from None
    return planned


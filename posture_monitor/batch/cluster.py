"""Where a batch's tasks run: a Dask LocalCluster on this machine (one worker process per
core, one thread each), or an existing Dask cluster (`--scheduler ADDRESS` or
`--scheduler-file FILE`) started by the researcher, e.g. with `dask scheduler` and
`dask worker` on several machines or dask-jobqueue on SLURM/PBS (docs/BATCH.md).

Everything a local cluster opens listens on 127.0.0.1 only, the dashboard too: the
task names are video names, and nothing of a study is offered to the network."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
from collections.abc import Iterator

from posture_monitor import __version__
from posture_monitor.batch.task import THREAD_LIMITS
from posture_monitor.core.common.errors import UserError

LOCAL_HOST = "127.0.0.1"
DASHBOARD = f"{LOCAL_HOST}:8787"  # Dask's usual port; another free one if taken


def local_workers() -> int:
    """The cores this process may use (a container's or cgroup's share, not the host's)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


def import_distributed():
    try:
        import distributed
    except ImportError:
        raise UserError("batch needs Dask distributed: pip install 'posture-monitor[batch]'"
                        " (make test and make run install it)") from None
    return distributed


def _worker_version() -> str:
    import posture_monitor

    return posture_monitor.__version__


def _check_workers(client) -> None:
    """Every worker can import this program at this version: a task would otherwise fail
    on the first video with a message about pickles."""
    try:
        versions = client.run(_worker_version)
    except Exception as exc:  # a worker without posture_monitor installed
        raise UserError(f"the Dask workers cannot run posture-monitor ({exc.__class__.__name__}"
                        f": {exc}): install posture-monitor {__version__} on every worker") \
            from None
    if not versions:
        raise UserError("the Dask cluster has no workers: start some (dask worker ADDRESS), "
                        "then run the batch again")
    other = {addr: v for addr, v in versions.items() if v != __version__}
    if other:
        addr, v = next(iter(other.items()))
        raise UserError(f"the Dask worker {addr} runs posture-monitor {v}, this is "
                        f"{__version__}: install the same version on every worker")


@contextlib.contextmanager
def _children_ignore_ctrl_c() -> Iterator[None]:
    """Ctrl+C reaches every process of the terminal's group: the worker processes would
    each die with a traceback mid-video. Started while SIGINT is ignored, they inherit
    that; this process alone hears Ctrl+C and stops them in order (runner.py)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def open_client(scheduler: str | None = None, scheduler_file: str | None = None,
                workers: int | None = None) -> Iterator:
    """A connected dask.distributed Client; the local cluster is closed on the way out."""
    distributed = import_distributed()
    import dask

    if scheduler or scheduler_file:
        target = scheduler or None
        try:
            client = distributed.Client(target, scheduler_file=scheduler_file, timeout="20s")
        except (OSError, TimeoutError, ValueError) as exc:
            where = scheduler or f"the scheduler in {scheduler_file}"
            raise UserError(f"cannot reach the Dask scheduler at {where} ({exc}): check the "
                            "address (tcp://HOST:8786) and that the scheduler runs") from None
        try:
            _check_workers(client)
            yield client
        finally:
            client.close()
        return
    n = workers or local_workers()
    # A video that kills its worker twice is reported failed, not tried forever (the
    # scheduler reads this when it starts). Workers start without Dask's
    # MALLOC_TRIM_THRESHOLD_: with it every video frame is an mmap (task.py).
    with dask.config.set({"distributed.scheduler.allowed-failures": 1,
                          "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}), \
            _children_ignore_ctrl_c():
        cluster = distributed.LocalCluster(
            n_workers=n, threads_per_worker=1, processes=True, host=LOCAL_HOST,
            dashboard_address=DASHBOARD, silence_logs=logging.ERROR,
            env=dict(THREAD_LIMITS))
    try:
        client = distributed.Client(cluster)
        try:
            yield client
        finally:
            client.close()
    finally:
        cluster.close()

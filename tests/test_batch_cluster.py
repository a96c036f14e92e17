"""`batch --scheduler`: the same tasks sent to a Dask cluster someone else started, here a
scheduler and two workers as separate processes on 127.0.0.1 (as `dask scheduler` and
`dask worker` run on a cluster's machines). One worker is killed mid-batch: only the
video it was on is lost, and that one is analysed again on the other."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from posture_monitor.cli import main
from tests.conftest import FIXTURES, read_rows

pytestmark = pytest.mark.slow
PY = [sys.executable, "-m"]


def _wait(predicate, timeout=120, what="it"):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def cluster(tmp_path):
    """A scheduler and two workers (no nanny: a killed worker stays dead), loopback only."""
    info = tmp_path / "scheduler.json"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    procs = [subprocess.Popen([*PY, "dask", "scheduler", "--host", "127.0.0.1", "--port", "0",
                               "--no-dashboard", "--scheduler-file", str(info)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        _wait(lambda: info.exists() and info.stat().st_size > 0, what="the scheduler")
        address = json.loads(info.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        for i in (1, 2):
            procs.append(subprocess.Popen(
                [*PY, "dask", "worker", address, "--nthreads", "1", "--no-nanny",
                 "--host", "127.0.0.1", "--no-dashboard", "--name", f"w{i}"],
                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        from distributed import Client

        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=120)
        yield address, procs[1:]
    finally:
        for p in procs:
            p.kill()
            p.wait(timeout=30)


def test_a_batch_on_a_running_cluster_survives_a_worker_that_dies(cluster, tmp_path,
                                                                 media_dir):
    address, workers = cluster
    videos = [media_dir / "pose2sim_cam01.mp4", media_dir / "pose2sim_cam02.mp4",
              FIXTURES / "desk_webcam_bsd2" / "front_cam2.mp4"]
    out = tmp_path / "out"
    proc = subprocess.Popen([*PY, "posture_monitor", "batch", *map(str, videos), "--out",
                             str(out), "--scheduler", address, "--angles"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def one_done() -> bool:
        path = out / "manifest.csv"
        return path.exists() and any(r["status"] == "done" for r in read_rows(path))

    _wait(one_done, timeout=300, what="a first video")
    first = next(r for r in read_rows(out / "manifest.csv") if r["status"] == "done")
    # kill the worker that finished it: it holds that result and is on the next video
    pid = int(first["worker"].rsplit(":", 1)[1])
    victim = next(w for w in workers if w.pid == pid)
    victim.send_signal(signal.SIGKILL)
    written = (out / f"{first['stem']}.csv").stat().st_mtime_ns
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    assert "on 2 Dask workers" in err
    rows = {r["stem"]: r for r in read_rows(out / "manifest.csv")}
    assert {r["status"] for r in rows.values()} == {"done"}
    ref = tmp_path / "ref"
    assert main(["analyze", *map(str, videos), "--out", str(ref), "--angles", "--quiet"]) == 0
    for v in videos:
        assert (out / f"{v.stem}.csv").read_bytes() == (ref / f"{v.stem}.csv").read_bytes()
    assert not (out / ".partial").exists()  # the lost video's half is cleared away
    # the finished video was not analysed again (Dask recomputes results a dead worker
    # held, unless the batch has let go of them): no second run, not even afterwards
    assert rows[first["stem"]]["finished"] == first["finished"]
    assert rows[first["stem"]]["worker"] == first["worker"]
    time.sleep(8)
    assert not (out / "incomplete").exists() and not (out / ".partial").exists()
    assert (out / f"{first['stem']}.csv").stat().st_mtime_ns == written


def test_an_unreachable_scheduler_is_one_line(tmp_path, capsys, media_dir):
    code = main(["batch", str(media_dir / "pose2sim_cam01.mp4"), "--out", str(tmp_path / "o"),
                 "--scheduler", "tcp://127.0.0.1:9"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "cannot reach the Dask scheduler" in err

"""Serial `analyze` vs `batch` on a Dask cluster, side by side in one run, on the same
real clips (the shared videos looped into N inputs), with the outputs compared.

    .venv/bin/python bench/bench_batch.py                 # 8 inputs, local cluster
    .venv/bin/python bench/bench_batch.py --copies 2      # 16 inputs
    .venv/bin/python bench/bench_batch.py --scheduler     # also: a scheduler and two
                                                          # workers started as processes

Prints each wall time (process start to exit, cluster start-up included) and the ratio
serial / batch. Run it on an otherwise idle machine."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "posture_monitor"]


def real_clips() -> list[Path]:
    media = ROOT / "tests" / ".media"
    desk = ROOT / "tests" / "fixtures" / "desk_webcam_bsd2"
    clips = [media / f"pose2sim_cam0{i}.mp4" for i in (1, 2, 3, 4)]
    clips += sorted(desk.glob("*.mp4")) + [media / "sports2d_demo.mp4"]
    missing = [c for c in clips if not c.exists()]
    if missing:
        sys.exit(f"{missing[0]} missing: run `make test` once (it fetches the test videos)")
    return clips


def inputs(folder: Path, copies: int) -> list[Path]:
    """The clips `copies` times over, as links with distinct names (each its own input)."""
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for k in range(copies):
        for clip in real_clips():
            link = folder / f"{clip.stem}_{k}{clip.suffix}"
            if not link.exists():
                os.symlink(clip, link)
            made.append(link)
    return made


def timed(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def same_outputs(a: Path, b: Path, videos: list[Path]) -> bool:
    return all((a / f"{v.stem}.csv").read_bytes() == (b / f"{v.stem}.csv").read_bytes()
               for v in videos)


def start_cluster(tmp: Path) -> tuple[str, list[subprocess.Popen]]:
    info = tmp / "scheduler.json"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env}
    procs = [subprocess.Popen([sys.executable, "-m", "dask", "scheduler", "--host",
                               "127.0.0.1", "--port", "0", "--no-dashboard",
                               "--scheduler-file", str(info)], **quiet)]
    while not (info.exists() and info.stat().st_size):
        time.sleep(0.2)
    address = json.loads(info.read_text())["address"]
    for i in (1, 2):
        procs.append(subprocess.Popen([sys.executable, "-m", "dask", "worker", address,
                                       "--nthreads", "1", "--host", "127.0.0.1",
                                       "--no-dashboard", "--name", f"w{i}"], **quiet))
    from distributed import Client

    with Client(address, timeout="60s") as client:
        client.wait_for_workers(2, timeout=120)
    return address, procs


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--copies", type=int, default=1, help="how often each of the 8 clips "
                   "is an input (default 1: 8 inputs)")
    p.add_argument("--model", default="full")
    p.add_argument("--scheduler", action="store_true",
                   help="also send the batch to a scheduler and two workers started here")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp_name:
        tmp = Path(tmp_name)
        videos = inputs(tmp / "in", args.copies)
        frames = 0
        import cv2

        for v in videos:
            cap = cv2.VideoCapture(str(v))
            frames += int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
            cap.release()
        common = ["--model", args.model, "--quiet"]
        serial = timed([*CLI, "analyze", *map(str, videos), "--out", str(tmp / "serial"),
                        *common])
        local = timed([*CLI, "batch", *map(str, videos), "--out", str(tmp / "local"),
                       *common])
        ok = same_outputs(tmp / "serial", tmp / "local", videos)
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
        print(f"{len(videos)} inputs ({frames} frames), {cores} cores, model {args.model}")
        print(f"serial analyze:        {serial:7.1f} s  ({frames / serial:5.1f} frames/s)")
        print(f"batch, local cluster:  {local:7.1f} s  ({frames / local:5.1f} frames/s)  "
              f"ratio {serial / local:.2f}x  identical CSVs: {ok}")
        if args.scheduler:
            address, procs = start_cluster(tmp)
            try:
                remote = timed([*CLI, "batch", *map(str, videos), "--out",
                                str(tmp / "remote"), "--scheduler", address, *common])
            finally:
                for proc in procs:
                    proc.kill()
            ok = same_outputs(tmp / "serial", tmp / "remote", videos)
            print(f"batch, scheduler + 2 workers (separate processes, {address}): "
                  f"{remote:7.1f} s  ratio {serial / remote:.2f}x  identical CSVs: {ok}")


if __name__ == "__main__":
    main()

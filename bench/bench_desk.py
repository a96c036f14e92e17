"""Benchmark: CPU use of desk mode vs full mode on a 30 fps camera stand-in.

    python bench/bench_desk.py [--seconds 60] [--model full]

A webcam delivers MJPEG frames that `grab()` can skip without decoding, so the stand-in is
the real sports2d clip re-encoded as 640x480 MJPEG at 30 fps, played in real time by
`VideoAsCameraSource`. The live engine runs it (a) in full mode, analysing every frame it
can, and (b) in desk mode (2 Hz, 5 Hz while a deviation builds; the window is hidden in
the tray, so nothing is drawn). CPU is the process's CPU time over wall time, all threads
included (MediaPipe's too), as a share of one core.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402

from posture_monitor.core.capture.sources import VideoAsCameraSource  # noqa: E402
from posture_monitor.core.common.settings import AnalysisSettings  # noqa: E402
from posture_monitor.core.run.live import LiveEngine  # noqa: E402

DESK_HZ, DESK_FAST_HZ = 2.0, 5.0


def make_stand_in(video: Path, out: Path) -> Path:
    cap = cv2.VideoCapture(str(video))
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (640, 480))
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        writer.write(cv2.resize(frame, (640, 480), interpolation=cv2.INTER_AREA))
    writer.release()
    return out


def measure(stand_in: Path, model: str, seconds: float, desk: bool) -> dict:
    engine = LiveEngine(lambda: VideoAsCameraSource(stand_in), AnalysisSettings(model=model))
    if desk:
        engine.set_rate(DESK_HZ, DESK_FAST_HZ)
    engine.start()
    engine.wait_ready(60)
    time.sleep(3)  # past model loading and warm-up
    cpu0, wall0 = time.process_time(), time.monotonic()
    time.sleep(seconds)
    cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    stats = engine.stats()
    engine.stop()
    return {"cpu_share": cpu / wall, "capture_fps": stats.capture_fps,
            "analysis_fps": stats.analysis_fps}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--model", default="full", choices=["lite", "full"])
    parser.add_argument("--video", type=Path, default=ROOT / "tests/.media/sports2d_demo.mp4")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        stand_in = make_stand_in(args.video, Path(tmp) / "camera.avi")
        full = measure(stand_in, args.model, args.seconds, desk=False)
        desk = measure(stand_in, args.model, args.seconds, desk=True)
    print(f"30 fps MJPEG 640x480 camera stand-in ({args.video.name}), model {args.model}, "
          f"{args.seconds:.0f} s each, 2-core machine")
    print("mode | CPU (share of one core) | capture fps | analysis fps")
    for name, r in (("full", full), ("desk", desk)):
        print(f"{name} | {100 * r['cpu_share']:5.1f} % | {r['capture_fps']:5.1f} | "
              f"{r['analysis_fps']:5.1f}")
    print(f"desk mode uses {desk['cpu_share'] / full['cpu_share']:.2f} x the CPU of full mode")
    return 0


if __name__ == "__main__":
    sys.exit(main())

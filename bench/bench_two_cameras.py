"""Benchmark the window with two cameras: the frame rates both streams reach.

    python bench/bench_two_cameras.py [--seconds 20] [--model full|lite] [--fps 30]
                                      [--height 1280] [--single]

The real main window (offscreen unless a display is set) runs the two synchronized
Pose2Sim cameras (cam02 in front, cam01 at the side; 1080 x 1920, recorded at 60 fps) as
two cameras (`VideoAsCameraSource`, looping), each resampled to `--fps` (every n-th frame)
as a webcam would deliver them (`--height`: scaled to that height, 1280 = 720 x 1280, a
720p webcam's pixels on its side; default: as recorded): two engines, each its own
capture, analysis and pose pipeline, both pictures drawn by the one GUI thread, the side
panel merging the two. After
a warm-up of 5 s it samples both engines' figures every second for `--seconds` and prints
each stream's mean capture, analysis and display frames/s and its latency from capture to
shown, and the load average of the machine (other programs share its cores). `--single`
runs the front camera alone, for comparison.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import cv2  # noqa: E402
from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from posture_monitor.core.capture.sources import VideoAsCameraSource  # noqa: E402
from posture_monitor.core.records.app_settings import AppSettings  # noqa: E402
from posture_monitor.gui.main_window import MainWindow  # noqa: E402

MEDIA = ROOT / "tests" / ".media"
WARM_UP_S = 5.0


def resampled(src: Path, fps: int, folder: Path, height: int | None = None) -> Path:
    """`src` with every n-th frame, at `fps` (scaled to `height`)."""
    reader = cv2.VideoCapture(str(src))
    step = max(1, round(reader.get(cv2.CAP_PROP_FPS) / fps))
    out, writer, i = folder / f"{src.stem}_{fps}fps.mp4", None, 0
    while True:
        ok, frame = reader.read()
        if not ok:
            break
        if i % step == 0:
            if height:
                scale = height / frame.shape[0]
                frame = cv2.resize(frame, (round(frame.shape[1] * scale), height),
                                   interpolation=cv2.INTER_AREA)
            if writer is None:
                h, w = frame.shape[:2]
                writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), fps,
                                         (w, h))
            writer.write(frame)
        i += 1
    reader.release()
    writer.release()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--model", default="full", choices=["lite", "full"])
    parser.add_argument("--fps", type=int, default=30, help="each camera's frame rate")
    parser.add_argument("--height", type=int, default=None,
                        help="scale the frames to this height (default: 1920, as recorded)")
    parser.add_argument("--single", action="store_true", help="the front camera alone")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    front = resampled(MEDIA / "pose2sim_cam02.mp4", args.fps, tmp, args.height)
    side = resampled(MEDIA / "pose2sim_cam01.mp4", args.fps, tmp, args.height)
    size = cv2.VideoCapture(str(front))
    size = f"{int(size.get(cv2.CAP_PROP_FRAME_WIDTH))}x{int(size.get(cv2.CAP_PROP_FRAME_HEIGHT))}"
    app = QApplication([])
    window = MainWindow(AppSettings(model=args.model, mirror=False), "0", tmp / "sessions",
                        tmp / "settings.json",
                        source_factory=lambda: VideoAsCameraSource(front),
                        profiles_path=tmp / "profiles.json", store_path=tmp / "db.sqlite3")
    window.show()
    if not args.single:
        window.second.open("0", lambda: VideoAsCameraSource(side))
    samples: dict[str, list] = {"front": [], "side": []}
    load = [os.getloadavg()[0]]
    t0 = time.monotonic()

    def sample() -> None:
        t = time.monotonic() - t0
        if t >= WARM_UP_S:
            for name, engine in (("front", window.engine), ("side", window.second.engine)):
                if engine is not None:
                    samples[name].append(engine.stats())
        if t >= WARM_UP_S + args.seconds:
            app.quit()

    timer = QTimer(interval=1000, timeout=sample)
    timer.start()
    app.exec()
    load.append(os.getloadavg()[0])
    window.close()
    cameras = ("front camera alone: Pose2Sim cam02" if args.single else
               "two cameras: Pose2Sim cam02 (front) + cam01 (side)")
    print(f"{cameras}, {size} at {args.fps} fps each, model {args.model}, "
          f"{args.seconds} s after {WARM_UP_S:.0f} s warm-up, "
          f"{os.cpu_count()} cores, load average {load[0]:.1f} -> {load[1]:.1f}")
    print("stream | capture fps | analysis fps | display fps | latency p50 | p95 ms")
    for name, rows in samples.items():
        if not rows:
            continue
        m = lambda key, rows=rows: statistics.mean(  # noqa: E731
            getattr(r, key) for r in rows if getattr(r, key) is not None)
        print(f"{name:6} | {m('capture_fps'):11.1f} | {m('analysis_fps'):12.1f} | "
              f"{m('display_fps'):11.1f} | {m('latency_p50_ms'):11.0f} | "
              f"{m('latency_p95_ms'):6.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark the live window: display vs analysis rate and latency over a long run.

    python bench/bench_display.py [--seconds 600] [--model full] [--video PATH]

The real main window (offscreen unless a display is set) runs on a real 30 fps video in a
camera's role (`VideoAsCameraSource`, looping), so capture, analysis and display go
through exactly the camera path. Every 10 s it samples the engine's figures; at the end
it prints them per minute: capture, analysis and display frames/s, latency from capture
to shown (p50/p95), and frames analysis skipped (newest frame wins). Latency that stays
flat from the first to the last minute shows that no queue builds up.
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

from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from posture_monitor.core.capture.sources import VideoAsCameraSource  # noqa: E402
from posture_monitor.core.records.app_settings import AppSettings  # noqa: E402
from posture_monitor.gui.main_window import MainWindow  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=600)
    parser.add_argument("--model", default="full", choices=["lite", "full"])
    parser.add_argument("--video", type=Path, default=ROOT / "tests/.media/sports2d_demo.mp4")
    args = parser.parse_args()
    app = QApplication([])
    tmp = Path(tempfile.mkdtemp())
    window = MainWindow(AppSettings(model=args.model, mirror=False), "0", tmp / "sessions",
                        tmp / "settings.json",
                        source_factory=lambda: VideoAsCameraSource(args.video))
    window.show()
    samples: list[tuple[float, object, int]] = []
    t0 = time.monotonic()

    def sample() -> None:
        if window.engine is not None:
            samples.append((time.monotonic() - t0, window.engine.stats(), window.frames_shown))
        if time.monotonic() - t0 >= args.seconds:
            app.quit()

    timer = QTimer(interval=10_000, timeout=sample)
    timer.start()
    app.exec()
    window.close()
    print(f"video {args.video.name} as a 30 fps camera, model {args.model}, "
          f"{args.seconds} s, 2-core machine")
    print("minute | capture fps | analysis fps | display fps | latency p50 | p95 ms | dropped")
    for minute in range(int(args.seconds // 60) or 1):
        rows = [s for t, s, _ in samples if minute * 60 < t <= (minute + 1) * 60]
        if not rows:
            continue
        m = lambda key, rows=rows: statistics.mean(getattr(r, key) for r in rows)  # noqa: E731
        print(f"{minute + 1:6d} | {m('capture_fps'):11.1f} | {m('analysis_fps'):12.1f} | "
              f"{m('display_fps'):11.1f} | {m('latency_p50_ms'):11.0f} | "
              f"{m('latency_p95_ms'):6.0f} | {rows[-1].dropped}")
    t_end, last, shown = samples[-1]
    print(f"overall: {shown} frames shown in {t_end:.0f} s ({shown / t_end:.1f} fps), "
          f"analysis skipped {last.dropped} frames (newest wins)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

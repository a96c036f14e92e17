"""Long-run benchmark of the live window while it records: memory, latency and CPU per
ten minutes must stay flat from start to end (issue 11).

    python bench/bench_longrun.py [--seconds 3600] [--model full] [--video PATH]

The real main window (offscreen unless a display is set) runs on a real clip playing a
30 fps camera (`VideoAsCameraSource`, looping, real time) and records from the first
frames on, exactly as Ctrl+R does: the per-frame CSV and sidecar, and the samples in the
session database (a temporary POSTURE_MONITOR_DATA_HOME). Every 10 s it samples the
engine's figures, the process's resident memory (VmRSS) and its CPU time (all threads);
at the end it prints one row per ten minutes. This is a benchmark, not a test: the
figures go into the README.
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
_TMP = Path(tempfile.mkdtemp(prefix="posture-monitor-longrun-"))
os.environ["POSTURE_MONITOR_DATA_HOME"] = str(_TMP / "data")  # never the user's own store

from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from posture_monitor.core.capture.sources import VideoAsCameraSource  # noqa: E402
from posture_monitor.core.records.app_settings import AppSettings  # noqa: E402
from posture_monitor.gui.main_window import MainWindow  # noqa: E402

BLOCK_S = 600


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_s() -> float:
    t = os.times()
    return t.user + t.system


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=3600)
    parser.add_argument("--model", default="full", choices=["lite", "full"])
    parser.add_argument("--video", type=Path, default=ROOT / "tests/.media/sports2d_demo.mp4")
    parser.add_argument("--block", type=int, default=BLOCK_S, help="seconds per row")
    args = parser.parse_args()
    app = QApplication([])
    window = MainWindow(AppSettings(model=args.model, mirror=False), "0", _TMP / "sessions",
                        _TMP / "settings.json",
                        source_factory=lambda: VideoAsCameraSource(args.video))
    window.show()
    samples: list[tuple[float, object, int, float, float]] = []
    t0 = time.monotonic()

    def sample() -> None:
        if window.engine is None:
            return
        if not window.engine.recording and window.frames_shown > 10:
            window.toggle_recording()
        samples.append((time.monotonic() - t0, window.engine.stats(), window.frames_shown,
                        rss_mb(), cpu_s()))
        if time.monotonic() - t0 >= args.seconds:
            app.quit()

    timer = QTimer(interval=10_000, timeout=sample)
    timer.start()
    app.exec()
    if window.engine is not None and window.engine.recording:
        window.toggle_recording()
    rows_written = 0
    if window.last_csv:
        with open(window.last_csv, encoding="utf-8") as fh:
            rows_written = sum(1 for _ in fh) - 1
    window.close()
    print(f"video {args.video.name} as a 30 fps camera, model {args.model}, recording, "
          f"{args.seconds} s, {os.cpu_count()}-core machine")
    print("| minutes | capture fps | analysis fps | display fps | latency p50 / p95 ms | "
          "memory (RSS) MB at end | CPU % of one core |")
    print("|---|---|---|---|---|---|---|")
    prev_t, prev_cpu = samples[0][0], samples[0][4]
    for block in range(max(args.seconds // args.block, 1)):
        rows = [s for s in samples if block * args.block < s[0] <= (block + 1) * args.block]
        if not rows:
            continue
        def m(key, rows=rows):
            return statistics.mean(getattr(r[1], key) for r in rows
                                   if getattr(r[1], key) is not None)
        t_end, cpu_end = rows[-1][0], rows[-1][4]
        cpu_pct = 100 * (cpu_end - prev_cpu) / max(t_end - prev_t, 1e-9)
        prev_t, prev_cpu = t_end, cpu_end
        lo, hi = block * args.block // 60, (block + 1) * args.block // 60
        print(f"| {lo}-{hi} | {m('capture_fps'):.1f} | {m('analysis_fps'):.1f} | "
              f"{m('display_fps'):.1f} | {m('latency_p50_ms'):.0f} / {m('latency_p95_ms'):.0f} "
              f"| {rows[-1][3]:.0f} | {cpu_pct:.0f} |")
    t_end, last, shown = samples[-1][:3]
    print(f"overall: {shown} frames shown in {t_end:.0f} s ({shown / t_end:.1f} fps); "
          f"analysis skipped {last.dropped} frames (newest wins); {rows_written} rows "
          f"recorded into {window.last_csv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

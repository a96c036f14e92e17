"""Peak memory and time of `posture-monitor sessions import` on a large generated CSV.

    .venv/bin/python bench/bench_import.py --mb 50

Writes a session export CSV of about that size (every stored column, repr floats as an
export has them, a few empty cells), imports it into a fresh store in a child process
(`python -m posture_monitor sessions import`), and prints the child's peak resident
memory (ru_maxrss) and wall time. The store is a temporary folder; nothing else is touched.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from posture_monitor.core.measure.definitions import METRIC_BY_COLUMN  # noqa: E402
from posture_monitor.core.records.samples import SAMPLE_COLUMNS, TEXT_COLUMNS  # noqa: E402


def write_csv(path: Path, megabytes: float, columns=SAMPLE_COLUMNS, seed: int = 0) -> int:
    """About `megabytes` MB of rows of those columns; returns the number of rows."""
    rng = np.random.default_rng(seed)
    target = int(megabytes * 1e6)
    texts = {"view": ["left", "right", "front", ""],
             "posture_label": ["upright", "forward_head", ""],
             "alert_state": ["ok", "warning", "alert", "away"]}
    size, frame = 0, 0
    with open(path, "w", newline="", encoding="utf-8") as fh:
        header = ",".join(columns) + "\n"
        fh.write(header)
        size += len(header)
        while size < target:
            block = rng.normal(40, 15, size=(1000, len(columns)))
            lines = []
            for row in block:
                cells = []
                for j, col in enumerate(columns):
                    if col == "frame":
                        cells.append(str(frame))
                    elif col == "time_s":
                        cells.append(repr(frame / 30))
                    elif col in TEXT_COLUMNS:
                        cells.append(texts[col][frame % len(texts[col])])
                    elif col == "score_overall":
                        cells.append(repr(float(min(max(row[j], 0.0), 100.0))))
                    else:  # plausible values in each unit (ratios near 0.5, cm near 5)
                        unit = METRIC_BY_COLUMN[col].unit
                        v = {"deg": row[j], "ratio": row[j] / 80, "cm": row[j] / 8}[unit]
                        cells.append("" if frame % 17 == j else repr(float(v)))
                lines.append(",".join(cells))
                frame += 1
            text = "\n".join(lines) + "\n"
            fh.write(text)
            size += len(text)
    return frame


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mb", type=float, default=50.0, help="CSV size in MB (default 50)")
    ap.add_argument("--columns", choices=("all", "few"), default="all",
                    help="every stored column (an export), or frame,time_s,cva_deg only "
                    "(short rows: the most rows per MB)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "big.csv"
        columns = SAMPLE_COLUMNS if args.columns == "all" else ("frame", "time_s", "cva_deg")
        rows = write_csv(csv_path, args.mb, columns)
        env = dict(os.environ, POSTURE_MONITOR_DATA_HOME=str(Path(tmp) / "home"))
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "posture_monitor", "sessions", "import",
                               str(csv_path), "--patient", "BENCH"], cwd=ROOT, env=env,
                              capture_output=True, text=True)
        wall = time.perf_counter() - t0
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB on Linux
        print(f"csv {csv_path.stat().st_size / 1e6:.1f} MB, {len(columns)} columns, {rows} rows: "
              f"exit {proc.returncode}, "
              f"peak RSS {peak_mb:.0f} MiB, {wall:.1f} s")
        if proc.returncode:
            print(proc.stderr.strip()[-2000:])
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""How much each joint angle moves on a still person, and how the 2D and 3D angles of the
same joint agree, on the real side-view squat (tests/fixtures/exercise_side_mit).

    python bench/exercise_noise.py [VIDEO] [--still 4.5:8.5] [--model full|lite] [--json]

Runs the shipped pipeline (One Euro smoothing on, no classifier) over the clip and prints:

* for the still phase (default 4.5-8.5 s: the man stands with the bar on his back, after
  stepping back and before the first squat), per angle column with readings there:
  n, median, SD, frame-to-frame jitter (SD of successive differences / sqrt 2) and the
  smallest detectable change SDC95 = 1.96 x sqrt(2) x SD. He does not move, so the SD is
  measurement noise (plus breathing and balance sway): an upper bound for a still person.
* over the whole clip (still, two deep squats, racking), for each joint with a 2D and a 3D
  column: the mean difference 3D - 2D, the mean absolute difference and Pearson's r over
  the frames where both have a reading, for the near (right) and the far (left) side.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from posture_monitor.core.measure.joints import ANGLE_COLUMNS, COLUMN_INFO  # noqa: E402

CLIP = ROOT / "tests" / "fixtures" / "exercise_side_mit" / "squat_side_barbell.mp4"


def track(video: Path, model: str) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    from posture_monitor.core.capture.sources import open_source
    from posture_monitor.core.capture.worker import CaptureWorker
    from posture_monitor.core.common.settings import AnalysisSettings
    from posture_monitor.core.posture.pipeline import PosePipeline

    t, values = [], {c: [] for c in ANGLE_COLUMNS}
    with PosePipeline(AnalysisSettings(model=model, classifier="none")) as pipe, \
            open_source(video) as src:
        for frame in CaptureWorker(src).frames():
            r = pipe.process(frame)
            t.append(frame.time_s)
            for c in ANGLE_COLUMNS:
                v = r.angles.values[c]
                values[c].append(np.nan if v is None else v)
    return np.array(t), {c: np.array(v) for c, v in values.items()}


def still_noise(t, values, window):
    lo, hi = window
    inside = (t >= lo) & (t <= hi)
    out = {}
    for c, v in values.items():
        x = v[inside]
        ok = np.isfinite(x)
        if ok.sum() < 10:
            continue
        d = np.diff(x)
        d = d[np.isfinite(d)]
        sd = float(np.std(x[ok], ddof=1))
        out[c] = {"n": int(ok.sum()), "median": float(np.median(x[ok])), "sd": sd,
                  "jitter": float(np.std(d, ddof=1) / math.sqrt(2)) if d.size > 2 else None,
                  "sdc95": 1.96 * math.sqrt(2) * sd}
    return out


def agreement(values):
    out = {}
    for c3 in values:
        joint, side, three_d = COLUMN_INFO[c3]
        if not three_d:
            continue
        c2 = joint.column(side)
        a, b = values[c2], values[c3]
        ok = np.isfinite(a) & np.isfinite(b)
        if ok.sum() < 10:
            continue
        out[c2] = {"n": int(ok.sum()), "mean_diff_3d_minus_2d": float(np.mean(b[ok] - a[ok])),
                   "mean_abs_diff": float(np.mean(np.abs(b[ok] - a[ok]))),
                   "r": float(np.corrcoef(a[ok], b[ok])[0, 1])}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("video", nargs="?", type=Path, default=CLIP)
    ap.add_argument("--still", default="4.5:8.5")
    ap.add_argument("--model", default="full")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    window = tuple(float(x) for x in args.still.split(":"))
    t, values = track(args.video, args.model)
    result = {"video": args.video.name, "model": args.model, "still_s": window,
              "still": still_noise(t, values, window), "agreement_2d_3d": agreement(values)}
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"{args.video.name}, {args.model} model; still phase {window[0]:g}-{window[1]:g} s")
    print(f"{'column':28s} {'n':>4s} {'median':>8s} {'SD':>6s} {'jitter':>6s} {'SDC95':>6s}")
    for c, s in result["still"].items():
        jit = f"{s['jitter']:6.2f}" if s["jitter"] is not None else "     -"
        print(f"{c:28s} {s['n']:4d} {s['median']:8.2f} {s['sd']:6.2f} {jit} {s['sdc95']:6.2f}")
    print("\n2D vs 3D over the whole clip (frames with both)")
    print(f"{'joint (2D column)':28s} {'n':>4s} {'3D-2D':>7s} {'|3D-2D|':>8s} {'r':>6s}")
    for c, a in result["agreement_2d_3d"].items():
        print(f"{c:28s} {a['n']:4d} {a['mean_diff_3d_minus_2d']:7.1f} "
              f"{a['mean_abs_diff']:8.1f} {a['r']:6.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

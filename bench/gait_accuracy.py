"""How exact the gait events are, and how much the figures vary stride to stride.

    python bench/gait_accuracy.py [--video tests/.media/sports2d_demo.mp4] [--model full|lite]

1. Constructed walks (tests/synthetic_walk.py: known heel strikes and toe offs, 2 px of
   landmark noise, 25-60 fps, both directions, slow, a limp, label swaps) through the real
   analysis: per case the number of events and the largest and mean absolute timing
   error in frames.
2. The real Sports2D walker through `analyze --gait` (real MediaPipe): steps, cadence
   against the count by eye (7 steps in 130 frames = 96.9 steps/min, see
   tests/test_gait_real.py), and each figure's mean and SD over the strides (the SD of a
   steady walker is true stride-to-stride variability plus measurement noise: an upper
   bound on the noise).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CASES = {
    "30 fps, right to left": dict(fps=30.0, direction=-1),
    "60 fps, left to right": dict(fps=60.0, direction=1),
    "25 fps, brisk": dict(fps=25.0, stride_s=1.05),
    "30 fps, slow (0.6 leg/s)": dict(fps=30.0, stride_s=1.6, speed_legs_per_s=0.6),
    "50 fps, limp (stance 62/70 %)": dict(fps=50.0, right_stance_share=0.70),
    "30 fps, 8 frames of label swaps": dict(fps=30.0, swaps=(40, 41, 70, 95, 96, 97, 130, 131)),
}


def constructed() -> None:
    from posture_monitor.core.movement.gait import analyse_gait
    from tests.synthetic_walk import walk

    print("constructed walks (2 px noise): events, max |error|, mean |error| in frames")
    for name, kw in CASES.items():
        track, truth = walk(noise_px=2.0, **kw)
        result = analyse_gait(track)
        errors = []
        for e in result.events:
            same = [t for k, f, t in truth if k == e.kind and f == e.foot]
            errors.append(min(abs(e.time_s - t) for t in same) * kw["fps"])
        print(f"  {name:34s} {len(errors):3d} events  max {max(errors):.2f}  "
              f"mean {sum(errors) / len(errors):.2f}")


def real(video: Path, model: str) -> None:
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([sys.executable, "-m", "posture_monitor", "analyze", str(video),
                        "--out", out, "--gait", "--height-cm", "165", "--classifier",
                        "none", "--model", model, "--quiet"], check=True)
        g = json.loads((Path(out) / f"{video.stem}.json").read_text())["gait"]
    print(f"\nreal walker ({video.name}, {model} model, 1.65 m assumed): analysed "
          f"{g['analysed_s']}, {g['steps']} heel strikes, cadence "
          f"{g['cadence_steps_per_min']:.1f} steps/min (by eye 96.9), events {g['events']}")
    for key in ("step_time_s", "stride_time_s", "stance_pct", "swing_pct", "step_length_leg",
                "step_length_m"):
        cells = []
        for foot in ("left", "right"):
            d = g[key][foot]
            sd = f"{d['sd']:.3f}" if d["sd"] is not None else "-"
            cells.append(f"{foot} {d['mean']:.3f} SD {sd} (n={d['n']})"
                         if d["mean"] is not None else f"{foot} -")
        print(f"  {key:16s} " + "   ".join(cells))
    d = g["double_support_pct"]
    print(f"  double_support_pct {d['mean']:.1f} SD {d['sd'] or 0:.1f} (n={d['n']})")
    for k, v in g["symmetry"].items():
        if v["si_pct"] is not None:
            print(f"  symmetry {k:16s} SI {v['si_pct']:.1f} %  ratio {v['ratio_pct']:.1f} %")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--video", type=Path, default=ROOT / "tests/.media/sports2d_demo.mp4")
    ap.add_argument("--model", default="full")
    args = ap.parse_args()
    constructed()
    real(args.video, args.model)


if __name__ == "__main__":
    main()

"""Noise of every metric on a still person, measured on real front-facing desk webcam video.

    python bench/front_noise.py [FOLDER] [--clips a.mp4 b.mp4] [--window 1:10] [--json]

Runs the real pipeline (`PosePipeline`: full model, One Euro smoothing on as shipped, no
classifier) over each clip and prints, per clip and per metric that has readings there
(every column of `definitions.METRIC_COLUMNS`):

* n        frames with a reading
* median
* SD       standard deviation over the clip
* SEM_jit  frame-to-frame jitter: SD of successive differences / sqrt(2) (only pairs of
           consecutive frames that both have a reading); the noise of one reading when the
           true value changes slowly
* SDC95    smallest detectable change, 1.96 * sqrt(2) * SD: a change of one reading from a
           reference that is larger than this is beyond the clip's variation (95 %)

The default clips (BSD-2, `tests/fixtures/desk_webcam_bsd2/`, or ../shared/data/real/
desk_webcam_bsd2/) show one adult seated upright throughout, waving his hands from about
1 to 10 s and holding a board in front of his chest from about 11 s, at 6 fps, 1280x720.
He does not change his posture, so all variation is measurement noise plus what the
hands and the board do to the landmarks: the SD over the whole clip is an UPPER BOUND for
a still person. The same figures are also given over the `--window` (default 1-10 s:
hand waving, no board).
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

from posture_monitor.core.measure.definitions import METRIC_BY_COLUMN, METRIC_COLUMNS  # noqa: E402

CLIPS = ("front_cam2.mp4", "front_low_cam0.mp4")
FOLDERS = (ROOT / "tests" / "fixtures" / "desk_webcam_bsd2",
           ROOT.parent / "shared" / "data" / "real" / "desk_webcam_bsd2")


def default_folder() -> Path:
    return next((f for f in FOLDERS if (f / CLIPS[0]).exists()), FOLDERS[0])


def track(video: Path, model: str = "full") -> dict:
    """Per-frame time, view and metric values of one clip through the shipped pipeline."""
    from posture_monitor.core.capture.sources import open_source
    from posture_monitor.core.capture.worker import CaptureWorker
    from posture_monitor.core.common.settings import AnalysisSettings
    from posture_monitor.core.posture.pipeline import PosePipeline

    settings = AnalysisSettings(model=model, classifier="none")  # smoothing on, as shipped
    t, views, values = [], [], {c: [] for c in METRIC_COLUMNS}
    with PosePipeline(settings) as pipe, open_source(video) as src:
        fps = src.fps
        for frame in CaptureWorker(src).frames():
            m = pipe.process(frame).measurement
            t.append(frame.time_s)
            views.append(m.view)
            for c in METRIC_COLUMNS:
                v = m.values.get(c)
                values[c].append(math.nan if v is None else float(v))
    return {"fps": fps, "t": np.array(t), "views": views,
            "values": {c: np.array(v) for c, v in values.items()}}


def stats(x: np.ndarray) -> dict | None:
    """n, median, SD, frame-to-frame jitter SEM and SDC95 of a track with NaN gaps."""
    ok = ~np.isnan(x)
    n = int(ok.sum())
    if n < 3:
        return None
    sd = float(np.std(x[ok], ddof=1))
    d = np.diff(x)
    d = d[~np.isnan(d)]  # only successive frames that both have a reading
    jit = float(np.std(d, ddof=1) / math.sqrt(2)) if len(d) >= 2 else math.nan
    return {"n": n, "median": float(np.median(x[ok])), "sd": sd, "sem_jitter": jit,
            "sdc95": 1.96 * math.sqrt(2) * sd}


def summarize(tr: dict, window: tuple[float, float] | None = None,
              view: str | None = "front") -> dict:
    """Noise of each metric over the frames in `view` (the front defaults apply where a
    front baseline is compared: pipeline._alert_values; None: every frame)."""
    t = tr["t"]
    keep = np.ones(len(t), bool) if window is None else (t >= window[0]) & (t <= window[1])
    if view is not None:
        keep &= np.array([v == view for v in tr["views"]], bool)
    out = {}
    for c in METRIC_COLUMNS:
        s = stats(tr["values"][c][keep])
        if s is not None:
            out[c] = s
    return out


def _fmt(v: float, unit: str) -> str:
    if math.isnan(v):
        return "-"
    return f"{v:.3f}" if unit == "ratio" else f"{v:.2f}"


def markdown(name: str, label: str, rows: dict) -> str:
    lines = [f"**{name}**, {label}", "",
             "| metric | unit | n | median | SD | SEM_jit | SDC95 |",
             "|---|---|---|---|---|---|---|"]
    for c, s in rows.items():
        u = METRIC_BY_COLUMN[c].unit
        lines.append(f"| {c} | {u} | {s['n']} | {_fmt(s['median'], u)} | {_fmt(s['sd'], u)} "
                     f"| {_fmt(s['sem_jitter'], u)} | {_fmt(s['sdc95'], u)} |")
    return "\n".join(lines)


def _window(text: str) -> tuple[float, float]:
    a, b = (float(x) for x in text.split(":"))
    return a, b


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", nargs="?", type=Path, default=None,
                    help="folder with the clips (default: tests/fixtures/desk_webcam_bsd2)")
    ap.add_argument("--clips", nargs="+", default=list(CLIPS))
    ap.add_argument("--window", type=_window, default=(1.0, 10.0), metavar="A:B",
                    help="also report over these seconds (default 1:10, hands waving)")
    ap.add_argument("--model", default="full")
    ap.add_argument("--json", action="store_true", help="JSON instead of Markdown")
    args = ap.parse_args(argv)
    folder = args.folder or default_folder()
    result = {"folder": str(folder), "model": args.model, "smoothing": "on (shipped)",
              "window_s": list(args.window), "clips": {}}
    for clip in args.clips:
        tr = track(folder / clip, args.model)
        views = {v: tr["views"].count(v) for v in sorted(set(tr["views"]))}
        result["clips"][clip] = {
            "frames": len(tr["t"]), "fps": tr["fps"], "views": views,
            "whole": summarize(tr), "window": summarize(tr, args.window)}
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    a, b = args.window
    print(f"Noise on a still person: {folder}, model {args.model}, smoothing on as shipped.")
    print("SD over the whole clip includes the hand waving and the board held in front of "
          "the chest: an upper bound for a still person.\n")
    for clip, r in result["clips"].items():
        views = ", ".join(f"{v} {n}" for v, n in r["views"].items())
        print(markdown(clip, f"whole clip ({r['frames']} frames at {r['fps']:g} fps; "
                             f"views: {views})", r["whole"]))
        print()
        print(markdown(clip, f"{a:g}-{b:g} s only (hands waving, no board)", r["window"]))
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

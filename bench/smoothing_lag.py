"""Measure the lag the One Euro smoothing adds, with the project's filter and defaults.

    python bench/smoothing_lag.py [VIDEO]

1. Step response at 30 fps for landmark jumps of 1 %, 3 % and 10 % of the frame:
   time until the smoothed value covers 50 % and 90 % of the jump.
2. Steady lag while a landmark moves at a constant speed (ramp).
3. With a VIDEO: jitter (median |2nd difference|) of the nose track with and without
   smoothing, and the lag between the two tracks by cross-correlation.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from posture_monitor.core.common.settings import SmoothingSettings  # noqa: E402
from posture_monitor.core.vision.smoothing import OneEuroFilter  # noqa: E402

FPS = 30.0


def _filter() -> OneEuroFilter:
    s = SmoothingSettings()
    return OneEuroFilter(s.min_cutoff_hz, s.beta, s.d_cutoff_hz)


def step_response(amplitude: float) -> tuple[float, float]:
    f = _filter()
    out = [f(np.array([0.0]), i / FPS)[0] for i in range(10)]
    out = [f(np.array([amplitude]), (10 + i) / FPS)[0] for i in range(200)]
    out = np.array(out) / amplitude
    t50 = (np.argmax(out >= 0.5) + 1) / FPS
    t90 = (np.argmax(out >= 0.9) + 1) / FPS
    return t50 * 1000, t90 * 1000


def ramp_lag(speed: float) -> float:
    f = _filter()
    xs = [speed * i / FPS for i in range(300)]
    ys = [f(np.array([x]), i / FPS)[0] for i, x in enumerate(xs)]
    return (xs[-1] - ys[-1]) / speed * 1000


def video_lag(video: Path) -> None:
    from posture_monitor.core.capture.sources import open_source
    from posture_monitor.core.capture.worker import CaptureWorker
    from posture_monitor.core.common.settings import AnalysisSettings
    from posture_monitor.core.posture.pipeline import PosePipeline
    from posture_monitor.core.vision.landmarks import INDEX

    tracks = {}
    for smooth in (False, True):
        settings = AnalysisSettings(smoothing=SmoothingSettings(enabled=smooth))
        with PosePipeline(settings) as pipe, open_source(video) as src:
            fps = src.fps
            tracks[smooth] = np.array([
                r.pose.image[INDEX["nose"], :2] if r.pose is not None else (np.nan, np.nan)
                for r in map(pipe.process, CaptureWorker(src).frames())])
    raw, smooth = tracks[False], tracks[True]
    jitter = lambda t: np.nanmedian(np.abs(np.diff(t, n=2, axis=0)))  # noqa: E731
    x, y = raw[:, 0] - np.nanmean(raw[:, 0]), smooth[:, 0] - np.nanmean(smooth[:, 0])
    ok = ~(np.isnan(x) | np.isnan(y))
    shifts = range(0, 8)
    corr = [np.corrcoef(x[ok][: len(x[ok]) - s], y[ok][s:])[0, 1] for s in shifts]
    best = int(np.argmax(corr))
    print(f"{video.name} ({fps:.0f} fps): nose jitter {jitter(raw) * 1e3:.2f} -> "
          f"{jitter(smooth) * 1e3:.2f} (x1000 of frame size, median |2nd diff|); "
          f"lag by cross-correlation {best} frames = {best / fps * 1000:.0f} ms")


def main() -> int:
    print("One Euro defaults:", SmoothingSettings())
    for amp in (0.01, 0.03, 0.10):
        t50, t90 = step_response(amp)
        print(f"step of {amp * 100:.0f} % of the frame at {FPS:.0f} fps: 50 % after "
              f"{t50:.0f} ms, 90 % after {t90:.0f} ms")
    for speed in (0.02, 0.1, 0.5):
        print(f"ramp at {speed:.2f} frame/s: steady lag {ramp_lag(speed):.0f} ms")
    if len(sys.argv) > 1:
        video_lag(Path(sys.argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

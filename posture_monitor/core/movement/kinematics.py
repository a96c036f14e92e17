"""Angular velocity and left/right symmetry: the small formulas every repetition uses.

Symmetry follows docs/METRICS.md and shows both forms clinics use:
* symmetry index SI = |L - R| / (0.5 (L + R)) x 100 % (0 = symmetric; Robinson et al.
  1987), and
* symmetry ratio = min(L, R) / max(L, R) x 100 % (100 = symmetric; the "90 % symmetry"
  of a goal).
"""

from __future__ import annotations

import math

import numpy as np

# Velocity from a least-squares line through 5 samples centred on each one (2 each side):
# a central difference on single frames at 30 fps turns 1 deg of jitter into 30 deg/s.
VELOCITY_HALF_WINDOW = 2


def velocity(t: np.ndarray, x: np.ndarray, half: int = VELOCITY_HALF_WINDOW) -> np.ndarray:
    """d x / d t at each sample (units per second), NaN where fewer than 3 valid samples
    lie in the window. `x` may hold NaN (no reading)."""
    t = np.asarray(t, dtype=float)
    x = np.asarray(x, dtype=float)
    out = np.full(len(x), np.nan)
    for i in range(len(x)):
        lo, hi = max(0, i - half), min(len(x), i + half + 1)
        tt, xx = t[lo:hi], x[lo:hi]
        ok = np.isfinite(xx)
        if ok.sum() < 3:
            continue
        tt, xx = tt[ok], xx[ok]
        dt = tt - tt.mean()
        denom = float(np.dot(dt, dt))
        if denom > 0:
            out[i] = float(np.dot(dt, xx - xx.mean())) / denom
    return out


def trailing_velocity(t: list[float], x: list[float | None],
                      n: int = 2 * VELOCITY_HALF_WINDOW + 1) -> float | None:
    """The velocity at the newest sample from the last `n` (live plots: no future)."""
    pairs = [(a, b) for a, b in zip(t[-n:], x[-n:], strict=True) if b is not None]
    if len(pairs) < 3:
        return None
    tt, xx = np.array(pairs).T
    dt = tt - tt.mean()
    denom = float(np.dot(dt, dt))
    return float(np.dot(dt, xx - xx.mean())) / denom if denom > 0 else None


def symmetry_index(left: float | None, right: float | None) -> float | None:
    """SI in % (0 = symmetric); None without both sides or when both are zero."""
    if left is None or right is None or not (math.isfinite(left) and math.isfinite(right)):
        return None
    mean = 0.5 * (abs(left) + abs(right))
    return abs(abs(left) - abs(right)) / mean * 100.0 if mean > 0 else None


def symmetry_ratio(left: float | None, right: float | None) -> float | None:
    """min/max in % (100 = symmetric); None without both sides or when both are zero."""
    if left is None or right is None or not (math.isfinite(left) and math.isfinite(right)):
        return None
    hi = max(abs(left), abs(right))
    return min(abs(left), abs(right)) / hi * 100.0 if hi > 0 else None

"""Heel strike and toe off of each foot in a steady pass, from the foot's position
relative to the pelvis along the walking direction (Zeni et al. 2008, Gait Posture
27:710-714, made for marker data and used on video landmarks since): the heel is furthest
ahead of the pelvis at heel strike, the toes furthest behind it at toe off. Relative to
the pelvis, so a walker's speed changes nothing; extremes, not a threshold, so any
camera distance and step length work.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from posture_monitor.core.movement.gait_signals import LEG_PARTS, Pass, Prepared, smooth

FEET = ("left", "right")
SMOOTH_S = 0.13  # window of the zero-phase smoothing before the extremes are sought
# An extreme must be the largest within +-0.2 s (the same foot strikes again 0.8-1.4 s
# later, the other foot about half a stride later) and stand out by this many leg
# lengths from the lowest point within +-0.5 s (a shuffling step still moves the heel
# about 0.3 leg lengths relative to the pelvis).
PEAK_HALF_WINDOW_S = 0.2
PROMINENCE_WINDOW_S = 0.5
MIN_PROMINENCE = 0.1

# A foot never moves backwards in the room (it stands or swings forwards): an extreme
# made by a misplaced or mislabelled foot (a jump in the landmarks) shows as the part
# moving backwards (smoothed as the signal) faster than the hips move forwards, or than
# BACKWARD_MIN leg lengths per second for a slow walker (landmark jitter alone),
# within +-BACKWARD_WINDOW_S.
BACKWARD_WINDOW_S = 0.1
BACKWARD_MIN = 1.0

_HEEL, _TOE = LEG_PARTS.index("heel"), LEG_PARTS.index("foot_index")


@dataclass(frozen=True)
class GaitEvent:
    kind: str  # "heel_strike" | "toe_off"
    foot: str  # "left" | "right" (MediaPipe's labels, after the swap repair)
    time_s: float
    frame: float  # fractional row of the walker's series (a parabola through 3 samples)
    pass_no: int  # 1-based number of the walking pass


def forward_of_pelvis(prep: Prepared, p: Pass, foot: int, part: int) -> np.ndarray:
    """How far the part is ahead of the pelvis along the walking direction, in leg
    lengths, over the pass (smoothed)."""
    sl = slice(p.start, p.stop)
    pelvis = prep.legs[sl, :, 0, 0].mean(axis=1)
    ahead = p.direction * (prep.legs[sl, foot, part, 0] - pelvis) / prep.leg_length_px
    return smooth(ahead, int(round(SMOOTH_S * prep.fps)))


def _extremes(x: np.ndarray, fps: float) -> list[float]:
    """Fractional positions of the maxima of x that are true extremes (see above);
    none within the half window of either end, where a larger value may lie outside."""
    w = max(1, int(round(PEAK_HALF_WINDOW_S * fps)))
    wp = max(w, int(round(PROMINENCE_WINDOW_S * fps)))
    out = []
    for i in range(w, len(x) - w):
        seg = x[i - w:i + w + 1]
        if x[i] < seg.max() or np.argmax(seg) != w:
            continue  # not the (first) largest in its window
        lo = x[max(0, i - wp):i + wp + 1].min()
        if x[i] - lo < MIN_PROMINENCE:
            continue
        a, b, c = x[i - 1], x[i], x[i + 1]
        denom = a - 2 * b + c
        shift = 0.5 * (a - c) / denom if denom < 0 else 0.0
        out.append(i + float(np.clip(shift, -0.5, 0.5)))
    return out


def _moves_backwards(prep: Prepared, p: Pass, foot: int, part: int, frame: float,
                     hip_speed: float) -> bool:
    k = max(1, int(round(BACKWARD_WINDOW_S * prep.fps)))
    i = int(round(frame))
    lo, hi = max(p.start, i - k), min(p.stop - 1, i + k)
    x = smooth(prep.legs[p.start:p.stop, foot, part, 0] * p.direction,
               int(round(SMOOTH_S * prep.fps)))[lo - p.start:hi - p.start + 1]
    v = np.diff(x) / np.diff(prep.t[lo:hi + 1])
    limit = max(hip_speed, BACKWARD_MIN * prep.leg_length_px)
    return bool(len(v) and v.min() < -limit)


def detect_events(prep: Prepared, passes: list[Pass]) -> list[GaitEvent]:
    events: list[GaitEvent] = []
    rows = np.arange(len(prep.t), dtype=float)
    for no, p in enumerate(passes, start=1):
        pelvis = prep.legs[p.start:p.stop, :, 0, 0].mean(axis=1)
        span = prep.t[p.stop - 1] - prep.t[p.start]
        hip_speed = abs(pelvis[-1] - pelvis[0]) / span if span > 0 else 0.0
        for f, foot in enumerate(FEET):
            heel = forward_of_pelvis(prep, p, f, _HEEL)
            toe = forward_of_pelvis(prep, p, f, _TOE)
            for kind, signal, part in (("heel_strike", heel, _HEEL),
                                       ("toe_off", -toe, _TOE)):
                for pos in _extremes(signal, prep.fps):
                    frame = p.start + pos
                    if _moves_backwards(prep, p, f, part, frame, hip_speed):
                        continue
                    t = float(np.interp(frame, rows, prep.t))
                    events.append(GaitEvent(kind, foot, t, frame, no))
    return sorted(events, key=lambda e: (e.time_s, e.kind))

"""The walker's landmark series made fit for gait events: frames that cannot be used
found and said why, MediaPipe's left/right leg swaps repaired, short gaps bridged, and
the steady walking passes found (the walker entering and leaving the frame, standing
or turning are left out, each with its reason).

Coordinates are pixels of the frame, y down, as MediaPipe's image landmarks times the
frame size. Distances are judged in leg lengths (hip to knee plus knee to ankle, the
median over the clip), so the rules hold for any camera distance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from posture_monitor.core.vision.landmarks import INDEX

LEG_PARTS = ("hip", "knee", "ankle", "heel", "foot_index")
FOOT_PARTS = ("ankle", "heel", "foot_index")
LEFT = np.array([INDEX[f"left_{p}"] for p in LEG_PARTS])
RIGHT = np.array([INDEX[f"right_{p}"] for p in LEG_PARTS])
_FOOT = [LEG_PARTS.index(p) for p in FOOT_PARTS]

MIN_VISIBILITY = 0.5  # as the posture metrics (SETTINGS min_visibility)
EDGE_MARGIN = 0.01  # share of the frame width: a foot at the border may be cut off
FOOT_BELOW_HIP = 0.6  # leg lengths: a foot closer to hip height is a misplaced landmark
MAX_BRIDGE_S = 0.1  # gaps up to this long are bridged linearly (3 frames at 30 fps)
MIN_PASS_S = 1.0  # a pass shorter than this holds no full stride
# The hips travel at least this fast (leg lengths per second) while walking; a slow
# patient at 0.4 m/s covers about 0.5 leg lengths per second.
MIN_WALK_SPEED = 0.25
SPIKE = 0.4  # leg lengths: one frame this far from both neighbours (which agree) is a glitch
SWAP_PRIOR = 0.02  # leg lengths: a repair must beat MediaPipe's own labels by this much


@dataclass
class WalkerTrack:
    """One person's landmarks over time (rows = frames)."""

    t: np.ndarray  # (n,) seconds
    px: np.ndarray  # (n, 33, 2) pixels, y down
    vis: np.ndarray  # (n, 33) visibility
    width: int
    height: int


@dataclass
class Prepared:
    t: np.ndarray
    legs: np.ndarray  # (n, 2, 5, 2): [left, right] x LEG_PARTS x (x, y), NaN where unusable
    shoulders: np.ndarray  # (n, 2): mid-shoulder, NaN where unusable
    leg_length_px: float | None
    usable: np.ndarray  # (n,) bool after bridging
    reason: list[str | None]  # why a frame is unusable (None: usable)
    swapped: np.ndarray  # (n,) bool: the two legs' labels were exchanged here
    fps: float


def _leg_length(legs: np.ndarray) -> float | None:
    thigh = np.linalg.norm(legs[:, :, 0] - legs[:, :, 1], axis=-1)
    shank = np.linalg.norm(legs[:, :, 1] - legs[:, :, 2], axis=-1)
    both = thigh + shank  # (n, 2); NaN where a knee was hidden
    seen = np.isfinite(both)
    per_frame = np.where(seen, both, 0.0).sum(axis=1)[seen.any(axis=1)] / seen.sum(
        axis=1)[seen.any(axis=1)]
    return float(np.median(per_frame)) if len(per_frame) else None


def prepare(track: WalkerTrack) -> Prepared:
    n = len(track.t)
    idx = np.stack([LEFT, RIGHT])
    legs = track.px[:, idx, :].astype(float)  # (n, 2, 5, 2)
    vis = track.vis[:, idx]
    reason: list[str | None] = [None] * n
    x, y = legs[..., 0], legs[..., 1]
    out_of_frame = ((x < EDGE_MARGIN * track.width) | (x > (1 - EDGE_MARGIN) * track.width)
                    | (y < 0) | (y > track.height)).any(axis=(1, 2))
    # the events need the hips and feet; a hidden knee (the far one, behind the near
    # leg) only leaves that leg's angles empty
    low = vis < MIN_VISIBILITY
    knee = LEG_PARTS.index("knee")
    legs[:, :, knee][low[:, :, knee]] = np.nan
    low[:, :, knee] = False
    hidden = low.any(axis=(1, 2))
    for i in range(n):
        if out_of_frame[i]:
            reason[i] = "entering_or_leaving_frame"
        elif hidden[i]:
            reason[i] = "legs_not_visible"
    ok = np.array([r is None for r in reason])
    length = _leg_length(legs[ok]) if ok.any() else None
    shoulders = track.px[:, [INDEX["left_shoulder"], INDEX["right_shoulder"]], :].mean(axis=1)
    if length is None or length <= 1.0:
        return Prepared(track.t, legs, shoulders, None, np.zeros(n, bool),
                        [r or "legs_not_visible" for r in reason], np.zeros(n, bool),
                        _fps(track.t))
    hip_y = legs[:, :, 0, 1].mean(axis=1)
    foot_y = legs[:, :, _FOOT, 1].min(axis=2)  # the highest point of each foot
    misplaced = ((foot_y - hip_y[:, None]) < FOOT_BELOW_HIP * length).any(axis=1)
    for i in np.flatnonzero(ok & misplaced):
        reason[i] = "implausible_feet"
    ok &= ~misplaced
    legs[~ok] = np.nan
    swapped = repair_leg_labels(legs, ok, length)
    legs[swapped] = legs[swapped][:, ::-1]
    for i in _spikes(legs, ok, length):
        reason[i], ok[i] = "implausible_feet", False
        legs[i] = np.nan
    ok = _bridge(track.t, legs, ok, reason)
    return Prepared(track.t, legs, shoulders, length, ok, reason, swapped, _fps(track.t))


def _fps(t: np.ndarray) -> float:
    dt = np.diff(t)
    dt = dt[dt > 0]
    return float(1.0 / np.median(dt)) if len(dt) else 30.0


def _feet(legs: np.ndarray) -> np.ndarray:
    """(n, 2, 2): each foot's centre (ankle, heel, toes)."""
    return legs[:, :, _FOOT, :].mean(axis=2)


def repair_leg_labels(legs: np.ndarray, ok: np.ndarray, length: float) -> np.ndarray:
    """Frames where the two legs' labels are exchanged (True = swap them back).

    In a side view MediaPipe often gives the near leg the far leg's label for a few
    frames. Where each foot is going tells them apart: the stance foot stands still
    while the swing foot moves fast, so the assignment whose feet continue their own
    motion (constant velocity, second order: at a crossing a first-order rule cannot
    tell crossing from bouncing) wins. A Viterbi search over (previous, current) swap
    states on each run of usable frames; then the labels held in most frames are kept,
    so "left" stays MediaPipe's left.
    """
    n = len(legs)
    swapped = np.zeros(n, bool)
    feet = _feet(legs)
    start = None
    for i in range(n + 1):
        if i < n and ok[i]:
            start = i if start is None else start
            continue
        if start is not None and i - start >= 3:
            swapped[start:i] = _viterbi(feet[start:i], length)
        start = None
    if swapped[ok].mean() > 0.5 if ok.any() else False:
        swapped[ok] = ~swapped[ok]
    return swapped


def _viterbi(feet: np.ndarray, length: float) -> np.ndarray:
    n = len(feet)
    alt = [feet, feet[:, ::-1]]  # state 0: as labelled, 1: swapped

    def pos(s: int, i: int) -> np.ndarray:
        return alt[s][i]

    # cost[a, b]: best total with state a at i-1 and b at i
    cost = np.array([[SWAP_PRIOR * length * (a + b) for b in (0, 1)] for a in (0, 1)])
    back: list[np.ndarray] = []
    for i in range(2, n):
        new = np.full((2, 2), np.inf)
        arg = np.zeros((2, 2), int)
        for b in (0, 1):
            for c in (0, 1):
                for a in (0, 1):
                    pred = 2 * pos(b, i - 1) - pos(a, i - 2)
                    step = float(np.linalg.norm(pos(c, i) - pred, axis=1).sum())
                    total = cost[a, b] + step + SWAP_PRIOR * length * c
                    if total < new[b, c]:
                        new[b, c], arg[b, c] = total, a
        back.append(arg)
        cost = new
    b, c = np.unravel_index(int(np.argmin(cost)), cost.shape)
    states = [c, b]
    for arg in reversed(back):
        a = arg[b, c]
        states.append(a)
        b, c = a, b
    return np.array(states[::-1][:n], bool)


def _spikes(legs: np.ndarray, ok: np.ndarray, length: float) -> list[int]:
    feet = _feet(legs)
    out = []
    for i in range(1, len(legs) - 1):
        if not (ok[i - 1] and ok[i] and ok[i + 1]):
            continue
        mid = 0.5 * (feet[i - 1] + feet[i + 1])
        agree = np.linalg.norm(feet[i - 1] - feet[i + 1], axis=1) < SPIKE * length
        off = np.linalg.norm(feet[i] - mid, axis=1) > SPIKE * length
        if (agree & off).any():
            out.append(i)
    return out


def _bridge(t: np.ndarray, legs: np.ndarray, ok: np.ndarray,
            reason: list[str | None]) -> np.ndarray:
    """Gaps up to MAX_BRIDGE_S between usable frames are filled linearly (legs only)."""
    ok = ok.copy()
    good = np.flatnonzero(ok)
    for a, b in zip(good[:-1], good[1:], strict=True):
        if b - a > 1 and t[b] - t[a] <= MAX_BRIDGE_S + 1e-9:
            w = ((t[a + 1:b] - t[a]) / (t[b] - t[a]))[:, None, None, None]
            legs[a + 1:b] = legs[a] * (1 - w) + legs[b] * w
            ok[a + 1:b] = True
            for i in range(a + 1, b):
                reason[i] = None
    return ok


def smooth(x: np.ndarray, window: int) -> np.ndarray:
    """Zero-phase smoothing (a quadratic Savitzky-Golay fit over `window` samples, odd):
    peaks keep their time, which a causal filter would delay."""
    window = max(3, window | 1)
    if len(x) < window:
        return x.astype(float).copy()
    half = window // 2
    k = np.arange(-half, half + 1, dtype=float)
    a = np.vander(k, 3, increasing=True)
    coef = np.linalg.pinv(a)[0]
    padded = np.concatenate([np.full(half, x[0]), x, np.full(half, x[-1])])
    return np.convolve(padded, coef[::-1], mode="valid")


@dataclass(frozen=True)
class Pass:
    """One steady walk across the frame: frames [start, stop), direction +1 = towards
    the right of the image."""

    start: int
    stop: int
    direction: int


def walking_passes(prep: Prepared) -> tuple[list[Pass], list[str | None]]:
    """The runs of usable frames where the hips travel steadily one way, at least
    MIN_PASS_S long; and for every frame outside them, why."""
    n = len(prep.t)
    reason = list(prep.reason)
    if prep.leg_length_px is None:
        return [], reason
    pelvis = prep.legs[:, :, 0, 0].mean(axis=1)
    speed = np.full(n, np.nan)
    # hip speed over half a second (a line through the usable frames there): the sway
    # within a stride averages out, and one unusable frame does not stop a pass
    half = 0.25
    for i in np.flatnonzero(prep.usable):
        near = np.abs(prep.t - prep.t[i]) <= half + 1e-9
        near &= prep.usable
        tt, xx = prep.t[near], pelvis[near]
        if len(tt) >= 3 and tt[-1] - tt[0] >= 0.8 * half:
            dt = tt - tt.mean()
            speed[i] = float(np.dot(dt, xx - xx.mean()) / np.dot(dt, dt))
    speed /= prep.leg_length_px
    direction = np.where(speed >= MIN_WALK_SPEED, 1, np.where(speed <= -MIN_WALK_SPEED, -1, 0))
    passes: list[Pass] = []
    i = 0
    while i < n:
        if not prep.usable[i] or direction[i] == 0:  # (a NaN speed is 0 here)
            if reason[i] is None:
                reason[i] = "not_walking"
            i += 1
            continue
        j = i
        while j < n and prep.usable[j] and direction[j] == direction[i]:
            j += 1
        if prep.t[j - 1] - prep.t[i] >= MIN_PASS_S:
            passes.append(Pass(i, j, int(direction[i])))
        else:
            for k in range(i, j):
                reason[k] = "pass_too_short"
        i = j
    return passes, reason


def flagged_spans(t: np.ndarray, reason: list[str | None]) -> list[dict]:
    """Runs of frames left out, with their reason, in seconds."""
    spans: list[dict] = []
    for i, r in enumerate(reason):
        if r is None:
            continue
        if spans and spans[-1]["reason"] == r and spans[-1]["_last"] == i - 1:
            spans[-1]["to_s"], spans[-1]["_last"] = float(t[i]), i
        else:
            spans.append({"from_s": float(t[i]), "to_s": float(t[i]), "reason": r, "_last": i})
    for s in spans:
        del s["_last"]
    return spans

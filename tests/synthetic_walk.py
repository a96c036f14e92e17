"""A walker drawn from known gait events, for the gait tests: the pelvis moves at a
constant speed; each foot stands still from its heel strike to its toe off and swings
forward at a constant speed to its next heel strike, lifting off the ground; knees
bend in swing. Landmarks in MediaPipe's layout, in pixels, as the gait sink keeps them.
The true event times are returned with it."""

from __future__ import annotations

import numpy as np

from posture_monitor.core.movement.gait_signals import WalkerTrack
from posture_monitor.core.vision.landmarks import INDEX


def walk(fps: float = 30.0, seconds: float = 8.0, stride_s: float = 1.2,
         stance_share: float = 0.62, direction: int = -1, leg_px: float = 190.0,
         speed_legs_per_s: float = 1.4, width: int = 1768, height: int = 994,
         start_x: float | None = None, first_hs_s: float = 0.3, noise_px: float = 0.0,
         swaps: tuple[int, ...] = (), right_stance_share: float | None = None,
         seed: int = 0) -> tuple[WalkerTrack, list[tuple[str, str, float]]]:
    rng = np.random.default_rng(seed)
    n = int(seconds * fps)
    t = np.arange(n) / fps
    speed = speed_legs_per_s * leg_px
    if start_x is None:
        start_x = width * 0.85 if direction < 0 else width * 0.15
    pelvis_x = start_x + direction * speed * t
    hip_y = height * 0.55
    ground = hip_y + 0.97 * leg_px
    stride_px = speed * stride_s
    truth: list[tuple[str, str, float]] = []
    px = np.zeros((n, 33, 2))
    vis = np.full((n, 33), 0.95)
    for side, offset, share in (("left", 0.0, stance_share),
                                ("right", 0.5, right_stance_share or stance_share)):
        stance_s = share * stride_s
        lead = speed * stance_s / 2  # heel as far ahead at strike as behind at toe off
        hs = np.arange(first_hs_s + offset * stride_s - 2 * stride_s, seconds + stride_s,
                       stride_s)
        for h in hs:
            if 0 <= h < seconds:
                truth.append(("heel_strike", side, float(h)))
            if 0 <= h + stance_s < seconds:
                truth.append(("toe_off", side, float(h + stance_s)))
        foot_x = np.empty(n)
        lift = np.zeros(n)
        for i, ti in enumerate(t):
            k = np.searchsorted(hs, ti, side="right") - 1  # the last heel strike
            h = hs[k]
            land = start_x + direction * (speed * h + lead)
            if ti - h <= stance_s:
                foot_x[i] = land
            else:
                u = (ti - h - stance_s) / (stride_s - stance_s)
                foot_x[i] = land + direction * stride_px * u
                lift[i] = np.sin(np.pi * u)
        heel = np.column_stack([foot_x, ground - 0.12 * leg_px * lift])
        toe = heel + [direction * 0.27 * leg_px, 0.0]
        ankle = heel + [direction * 0.05 * leg_px, -0.08 * leg_px]
        hip = np.column_stack([pelvis_x, np.full(n, hip_y)])
        # the knee: where thigh and shank of 0.5 leg each meet, bent forwards
        d = ankle - hip
        dist = np.linalg.norm(d, axis=1)
        half = 0.5 * leg_px
        along = d / dist[:, None] * (dist[:, None] / 2)
        up = np.sqrt(np.clip(half ** 2 - (dist / 2) ** 2, 0, None))
        normal = np.column_stack([-d[:, 1], d[:, 0]]) / dist[:, None] * direction
        knee = hip + along + normal * up[:, None] * -1
        for part, xy in (("hip", hip), ("knee", knee), ("ankle", ankle), ("heel", heel),
                         ("foot_index", toe)):
            px[:, INDEX[f"{side}_{part}"]] = xy
    for name in ("left_shoulder", "right_shoulder"):
        px[:, INDEX[name]] = np.column_stack([pelvis_x, np.full(n, hip_y - 0.9 * leg_px)])
    px += rng.normal(0.0, noise_px, px.shape) if noise_px else 0.0
    for i in swaps:  # MediaPipe's side-view mistake: the two legs' labels exchanged
        for part in ("hip", "knee", "ankle", "heel", "foot_index"):
            a, b = INDEX[f"left_{part}"], INDEX[f"right_{part}"]
            px[i, [a, b]] = px[i, [b, a]]
    truth.sort(key=lambda e: e[2])
    return WalkerTrack(t, px, vis, width, height), truth

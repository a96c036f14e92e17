"""MediaPipe's image landmarks as metric 2D markers for OpenSim, Sports2D's way for a
single camera (the `.trc` of `analyze --opensim`; docs/OPENSIM.md says how to use it).

Markers: all 33 landmarks under MediaPipe's own names (`nose`, `left_shoulder`, ...,
`right_foot_index`), the names Pose2Sim's OpenSim marker set for BlazePose
(`Markers_BlazePose.xml`, `IK_Setup_Pose2Sim_Blazepose.xml`) gives its 24 markers; the
other 9 (inner and outer eyes, ears, mouth) have no model marker there and are left out of
inverse kinematics by OpenSim itself.

Coordinates, from the landmark (x, y) normalised to the picture (W x H pixels):

    X = s * x * W          metres to the right of the picture's left edge
    Y = s * (1 - y) * H    metres up from the picture's bottom edge (image y is down)
    Z = 0                  one camera: no depth (Sports2D's "visible_side none")

one scale `s` (metres per pixel) for the whole file, so the movement keeps its shape.
This is Sports2D's `convert_px_to_meters` with the origin at the picture's bottom-left
corner, the camera taken as level (no floor-angle correction) and no perspective
correction: a monocular 2D estimate, in the plane the camera faces, not 3D.

A marker is written only where MediaPipe rates it at least `min_visibility` visible and
`min_presence` present (QualitySettings, as for every measure here); elsewhere, and in
every frame without a person, it is NaN.

The scale, like Sports2D's:
* with the person's height (`--height-cm`): s = height / height in pixels, the pixels as
  Sports2D's `compute_height` sums them from the segments: heel-ankle, ankle-knee,
  knee-hip, hip-shoulder (each the mean of left and right) and 1.33 x mid-shoulder-nose
  (BlazePose has no head-top point; Sports2D's own factor). Frames with all of these
  points visible count; of them the ones with hip and knee flexion under 45 deg (or the
  50 least flexed, as Sports2D), then the mean of the middle half of their heights.
  Sports2D also drops its fastest and stillest frames; this does not.
* without it: the size MediaPipe's model gives the body. Its world landmarks are in metres
  with axes as the camera's, so in each frame the least-squares scale between their
  (x, y) and the landmarks' pixels (a weak-perspective fit over the visible landmarks,
  both centred) is the metres per pixel; the median over frames is used. That size is
  the model's estimate from typical bodies, not a measurement: a child or a very tall
  person comes out in the wrong size (the shape and the angles are not affected).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from posture_monitor.core.vision.landmarks import INDEX, NAMES

MARKER_NAMES: tuple[str, ...] = NAMES
HEAD_FACTOR = 1.33  # mid-shoulder to nose x 1.33 = to the head's top (Sports2D)
EXTENDED_DEG = 45.0  # hip and knee flexion below this: a frame fit to measure height
MIN_EXTENDED_FRAMES = 50  # fewer: the 50 least flexed frames (Sports2D)
MIN_FIT_LANDMARKS = 6  # visible landmarks for a frame's world-size fit

_HEIGHT_POINTS = ("nose", "left_shoulder", "right_shoulder", "left_hip", "right_hip",
                  "left_knee", "right_knee", "left_ankle", "right_ankle", "left_heel",
                  "right_heel")
_I = {n: INDEX[n] for n in _HEIGHT_POINTS}


def visible(pose, min_visibility: float, min_presence: float) -> np.ndarray:
    """Which landmarks count (a (33,) bool array)."""
    return (pose.visibility >= min_visibility) & (pose.presence >= min_presence)


def to_pixels(pose, width: int, height: int) -> np.ndarray:
    """(33, 2) pixel coordinates, image axes (y down)."""
    return pose.image[:, :2] * np.array([width, height], dtype=np.float64)


def _angle(u: np.ndarray, v: np.ndarray) -> float:
    cos = float(np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v) + 1e-12))
    return float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))


def height_sample(px: np.ndarray, counted: np.ndarray) -> tuple[float, float] | None:
    """(height in pixels, mean hip and knee flexion in deg) of one frame, Sports2D's
    segment sum; None unless every point it needs is visible."""
    if not all(counted[i] for i in _I.values()):
        return None
    p = {n: px[i] for n, i in _I.items()}

    def seg(a: str, b: str) -> float:
        return float(np.mean([np.linalg.norm(p[f"{s}_{a}"] - p[f"{s}_{b}"])
                              for s in ("left", "right")]))

    mid_shoulder = (p["left_shoulder"] + p["right_shoulder"]) / 2
    mid_hip = (p["left_hip"] + p["right_hip"]) / 2
    total = (seg("heel", "ankle") + seg("ankle", "knee") + seg("knee", "hip")
             + seg("hip", "shoulder") + HEAD_FACTOR * float(np.linalg.norm(mid_shoulder
                                                                           - p["nose"])))
    # flexion as Sports2D's mean_angles: 0 deg when thigh and shank (knee) or thigh and
    # trunk (hip) are in line
    trunk_down = mid_hip - mid_shoulder
    flex = []
    for s in ("left", "right"):
        thigh = p[f"{s}_knee"] - p[f"{s}_hip"]
        flex += [_angle(thigh, p[f"{s}_ankle"] - p[f"{s}_knee"]), _angle(thigh, trunk_down)]
    return total, float(np.mean(flex))


def world_fit(px: np.ndarray, world: np.ndarray, counted: np.ndarray) -> float | None:
    """Metres per pixel of one frame: the least-squares s in world_xy ~ s * pixels (both
    centred on their visible landmarks); None with too few, or a degenerate fit."""
    if int(counted.sum()) < MIN_FIT_LANDMARKS:
        return None
    p = px[counted] - px[counted].mean(axis=0)
    w = world[counted, :2] - world[counted, :2].mean(axis=0)
    denom = float((p * p).sum())
    s = float((w * p).sum()) / denom if denom > 1e-9 else 0.0
    return s if s > 0 else None


def interquartile_mean(values: list[float]) -> float:
    """The mean of the middle half (Sports2D's trimmed_mean, trimmed_extrema_percent 0.5)."""
    v = np.sort(np.asarray(values, dtype=np.float64))
    lo, hi = int(len(v) * 0.25), int(len(v) * 0.75)
    return float(v[lo:hi].mean()) if hi > lo else float(v.mean())


@dataclass
class Scale:
    m_per_px: float | None  # None: no frame gave one (then no marker has a position)
    basis: str | None  # "height" | "mediapipe_world"
    detail: dict = field(default_factory=dict)  # what the sidecar records of it


def choose_scale(heights: list[tuple[float, float]], fits: list[float],
                 height_cm: float | None) -> Scale:
    """The file's scale from the frames' samples; `height_cm` first where the whole body
    was seen, else MediaPipe's size (the detail says why the height was not used)."""
    detail: dict = {}
    if height_cm is not None:
        if heights:
            extended = [h for h, flex in heights if flex < EXTENDED_DEG]
            if len(extended) < MIN_EXTENDED_FRAMES:
                extended = [h for h, _ in sorted(heights, key=lambda hf: hf[1])
                            [:MIN_EXTENDED_FRAMES]]
            height_px = interquartile_mean(extended)
            return Scale(height_cm / 100.0 / height_px, "height",
                         {"height_cm": height_cm, "height_px": round(height_px, 2),
                          "frames_used": len(extended)})
        detail["height_cm_unused"] = "no frame showed the whole body (heels to nose)"
    if fits:
        return Scale(float(np.median(fits)), "mediapipe_world",
                     {**detail, "frames_used": len(fits)})
    return Scale(None, None, {**detail, "frames_used": 0})


def markers_m(px: np.ndarray, counted: np.ndarray, height: int, s: float) -> np.ndarray:
    """(33, 3) metres, X right and Y up from the picture's bottom-left corner, Z = 0;
    NaN for the landmarks that do not count."""
    out = np.full((len(px), 3), np.nan)
    out[counted, 0] = s * px[counted, 0]
    out[counted, 1] = s * (height - px[counted, 1])
    out[counted, 2] = 0.0
    return out

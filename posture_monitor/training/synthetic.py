"""Synthetic poses: a parametric 3D body in MediaPipe's 33-landmark layout, seen by random
cameras, degraded like MediaPipe's output, labelled from its true 3D angles.

Every sample goes through the runtime's own `measure` and `compute_features`, so the
classifier trains on exactly what it will see. Ranges and their sources:

Body (anatomical frame: x = subject's left, y = up, z = forward; origin between the hips)
  * stature: men N(1.75, 0.07) m, women N(1.62, 0.065) m, clipped 1.45-2.00 (typical
    adult statures, NCD-RisC 2016 for European-ancestry adults)
  * segment lengths as fractions of stature after Winter (2009), "Biomechanics and motor
    control of human movement", 4th ed., fig. 4.1: hip-to-shoulder 0.288, biacromial
    0.259 (x1.03 men, x0.96 women), upper arm 0.186, forearm 0.146, hand 0.108, thigh
    0.245, shank 0.246, foot 0.152, ankle height 0.039; each further scaled by
    N(1, 0.04) per subject (individual proportions)
  * C7 sits 0.030 H above and 0.020 H behind the mid-shoulder point (x N(1, 0.2)),
    C7-to-tragus 0.075 H; head half-width (tragus to tragus / 2) 0.075 m x H/1.75.
    These offsets are our assumption: MediaPipe has no C7 or tragus, and they set how the
    true CVA maps onto the shoulder-ear proxy (CVA 52 deg -> proxy about 74 deg, 45.5 ->
    about 69; the upright seated photos here measure 72-80). Not validated against
    radiographs.
  * face points relative to the tragus (m, x H/1.75): eyes 1.5 cm up and 8.5 cm forward
    (ear-eye line 10 deg above horizontal at neutral: upright photos here measure -9..-21
    deg head flexion), nose tip 2 cm down and 10.5 cm forward, mouth 5.5 cm down.
Posture (true 3D angles; labels follow from them and the thresholds in core/labels.py)
  * 35 % near neutral: CVA N(52, 4) (Lau et al. 2009: 50.6 +- 2.1 normal adults, sitting
    larger than standing), trunk N(-5, 7), lateral lean N(0, 3), shoulder tilt N(0, 2),
    head tilt N(0, 2.5), head pitch N(0, 8);
  * 65 % wide: CVA U(25, 70) (neck-pain patients 43.9 +- 3.6), trunk U(-45, 55) (RULA bands
    up to > 60), lean U(-25, 25), shoulder tilt U(-15, 15), head tilt U(-20, 20), head
    pitch U(-25, 35); shoulder protraction U(0, 5) cm; head turned N(0, 8) deg.
  * 70 % seated (thighs forward), 30 % standing; arms hanging to typing.
Camera
  * yaw (where the camera stands around the person): 45 % side (+-90 deg + N(0, 8),
    within +-20), 35 % front (N(0, 8), within +-20), 20 % anywhere (oblique and back views,
    which the runtime abstains on and training therefore skips);
  * distance 0.7-3.5 m, height -0.3..+0.5 m from the chest, roll N(0, 3) within +-5 deg,
    horizontal field of view 55-78 deg (webcams), frames 640x480, 1280x720, 720x1280,
    1920x1080; the person off-centre by up to 15 % of the frame.
Degradation like MediaPipe's
  * per-subject landmark bias (ear 1 cm, shoulder 1.5 cm: MediaPipe's points are not the
    anatomical ones), image noise 0.5-2.5 % of the trunk length (face x0.5, arms x1.5), world
    noise 1.5 cm and 3 cm in depth;
  * visibility 0.85-1.0 when seen, 0.3-0.95 for the far side in side views (MediaPipe
    stays confident there), 0-0.5 outside the frame; 25 % of samples sit behind a desk
    that hides hips and legs, which are then guessed with 3x noise and visibility 0.2-0.9.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from posture_monitor.core.labels import LABEL_NAMES, labels_from_angles, observable
from posture_monitor.core.landmarks import COUNT, INDEX
from posture_monitor.core.pose import Pose

FRAME_SIZES = ((640, 480), (1280, 720), (720, 1280), (1920, 1080))
SIDE_IN_TRAINING_DEG = 20.0  # yaw spread around a pure side/front view seen in training
ROLL_IN_TRAINING_DEG = 5.0


@dataclass
class Shift:
    """Distribution shift for evaluation: what the training data never contained."""

    noise_scale: float = 1.0
    yaw_extra_deg: float = 0.0  # pushes side/front views this far beyond the training spread
    roll_deg: float | None = None  # fixed |roll| instead of the training N(0, 3)
    hide_hips: bool = False  # every sample behind a desk


@dataclass
class Sample:
    pose: Pose
    width: int
    height: int
    truth: dict[str, float]  # true 3D angles
    labels: dict[str, bool]
    subject: int


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def _rot(axis: np.ndarray, deg: float) -> np.ndarray:
    """Rotation matrix about `axis` (Rodrigues)."""
    a = _unit(axis)
    t = math.radians(deg)
    k = np.array([[0, -a[2], a[1]], [a[2], 0, -a[0]], [-a[1], a[0], 0]])
    return np.eye(3) + math.sin(t) * k + (1 - math.cos(t)) * k @ k


class Subject:
    def __init__(self, rng: np.random.Generator, sid: int) -> None:
        self.id = sid
        male = rng.random() < 0.5
        self.h = float(np.clip(rng.normal(1.75, 0.07) if male else rng.normal(1.62, 0.065),
                               1.45, 2.0))
        f = lambda: float(np.clip(rng.normal(1.0, 0.04), 0.9, 1.1))  # noqa: E731
        h = self.h
        self.trunk = 0.288 * h * f()
        self.half_shoulder = 0.259 * h * (1.03 if male else 0.96) * f() / 2
        self.half_hip = 0.055 * h * (1.0 if male else 1.06) * f()
        self.upper_arm, self.forearm, self.hand = 0.186 * h * f(), 0.146 * h * f(), 0.108 * h
        self.thigh, self.shank, self.foot = 0.245 * h * f(), 0.246 * h * f(), 0.152 * h
        self.ankle = 0.039 * h
        self.c7_up = 0.030 * h * float(np.clip(rng.normal(1, 0.2), 0.5, 1.5))
        self.c7_back = 0.020 * h * float(np.clip(rng.normal(1, 0.2), 0.5, 1.5))
        self.neck = 0.075 * h * f()
        self.head = h / 1.75 * f()
        self.bias_ear = rng.normal(0, 0.01, 3)
        self.bias_shoulder = rng.normal(0, 0.015, 3)


def _posture(rng: np.random.Generator) -> dict[str, float]:
    if rng.random() < 0.35:
        p = dict(cva=rng.normal(52, 4), trunk=rng.normal(-5, 7), lean=rng.normal(0, 3),
                 shoulder_tilt=rng.normal(0, 2), head_tilt=rng.normal(0, 2.5),
                 pitch=rng.normal(0, 8), protraction=rng.uniform(0, 0.02))
    else:
        p = dict(cva=rng.uniform(25, 70), trunk=rng.uniform(-45, 55), lean=rng.uniform(-25, 25),
                 shoulder_tilt=rng.uniform(-15, 15), head_tilt=rng.uniform(-20, 20),
                 pitch=rng.uniform(-25, 35), protraction=rng.uniform(0, 0.05))
    p["head_yaw"] = float(np.clip(rng.normal(0, 8), -20, 20))
    p["seated"] = float(rng.random() < 0.7)
    p["arm_flex"] = rng.uniform(0, 70)
    p["elbow_flex"] = rng.uniform(20, 110)
    return {k: float(v) for k, v in p.items()}


def build_body(s: Subject, p: dict[str, float], rng: np.random.Generator) -> np.ndarray:
    """33 anatomical landmark positions (m) in the body frame."""
    P = np.zeros((COUNT, 3))
    t, ln = math.radians(p["trunk"]), math.radians(p["lean"])
    trunk_dir = _unit(np.array([math.tan(ln), 1.0, math.tan(t)]))
    mid_sh = trunk_dir * s.trunk
    st = math.radians(p["shoulder_tilt"])
    sh_line = np.array([math.cos(st), math.sin(st), 0.0])
    protract = np.array([0.0, -0.3 * p["protraction"], p["protraction"]])
    P[INDEX["left_shoulder"]] = mid_sh + s.half_shoulder * sh_line + protract
    P[INDEX["right_shoulder"]] = mid_sh - s.half_shoulder * sh_line + protract
    P[INDEX["left_hip"]] = (s.half_hip, 0, 0)
    P[INDEX["right_hip"]] = (-s.half_hip, 0, 0)
    # C7 moves with the trunk: offset rotated by the trunk's sagittal inclination.
    c7 = mid_sh + _rot(np.array([1.0, 0, 0]), p["trunk"]) @ np.array([0, s.c7_up, -s.c7_back])
    c = math.radians(p["cva"])
    tragus = c7 + s.neck * np.array([0.0, math.sin(c), math.cos(c)])
    tragus[0] = c7[0] + rng.normal(0, 0.01)
    # Head frame: turn (about up), pitch (chin down = positive), tilt (about forward).
    R = (_rot(np.array([0, 0, 1.0]), p["head_tilt"]) @ _rot(np.array([0, 1.0, 0]), p["head_yaw"])
         @ _rot(np.array([1.0, 0, 0]), p["pitch"]))
    k = s.head
    face = {
        "left_ear": (0.075, 0, 0), "right_ear": (-0.075, 0, 0),
        "nose": (0, -0.02, 0.105),
        "left_eye": (0.032, 0.015, 0.085), "right_eye": (-0.032, 0.015, 0.085),
        "left_eye_inner": (0.017, 0.015, 0.09), "right_eye_inner": (-0.017, 0.015, 0.09),
        "left_eye_outer": (0.047, 0.015, 0.078), "right_eye_outer": (-0.047, 0.015, 0.078),
        "mouth_left": (0.025, -0.055, 0.09), "mouth_right": (-0.025, -0.055, 0.09),
    }  # fmt: skip
    for name, offset in face.items():
        P[INDEX[name]] = tragus + R @ (np.array(offset) * k)
    for side, sign in (("left", 1.0), ("right", -1.0)):
        sh = P[INDEX[f"{side}_shoulder"]]
        a = math.radians(p["arm_flex"])
        elbow = sh + s.upper_arm * np.array([sign * 0.1, -math.cos(a), math.sin(a)])
        e = math.radians(p["arm_flex"] + p["elbow_flex"])
        wrist = elbow + s.forearm * np.array([-sign * 0.15, -math.cos(e), math.sin(e)])
        hand_dir = _unit(wrist - elbow)
        P[INDEX[f"{side}_elbow"]] = elbow
        P[INDEX[f"{side}_wrist"]] = wrist
        P[INDEX[f"{side}_pinky"]] = wrist + 0.8 * s.hand * hand_dir + (sign * 0.02, 0, 0)
        P[INDEX[f"{side}_index"]] = wrist + 0.9 * s.hand * hand_dir - (sign * 0.01, 0, 0)
        P[INDEX[f"{side}_thumb"]] = wrist + 0.5 * s.hand * hand_dir - (sign * 0.03, 0, 0)
        hip = P[INDEX[f"{side}_hip"]]
        if p["seated"]:
            knee = hip + s.thigh * np.array([sign * 0.1, -0.05, 1.0])
            ankle = knee + s.shank * np.array([0, -1.0, 0.1])
        else:
            knee = hip + s.thigh * np.array([0, -1.0, 0.03])
            ankle = knee + s.shank * np.array([0, -1.0, -0.03])
        P[INDEX[f"{side}_knee"]] = knee
        P[INDEX[f"{side}_ankle"]] = ankle
        P[INDEX[f"{side}_heel"]] = ankle + (0, -s.ankle, -0.05)
        P[INDEX[f"{side}_foot_index"]] = ankle + (0, -s.ankle, s.foot - 0.05)
    return P


def true_angles(P: np.ndarray, s: Subject, p: dict[str, float]) -> dict[str, float]:
    """The labelled quantities, measured on the 3D body as core/labels.py defines them."""
    mid_sh = (P[INDEX["left_shoulder"]] + P[INDEX["right_shoulder"]]) / 2
    mid_hip = (P[INDEX["left_hip"]] + P[INDEX["right_hip"]]) / 2
    d = mid_sh - mid_hip
    sh = P[INDEX["left_shoulder"]] - P[INDEX["right_shoulder"]]
    ear = P[INDEX["left_ear"]] - P[INDEX["right_ear"]]
    deg = math.degrees
    return {
        "cva": p["cva"],  # C7 -> tragus, built exactly so
        "trunk": deg(math.atan2(d[2], d[1])),
        "lean": deg(math.atan2(d[0], d[1])),
        "shoulder_tilt": deg(math.atan2(sh[1], sh[0])),
        "head_tilt": deg(math.atan2(ear[1], ear[0])),
    }


def _camera_yaw(rng: np.random.Generator, shift: Shift) -> float:
    r = rng.random()
    spread = float(np.clip(rng.normal(0, 8), -SIDE_IN_TRAINING_DEG, SIDE_IN_TRAINING_DEG))
    if shift.yaw_extra_deg:
        spread = math.copysign(SIDE_IN_TRAINING_DEG + shift.yaw_extra_deg, rng.normal())
    if r < 0.45:
        return (90.0 if rng.random() < 0.5 else -90.0) + spread
    if r < 0.80:
        return spread
    return float(rng.uniform(-180, 180))


def render(P: np.ndarray, s: Subject, rng: np.random.Generator, shift: Shift,
           yaw_deg: float | None = None) -> tuple[Pose, int, int]:
    """Project the body through a random camera into a MediaPipe-like `Pose`."""
    width, height = FRAME_SIZES[rng.integers(len(FRAME_SIZES))]
    yaw = _camera_yaw(rng, shift) if yaw_deg is None else yaw_deg
    dist = rng.uniform(0.7, 3.5)
    chest = (P[INDEX["left_shoulder"]] + P[INDEX["right_shoulder"]]) / 2 * 0.8
    y = math.radians(yaw)
    cam = chest + np.array([dist * math.sin(y), rng.uniform(-0.3, 0.5), dist * math.cos(y)])
    hfov = math.radians(rng.uniform(55, 78))
    fx = (width / 2) / math.tan(hfov / 2)
    # Aim off-centre so the person is not always in the middle of the frame.
    off = np.array([rng.uniform(-0.15, 0.15) * width, rng.uniform(-0.15, 0.15) * height])
    f = _unit(chest - cam)
    r = _unit(np.cross(f, np.array([0, 1.0, 0])))
    roll = (float(np.clip(rng.normal(0, 3), -ROLL_IN_TRAINING_DEG, ROLL_IN_TRAINING_DEG))
            if shift.roll_deg is None else math.copysign(shift.roll_deg, rng.normal()))
    r = _rot(f, roll) @ r
    down = np.cross(f, r)
    A = P.copy()
    A[[INDEX["left_ear"], INDEX["right_ear"]]] += s.bias_ear
    A[[INDEX["left_shoulder"], INDEX["right_shoulder"]]] += s.bias_shoulder
    rel = A - cam
    X, Y, Z = rel @ r, rel @ down, rel @ f
    u = fx * X / Z + width / 2 + off[0]
    v = fx * Y / Z + height / 2 + off[1]
    hip_mid = (A[INDEX["left_hip"]] + A[INDEX["right_hip"]]) / 2
    z_hip = float((hip_mid - cam) @ f)

    # Noise scaled to the trunk's size in the image.
    trunk_px = fx * s.trunk / z_hip
    sigma = rng.uniform(0.005, 0.025) * trunk_px * shift.noise_scale
    part = np.ones(COUNT)
    part[:11] = 0.5
    part[13:23] = 1.5
    desk = shift.hide_hips or rng.random() < 0.25
    hidden = np.zeros(COUNT, bool)
    if desk:
        hidden[23:] = True
        part[23:] *= 3.0
    u = u + rng.normal(0, 1, COUNT) * sigma * part
    v = v + rng.normal(0, 1, COUNT) * sigma * part

    image = np.stack([u / width, v / height, (Z - z_hip) * fx / z_hip / width], axis=1)
    wrel = A - hip_mid
    world = np.stack([wrel @ r, wrel @ down, wrel @ f], axis=1)
    world += rng.normal(0, 0.015, world.shape) * shift.noise_scale
    world[:, 2] += rng.normal(0, 0.03, COUNT) * shift.noise_scale

    vis = rng.uniform(0.85, 1.0, COUNT)
    if abs(abs(yaw) - 90) < 45:  # side view: the far side is occluded
        far = "right" if yaw > 0 else "left"
        for i, name in enumerate(_NAMES):
            if name.startswith(far):
                vis[i] = rng.uniform(0.3, 0.95)
    vis[hidden] = rng.uniform(0.2, 0.9, int(hidden.sum()))
    inside = (image[:, 0] >= 0) & (image[:, 0] <= 1) & (image[:, 1] >= 0) & (image[:, 1] <= 1)
    presence = np.where(inside, rng.uniform(0.9, 1.0, COUNT), rng.uniform(0.0, 0.5, COUNT))
    vis = np.where(inside, vis, rng.uniform(0.0, 0.5, COUNT))
    return Pose(image, world, vis, presence), width, height


_NAMES = tuple(sorted(INDEX, key=INDEX.get))


def generate(n: int, seed: int = 0, shift: Shift | None = None,
             per_subject: int = 20) -> list[Sample]:
    """`n` samples from n / per_subject subjects (for grouped validation splits)."""
    rng = np.random.default_rng(seed)
    shift = shift or Shift()
    samples, subject = [], None
    for i in range(n):
        if i % per_subject == 0:
            subject = Subject(rng, i // per_subject)
        p = _posture(rng)
        P = build_body(subject, p, rng)
        truth = true_angles(P, subject, p)
        pose, w, h = render(P, subject, rng, shift)
        samples.append(Sample(pose, w, h, truth, labels_from_angles(**truth), subject.id))
    return samples


__all__ = ["LABEL_NAMES", "Sample", "Shift", "generate", "observable"]

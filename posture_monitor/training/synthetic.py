"""Synthetic poses: a parametric 3D body in MediaPipe's 33-landmark layout, seen by random
cameras, degraded like MediaPipe's output, labelled from its true 3D angles.

Every sample goes through the runtime's own `measure` and `compute_features`, so the
classifier trains on exactly what it will see. Ranges and their sources:

Body (anatomical frame: x = subject's left, y = up, z = forward; origin between the hips)
  * stature: men N(1.75, 0.07) m, women N(1.62, 0.065) m, clipped 1.45-2.00 (typical
    adult statures, NCD-RisC 2016 for European-ancestry adults)
  * segment lengths as fractions of stature after Winter (2009), "Biomechanics and motor
    control of human movement", 4th ed., fig. 4.1: hip-to-shoulder 0.288, upper arm
    0.186, forearm 0.146, hand 0.108, thigh 0.245, shank 0.246, foot 0.152, ankle height
    0.039; each further scaled by N(1, 0.04) per subject (individual proportions)
  * shoulder points are MediaPipe's shoulder keypoints, which sit on the shoulder joints,
    not on the outer shoulder (Winter's 0.259 H span): 0.20 H apart (x1.03 men, x0.96
    women; 0.36 m for a 1.75 m man: MediaPipe's world landmarks put them 0.335 m apart on
    the real desk clips, tests/fixtures/desk_webcam_bsd2) and 0-3 cm below the shoulder
    top along the trunk (the joint centre lies below the acromion). Calibrated on the real
    upright front views (table in models/EVALUATION.md's front-view section).
  * C7 sits 0.030 H above and 0.020 H behind the shoulder top (x N(1, 0.2)),
    C7-to-tragus 0.075 H; head half-width (tragus to tragus / 2) 0.075 m x H/1.75.
    These offsets are our assumption: MediaPipe has no C7 or tragus, and they set how the
    true CVA maps onto the shoulder-ear proxy (medians over synthetic side views with
    their noise and biases: CVA 52 deg -> proxy 80 deg, 45.5 -> 75.5; the upright seated
    photos here measure 72-80). Not validated against radiographs.
  * face points relative to the tragus (m, x H/1.75): eyes 1.5 cm up and 8.5 cm forward
    (ear-eye line 10 deg above horizontal at neutral: upright photos here measure -9..-21
    deg head flexion), nose tip 2 cm down and 10.5 cm forward, mouth 5.5 cm down.
  * MediaPipe's ear keypoints seen from the front sit inside the head's outline: the image
    ear points are drawn towards the head's midline to 0.70-0.90 of the tragus distance
    (on the real desk clip they lie 100 px apart on a face 140 px wide); the world
    landmarks keep the full width (MediaPipe's world ears are 15 cm apart there).
Posture (true 3D angles; labels follow from them and the thresholds in core/classify/labels.py)
  * 35 % near neutral: CVA N(52, 4) (Lau et al. 2009: 50.6 +- 2.1 normal adults, sitting
    larger than standing), trunk N(-5, 7), lateral lean N(0, 3), shoulder tilt N(0, 2),
    head tilt N(0, 2.5), head pitch N(0, 8), protraction U(0, 2) cm;
  * 65 % wide: CVA U(25, 70) (neck-pain patients 43.9 +- 3.6), trunk U(-45, 55) (RULA bands
    up to > 60), lean U(-25, 25), shoulder tilt U(-15, 15), head tilt U(-20, 20), head
    pitch U(-25, 35), protraction U(0, 5) cm; head turned N(0, 8) deg. Drawn together,
    so the classifier learns that a person who is otherwise upright rarely has a forward
    head (a prior that holds at most desks but under-calls a forward head in an upright
    body). Drawing the head and the body apart, or every parameter alone, was tried:
    the real upright desk clips then read as forward head in 50-96 % of frames.
  * forward head is translation and flexion together: below CVA 52 deg the C7-to-tragus
    distance grows by up to U(0, 40) % at CVA 25 (the chin pokes forward as the neck's
    curve straightens: at CVA 25 the tragus sits 4-8.5 cm ahead of where it is upright;
    our assumption,
    consistent with a real front-view recording whose nose height above the shoulders
    fell from 0.49 to 0.26 shoulder widths when poking the chin forward and down), and the
    head pitches chin down by U(0, 0.6) deg per degree of CVA below 52 (people who poke
    the chin forward also drop it; the rest of the pitch stays independent).
  * slouch: the shoulders protract (above) plus up to U(0, 4) cm more as the trunk
    flexes to 40 deg; protraction moves the shoulder points
    forward, 0.3 x as far down and 0.3 x as far towards the midline (the scapula slides
    round the rib cage, so the shoulders look narrower from the front; our assumption).
  * 70 % seated (thighs forward), 30 % standing (always seated at a desk webcam); arms
    hanging to typing. Laptop users look down at the screen: head pitch + U(0, 12) deg (Straker et
    al. 1997, Applied Ergonomics 28:263: more head and neck flexion with notebook than
    with desktop computers).
Camera
  * where it stands around the person: 45 % side (+-90 deg + N(0, 8), within +-20),
    35 % front (N(0, 8), within +-20), 20 % anywhere (oblique and back views, which the
    runtime abstains on and training therefore skips);
  * front views are 40 % laptop webcams, 40 % webcams on an external monitor, 20 % a
    camera in the room (below). Desk webcams: frames 640x480, 1280x720, 1920x1080;
    0.45-0.75 m (laptop) or 0.5-1.2 m (monitor; OSHA's computer workstation guidance:
    20-40 in) in front of the eyes. A laptop camera sits 10-35 cm below eye level (desk
    72-75 cm + screen top 22-27 cm vs seated eye height 115-125 cm; lower on a lap) and
    a monitor camera at eye level up to 15 cm above (screen top at or below eye level,
    ISO 9241-5; the camera clips on top); both are pitched to aim between the eyes and
    the shoulders, so many frames hold only head and shoulders (hips and elbows out of
    frame), and a desk hides the hips in 80 % of them;
  * side, room and anywhere cameras: distance 0.7-3.5 m, height -0.3..+0.5 m from the
    chest, frames 640x480, 1280x720, 720x1280, 1920x1080;
  * all: roll N(0, 3) within +-5 deg, horizontal field of view 55-78 deg (webcams), the
    person off-centre by up to 15 % of the frame.
Degradation like MediaPipe's
  * per-subject landmark bias (ear 1 cm, shoulder 1.5 cm: MediaPipe's points are not the
    anatomical ones), image noise 0.5-2.5 % of the trunk length (face x0.5, arms x1.5), world
    noise 1.5 cm and 3 cm in depth;
  * MediaPipe's world landmarks are a model's guess, drawn towards a canonical pose in
    depth: per subject, the depth (along the camera's axis) of the head's offset from the
    shoulders and of the shoulders' offset from the hips is shrunk by U(0.3, 1.0) towards
    a canonical body (ears 6 cm ahead of the shoulders: MediaPipe put the real upright
    person's 4.4-7 cm ahead; trunk upright), so the classifier
    cannot lean on a depth signal real MediaPipe output carries only in part (on the
    real desk clip's constructed forward head, tests/.media/desk_forward_head.mp4,
    MediaPipe's head-forward distance did not move at all);
  * MediaPipe's world frame follows the camera's pitch only in part: per sample a share
    U(0.1, 0.7) of the optical axis' elevation (the two real desk cameras, about 15 deg
    apart in elevation by head_pitch_deg, differ by 2 deg in the world trunk's tilt and
    by 9 deg in the ear-over-shoulder line's);
  * glasses (40 % of subjects): eye points 2.5x noisier and biased 0.4 cm; hair over the
    ears (25 % of subjects, each ear 70 %): that ear point biased 1 cm, 2x noisier and
    visibility 0.3-0.95, so sometimes below 0.5 (then the runtime drops the ear);
  * visibility 0.85-1.0 when seen, 0.3-0.95 for the far side in side views (MediaPipe
    stays confident there), 0-0.5 outside the frame; a desk hides hips and legs in 25 % of
    side, room and anywhere samples (80 % of desk-webcam ones), which are then guessed
    with 3x noise and visibility 0.2-0.9.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from posture_monitor.core.classify.labels import LABEL_NAMES, labels_from_angles, observable
from posture_monitor.core.vision.landmarks import COUNT, INDEX
from posture_monitor.core.vision.pose import Pose

FRAME_SIZES = ((640, 480), (1280, 720), (720, 1280), (1920, 1080))
DESK_FRAME_SIZES = ((640, 480), (1280, 720), (1920, 1080))  # webcams are landscape
SIDE_IN_TRAINING_DEG = 20.0  # yaw spread around a pure side/front view seen in training
ROLL_IN_TRAINING_DEG = 5.0
LAPTOP_BELOW_EYE_M = (0.10, 0.35)  # laptop camera below eye level seen in training
MONITOR_ABOVE_EYE_M = (0.0, 0.15)
LAPTOP_DISTANCE_M = (0.45, 0.75)
MONITOR_DISTANCE_M = (0.5, 1.2)
NEUTRAL_CVA_DEG = 52.0
CANONICAL_HEAD_FWD_M = 0.06  # MediaPipe's depth guess draws the ears towards this
DEPTH_SHRINK = (0.3, 1.0)  # share of the true depth offsets MediaPipe's world keeps
WORLD_PITCH_SHARE = (0.1, 0.7)  # share of the camera's pitch in MediaPipe's world frame
SETUPS = ("side", "laptop", "monitor", "room", "anywhere")
_HEAD = slice(0, 11)  # nose .. mouth: the head's landmarks
_UPPER = slice(0, 23)  # head, shoulders, arms and hands


@dataclass
class Shift:
    """Distribution shift for evaluation: what the training data never contained."""

    noise_scale: float = 1.0
    yaw_extra_deg: float = 0.0  # pushes side/front views this far beyond the training spread
    roll_deg: float | None = None  # fixed |roll| instead of the training N(0, 3)
    hide_hips: bool = False  # every sample behind a desk
    # every front view from a laptop camera this far below eye level (m) instead of the
    # training's mix of set-ups
    camera_below_eye_m: tuple[float, float] | None = None
    hair_over_ears: bool = False  # every subject's hair covers both ears


@dataclass
class Sample:
    pose: Pose
    width: int
    height: int
    truth: dict[str, float]  # true 3D angles
    labels: dict[str, bool]
    subject: int
    setup: str = "room"  # one of SETUPS: which camera saw it
    posture: dict[str, float] = field(default_factory=dict)


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
        self.half_shoulder = 0.200 * h * (1.03 if male else 0.96) * f() / 2
        self.shoulder_drop = rng.uniform(0.0, 0.03)
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
        self.ear_inset = rng.uniform(0.70, 0.90)
        self.depth_shrink = rng.uniform(*DEPTH_SHRINK)
        self.glasses = bool(rng.random() < 0.4)
        self.bias_eye = rng.normal(0, 0.004, 3)
        hair = rng.random() < 0.25
        self.hair_ears = tuple(bool(hair and rng.random() < 0.7) for _ in range(2))
        self.bias_hair = rng.normal(0, 0.010, (2, 3))


def _posture(rng: np.random.Generator, setup: str = "room",
             neutral: bool | None = None) -> dict[str, float]:
    """Posture parameters; `neutral` forces the near-neutral (True) or wide (False) draw."""
    if neutral if neutral is not None else rng.random() < 0.35:
        p = dict(cva=rng.normal(NEUTRAL_CVA_DEG, 4), trunk=rng.normal(-5, 7),
                 lean=rng.normal(0, 3), shoulder_tilt=rng.normal(0, 2),
                 head_tilt=rng.normal(0, 2.5), pitch=rng.normal(0, 8),
                 protraction=rng.uniform(0, 0.02))
    else:
        p = dict(cva=rng.uniform(25, 70), trunk=rng.uniform(-45, 55), lean=rng.uniform(-25, 25),
                 shoulder_tilt=rng.uniform(-15, 15), head_tilt=rng.uniform(-20, 20),
                 pitch=rng.uniform(-25, 35), protraction=rng.uniform(0, 0.05))
    forward = float(np.clip((NEUTRAL_CVA_DEG - p["cva"]) / (NEUTRAL_CVA_DEG - 25.0), 0, 1))
    p["protrusion"] = rng.uniform(0, 0.4) * forward
    p["pitch"] += rng.uniform(0, 0.6) * max(0.0, NEUTRAL_CVA_DEG - p["cva"])
    p["protraction"] += rng.uniform(0, 0.04) * float(np.clip(p["trunk"] / 40.0, 0, 1))
    p["head_yaw"] = float(np.clip(rng.normal(0, 8), -20, 20))
    p["seated"] = float(rng.random() < 0.7 or setup in ("laptop", "monitor"))
    p["arm_flex"] = rng.uniform(0, 70)
    p["elbow_flex"] = rng.uniform(20, 110)
    if setup == "laptop":
        p["pitch"] += rng.uniform(0, 12)
    return {k: float(v) for k, v in p.items()}


def build_body(s: Subject, p: dict[str, float], rng: np.random.Generator) -> np.ndarray:
    """33 anatomical landmark positions (m) in the body frame (shoulders and ears as
    MediaPipe places them: joint centres, tragus)."""
    P = np.zeros((COUNT, 3))
    t, ln = math.radians(p["trunk"]), math.radians(p["lean"])
    trunk_dir = _unit(np.array([math.tan(ln), 1.0, math.tan(t)]))
    top = trunk_dir * s.trunk  # the shoulders' top (acromion level)
    mid_sh = top - trunk_dir * s.shoulder_drop  # MediaPipe's shoulder keypoints: joints
    st = math.radians(p["shoulder_tilt"])
    sh_line = np.array([math.cos(st), math.sin(st), 0.0])
    pr = p["protraction"]
    protract = np.array([0.0, -0.3 * pr, pr])
    half = s.half_shoulder - 0.3 * pr  # protracted shoulders look narrower from the front
    P[INDEX["left_shoulder"]] = mid_sh + half * sh_line + protract
    P[INDEX["right_shoulder"]] = mid_sh - half * sh_line + protract
    P[INDEX["left_hip"]] = (s.half_hip, 0, 0)
    P[INDEX["right_hip"]] = (-s.half_hip, 0, 0)
    # C7 moves with the trunk: offset rotated by the trunk's sagittal inclination.
    c7 = top + _rot(np.array([1.0, 0, 0]), p["trunk"]) @ np.array([0, s.c7_up, -s.c7_back])
    c = math.radians(p["cva"])
    neck = s.neck * (1.0 + p.get("protrusion", 0.0))  # chin poked forward: neck reaches out
    tragus = c7 + neck * np.array([0.0, math.sin(c), math.cos(c)])
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
    """The labelled quantities, measured on the 3D body as core/classify/labels.py defines them."""
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


def _yaw_spread(rng: np.random.Generator, shift: Shift) -> float:
    spread = float(np.clip(rng.normal(0, 8), -SIDE_IN_TRAINING_DEG, SIDE_IN_TRAINING_DEG))
    if shift.yaw_extra_deg:
        spread = math.copysign(SIDE_IN_TRAINING_DEG + shift.yaw_extra_deg, rng.normal())
    return spread


def _camera_setup(rng: np.random.Generator, shift: Shift) -> tuple[str, float]:
    """(set-up, camera yaw in degrees around the person: 0 = in front)."""
    r = rng.random()
    spread = _yaw_spread(rng, shift)
    kind = rng.random()
    if r < 0.45:
        return "side", (90.0 if rng.random() < 0.5 else -90.0) + spread
    if r < 0.80:
        if shift.camera_below_eye_m is not None:
            return "laptop", spread
        return ("laptop" if kind < 0.4 else "monitor" if kind < 0.8 else "room"), spread
    return "anywhere", float(rng.uniform(-180, 180))


def _camera(P: np.ndarray, rng: np.random.Generator, shift: Shift, setup: str, yaw: float
            ) -> tuple[np.ndarray, np.ndarray, int, int]:
    """(camera position, point it aims at, frame width, height)."""
    y = math.radians(yaw)
    if setup in ("laptop", "monitor"):
        width, height = DESK_FRAME_SIZES[rng.integers(len(DESK_FRAME_SIZES))]
        eyes = (P[INDEX["left_eye"]] + P[INDEX["right_eye"]]) / 2
        if setup == "laptop":
            lo, hi = shift.camera_below_eye_m or LAPTOP_BELOW_EYE_M
            up, dist = -rng.uniform(lo, hi), rng.uniform(*LAPTOP_DISTANCE_M)
        else:
            up, dist = rng.uniform(*MONITOR_ABOVE_EYE_M), rng.uniform(*MONITOR_DISTANCE_M)
        cam = eyes + np.array([dist * math.sin(y), up, dist * math.cos(y)])
        mid_sh = (P[INDEX["left_shoulder"]] + P[INDEX["right_shoulder"]]) / 2
        return cam, eyes + rng.uniform(0.2, 1.0) * (mid_sh - eyes), width, height
    width, height = FRAME_SIZES[rng.integers(len(FRAME_SIZES))]
    dist = rng.uniform(0.7, 3.5)
    chest = (P[INDEX["left_shoulder"]] + P[INDEX["right_shoulder"]]) / 2 * 0.8
    cam = chest + np.array([dist * math.sin(y), rng.uniform(-0.3, 0.5), dist * math.cos(y)])
    return cam, chest, width, height


def _depth_shrunk(A: np.ndarray, s: Subject, f: np.ndarray) -> np.ndarray:
    """The body MediaPipe's world landmarks describe: along the camera's axis `f`, the
    shoulders' offset from the hips and the head's from the shoulders are drawn towards a
    canonical upright body by the subject's `depth_shrink`."""
    W = A.copy()
    k = s.depth_shrink
    mid_hip = (A[INDEX["left_hip"]] + A[INDEX["right_hip"]]) / 2
    mid_sh = (A[INDEX["left_shoulder"]] + A[INDEX["right_shoulder"]]) / 2
    d = mid_sh - mid_hip
    W[_UPPER] += (k - 1.0) * float(np.dot(d - np.array([0.0, d[1], 0.0]), f)) * f
    mid_ear = (A[INDEX["left_ear"]] + A[INDEX["right_ear"]]) / 2
    d = mid_ear - mid_sh
    canonical = np.array([0.0, d[1], CANONICAL_HEAD_FWD_M * s.head])
    W[_HEAD] += (k - 1.0) * float(np.dot(d - canonical, f)) * f
    return W


def render(P: np.ndarray, s: Subject, rng: np.random.Generator, shift: Shift,
           yaw_deg: float | None = None, setup: str | None = None) -> tuple[Pose, int, int]:
    """Project the body through a random camera into a MediaPipe-like `Pose`.

    Without `setup` the camera is drawn as in training (`yaw_deg` fixes where it stands;
    then it is a room camera)."""
    if yaw_deg is None:
        setup, yaw = _camera_setup(rng, shift)
    else:
        setup, yaw = setup or "room", yaw_deg
    cam, aim, width, height = _camera(P, rng, shift, setup, yaw)
    hfov = math.radians(rng.uniform(55, 78))
    fx = (width / 2) / math.tan(hfov / 2)
    # Aim off-centre so the person is not always in the middle of the frame.
    off = np.array([rng.uniform(-0.15, 0.15) * width, rng.uniform(-0.15, 0.15) * height])
    f = _unit(aim - cam)
    r = _unit(np.cross(f, np.array([0, 1.0, 0])))
    roll = (float(np.clip(rng.normal(0, 3), -ROLL_IN_TRAINING_DEG, ROLL_IN_TRAINING_DEG))
            if shift.roll_deg is None else math.copysign(shift.roll_deg, rng.normal()))
    r = _rot(f, roll) @ r
    down = np.cross(f, r)
    ears = [INDEX["left_ear"], INDEX["right_ear"]]
    eyes = [INDEX[n] for n in ("left_eye_inner", "left_eye", "left_eye_outer",
                               "right_eye_inner", "right_eye", "right_eye_outer")]
    hair = (True, True) if shift.hair_over_ears else s.hair_ears
    A = P.copy()
    A[ears] += s.bias_ear
    for i, covered in zip(ears, hair, strict=True):
        if covered:  # MediaPipe guesses an ear under hair
            A[i] += s.bias_hair[i - ears[0]]
    A[[INDEX["left_shoulder"], INDEX["right_shoulder"]]] += s.bias_shoulder
    if s.glasses:
        A[eyes] += s.bias_eye
    # The image's ear points lie inside the head's outline, towards its midline.
    img = A.copy()
    tragus_mid = (P[ears[0]] + P[ears[1]]) / 2
    img[ears] = A[ears] - (1.0 - s.ear_inset) * (P[ears] - tragus_mid)
    rel = img - cam
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
    if s.glasses:
        part[eyes] *= 2.5
    for i, covered in zip(ears, hair, strict=True):
        if covered:
            part[i] *= 2.0
    desk_p = 0.8 if setup in ("laptop", "monitor") else 0.25
    desk = shift.hide_hips or rng.random() < desk_p
    hidden = np.zeros(COUNT, bool)
    if desk:
        hidden[23:] = True
        part[23:] *= 3.0
    u = u + rng.normal(0, 1, COUNT) * sigma * part
    v = v + rng.normal(0, 1, COUNT) * sigma * part

    image = np.stack([u / width, v / height, (Z - z_hip) * fx / z_hip / width], axis=1)
    # MediaPipe's world frame follows the camera's pitch only in part: keep this share of
    # the optical axis' elevation, turning the frame about its right axis.
    elevation = math.degrees(math.asin(float(np.clip(f[1], -1.0, 1.0))))
    tilt = _rot(r, -(1.0 - rng.uniform(*WORLD_PITCH_SHARE)) * elevation)
    wrel = _depth_shrunk(A, s, f) - hip_mid
    world = np.stack([wrel @ r, wrel @ (tilt @ down), wrel @ (tilt @ f)], axis=1)
    world += rng.normal(0, 0.015, world.shape) * shift.noise_scale
    world[:, 2] += rng.normal(0, 0.03, COUNT) * shift.noise_scale

    vis = rng.uniform(0.85, 1.0, COUNT)
    if abs(abs(yaw) - 90) < 45:  # side view: the far side is occluded
        far = "right" if yaw > 0 else "left"
        for i, name in enumerate(_NAMES):
            if name.startswith(far):
                vis[i] = rng.uniform(0.3, 0.95)
    hair_vis = rng.uniform(0.3, 0.95, 2)
    for j, (i, covered) in enumerate(zip(ears, hair, strict=True)):
        if covered:
            vis[i] = min(vis[i], hair_vis[j])
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
        setup, yaw = _camera_setup(rng, shift)
        p = _posture(rng, setup)
        P = build_body(subject, p, rng)
        truth = true_angles(P, subject, p)
        pose, w, h = render(P, subject, rng, shift, yaw_deg=yaw, setup=setup)
        samples.append(Sample(pose, w, h, truth, labels_from_angles(**truth), subject.id,
                              setup, p))
    return samples


def upright_front(n: int, seed: int, setup: str) -> list[Sample]:
    """`n` near-neutral people (one each), seen from the front by a `setup` camera: what
    the real upright desk clips are compared with (calibration)."""
    rng = np.random.default_rng(seed)
    samples = []
    for i in range(n):
        subject = Subject(rng, i)
        yaw = _yaw_spread(rng, Shift())
        p = _posture(rng, setup, neutral=True)
        P = build_body(subject, p, rng)
        truth = true_angles(P, subject, p)
        pose, w, h = render(P, subject, rng, Shift(), yaw_deg=yaw, setup=setup)
        samples.append(Sample(pose, w, h, truth, labels_from_angles(**truth), subject.id,
                              setup, p))
    return samples


__all__ = ["LABEL_NAMES", "SETUPS", "Sample", "Shift", "generate", "observable",
           "upright_front"]

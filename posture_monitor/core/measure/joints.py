"""The one table of joint angles for movement analysis: which points, which convention,
which plane, in which views a 2D value is honest, and the 3D columns.

Conventions follow Sports2D / Pose2Sim (ISB-like, docs/METRICS.md "Movement and gait"):
knee, hip and elbow 0 deg when straight, flexion positive; shoulder flexion and abduction
0 deg with the arm along the trunk; ankle 0 deg with the foot perpendicular to the shank,
dorsiflexion positive; neck flexion relative to the trunk, positive forward.

2D angles are measured in the image in pixels, y up, and only in the views whose plane the
camera sees: sagittal angles from a side view (`left`/`right`), frontal ones from the
front. Elsewhere the 2D column is empty with a reason (`view:<view>`), because frontal
projections of sagittal angles are biased (Cosoli 2026: MediaPipe knee bias -2.3 +- 6.4
deg in a true side view vs -13.9 +- 15.1 deg overall). The `_3d_deg` columns come from
MediaPipe's world landmarks in every view where the points are visible: model-based
estimates, view-independent in principle, named apart so nobody mistakes them for 2D.

In a side view the far limb is partly hidden; it is measured only where MediaPipe rates
its landmarks visible, like every landmark here (QualitySettings.min_visibility).

The angles themselves are computed in joint_angles.py, which reads this table.
"""

from __future__ import annotations

from dataclasses import dataclass

from posture_monitor.core.measure.definitions import FRONTAL_VIEWS, SIDE_VIEWS

SIDES = ("left", "right")
SIDE_SUFFIX = {"left": "l", "right": "r"}


@dataclass(frozen=True)
class JointDef:
    name: str  # key; columns are <name>_<l|r>_deg (sided) or <name>_deg, 3D: _3d_deg
    title: str
    kind: str  # how it is computed: see _ANGLE_2D / _ANGLE_3D below
    points: tuple[str, ...]  # landmark roles; "{s}" is the side, "mid_x" both sides' mean
    plane: str  # "sagittal" | "frontal" (the plane the 2D value lives in)
    views: frozenset[str]  # views in which the 2D value is honest
    convention: str
    sided: bool = True
    unit: str = "deg"  # "deg" or "ratio"
    has_3d: bool = False  # a _3d_deg column from the world landmarks
    # A published normal range of active motion, where one exists (reference, not a
    # threshold): American Academy of Orthopaedic Surgeons (AAOS 1965, Joint Motion:
    # Method of Measuring and Recording), as tabulated by Norkin & White.
    normal_range: tuple[float, float] | None = None
    short: str = ""  # the name the window, plots and report show
    unit_word: str = "deg"  # how a value reads after its number ("shank lengths")

    def column(self, side: str | None = None, three_d: bool = False) -> str:
        stem = self.name if side is None else f"{self.name}_{SIDE_SUFFIX[side]}"
        suffix = "ratio" if self.unit == "ratio" else "deg"
        return f"{stem}_3d_{suffix}" if three_d else f"{stem}_{suffix}"

    def columns(self, three_d: bool = False) -> tuple[str, ...]:
        if three_d and not self.has_3d:
            return ()
        if not self.sided:
            return (self.column(None, three_d),)
        return tuple(self.column(s, three_d) for s in SIDES)


SAGITTAL = SIDE_VIEWS
FRONTAL = FRONTAL_VIEWS

JOINTS: tuple[JointDef, ...] = (
    JointDef("neck_flex", "Neck flexion (shoulder-ear line vs hip-shoulder line)",
             "flexion_up", ("{s}_hip", "{s}_shoulder", "{s}_ear"), "sagittal", SAGITTAL,
             "0 = head in line with the trunk; positive = head bent forward relative to "
             "the trunk (not to the vertical: that is neck_incl_deg)",
             sided=False, short="Neck flexion"),
    JointDef("trunk_flex", "Trunk flexion (hip-shoulder line vs vertical)",
             "segment_from_vertical", ("{s}_hip", "{s}_shoulder"), "sagittal", SAGITTAL,
             "0 = upright; positive = bent forward, negative = leaning back. The same line "
             "as torso_incl_deg, but without its desk rule for hidden hips: movement is "
             "assessed standing, with the hips in view",
             sided=False, short="Trunk flexion"),
    JointDef("shoulder_flex", "Shoulder flexion (upper arm vs trunk, sagittal)",
             "shoulder_flexion", ("{s}_hip", "{s}_shoulder", "{s}_elbow"), "sagittal",
             SAGITTAL, "0 = arm along the trunk; positive = arm raised forward (180 = "
             "overhead), negative = extension (arm behind)",
             has_3d=True, normal_range=(0.0, 180.0), short="Shoulder flexion"),
    JointDef("shoulder_abd", "Shoulder abduction (upper arm vs trunk, frontal)",
             "abduction", ("mid_hip", "mid_shoulder", "{s}_shoulder", "{s}_elbow"),
             "frontal", FRONTAL, "0 = arm along the trunk; positive = arm raised sideways "
             "(180 = overhead), negative = arm across the body",
             has_3d=True, normal_range=(0.0, 180.0), short="Shoulder abduction"),
    JointDef("elbow_flex", "Elbow flexion (forearm vs upper arm)",
             "bend", ("{s}_shoulder", "{s}_elbow", "{s}_wrist"), "sagittal",
             SAGITTAL, "0 = arm straight; positive = bent (0-180, no sign: a barbell grip "
             "folds the forearm past the vertical, where a signed angle would wrap)",
             has_3d=True, normal_range=(0.0, 150.0), short="Elbow flexion"),
    JointDef("hip_flex", "Hip flexion (thigh vs trunk)",
             "flexion_forward", ("{s}_shoulder", "{s}_hip", "{s}_knee"), "sagittal",
             SAGITTAL, "0 = thigh in line with the trunk; positive = thigh forward "
             "(or trunk bent over it), negative = extension",
             has_3d=True, normal_range=(0.0, 120.0), short="Hip flexion"),
    JointDef("knee_flex", "Knee flexion (shank vs thigh)",
             "flexion_backward", ("{s}_hip", "{s}_knee", "{s}_ankle"), "sagittal",
             SAGITTAL, "0 = knee straight; positive = bent, negative = hyperextended",
             has_3d=True, normal_range=(0.0, 135.0), short="Knee flexion"),
    JointDef("ankle_dorsi", "Ankle dorsiflexion (foot vs shank)",
             "dorsiflexion", ("{s}_knee", "{s}_ankle", "{s}_heel", "{s}_foot_index"),
             "sagittal", SAGITTAL, "0 = foot perpendicular to the shank; positive = "
             "dorsiflexion (toes up or shin forward over the foot), negative = plantarflexion",
             normal_range=(-50.0, 20.0), short="Ankle dorsiflexion"),
    JointDef("heel_lift", "Heel lift (heel-toe line vs horizontal)",
             "foot_pitch", ("{s}_heel", "{s}_foot_index"), "sagittal", SAGITTAL,
             "0 = foot flat (horizontal in the image); positive = heel higher than the "
             "toes. Compare with the start of a movement: the floor may not be level in "
             "the picture", short="Heel lift"),
    JointDef("knee_valgus", "Knee valgus / varus (frontal plane projection angle)",
             "valgus", ("{s}_hip", "{s}_knee", "{s}_ankle"), "frontal", FRONTAL,
             "0 = hip, knee and ankle in line; positive = valgus (knee inward of the "
             "hip-ankle line), negative = varus", short="Knee valgus"),
    JointDef("pelvic_obliquity", "Pelvic obliquity (line through the hips vs horizontal)",
             "line_tilt", ("right_hip", "left_hip"), "frontal", FRONTAL,
             "positive = subject's left hip higher (on one leg: the free side's hip "
             "dropping reads as the stance side higher)", sided=False, short="Pelvic tilt"),
    JointDef("hip_height", "Hip height (mid-hip above mid-ankle / shank length)",
             "hip_height", ("mid_hip", "mid_ankle"), "both",
             SAGITTAL | FRONTAL, "standing about 2, lower when the hips drop (a squat seen "
             "from the front); in shank lengths, so camera distance cancels",
             sided=False, unit="ratio", short="Hip height", unit_word="shank lengths"),
    JointDef("arm_height_diff", "Wrist height difference (left minus right / shoulder width)",
             "height_difference", ("left_wrist", "right_wrist"), "frontal", FRONTAL,
             "0 = wrists level; positive = subject's left wrist higher; in shoulder widths",
             sided=False, unit="ratio", short="Arm height difference",
             unit_word="shoulder widths"),
)

JOINT_BY_NAME: dict[str, JointDef] = {j.name: j for j in JOINTS}
ANGLE_COLUMNS_2D: tuple[str, ...] = tuple(c for j in JOINTS for c in j.columns())
ANGLE_COLUMNS_3D: tuple[str, ...] = tuple(c for j in JOINTS for c in j.columns(True))
ANGLE_COLUMNS: tuple[str, ...] = ANGLE_COLUMNS_2D + ANGLE_COLUMNS_3D
# column -> (joint, side or None, 3D?)
COLUMN_INFO: dict[str, tuple[JointDef, str | None, bool]] = {
    j.column(s, d): (j, s, d) for j in JOINTS for d in (False, True)
    for s in (SIDES if j.sided else (None,)) if not d or j.has_3d
}


def column_title(column: str) -> str:
    """'Knee flexion (left, 3D)' for knee_flex_l_3d_deg: what plots and tables show."""
    joint, side, three_d = COLUMN_INFO[column]
    parts = [p for p in (side, "3D" if three_d else None) if p]
    return joint.short + (f" ({', '.join(parts)})" if parts else "")


def joint_table() -> list[dict]:
    """The table as plain data, written into sidecars that carry angle columns."""
    return [{"name": j.name, "title": j.title, "columns": list(j.columns()),
             "columns_3d": list(j.columns(True)), "points": list(j.points),
             "plane": j.plane, "views": sorted(j.views), "unit": j.unit,
             "unit_word": j.unit_word,
             "convention": j.convention, "normal_range": j.normal_range}
            for j in JOINTS]

"""Exercise presets: what is counted, from which view, and which form cues apply.

Each preset names the signal its repetitions are counted on per view family (a joint
angle from the side; the hips' height from the front where a 2D knee angle would be
biased), the direction the signal moves away from rest, the range that makes a
repetition complete (with its source), the joints whose range is reported per
repetition, the joint whose left/right range and speed give the symmetry, and its form
checks (core/movement/form.py). A free mode takes joints the physiotherapist chooses.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from posture_monitor.core.common.errors import UserError
from posture_monitor.core.measure.joints import JOINT_BY_NAME, JOINTS

VIEW_FAMILIES = ("side", "front")


@dataclass(frozen=True)
class Primary:
    joint: str  # a JointDef name
    direction: int  # +1 rises away from rest, -1 falls, 0 either
    target: float  # range from rest of a complete repetition, in the joint's unit
    # The typical reading at rest, used until the person has been still once (so
    # repetitions without a pause count from the first); None: learn it (both ends of a
    # sit-to-stand are rest positions).
    rest: float | None = None
    combine: str = "mean"  # both sides: "mean" (bilateral) or "max" (the side that moves)
    source: str = ""


@dataclass(frozen=True)
class ExercisePreset:
    name: str
    title: str
    primary: dict[str, Primary]  # view family -> what is counted there
    joints: tuple[str, ...]  # joints reported per repetition (min, max, range)
    symmetry: str | None  # sided joint whose left/right range and speed are compared
    checks: tuple[str, ...]  # form check names (form.py)
    view: str  # the view to film it from, in words
    plane: str
    min_duration_s: float = 0.5
    to_peak: str = "to the peak"  # what the phase towards the peak is called
    from_peak: str = "back"


PRESETS: dict[str, ExercisePreset] = {p.name: p for p in (
    ExercisePreset(
        "squat", "Squat",
        {"side": Primary("knee_flex", +1, 70.0, rest=10.0, source=(
            "Schoenfeld 2010 (J Strength Cond Res 24:3497): half squat 70-100 deg knee "
            "flexion, deep squat beyond 100; shallower is a partial squat")),
         "front": Primary("hip_height", -1, 0.5, source=(
             "convention: the hips drop half a shank length (about a third of the way "
             "to parallel seen from the front, where the knee angle cannot be read in 2D)"))},
        ("knee_flex", "hip_flex", "ankle_dorsi", "trunk_flex", "knee_valgus", "hip_height"),
        "knee_flex", ("trunk_lean", "knee_valgus", "heel_lift", "lateral_lean"),
        "side (knee, hip, trunk) or front (knee valgus, symmetry)", "sagittal",
        to_peak="down", from_peak="up"),
    ExercisePreset(
        "sit_to_stand", "Sit to stand",
        {"side": Primary("hip_flex", -1, 50.0, source=(
            "convention: seated hip flexion is about 90 deg and standing about 0; 50 deg "
            "of it is more than half way up")),
         "front": Primary("hip_height", +1, 0.5, source=(
             "convention: seated the hips are about one shank length above the ankles, "
             "standing about two"))},
        ("hip_flex", "knee_flex", "trunk_flex", "knee_valgus", "hip_height"),
        # no trunk-lean cue: leaning well forward to bring the weight over the feet is
        # the normal way to rise from a chair, not a fault
        "knee_flex", ("knee_valgus", "lateral_lean"),
        "side, chair seen side-on", "sagittal", min_duration_s=0.8,
        to_peak="up", from_peak="down"),
    ExercisePreset(
        "shoulder_flexion", "Arm raise forward (shoulder flexion)",
        {"side": Primary("shoulder_flex", +1, 120.0, rest=5.0, combine="max", source=(
            "Namdari et al. 2012 (J Shoulder Elbow Surg 21:1177): daily activities need "
            "about 120 deg of shoulder flexion"))},
        ("shoulder_flex", "elbow_flex", "trunk_flex"),
        "shoulder_flex", ("lean_back",),
        "side, the moving arm towards the camera", "sagittal",
        to_peak="up", from_peak="down"),
    ExercisePreset(
        "shoulder_abduction", "Arm raise sideways (shoulder abduction)",
        {"front": Primary("shoulder_abd", +1, 120.0, rest=10.0, combine="max", source=(
            "Namdari et al. 2012 (J Shoulder Elbow Surg 21:1177): daily activities need "
            "about 128 deg of shoulder abduction"))},
        ("shoulder_abd", "arm_height_diff"),
        "shoulder_abd", ("uneven_arms", "lateral_lean"),
        "front", "frontal", to_peak="up", from_peak="down"),
    ExercisePreset(
        "lunge", "Lunge",
        {"side": Primary("knee_flex", +1, 60.0, rest=10.0, combine="max", source=(
            "convention: the front knee bends from about 10 to 90 deg in a full lunge; 60 "
            "deg is three quarters of it")),
         "front": Primary("hip_height", -1, 0.4, source=(
             "convention: the hips drop 0.4 shank lengths"))},
        ("knee_flex", "hip_flex", "trunk_flex", "knee_valgus", "pelvic_obliquity"),
        "knee_flex", ("trunk_lean", "knee_valgus", "lateral_lean"),
        "side (knee, trunk) or front (knee valgus, pelvis)", "sagittal",
        to_peak="down", from_peak="up"),
)}

FREE = "free"
# Typical readings at rest (2D, MediaPipe): a standing knee reads 5-15 deg (8.6 and 13.5 in
# the real side-view squat clip), arms hanging 5-15 deg of abduction (the Sports2D jumping
# jacks).
# A free exercise counts movements of the first chosen joint this far from rest, either
# way, unless a target is given (rep_target_deg).
FREE_TARGET_DEG = 30.0


def preset_names() -> tuple[str, ...]:
    return (*PRESETS, FREE)


def free_preset(joints: tuple[str, ...], target: float | None = None) -> ExercisePreset:
    """The physiotherapist's choice of joints; repetitions on the first one (each view
    family where its 2D angle is valid), either direction."""
    if not joints:
        raise UserError("--exercise free needs --joints, e.g. --joints knee_flex,hip_flex "
                        f"(joints: {', '.join(j.name for j in JOINTS)})")
    unknown = [j for j in joints if j not in JOINT_BY_NAME]
    if unknown:
        raise UserError(f"unknown joint {unknown[0]!r}: choose from "
                        f"{', '.join(j.name for j in JOINTS)}")
    first = JOINT_BY_NAME[joints[0]]
    families = [f for f, views in (("side", {"left", "right"}), ("front", {"front"}))
                if views & first.views]
    step = target if target is not None else (
        FREE_TARGET_DEG if first.unit == "deg" else 0.3)
    primary = Primary(first.name, 0, step, combine="max",
                      source="chosen by the user" if target else "free mode default")
    sided = [j for j in joints if JOINT_BY_NAME[j].sided]
    return ExercisePreset(FREE, "Free: " + ", ".join(JOINT_BY_NAME[j].short for j in joints),
                          {f: primary for f in families}, tuple(joints),
                          sided[0] if sided else None, (), "where the joints' plane is seen",
                          first.plane, min_duration_s=0.4)


def resolve_preset(name: str, joints: tuple[str, ...] = (),
                   target: float | None = None) -> ExercisePreset:
    """The preset called `name` (or a free one), with the user's target in place of its
    own where one is given (degree targets only: a hip-height target keeps its own)."""
    if name == FREE:
        return free_preset(joints, target)
    if name not in PRESETS:
        raise UserError(f"unknown exercise {name!r}: choose one of "
                        f"{', '.join(preset_names())}")
    preset = PRESETS[name]
    if target is None:
        return preset
    primary = {f: (replace(p, target=float(target), source="set by the user")
                   if JOINT_BY_NAME[p.joint].unit == "deg" else p)
               for f, p in preset.primary.items()}
    return replace(preset, primary=primary)

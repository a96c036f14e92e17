"""The one table of posture metrics: which points, which reference, which sign.

Live code (the app), batch code (`analyze`) and later the classifier's features all
compute metrics through `posture_monitor.core.measure.metrics.measure`, which reads this table,
so a definition changes in exactly one place. Definitions follow METRICS.md (kept in
docs/METRICS.md of this repository):

* Angles are measured in the image plane, in pixels (so the frame's aspect ratio is
  respected), y pointing up.
* "along" is the horizontal direction a sign refers to: for side-view metrics it is the
  direction the person faces; for front-view metrics it is towards the subject's own left.
* kind "from_horizontal": atan2(up, along) of the segment start->end (90 = vertical).
  kind "from_vertical":   atan2(along, up) of the segment start->end (0 = vertical).
  kind "ratio":           height of `end` above `start` divided by the shoulder width.
  kind "width_ratio":     distance from `start` to `end` divided by the shoulder width.
  kind "face_pitch":      head pitch from the nose's drop below the ear line (`start` =
                          ear midpoint, `end` = nose), through an average head geometry.
  kind "forward_3d_cm":   world landmarks (metres): `end` ahead of `start` along the body's
                          forward axis (horizontal, perpendicular to the shoulder line,
                          pointing where the face points), in centimetres.
  The 3D kinds below work in every view (front, side, oblique, back): world landmarks in
  level axes (the camera's tilt removed when it was estimated, core/measure/camera_tilt.py;
  else the camera's own vertical), the body's frame from the shoulder line: `left` = the
  right->left shoulder line made horizontal, `forward` = left x up (where the face points).
  kind "tilt_3d":         the segment start->end from the vertical, any direction, >= 0.
  kind "sagittal_3d":     the segment's angle from the vertical in the plane of `forward`
                          and up, positive = forward.
  kind "frontal_3d":      ...in the plane of `left` and up, positive = towards the left.
  kind "forward_level_cm": `end` ahead of `start` along `forward`, in centimetres.
  kind "neck_sagittal_3d": the segment start->end against the trunk line (mid-hip to
                          mid-shoulder) in the trunk's own sagittal plane, positive =
                          forward; relative to the trunk, so no camera tilt enters.
* Roles without a side ("ear", "shoulder", "hip", "eye") mean the side that faces the
  camera in a side view; "mid_*" is the midpoint of the left and right landmarks.
"""

from __future__ import annotations

from dataclasses import dataclass

SIDE_VIEWS = frozenset({"left", "right"})
# Frontal-plane metrics only from the front. MediaPipe sometimes takes a person facing the
# camera for one seen from behind (22 of 100 frames of the front-facing sample clip with
# the full model, 54 with lite) and then swaps left and right, which would flip every
# sign; true back views (pose2sim cam03/cam04) were never taken for front views. So a
# `back` view is reported, but measured no 2D metric in.
FRONTAL_VIEWS = frozenset({"front"})
VIEWS = ("front", "back", "left", "right", "oblique", "unknown")
# The 3D metrics need no view of a plane: MediaPipe's world landmarks are a skeleton in
# space. Every view with the shoulders in sight (never "unknown": no shoulders, no body
# frame). A "back" view may have left and right swapped (above): that flips the sign of
# trunk_flex_3d_deg and trunk_lateral_3d_deg there, never trunk_tilt_3d_deg.
ANY_VIEW = frozenset({"front", "back", "left", "right", "oblique"})
# The 3D kinds that measure against the vertical, so a camera's tilt enters them.
TILT_KINDS = frozenset({"tilt_3d", "sagittal_3d", "frontal_3d", "forward_level_cm"})
WORLD_KINDS = TILT_KINDS | {"forward_3d_cm", "neck_sagittal_3d"}

# How each unit reads after a value; ratios are all relative to the shoulder width.
UNIT_TEXT = {"deg": "°", "cm": " cm", "ratio": " × shoulder width"}
# Every 3D convention says what it rests on (the CSV's column description, the sidecar's
# metric table and the report's definitions all show it).
MODEL_3D = "Model-based 3D estimate from MediaPipe's world landmarks, not a measurement of bone."
TILT_3D = (MODEL_3D + " Against the vertical: the camera's tilt is removed when it was "
           "estimated (the sidecar's camera_tilt says how), else it adds as an offset (flag "
           "camera_tilt:not_removed).")


@dataclass(frozen=True)
class MetricDef:
    column: str  # CSV column and key everywhere
    title: str
    unit: str  # "deg", "ratio" or "cm"
    views: frozenset[str]  # views in which the metric can be measured honestly
    kind: str  # "from_horizontal" | "from_vertical" | "ratio" | "width_ratio" | ... (above)
    segments: tuple[tuple[str, str], ...]  # (start, end) roles; later ones are fallbacks
    sign: int  # +1 or -1, applied last
    convention: str
    needs_hips: bool = False  # hips must pass the plausibility check (not guessed under a desk)
    # The name in words a patient understands: the side panel, the overlay, the plot
    # legends, the report and the history all show this, never a copy of their own.
    short: str = ""
    # Whether the session summary (the store's medians, the report's summary table and
    # the history's columns) carries this metric's median.
    summary: bool = False
    # A shorter label where space is tight (the tags drawn on the picture); empty = short.
    tag: str = ""

    @property
    def picture_tag(self) -> str:
        return self.tag or self.short

    @property
    def unit_text(self) -> str:
        return UNIT_TEXT[self.unit]


METRICS: tuple[MetricDef, ...] = (
    MetricDef(
        "cva_deg", "Cranio-vertebral angle (proxy: shoulder-ear line vs horizontal)", "deg",
        SIDE_VIEWS, "from_horizontal", (("shoulder", "ear"),), +1,
        "90 = ear straight above the shoulder; smaller = head further forward. Proxy: "
        "MediaPipe has no tragus or C7, so the ear stands in for the tragus and the "
        "shoulder for C7; values run lower than radiographic CVA.",
        short="CVA (proxy)", summary=True, tag="CVA",
    ),
    MetricDef(
        "neck_incl_deg", "Neck inclination (shoulder-ear line vs vertical)", "deg",
        SIDE_VIEWS, "from_vertical", (("shoulder", "ear"),), +1,
        "0 = ear above shoulder; positive = head forward",
        short="Neck inclination",
    ),
    MetricDef(
        "torso_incl_deg", "Torso inclination (hip-shoulder line vs vertical)", "deg",
        SIDE_VIEWS, "from_vertical", (("hip", "shoulder"),), +1,
        "positive = leaning forward (flexion), negative = reclined (extension)",
        needs_hips=True,
        short="Torso inclination", summary=True, tag="Torso",
    ),
    MetricDef(
        "head_flex_deg", "Head flexion (ear-eye line vs horizontal)", "deg",
        SIDE_VIEWS, "from_horizontal", (("ear", "eye"),), -1,
        "positive = chin down, negative = chin up",
        short="Head flexion",
    ),
    MetricDef(
        "shoulder_tilt_deg", "Shoulder tilt (line through both shoulders vs horizontal)", "deg",
        FRONTAL_VIEWS, "from_horizontal", (("right_shoulder", "left_shoulder"),), +1,
        "positive = subject's left shoulder higher",
        short="Shoulder tilt", summary=True,
    ),
    MetricDef(
        "head_tilt_deg", "Head tilt (line through both ears, else eyes, vs horizontal)", "deg",
        FRONTAL_VIEWS, "from_horizontal",
        (("right_ear", "left_ear"), ("right_eye", "left_eye")), +1,
        "positive = subject's left side of the head higher",
        short="Head tilt", summary=True,
    ),
    MetricDef(
        "lateral_lean_deg", "Lateral trunk lean (mid-hip to mid-shoulder line vs vertical)",
        "deg", FRONTAL_VIEWS, "from_vertical", (("mid_hip", "mid_shoulder"),), +1,
        "positive = trunk leaning towards the subject's left",
        needs_hips=True,
        short="Lateral lean", summary=True,
    ),
    MetricDef(
        "fwd_head_ratio", "Forward head, frontal proxy (nose height above shoulder midline "
        "/ shoulder width)", "ratio", frozenset({"front"}), "ratio",
        (("mid_shoulder", "nose"),), +1,
        "smaller = head lower or further forward; compare within a person and camera set-up",
        short="Forward head (nose height)",
    ),
    # The front-view head and upper-trunk measures below make the desk webcam, which faces
    # the person, a first-class view (issue 10). Each answers one question a clinician asks
    # from the front; none is a diagnosis on its own (thresholds live in core/posture/alerts.py).
    MetricDef(
        "head_fwd_cm", "Head forward distance, 3D (ear midpoint ahead of shoulder midpoint)",
        "cm", FRONTAL_VIEWS, "forward_3d_cm", (("mid_shoulder", "mid_ear"),), +1,
        "positive = ears ahead of the shoulders along the body's forward axis (horizontal, "
        "perpendicular to the shoulder line). From MediaPipe's world landmarks: a model-based "
        "3D estimate. A camera pitched up or down adds a constant offset (about 2.5 cm per "
        "10 deg), so compare within a camera set-up.",
        short="Head forward", summary=True,
    ),
    MetricDef(
        "head_size_ratio", "Apparent head size (ear-to-ear width / shoulder width)", "ratio",
        FRONTAL_VIEWS, "width_ratio", (("right_ear", "left_ear"),), +1,
        "larger = head nearer the camera than the shoulders (poked forward) or shoulders "
        "narrowed (rounded); about 0.38 in upright adults at eye-level webcams here",
        short="Head size",
    ),
    MetricDef(
        "neck_height_ratio", "Neck height (ear midpoint above shoulder midline / shoulder "
        "width)", "ratio", FRONTAL_VIEWS, "ratio", (("mid_shoulder", "mid_ear"),), +1,
        "smaller = head dropped or forward (or shoulders shrugged); compare within a person "
        "and camera set-up",
        short="Neck height", summary=True,
    ),
    MetricDef(
        "head_pitch_deg", "Head pitch (nose below the ear line, through an average head)",
        "deg", FRONTAL_VIEWS, "face_pitch", (("mid_ear", "nose"),), +1,
        "positive = chin down, negative = chin up; relative to the camera's line of sight, "
        "so a camera below eye level reads chin up by its elevation angle",
        short="Head pitch",
    ),
    # 3D trunk and neck in every view (issue 15): the 2D metrics above are withheld in
    # oblique and back views, where these still read. Model-based estimates; the camera's
    # tilt is removed when it was estimated (the sidecar's `camera_tilt` says how), else
    # each frame's flags say camera_tilt:not_removed and the tilt is an offset.
    MetricDef(
        "trunk_flex_3d_deg", "Trunk flexion, 3D (mid-hip to mid-shoulder vs vertical, in the "
        "body's sagittal plane)", "deg", ANY_VIEW, "sagittal_3d",
        (("mid_hip", "mid_shoulder"),), +1,
        "positive = trunk bent forward (slouch), negative = reclined; forward from the "
        "shoulder line, so any camera yaw. " + TILT_3D,
        needs_hips=True,
        short="Trunk flexion (3D)",
    ),
    MetricDef(
        "trunk_tilt_3d_deg", "Trunk tilt from vertical, 3D (mid-hip to mid-shoulder, any "
        "direction)", "deg", ANY_VIEW, "tilt_3d", (("mid_hip", "mid_shoulder"),), +1,
        "0 = trunk upright, always >= 0 (forward, backward or sideways alike). " + TILT_3D,
        needs_hips=True,
        short="Trunk tilt (3D)",
    ),
    MetricDef(
        "trunk_lateral_3d_deg", "Trunk lateral bend, 3D (mid-hip to mid-shoulder vs vertical, "
        "in the body's frontal plane)", "deg", ANY_VIEW, "frontal_3d",
        (("mid_hip", "mid_shoulder"),), +1,
        "positive = trunk leaning towards the subject's left. " + TILT_3D,
        needs_hips=True,
        short="Trunk lateral bend (3D)",
    ),
    MetricDef(
        "neck_flex_3d_deg", "Neck flexion, 3D (mid-shoulder to mid-ear vs the trunk line, "
        "sagittal)", "deg", ANY_VIEW, "neck_sagittal_3d", (("mid_shoulder", "mid_ear"),), +1,
        "0 = head in line with the trunk; positive = head bent forward relative to the trunk "
        "(no camera tilt enters: both lines are the body's). " + MODEL_3D,
        needs_hips=True,
        short="Neck flexion (3D)",
    ),
    MetricDef(
        "head_fwd_3d_cm", "Head forward distance, 3D, every view (ear midpoint ahead of "
        "shoulder midpoint, level)", "cm", ANY_VIEW, "forward_level_cm",
        (("mid_shoulder", "mid_ear"),), +1,
        "positive = ears ahead of the shoulders along the body's forward axis (horizontal "
        "once the camera's tilt is removed). " + TILT_3D,
        short="Head forward (3D)",
    ),
)

METRIC_BY_COLUMN: dict[str, MetricDef] = {m.column: m for m in METRICS}
METRIC_COLUMNS: tuple[str, ...] = tuple(m.column for m in METRICS)

# Derived from the table rows (kept as names so callers read one lookup, not a copy).
SHORT_NAMES: dict[str, str] = {m.column: m.short for m in METRICS}
SUMMARY_COLUMNS: tuple[str, ...] = tuple(m.column for m in METRICS if m.summary)
# The columns a camera's tilt enters (camera_tilt.py removes it, the sidecar names them).
TILT_COLUMNS: tuple[str, ...] = tuple(m.column for m in METRICS if m.kind in TILT_KINDS)


def metric_table() -> list[dict]:
    """The table as plain data, written into every sidecar JSON."""
    return [
        {
            "column": m.column,
            "title": m.title,
            "unit": m.unit,
            "views": sorted(m.views),
            "kind": m.kind,
            "segments": [list(s) for s in m.segments],
            "sign": m.sign,
            "convention": m.convention,
        }
        for m in METRICS
    ]

"""The posture labels: one table with clinical definition, default threshold and source.

The classifier predicts an independent probability per label (multi-label, sigmoid);
"upright" means none is present. Thresholds are settings with cited defaults, not
diagnoses. The synthetic training data derives its labels from exactly these
definitions (`posture_monitor.training.synthetic`), so changing one here and retraining
(`make model`) is how a threshold change reaches the model.
"""

from __future__ import annotations

from dataclasses import dataclass

from posture_monitor.core.measure.definitions import FRONTAL_VIEWS, SIDE_VIEWS

UPRIGHT = "upright"


@dataclass(frozen=True)
class LabelDef:
    name: str
    region: str  # "head_neck" | "shoulders" | "trunk": which imbalance score it feeds
    definition: str  # the clinical quantity, measured in 3D against the true vertical
    threshold: str  # human-readable default threshold
    source: str
    views: frozenset[str]  # views in which the classifier may report it
    needs_hips: bool = False  # withheld when the hips are not trustworthy
    # (view, metric): in that view the label is withheld when the metric is empty, i.e.
    # when the landmarks the label rests on there were not usable
    needs: tuple[tuple[str, str], ...] = ()


LABELS: tuple[LabelDef, ...] = (
    LabelDef(
        "forward_head", "head_neck",
        "cranio-vertebral angle (C7 -> tragus vs horizontal) below the cut-off",
        "CVA < 45.5 deg",
        "Mostafaee et al.: 45.5 deg separates slight from moderate-to-severe forward head "
        "posture (sensitivity 0.93, AUC 0.88); normal adults 50.6 +- 2.1 (Lau et al. 2009)",
        # From the front (the desk webcam) the CVA itself is not visible; the classifier
        # reads it from the head's height, size and pitch relative to the shoulders, and
        # needs the nose and both shoulders for that (fwd_head_ratio).
        SIDE_VIEWS | FRONTAL_VIEWS, needs=(("front", "fwd_head_ratio"),),
    ),
    LabelDef(
        "trunk_flexion", "trunk",
        "trunk (hip -> shoulder line) inclined forward from vertical (slouched)",
        "inclination > +20 deg",
        "RULA (McAtamney & Corlett 1993): trunk flexion beyond 20 deg raises the trunk score",
        SIDE_VIEWS, needs_hips=True,
    ),
    LabelDef(
        "trunk_extension", "trunk",
        "trunk (hip -> shoulder line) reclined backward from vertical",
        "inclination < -20 deg",
        "mirror of the RULA 20 deg flexion band (convention: no published recline cut-off; "
        "upright sitting measured -8..-12 deg here)",
        SIDE_VIEWS, needs_hips=True,
    ),
    LabelDef(
        "lateral_lean", "trunk",
        "trunk (mid-hip -> mid-shoulder line) leaning sideways from vertical",
        "|lean| > 10 deg",
        "convention: RULA/REBA add a point for any side-bending without a degree; 10 deg is "
        "twice the natural frontal sway of about +-5 deg (METRICS.md)",
        FRONTAL_VIEWS, needs_hips=True,
    ),
    LabelDef(
        "shoulder_asymmetry", "shoulders",
        "line through both shoulders tilted from horizontal (one shoulder elevated)",
        "|tilt| > 5 deg",
        "convention: above the +-3-5 deg natural variation of frontal landmarks (METRICS.md)",
        FRONTAL_VIEWS,
    ),
    LabelDef(
        "head_tilt", "head_neck",
        "line through both ears tilted from horizontal",
        "|tilt| > 5 deg",
        "METRICS.md: frontal head position varies about +-5 deg naturally; an alarm much "
        "below 3-5 deg fires on normal variation",
        FRONTAL_VIEWS,
    ),
)

LABEL_NAMES: tuple[str, ...] = tuple(lbl.name for lbl in LABELS)
REGIONS: tuple[str, ...] = ("head_neck", "shoulders", "trunk")

# Numeric thresholds used by the synthetic generator (degrees, true 3D angles).
FORWARD_HEAD_CVA_DEG = 45.5
TRUNK_FLEXION_DEG = 20.0
TRUNK_EXTENSION_DEG = -20.0
LATERAL_LEAN_DEG = 10.0
SHOULDER_TILT_DEG = 5.0
HEAD_TILT_DEG = 5.0


def labels_from_angles(cva: float, trunk: float, lean: float, shoulder_tilt: float,
                       head_tilt: float) -> dict[str, bool]:
    """Ground truth from true posture angles (degrees), as the table defines it."""
    return {
        "forward_head": cva < FORWARD_HEAD_CVA_DEG,
        "trunk_flexion": trunk > TRUNK_FLEXION_DEG,
        "trunk_extension": trunk < TRUNK_EXTENSION_DEG,
        "lateral_lean": abs(lean) > LATERAL_LEAN_DEG,
        "shoulder_asymmetry": abs(shoulder_tilt) > SHOULDER_TILT_DEG,
        "head_tilt": abs(head_tilt) > HEAD_TILT_DEG,
    }


def observable(view: str, hips_ok: bool) -> dict[str, bool]:
    """Which labels a frame in `view` can honestly say anything about."""
    return {lbl.name: view in lbl.views and (hips_ok or not lbl.needs_hips) for lbl in LABELS}


def observable_in(values: dict[str, float | None], view: str) -> dict[str, bool]:
    """`observable` for a measured frame: hips count as trustworthy when the trunk metric
    of that view (which passed the hip plausibility checks) was measured, and a label is
    withheld where a metric it `needs` in this view is empty."""
    hip_metric = "torso_incl_deg" if view in SIDE_VIEWS else "lateral_lean_deg"
    seen = observable(view, values.get(hip_metric) is not None)
    for lbl in LABELS:
        if any(v == view and values.get(metric) is None for v, metric in lbl.needs):
            seen[lbl.name] = False
    return seen


def label_table() -> list[dict]:
    return [
        {"name": lbl.name, "region": lbl.region, "definition": lbl.definition,
         "threshold": lbl.threshold, "source": lbl.source, "views": sorted(lbl.views),
         "needs_hips": lbl.needs_hips, "needs": [list(n) for n in lbl.needs]}
        for lbl in LABELS
    ]

"""Real video clips for evaluation: every frame through the runtime's own pipeline
(MediaPipe, smoothing, metrics, the classifier), as `analyze` runs it.

A clip spec is `PATH` (a person upright throughout: every label the frame can show is
"no") or `PATH@LABEL=START-END[,START-END...]` (LABEL present in those seconds, absent
elsewhere; e.g. `desk_forward_head.mp4@forward_head=20-50`). Frames within
`GUARD_S` of a change of phase are left out (transitions, smoothing lag).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from posture_monitor.core.capture.sources import VIDEO_SUFFIXES
from posture_monitor.core.classify.labels import LABEL_NAMES
from posture_monitor.core.common.errors import UserError
from posture_monitor.training.evaluate import roc_auc

GUARD_S = 2.0


@dataclass
class ClipSpec:
    path: Path
    label: str | None = None  # the label whose phases are given; None: upright throughout
    phases: list[tuple[float, float]] = field(default_factory=list)  # seconds, label present

    @property
    def name(self) -> str:
        return self.path.name

    def spec(self) -> str:
        if self.label is None:
            return str(self.path)
        return f"{self.path}@{self.label}=" + ",".join(f"{a:g}-{b:g}" for a, b in self.phases)


def is_clip_spec(spec: str | Path) -> bool:
    text = str(spec)
    return "@" in Path(text).name or Path(text).suffix.lower() in VIDEO_SUFFIXES


def parse_clip_spec(spec: str | Path) -> ClipSpec:
    text = str(spec)
    path_text, _, phase_text = text.rpartition("@") if "@" in Path(text).name else (text, "", "")
    path = Path(path_text)
    if not path.is_file():
        raise UserError(f"real clip not found: {path}")
    if not phase_text:
        return ClipSpec(path)
    label, _, ranges = phase_text.partition("=")
    if label not in LABEL_NAMES or not ranges:
        raise UserError(f"{text}: expected PATH@LABEL=START-END (LABEL one of "
                        f"{', '.join(LABEL_NAMES)}), e.g. clip.mp4@forward_head=20-50")
    phases = []
    for part in ranges.split(","):
        try:
            a, b = (float(x) for x in part.split("-"))
        except ValueError:
            raise UserError(f"{text}: {part!r} is not START-END in seconds") from None
        if not 0 <= a < b:
            raise UserError(f"{text}: {part!r} must run forwards from 0 s or later")
        phases.append((a, b))
    return ClipSpec(path, label, phases)


def clip_frames(spec: ClipSpec, classifier: Path, pose_model: str = "full",
                metrics: tuple[str, ...] = ()) -> list[dict]:
    """Per frame: time, view, the classifier's probabilities (None = abstained) and the
    values of `metrics`."""
    from posture_monitor.core.capture.sources import open_source
    from posture_monitor.core.common.settings import AnalysisSettings
    from posture_monitor.core.posture.pipeline import PosePipeline

    rows = []
    settings = AnalysisSettings(model=pose_model, classifier=str(classifier))
    with PosePipeline(settings, sequence=True) as pipe, open_source(spec.path) as src:
        for frame in src:
            r = pipe.process(frame)
            rows.append({"t": frame.time_s, "view": r.measurement.view,
                         "p": dict(r.classification.probabilities),
                         "m": {c: r.measurement.values[c] for c in metrics}})
    return rows


def _phase(spec: ClipSpec, t: float) -> bool | None:
    """True inside a phase, False outside, None within GUARD_S of a change."""
    for a, b in spec.phases:
        if abs(t - a) < GUARD_S or abs(t - b) < GUARD_S:
            return None
    return any(a <= t < b for a, b in spec.phases)


def summarize_clip(spec: ClipSpec, rows: list[dict], threshold: float = 0.5) -> dict:
    """Per label: frames answered, share above the threshold, median and 95th percentile;
    for a phased clip also the ROC AUC and F1 of its label between the phases."""
    out = {"clip": spec.name, "spec": spec.spec(), "frames": len(rows),
           "views": {}, "labels": {}}
    for r in rows:
        out["views"][r["view"]] = out["views"].get(r["view"], 0) + 1
    for name in LABEL_NAMES:
        p = np.array([r["p"][name] for r in rows if r["p"][name] is not None], float)
        if not len(p):
            out["labels"][name] = {"answered": 0}
            continue
        out["labels"][name] = {
            "answered": len(p), "above": float(np.mean(p > threshold)),
            "median": float(np.median(p)), "p95": float(np.percentile(p, 95))}
    if spec.label is not None:
        pairs = [(_phase(spec, r["t"]), r["p"][spec.label]) for r in rows]
        pairs = [(y, p) for y, p in pairs if y is not None and p is not None]
        y = np.array([a for a, _ in pairs], bool)
        p = np.array([b for _, b in pairs], float)
        pred = p > threshold
        tp, fp = int(np.sum(y & pred)), int(np.sum(~y & pred))
        fn = int(np.sum(y & ~pred))
        f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else None
        out["phases"] = {
            "label": spec.label, "present_s": spec.phases, "guard_s": GUARD_S,
            "frames_present": int(y.sum()), "frames_absent": int((~y).sum()),
            "auc": roc_auc(y, p) if len(p) else None, "f1": f1,
            "above_present": float(np.mean(pred[y])) if y.any() else None,
            "above_absent": float(np.mean(pred[~y])) if (~y).any() else None,
            "median_present": float(np.median(p[y])) if y.any() else None,
            "median_absent": float(np.median(p[~y])) if (~y).any() else None}
    return out

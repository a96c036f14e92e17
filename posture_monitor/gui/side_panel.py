"""Side panel: the view, every metric with its value (or why it is withheld), the
posture label with its confidence, and the region scores."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QGroupBox, QLabel, QVBoxLayout, QWidget

from posture_monitor.core.definitions import METRICS
from posture_monitor.core.pipeline import FrameResult
from posture_monitor.core.scoring import SCORE_COLUMNS

SHORT = {"cva_deg": "CVA (proxy)", "neck_incl_deg": "Neck inclination",
         "torso_incl_deg": "Torso inclination", "head_flex_deg": "Head flexion",
         "shoulder_tilt_deg": "Shoulder tilt", "head_tilt_deg": "Head tilt",
         "lateral_lean_deg": "Lateral lean", "fwd_head_ratio": "Forward head (ratio)"}
VIEW_TEXT = {"left": "side (left side to camera)", "right": "side (right side to camera)",
             "front": "front", "back": "from behind: no readings", "oblique":
             "oblique: turn side-on or face the camera", "unknown": "no person / shoulders hidden"}


class SidePanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.decimals = 0
        layout = QVBoxLayout(self)
        self.view = QLabel("-", objectName="view")
        self.posture = QLabel("-", objectName="posture")
        self.posture.setStyleSheet("font-size: 16px; font-weight: bold")
        self.posture.setWordWrap(True)
        top = QGroupBox("Posture")
        form = QFormLayout(top)
        form.addRow("View", self.view)
        form.addRow("Classifier", self.posture)
        layout.addWidget(top)
        angles = QGroupBox("Measurements")
        form = QFormLayout(angles)
        self.values: dict[str, QLabel] = {}
        for m in METRICS:
            label = QLabel("-", objectName=m.column)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setToolTip(m.convention)
            self.values[m.column] = label
            form.addRow(SHORT[m.column], label)
        layout.addWidget(angles)
        scores = QGroupBox("Imbalance scores")
        form = QFormLayout(scores)
        self.scores: dict[str, QLabel] = {}
        for col in SCORE_COLUMNS:
            self.scores[col] = QLabel("-", objectName=col)
            form.addRow(col.removeprefix("score_").replace("_", "-"), self.scores[col])
        layout.addWidget(scores)
        layout.addStretch(1)

    def show_result(self, result: FrameResult, baseline=None) -> None:
        """`baseline` (a core.baseline.Baseline) adds each angle's deviation from the
        person's own neutral posture."""
        m = result.measurement
        self.view.setText(VIEW_TEXT.get(m.view, m.view))
        reasons = dict(f.split(":", 1) for f in m.flags if ":" in f)
        for m_def in METRICS:
            v = m.values[m_def.column]
            label = self.values[m_def.column]
            if v is not None:
                text = f"{v:.3f}" if m_def.unit == "ratio" else f"{v:.{self.decimals}f}°"
                ref = baseline.metrics.get(m_def.column) if baseline is not None else None
                if ref is not None and m_def.unit == "deg":
                    text += f"   ({v - ref.median:+.{self.decimals}f}° vs your baseline)"
            else:
                why = reasons.get(m_def.column)
                text = "no reading" + (f" ({why.replace('_', ' ')})" if why else "")
            label.setText(text)
            # Restyle only on a change: setStyleSheet re-polishes the widget, which costs
            # far more than setText and runs 30 times a second here.
            withheld = v is None
            if label.property("withheld") != withheld:
                label.setProperty("withheld", withheld)
                label.setStyleSheet("color: #888" if withheld else "")
        c = result.classification
        if c.label is None:
            self.posture.setText("no reading")
        else:
            self.posture.setText(f"{c.label.replace('_', ' ')}  {100 * c.confidence:.0f} %")
        for col, label in self.scores.items():
            v = result.scores.get(col)
            label.setText("-" if v is None else f"{v:.0f}")

"""Side panel: the view, every metric with its value (or why it is withheld), grouped by
the view it is measured in, the posture label with its confidence, and the region scores.
With two cameras, each value comes from the camera whose view shows its plane, tagged
with it (core/run/live.py CameraPair)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QGroupBox, QLabel, QVBoxLayout, QWidget

from posture_monitor.core.classify.scoring import SCORE_COLUMNS
from posture_monitor.core.measure.definitions import (
    FRONTAL_VIEWS,
    METRICS,
    SHORT_NAMES,
    SIDE_VIEWS,
    MetricDef,
)
from posture_monitor.core.posture.pipeline import FrameResult
from posture_monitor.gui.overlay import reason_text

VIEW_TEXT = {"left": "side (left side to camera)", "right": "side (right side to camera)",
             "front": "front", "back": "from behind: no readings", "oblique":
             "oblique: turn side-on or face the camera", "unknown": "no person / shoulders hidden"}
# (group title, views, why its metrics are empty in the other usable view)
VIEW_GROUPS = (("Side view", SIDE_VIEWS, "side view only"),
               ("Front view", FRONTAL_VIEWS, "front view only"))


def _group(m: MetricDef) -> int:
    return next(i for i, (_, views, _) in enumerate(VIEW_GROUPS) if m.views & views)


def format_value(m: MetricDef, value: float, decimals: int = 0) -> str:
    """A value with its unit: degrees and centimetres at the chosen precision, ratios
    (to the shoulder width) at two decimals."""
    places = 2 if m.unit == "ratio" else decimals
    return f"{round(value, places) + 0.0:.{places}f}" + m.unit_text  # + 0.0: no "-0"


def format_deviation(m: MetricDef, value: float, reference: float, decimals: int = 0) -> str:
    """The change from the person's own baseline: in the metric's unit, ratios in per cent
    of the baseline (a share of the shoulder width means little on its own)."""
    if m.unit == "ratio":
        if abs(reference) > 1e-6:
            return f"{100 * (value - reference) / abs(reference):+.0f} %"
        return f"{value - reference:+.2f}"
    return f"{round(value - reference, decimals) + 0.0:+.{decimals}f}" + m.unit_text


class SidePanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.decimals = 0
        layout = QVBoxLayout(self)
        self.view = QLabel("-", objectName="view", wordWrap=True)
        self.person = QLabel("-", objectName="person", wordWrap=True)
        self.posture = QLabel("-", objectName="posture")
        self.posture.setStyleSheet("font-size: 16px; font-weight: bold")
        self.posture.setWordWrap(True)
        top = QGroupBox("Posture")
        form = QFormLayout(top)
        form.addRow("View", self.view)
        form.addRow("Person", self.person)
        form.addRow("Classifier", self.posture)
        layout.addWidget(top)
        self.values: dict[str, QLabel] = {}
        self.groups: list[QGroupBox] = []
        self._forms: list[QFormLayout] = []
        self.notes: list[QLabel] = []  # stands in for a group's rows in the other view
        for title, _, _ in VIEW_GROUPS:
            box = QGroupBox(f"{title} measurements", objectName=title.replace(" ", "_").lower())
            self._forms.append(QFormLayout(box))
            self.groups.append(box)
            layout.addWidget(box)
        for m in METRICS:
            label = QLabel("-", objectName=m.column, wordWrap=True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setToolTip(f"{m.title}: {m.convention}")
            name = QLabel(SHORT_NAMES[m.column])
            name.setToolTip(label.toolTip())
            self.values[m.column] = label
            self._forms[_group(m)].addRow(name, label)
        for i, (title, _, only) in enumerate(VIEW_GROUPS):
            names = ", ".join(SHORT_NAMES[m.column] for m in METRICS if _group(m) == i)
            turn = "turn side-on" if i == 0 else "face the camera"
            note = QLabel(f"{only.capitalize()} ({turn}): {names}", wordWrap=True,
                          objectName=f"{title.replace(' ', '_').lower()}_note")
            note.setStyleSheet("color: #888")
            note.hide()
            self._forms[i].addRow(note)
            self.notes.append(note)
        self._active: int | None = None  # the group of the view on show; None: all rows
        scores = QGroupBox("Imbalance scores")
        form = QFormLayout(scores)
        self.scores: dict[str, QLabel] = {}
        for col in SCORE_COLUMNS:
            self.scores[col] = QLabel("-", objectName=col)
            form.addRow(col.removeprefix("score_").replace("_", "-"), self.scores[col])
        layout.addWidget(scores)
        layout.addStretch(1)

    def text_for(self, m_def: MetricDef, result: FrameResult, baseline=None,
                 paired=None) -> str:
        """What the panel shows for one metric: value and unit (and the deviation from
        the baseline), or "no reading" and why. With `paired` (two cameras), the value
        of the camera whose view shows its plane, and which camera that is."""
        m = result.measurement
        v, camera = m.values[m_def.column], None
        if paired is not None:
            v, camera = paired.values.get(m_def.column, (None, ""))
            if v is None:
                return "no reading from either camera"
        if v is not None:
            text = format_value(m_def, v, self.decimals)
            # the baseline is the front camera's: only its values are compared with it
            ref = baseline.metrics.get(m_def.column) if baseline is not None and \
                camera in (None, "front") else None
            if ref is not None:
                deviation = format_deviation(m_def, v, ref.median, self.decimals)
                text += f"   ({deviation} vs your baseline)"
            return text if camera is None else f"{text}   · {camera}"
        prefix = m_def.column + ":"
        why = next((f[len(prefix):] for f in m.flags if f.startswith(prefix)), None)
        if why:
            return f"no reading ({reason_text(why)})"
        if m.view in SIDE_VIEWS | FRONTAL_VIEWS and m.view not in m_def.views:
            return f"no reading ({VIEW_GROUPS[_group(m_def)][2]})"
        return "no reading"  # no usable view: the View row above says why

    def show_result(self, result: FrameResult, baseline=None, paired=None) -> None:
        """`baseline` (a core.baseline.Baseline) adds each metric's deviation from the
        person's own neutral posture; `paired` (core.run.live.PairedValues) shows two
        cameras' values, each from the camera whose view shows its plane."""
        m = result.measurement
        view = VIEW_TEXT.get(m.view, m.view)
        active = next((i for i, (_, views, _) in enumerate(VIEW_GROUPS) if m.view in views),
                      None)
        if paired is not None:  # both groups can be filled: every row shows
            side = paired.side
            view = (f"front camera: {view}; side camera: " + (
                "no frame near in time" if side is None else
                VIEW_TEXT.get(side.measurement.view, side.measurement.view)))
            active = None
        self.view.setText(view)
        if active != self._active:  # the other view's rows fold into one line
            self._active = active
            for m_def in METRICS:
                self._forms[_group(m_def)].setRowVisible(
                    self.values[m_def.column], active is None or _group(m_def) == active)
            for i, note in enumerate(self.notes):
                note.setVisible(active is not None and i != active)
        for m_def in METRICS:
            label = self.values[m_def.column]
            label.setText(self.text_for(m_def, result, baseline, paired))
            # Restyle only on a change: setStyleSheet re-polishes the widget, which costs
            # far more than setText and runs 30 times a second here.
            withheld = (m.values[m_def.column] if paired is None else
                        paired.values.get(m_def.column, (None, ""))[0]) is None
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

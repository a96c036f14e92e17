"""Choosing an exercise: the preset (or free, with the joints to follow), the side, and
how to place the camera for it, with what is counted and when a repetition is complete
(the preset's own words and numbers, with the user's target where one is set)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from posture_monitor.core.common.errors import UserError
from posture_monitor.core.measure.joints import JOINT_BY_NAME, JOINTS
from posture_monitor.core.movement.exercises import FREE, PRESETS, preset_names, resolve_preset
from posture_monitor.core.movement.tracker import SIDE_CHOICES

SIDE_TEXT = {"both": "Both sides", "left": "Left side", "right": "Right side"}
FAMILY_TEXT = {"side": "Seen from the side", "front": "Seen from the front"}


def preset_title(name: str) -> str:
    return PRESETS[name].title if name in PRESETS else "Free: choose the joints"


def describe(name: str, joints: tuple[str, ...], target: float | None) -> str:
    """How to film the exercise and what counts, in words."""
    try:
        preset = resolve_preset(name, joints, target)
    except UserError:  # free mode before a joint is ticked
        return "Tick the joints to follow; the first one ticked counts the repetitions."
    lines = [f"Place the camera: {preset.view}."]
    for family, p in preset.primary.items():
        joint = JOINT_BY_NAME[p.joint]
        amount = f"{p.target:g}°" if joint.unit == "deg" else f"{p.target:g} ({joint.unit})"
        lines.append(f"{FAMILY_TEXT[family]}: counts {joint.short.lower()}; a repetition is "
                     f"complete {amount} from rest.")
    return "\n".join(lines)


class ExerciseDialog(QDialog):
    def __init__(self, target: float | None = None, parent: QWidget | None = None,
                 name: str = "squat", side: str = "both", joints: tuple[str, ...] = ()):
        super().__init__(parent)
        self.setWindowTitle("Exercise mode")
        self.target = target
        self.preset = QComboBox(objectName="exercise_preset")
        for n in preset_names():
            self.preset.addItem(preset_title(n), n)
        self.side = QComboBox(objectName="exercise_side")
        for s in SIDE_CHOICES:
            self.side.addItem(SIDE_TEXT[s], s)
        self.joints = QListWidget(objectName="exercise_joints")
        self._ticked: list[str] = []  # in the order ticked: the first one is counted
        for j in JOINTS:
            item = QListWidgetItem(j.short)
            item.setData(Qt.ItemDataRole.UserRole, j.name)
            item.setToolTip(f"{j.title}. {j.convention}")
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if j.name in joints
                               else Qt.CheckState.Unchecked)
            self.joints.addItem(item)
        self._ticked = [j for j in joints if j in JOINT_BY_NAME]
        self.joints.itemChanged.connect(self._joint_ticked)
        self.info = QLabel(objectName="exercise_info", wordWrap=True)
        self.info.setMinimumWidth(380)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Start")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        form = QFormLayout()
        form.addRow("Exercise", self.preset)
        form.addRow("Side", self.side)
        self.joints_label = QLabel("Joints")
        form.addRow(self.joints_label, self.joints)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.info)
        layout.addWidget(self.buttons)
        self.preset.currentIndexChanged.connect(self._update)
        self.side.setCurrentIndex(max(0, self.side.findData(side)))
        self.preset.setCurrentIndex(max(0, self.preset.findData(name)))
        self._update()

    def _joint_ticked(self, item: QListWidgetItem) -> None:
        name = item.data(Qt.ItemDataRole.UserRole)
        if item.checkState() == Qt.CheckState.Checked:
            if name not in self._ticked:
                self._ticked.append(name)
        elif name in self._ticked:
            self._ticked.remove(name)
        self._update()

    def _update(self) -> None:
        name, _, joints = self.choice()
        free = name == FREE
        self.joints.setVisible(free)
        self.joints_label.setVisible(free)
        self.info.setText(describe(name, joints, self.target))
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(not free or bool(joints))

    def choice(self) -> tuple[str, str, tuple[str, ...]]:
        """(preset name, side, joints); joints only for free mode."""
        name = self.preset.currentData()
        return name, self.side.currentData(), tuple(self._ticked) if name == FREE else ()

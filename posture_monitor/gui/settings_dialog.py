"""Settings dialog: a form over `AppSettings`; validation and storage stay in the core."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from posture_monitor.core.common.settings import SETTINGS
from posture_monitor.core.records.app_settings import FORM_SETTINGS, AppSettings

RESOLUTIONS = ((640, 480), (1280, 720), (1920, 1080))
FPS_CHOICES = (15, 30, 60)
MODEL_CHOICES = (("lite", "Lite (faster)"), ("full", "Full (more accurate)"))
DECIMAL_CHOICES = ((0, "Whole degrees (12°)"), (1, "Tenths of a degree (12.3°)"))
CHECK_BOXES = {
    "smoothing": ("Smooth landmarks (One Euro filter)",
                  "Removes jitter at rest while still following quick movements."),
    "mirror": ("Mirror the camera image", "Show yourself as in a mirror (self-view)."),
    "grid": ("Show grid", "Draw a reference grid over the image."),
    "plumb_line": ("Show plumb line", "Draw a true vertical line through the body."),
    "alert_sound": ("Sound with alerts", "Beep when an alert starts."),
    "exercise_sound": ("Sound with repetitions and form cues",
                       "Exercise mode: a short beep when a repetition is complete and when "
                       "a form check fires."),
    "exercise_speech": ("Speak the cues (\"Chest up\", \"Rep 3\")",
                        "Exercise mode: say the cue through an offline speech engine on "
                        "this computer (on Linux install espeak-ng, e.g. sudo apt-get "
                        "install espeak-ng; macOS has one built in). Without one: a beep. "
                        "Nothing is sent anywhere."),
    "record_video": ("Record video frames",
                     "Off: video frames are never stored. On: frames are saved with the "
                     "measurements."),
}


# Step of the 0-1 probability boxes; the threshold box shows "model's own" one step below
# its lowest value (QDoubleSpinBox's special value text stands for its minimum).
PROBABILITY_STEP = 0.05
MODEL_OWN = "model's own"
EXERCISE_OWN = "exercise's own"
NOT_GIVEN = "not given (leg lengths only)"
FORM_LABELS = {
    "form_trunk_lean_deg": "Trunk lean beyond",
    "form_knee_valgus_deg": "Knee inward beyond",
    "form_heel_lift_deg": "Heel lift beyond",
    "form_lean_back_deg": "Leaning back beyond",
    "form_lateral_lean_deg": "Sideways lean beyond",
    "form_arm_height_diff": "Arm height difference beyond",
}


def _spin(name: str) -> QSpinBox:
    # Range, unit and tip from the one settings table, so the widgets cannot allow what the
    # core rejects.
    spec = SETTINGS[name]
    box = QSpinBox(objectName=name)
    box.setRange(int(spec.low), int(spec.high))
    if spec.unit:
        box.setSuffix(f" {spec.unit}")
    box.setToolTip(spec.help)
    return box


def _double_spin(name: str, step: float = PROBABILITY_STEP,
                 empty_text: str = MODEL_OWN) -> QDoubleSpinBox:
    spec = SETTINGS[name]
    box = QDoubleSpinBox(objectName=name)
    box.setDecimals(2)
    box.setSingleStep(step)
    if spec.unit:
        box.setSuffix(f" {spec.unit}")
    low = spec.low
    if spec.default is None:  # empty allowed: the minimum stands for it
        low = round(spec.low - step, 2)
        box.setSpecialValueText(empty_text)
    box.setRange(low, spec.high)
    box.setToolTip(spec.help)
    return box


def _optional_value(box: QDoubleSpinBox) -> float | None:
    """None when the box shows its special value (the model's own threshold)."""
    if box.specialValueText() and box.value() <= box.minimum():
        return None
    return round(box.value(), 2)


def _combo(name: str, items) -> QComboBox:
    combo = QComboBox(objectName=name)
    for data, text in items:
        combo.addItem(text, data)
    return combo


def _select(combo: QComboBox, data, text: str) -> None:
    # A value from the file that the list lacks (e.g. a camera mode typed by hand) is
    # added rather than silently replaced, so opening and closing the dialog keeps it.
    index = combo.findData(data)
    if index < 0:
        combo.addItem(text, data)
        index = combo.count() - 1
    combo.setCurrentIndex(index)


class SettingsDialog(QDialog):
    def __init__(self, settings: AppSettings | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.camera_index = _spin("camera_index")
        # Item data is "WxH" text: Qt round-trips strings exactly, Python tuples not always.
        self.resolution = _combo("resolution", ((f"{w}x{h}", f"{w} x {h}") for w, h in RESOLUTIONS))
        self.camera_fps = _combo("camera_fps", ((f, f"{f} fps") for f in FPS_CHOICES))
        self.model = _combo("model", MODEL_CHOICES)
        self.min_visibility = _double_spin("min_visibility")
        self.decision_threshold = _double_spin("decision_threshold")
        self.plot_window_s = _spin("plot_window_s")
        self.angle_decimals = _combo("angle_decimals", DECIMAL_CHOICES)
        self.alert_onset_s = _spin("alert_onset_s")
        # Exercise mode: form-cue thresholds and the repetition target.
        self.form = {name: _spin(name) for name in FORM_SETTINGS if name != "form_arm_height_diff"}
        self.form["form_arm_height_diff"] = _double_spin("form_arm_height_diff")
        self.rep_target_deg = _double_spin("rep_target_deg", step=5.0,
                                           empty_text=EXERCISE_OWN)
        self.checks = {name: QCheckBox(text, objectName=name, toolTip=tip)
                       for name, (text, tip) in CHECK_BOXES.items()}
        # Gait and people: the walker's height, how many people the pose model looks for
        self.height_cm = _double_spin("height_cm", step=1.0, empty_text=NOT_GIVEN)
        self.max_people = _spin("max_people")

        camera = QFormLayout()
        camera.addRow("Camera number", self.camera_index)
        camera.addRow("Resolution", self.resolution)
        camera.addRow("Frame rate", self.camera_fps)
        analysis = QFormLayout()
        analysis.addRow("Pose model", self.model)
        analysis.addRow(self.checks["smoothing"])
        analysis.addRow("Minimum landmark visibility", self.min_visibility)
        analysis.addRow("Label threshold", self.decision_threshold)
        display = QFormLayout()
        display.addRow("Plot window", self.plot_window_s)
        display.addRow("Angle precision", self.angle_decimals)
        for name in ("mirror", "grid", "plumb_line"):
            display.addRow(self.checks[name])
        alerts = QFormLayout()
        alerts.addRow("Alert after", self.alert_onset_s)
        alerts.addRow(self.checks["alert_sound"])
        privacy = QFormLayout()
        privacy.addRow(self.checks["record_video"])
        exercise = QFormLayout()
        exercise.addRow("Repetition complete at", self.rep_target_deg)
        for name, label in FORM_LABELS.items():
            exercise.addRow(label, self.form[name])
        for name in ("exercise_sound", "exercise_speech"):
            exercise.addRow(self.checks[name])

        gait = QFormLayout()
        gait.addRow("Walker's height", self.height_cm)
        gait.addRow("People to look for", self.max_people)

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.RestoreDefaults, objectName="buttons")
        restore = buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults)
        restore.setObjectName("restore_defaults")
        restore.clicked.connect(lambda: self.set_settings(AppSettings()))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        for title, form in (("Camera", camera), ("Analysis", analysis), ("Display", display),
                            ("Alerts", alerts), ("Exercise form cues", exercise),
                            ("Gait and people", gait), ("Privacy", privacy)):
            group = QGroupBox(title)
            group.setLayout(form)
            layout.addWidget(group)
        layout.addWidget(buttons)
        self.set_settings(settings if settings is not None else AppSettings())

    def set_settings(self, settings: AppSettings) -> None:
        """Show `settings` in the widgets (also used by "Restore defaults")."""
        s = settings.validated()
        self.camera_index.setValue(s.camera_index)
        w, h = s.camera_width, s.camera_height
        _select(self.resolution, f"{w}x{h}", f"{w} x {h}")
        _select(self.camera_fps, s.camera_fps, f"{s.camera_fps} fps")
        _select(self.model, s.model, s.model)
        self.min_visibility.setValue(s.min_visibility)
        self.decision_threshold.setValue(self.decision_threshold.minimum()
                                         if s.decision_threshold is None
                                         else s.decision_threshold)
        self.plot_window_s.setValue(s.plot_window_s)
        self.alert_onset_s.setValue(s.alert_onset_s)
        for name, box in self.form.items():
            box.setValue(getattr(s, name))
        self.rep_target_deg.setValue(self.rep_target_deg.minimum() if s.rep_target_deg is None
                                     else s.rep_target_deg)
        self.height_cm.setValue(self.height_cm.minimum() if s.height_cm is None
                                else s.height_cm)
        self.max_people.setValue(s.max_people)
        _select(self.angle_decimals, s.angle_decimals, str(s.angle_decimals))
        for name, box in self.checks.items():
            box.setChecked(getattr(s, name))

    def settings(self) -> AppSettings:
        """The settings the widgets show now."""
        width, height = (int(v) for v in self.resolution.currentData().split("x"))
        return AppSettings(
            camera_index=self.camera_index.value(),
            camera_width=width,
            camera_height=height,
            camera_fps=self.camera_fps.currentData(),
            model=self.model.currentData(),
            min_visibility=round(self.min_visibility.value(), 2),
            decision_threshold=_optional_value(self.decision_threshold),
            plot_window_s=self.plot_window_s.value(),
            angle_decimals=self.angle_decimals.currentData(),
            alert_onset_s=self.alert_onset_s.value(),
            rep_target_deg=_optional_value(self.rep_target_deg),
            height_cm=_optional_value(self.height_cm),
            max_people=self.max_people.value(),
            **{name: (round(box.value(), 2) if isinstance(box, QDoubleSpinBox) else box.value())
               for name, box in self.form.items()},
            **{name: box.isChecked() for name, box in self.checks.items()},
        ).validated()

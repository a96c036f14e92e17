"""Settings dialog and About box (pytest-qt, offscreen)."""

from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QPushButton,
    QSpinBox,
)

from posture_monitor import __version__
from posture_monitor.core.classify.classifier import resolve_classifier
from posture_monitor.core.common.hashing import file_sha256
from posture_monitor.core.common.settings import SETTINGS
from posture_monitor.core.records.app_settings import AppSettings
from posture_monitor.core.vision.model_files import resolve_pose_model
from posture_monitor.gui.about import NOT_MEDICAL, PRIVACY, about_text, package_version
from posture_monitor.gui.settings_dialog import SettingsDialog

CUSTOM = AppSettings(camera_index=3, camera_width=640, camera_height=480, camera_fps=60,
                     model="lite", smoothing=False, min_visibility=0.7,
                     decision_threshold=0.35, plot_window_s=300, angle_decimals=1,
                     mirror=False, grid=True, plumb_line=False, record_video=True)


def _dialog(qtbot, settings=None):
    dialog = SettingsDialog(settings)
    qtbot.addWidget(dialog)
    return dialog


def test_dialog_shows_given_settings(qtbot):
    dialog = _dialog(qtbot, CUSTOM)
    assert dialog.settings() == CUSTOM
    assert dialog.findChild(QComboBox, "model").currentData() == "lite"
    assert dialog.findChild(QComboBox, "resolution").currentText() == "640 x 480"
    assert dialog.findChild(QSpinBox, "plot_window_s").value() == 300
    assert dialog.findChild(QCheckBox, "record_video").isChecked()
    assert _dialog(qtbot).settings() == AppSettings()


def test_every_field_has_a_widget(qtbot):
    """Every AppSettings field, read from the dataclass (a new field without a widget
    fails): its own widget, but width and height share the resolution box."""
    from dataclasses import fields

    dialog = _dialog(qtbot)
    shared = {"camera_width": "resolution", "camera_height": "resolution"}
    names = {shared.get(f.name, f.name) for f in fields(AppSettings)} | {"restore_defaults"}
    assert {"camera_index", "resolution", "alert_sound"} <= names
    missing = [n for n in names if dialog.findChild(object, n) is None]
    assert not missing


def test_changed_widgets_are_reflected(qtbot):
    dialog = _dialog(qtbot)
    model = dialog.findChild(QComboBox, "model")
    model.setCurrentIndex(model.findData("lite"))
    resolution = dialog.findChild(QComboBox, "resolution")
    resolution.setCurrentIndex(resolution.findData("1920x1080"))
    fps = dialog.findChild(QComboBox, "camera_fps")
    fps.setCurrentIndex(fps.findData(15))
    dialog.findChild(QSpinBox, "camera_index").setValue(1)
    dialog.findChild(QSpinBox, "plot_window_s").setValue(90)
    dialog.findChild(QDoubleSpinBox, "min_visibility").setValue(0.65)
    dialog.findChild(QDoubleSpinBox, "decision_threshold").setValue(0.8)
    decimals = dialog.findChild(QComboBox, "angle_decimals")
    decimals.setCurrentIndex(decimals.findData(1))
    dialog.findChild(QCheckBox, "grid").setChecked(True)
    dialog.findChild(QCheckBox, "smoothing").setChecked(False)
    assert dialog.settings() == AppSettings(
        camera_index=1, camera_width=1920, camera_height=1080, camera_fps=15, model="lite",
        smoothing=False, min_visibility=0.65, decision_threshold=0.8, plot_window_s=90,
        angle_decimals=1, grid=True)


def test_widgets_cannot_leave_the_valid_range(qtbot):
    dialog = _dialog(qtbot)
    dialog.findChild(QSpinBox, "plot_window_s").setValue(5)
    dialog.findChild(QDoubleSpinBox, "min_visibility").setValue(0.99)
    s = dialog.settings()
    assert (s.plot_window_s, s.min_visibility) == (10, 0.95)


def test_spin_boxes_take_range_unit_and_tip_from_the_settings_table(qtbot):
    dialog = _dialog(qtbot)
    boxes = {b.objectName(): b for b in dialog.findChildren(QAbstractSpinBox)}
    assert set(boxes) == {n for n in SETTINGS if n not in ("camera_width", "camera_height",
                                                           "camera_fps", "angle_decimals")}
    for name, box in boxes.items():
        spec = SETTINGS[name]
        low = box.minimum() if spec.default is not None else box.minimum() + box.singleStep()
        assert (round(low, 2), box.maximum()) == (spec.low, spec.high), name
        assert box.toolTip() == spec.help, name


def test_threshold_left_at_the_models_own_round_trips_as_none(qtbot):
    dialog = _dialog(qtbot, AppSettings(decision_threshold=None))
    box = dialog.findChild(QDoubleSpinBox, "decision_threshold")
    assert box.text() == "model's own"
    assert dialog.settings().decision_threshold is None
    box.setValue(0.3)
    assert dialog.settings().decision_threshold == 0.3


def test_unlisted_camera_mode_is_kept(qtbot):
    odd = AppSettings(camera_width=800, camera_height=600, camera_fps=25)
    assert _dialog(qtbot, odd).settings() == odd


def test_restore_defaults_button_gives_the_default_settings(qtbot):
    dialog = _dialog(qtbot, CUSTOM)
    dialog.findChild(QPushButton, "restore_defaults").click()
    assert dialog.settings() == AppSettings()


def test_ok_accepts_and_cancel_rejects_the_dialog(qtbot):
    dialog = _dialog(qtbot)
    with qtbot.waitSignal(dialog.accepted, timeout=1000):
        dialog.findChild(object, "buttons").accepted.emit()
    dialog = _dialog(qtbot)
    with qtbot.waitSignal(dialog.rejected, timeout=1000):
        dialog.findChild(object, "buttons").rejected.emit()


def test_about_text_names_versions_checksums_and_privacy():
    text = about_text()
    assert f"Posture Monitor {__version__}" in text
    assert resolve_pose_model("lite").sha256 in text
    assert resolve_pose_model("full").sha256 in text
    assert file_sha256(resolve_classifier()) in text
    for name in ("Python", "mediapipe", "PySide6", "pyqtgraph", "numpy", "ai-edge-litert"):
        assert name in text
    assert package_version("PySide6", "PySide6-Essentials") in text
    assert PRIVACY in text and NOT_MEDICAL in text
    assert package_version("no-such-distribution-xyz") == "not installed"


def test_show_about_uses_message_box(monkeypatch):
    import posture_monitor.gui.about as about

    shown = []
    monkeypatch.setattr(about.QMessageBox, "about", lambda *args: shown.append(args))
    about.show_about(None)
    assert shown and shown[0][1] == "About Posture Monitor" and PRIVACY in shown[0][2]

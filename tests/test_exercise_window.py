"""The window's exercise mode, offscreen: the real squat clip played as a file, counted
live by the engine, shown by the panel (count, bars, curves), drawn on the picture, and
told by the cue player."""

from __future__ import annotations

import pytest

from posture_monitor.core.run import events as ev
from tests.conftest import FIXTURES

SQUAT = FIXTURES / "exercise_side_mit" / "squat_side_barbell.mp4"


def _recorded_beeps(monkeypatch) -> list[int]:
    """Every beep the cue player gives (no speech engine: the beep is what plays)."""
    import posture_monitor.gui.cues as cues

    beeps: list[int] = []
    monkeypatch.setattr(cues, "_beep", lambda: beeps.append(1))
    monkeypatch.setattr(cues, "speech_command", lambda *args: None)
    return beeps


@pytest.mark.slow
def test_exercise_mode_counts_the_two_real_squats_live_with_bars_curves_and_cues(
        make_window, qtbot, monkeypatch):
    beeps = _recorded_beeps(monkeypatch)
    w = make_window(str(SQUAT), exercise_sound=True)
    reps: list[ev.RepCompleted] = []
    w.events.subscribe(ev.RepCompleted, reps.append)
    ended: list[ev.SourceEnded] = []
    w.events.subscribe(ev.SourceEnded, ended.append)
    assert not w.exercise.dock.isVisible()  # posture mode: no exercise panel
    assert w.exercise.start("squat")
    qtbot.waitUntil(lambda: w.exercise.running, timeout=10_000)
    panel = w.exercise.panel
    assert w.exercise.dock.isVisible() and not w.plots.isVisible()
    assert not w.side_scroll.isVisible() and w.width() == 1280  # the window did not grow
    assert panel.title.text() == "Squat · both sides"
    assert "side" in panel.hint.text()
    qtbot.waitUntil(lambda: bool(ended), timeout=90_000)  # the clip is 20.5 s
    qtbot.waitUntil(lambda: len(reps) >= 2, timeout=10_000)
    assert [e.row["complete"] for e in reps] == [1, 1]
    assert panel.count.text() == "2" and panel.incomplete.text() == ""
    # His right side faces the camera: the right knee has a range in every repetition;
    # the far knee is hidden behind the body and gets no bar (not a zero one).
    assert [e.row["right_range"] is not None for e in reps] == [True, True]
    for side in ("left", "right"):
        assert panel.bar_heights(side) == pytest.approx(
            [e.row[f"{side}_range"] for e in reps if e.row[f"{side}_range"] is not None])
    assert len(panel.bar_heights("right")) == 2
    assert all(h > 60 for h in panel.bar_heights("right"))  # deep squats
    assert panel.bar_heights("range") == []  # a side had a range: no stand-in bar
    assert panel.last_rep.text().startswith("Rep 2: range ")
    left = reps[-1].row["left_range"]
    assert ("left not in view" if left is None else "(min/max)") in panel.last_rep.text()
    w._refresh_slow()
    assert panel.curve_points() > 100  # ~20 s of analysed frames
    _, velocity = panel.velocity_curve.getData()
    assert abs(velocity[velocity == velocity]).max() > 30  # a squat moves > 30 deg/s
    # every repetition and form cue went to the cue player: a beep each
    cues = [text for how, text in w.exercise.player.played]
    assert [c for c in cues if c.startswith("Rep")] == ["Rep 1", "Rep 2"]
    assert len(beeps) == len(cues) >= 2
    # the counted knee is drawn on the picture, with its value, in place of posture
    import posture_monitor.gui.main_window as main_window

    drawn = []
    real = main_window.render_overlay
    monkeypatch.setattr(main_window, "render_overlay",
                        lambda *a, **k: drawn.append(a) or real(*a, **k))
    item = w.last_item
    w.snapshot()  # draws the frame on screen again, at full size
    image, pose, measurement, _, options = drawn[-1]
    assert options.extra is not None and options.extra.joint == "knee_flex"
    assert not options.posture_marks
    texts: list[str] = []
    real(item.frame.image, pose, measurement, None, options, texts)
    assert any(t.startswith("Knee flexion ") and t.endswith("°") for t in texts), texts
    assert not any(t.startswith("CVA") for t in texts)

    # Sound off: the panel still follows, the player stays silent.
    from dataclasses import replace

    w.exercise.apply_settings(replace(w.app_settings, exercise_sound=False))
    before = len(beeps)
    row = {**reps[-1].row, "rep": 3}
    w.engine.bus.publish(ev.RepCompleted(30.0, row, 3))
    w.engine.bus.publish(ev.FormCueRaised(30.0, "trunk_lean", "Trunk lean", "Chest up", None))
    w.events.dispatch()
    assert panel.count.text() == "3" and panel.cue.text().startswith("Chest up")
    assert len(beeps) == before
    w.exercise.stop()
    qtbot.waitUntil(lambda: not w.exercise.running, timeout=5_000)
    assert w.exercise.summary["reps"] == 2
    assert w.exercise.action.text() == "Start exercise…"
    # the results stay on show until the panel is put away; then posture has its room
    assert w.exercise.dock.isVisible() and panel.title.text().endswith("(stopped)")
    w.exercise.panel_action.setChecked(False)
    assert not w.exercise.dock.isVisible() and w.plots.isVisible()
    assert w.side_scroll.isVisible() and w.width() == 1280


def test_exercise_dialog_names_the_view_and_free_mode_needs_a_joint(qtbot):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QDialogButtonBox

    from posture_monitor.gui.exercise_dialog import ExerciseDialog

    dialog = ExerciseDialog(target=None)
    qtbot.addWidget(dialog)
    assert dialog.choice() == ("squat", "both", ())
    assert "Place the camera: side" in dialog.info.text()
    assert "counts knee flexion; a repetition is complete 70° from rest" in dialog.info.text()
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    dialog.preset.setCurrentIndex(dialog.preset.findData("free"))
    assert not ok.isEnabled() and not dialog.joints.isHidden()
    items = {dialog.joints.item(i).data(Qt.ItemDataRole.UserRole): dialog.joints.item(i)
             for i in range(dialog.joints.count())}
    items["hip_flex"].setCheckState(Qt.CheckState.Checked)
    items["elbow_flex"].setCheckState(Qt.CheckState.Checked)
    assert ok.isEnabled()
    assert dialog.choice() == ("free", "both", ("hip_flex", "elbow_flex"))  # order ticked
    assert "counts hip flexion" in dialog.info.text()
    dialog.side.setCurrentIndex(dialog.side.findData("left"))
    dialog.preset.setCurrentIndex(dialog.preset.findData("squat"))
    assert dialog.choice() == ("squat", "left", ()) and dialog.joints.isHidden()
    # the user's target replaces a degree target
    custom = ExerciseDialog(target=90.0)
    qtbot.addWidget(custom)
    assert "complete 90° from rest" in custom.info.text()


def test_rep_text_says_which_symmetry_and_marks_an_incomplete_rep():
    from posture_monitor.gui.exercise_panel import rep_text

    row = {"rep": 2, "complete": 1, "reason": "", "unit": "deg", "range": 96.4,
           "duration_s": 2.42, "to_peak_s": 1.1, "from_peak_s": 1.32, "left_range": 90.0,
           "right_range": 97.0, "range_symmetry_pct": 92.8, "faults": "trunk_lean:right"}
    assert rep_text(row, 0, "down", "up") == (
        "Rep 2: range 96° in 2.4 s (down 1.1 s, up 1.3 s). left 90°, right 97°: "
        "symmetry 93 % (min/max). form: trunk lean, right.")
    half = {**row, "complete": 0, "reason": "short_of_target", "left_range": None,
            "range_symmetry_pct": None, "faults": ""}
    assert rep_text(half) == ("Rep 2 incomplete (short of target): range 96° in 2.4 s (to "
                              "the peak 1.1 s, back 1.3 s). left not in view, right 97°.")


def _rgb(image):
    import numpy as np
    from PySide6.QtGui import QImage

    image = image.convertToFormat(QImage.Format.Format_RGB888)
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(),
                                                              image.bytesPerLine())
    # a copy: the numbers outlive the QImage they were read from
    return rows[:, :image.width() * 3].reshape(image.height(), image.width(), 3).copy()


@pytest.mark.parametrize("mirror", [False, True])
def test_the_counted_knee_is_an_arc_from_the_straight_leg_with_its_value_clear_of_it(
        qapp, mirror):
    """A right knee bent 90 deg (thigh horizontal, shank straight down): the arc runs from
    the thigh continued past the knee to the shank, its middle 45 deg between them; the
    value sits on the other side of the thigh line; all mirrored with the picture."""
    import numpy as np

    from posture_monitor.core.measure.metrics import Measurement
    from posture_monitor.gui.exercise_overlay import ARC_FRAC, ExerciseMark
    from posture_monitor.gui.overlay import OverlayOptions, render_overlay
    from tests.posegen import H, W, blank_pose, put

    pose = blank_pose(90.0)
    knee, hip, ankle = (640, 500), (440, 500), (640, 700)
    for name, (x, y) in (("right_knee", knee), ("right_hip", hip), ("right_ankle", ankle)):
        put(pose, name, x, y)
    frame = np.full((H, W, 3), 128, np.uint8)
    mark = ExerciseMark("knee_flex", ("left", "right"), {"knee_flex_r_deg": 90.0,
                                                         "knee_flex_l_deg": 40.0})
    texts: list[str] = []
    options = OverlayOptions(mirror=mirror, plumb_line=False, posture_marks=False,
                             extra=mark)
    out = _rgb(render_overlay(frame, pose, Measurement("right", 90.0, {}), None, options,
                              texts)).astype(int)
    # Seen from the right side only the near (right) knee is marked, with its own value.
    assert texts == ["Knee flexion 90°"]

    def at(x: float, y: float) -> np.ndarray:
        return out[int(round(y)), int(round(W - 1 - x if mirror else x))]

    r = 200 * ARC_FRAC / np.sqrt(2)
    arc = [at(knee[0] + r + dx, knee[1] + r + dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
    assert any(p[0] > 200 and 100 < p[1] < 180 and p[2] < 60 for p in arc)  # orange
    assert (at(knee[0] + 120, knee[1]) != 128).any()  # the reference: the thigh continued

    def darker(x0, x1, y0, y1) -> bool:
        xs = range(int(W - 1 - x1), int(W - 1 - x0)) if mirror else range(x0, x1)
        box = out[y0:y1, xs.start:xs.stop]
        return bool((box.max(axis=2) < 100).mean() > 0.3)

    assert darker(600, 680, 440, 492)  # the value's box: above the thigh line
    assert not darker(560, 620, 520, 600)  # and not where the shank and arc are


def test_gui_exercise_option_opens_the_window_in_exercise_mode_or_says_what_is_wrong(
        monkeypatch, capsys):
    import posture_monitor.gui.main as gui_main
    from posture_monitor import cli
    from posture_monitor.core.common.errors import EXIT_USAGE

    calls = []
    monkeypatch.setattr(gui_main, "run_gui", lambda *a, **k: calls.append((a, k)) or 0)
    assert cli.main(["gui", "--source", "clip.mp4", "--exercise", "squat", "--side",
                     "left"]) == 0
    assert cli.main(["gui", "--exercise", "free", "--joints", "hip_flex,knee_flex"]) == 0
    assert cli.main(["gui"]) == 0
    assert [k["exercise"] for _, k in calls] == [("squat", "left", ()),
                                                 ("free", "both", ("hip_flex", "knee_flex")),
                                                 None]
    capsys.readouterr()
    for argv in (["gui", "--exercise", "jumping"], ["gui", "--exercise", "free"],
                 ["gui", "--joints", "knee_flex"]):
        assert cli.main(argv) == EXIT_USAGE
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1, err
    assert len(calls) == 3  # no window for a mistake


def test_bars_hatch_an_incomplete_rep_and_stand_in_the_counted_range_without_sides(qapp):
    from PySide6.QtCore import Qt

    from posture_monitor.gui.exercise_panel import ExercisePanel

    panel = ExercisePanel()
    panel.begin("Squat", "both", "side", "knee flexion", "deg")
    base = {"unit": "deg", "duration_s": 2.0, "to_peak_s": 1.0, "from_peak_s": 1.0}
    panel.add_rep({**base, "rep": 1, "complete": 1, "range": 90.0, "left_range": 88.0,
                   "right_range": 92.0, "range_symmetry_pct": 95.7}, 1)
    panel.add_rep({**base, "rep": 2, "complete": 0, "reason": "short_of_target",
                   "range": 40.0, "left_range": None, "right_range": 41.0}, 1)
    panel.add_rep({**base, "rep": 3, "complete": 1, "range": 85.0, "left_range": None,
                   "right_range": None}, 2)
    assert panel.bar_heights("left") == [88.0]
    assert panel.bar_heights("right") == [92.0, 41.0]
    assert panel.bar_heights("range") == [85.0]  # no side had a range: the counted one
    right = panel.bars["right"].opts
    assert list(right["x"]) == pytest.approx([1.19, 2.19])  # right of its slot
    assert [b.style() for b in right["brushes"]] == [Qt.BrushStyle.SolidPattern,
                                                     Qt.BrushStyle.BDiagPattern]
    assert panel.count.text() == "2" and panel.incomplete.text() == "1 incomplete"
    assert panel.cue.text() == "Form cues: none so far."

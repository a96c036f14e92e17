"""Issue 5 in the real window and engine: calibration, profiles, set-up changes, alerts in
the tray, desk mode at a low rate, the camera released on pause; and the desk tallies."""

import time
from datetime import date

import pytest

from posture_monitor.core.capture.sources import VideoAsCameraSource
from posture_monitor.core.common.settings import AnalysisSettings
from posture_monitor.core.posture.baseline import ProfileStore
from posture_monitor.core.posture.desk import BreakTimer, PostureTally
from posture_monitor.core.run.live import LiveEngine


@pytest.fixture
def seq():
    from fetch_test_media import seated_sequence

    return seated_sequence()


@pytest.fixture
def window(make_window):
    return lambda source=None, factory=None: make_window(source, factory, mirror=False)


@pytest.mark.slow
def test_calibration_profile_and_a_real_alert(window, qtbot, seq, tmp_path):
    w = window(str(seq))  # upright for the first 20 s of the clip
    qtbot.waitUntil(lambda: w.frames_shown > 5, timeout=60_000)
    w.calibration.start()
    assert "calibration starts in" in w.banner.text()
    qtbot.waitUntil(lambda: w.calibration.phase == "capture", timeout=10_000)
    qtbot.waitUntil(lambda: w.calibration.phase == "idle", timeout=20_000)
    assert "Calibrated" in w.banner.text()
    baseline = ProfileStore(tmp_path / "profiles.json").get("default", w.engine.source.description)
    assert baseline is not None and baseline.baseline.view == "left"
    assert baseline.baseline.metrics["torso_incl_deg"].median < 0  # upright
    w.engine.seek(220)  # the slouch (22 s into the clip)
    qtbot.waitUntil(lambda: w.desk.state == "alert", timeout=40_000)
    assert w.banner.isVisible() and " vs your " in w.banner.text()
    title, text = w.desk.notifications[-1]
    assert title == "Posture" and " vs your " in text
    assert w.desk.tally.present_s > 0 and "Good posture today" in w.desk.tally_action.text()
    qtbot.waitUntil(lambda: "vs your baseline" in w.side.values["cva_deg"].text(), timeout=5000)


def test_profile_switching(window, qtbot, seq, tmp_path):
    from posture_monitor.core.posture.baseline import Baseline, MetricStats, Profile

    w = window(str(seq))
    camera = w.engine.source.description
    base = Baseline("2026-01-01T00:00:00", "left", {"cva_deg": MetricStats(75.0, 1.0, 50)},
                    0.1, (0.5, 0.4), {"description": camera, "width": 360, "height": 640})
    w.profiles.save(Profile("alice", camera, base))
    w.switch_person("alice")
    assert w.calibration.baseline == base
    w.switch_person("bob")
    assert w.calibration.baseline is None and "no baseline" in w.banner.text()
    w.switch_person("alice")
    assert w.calibration.baseline is not None


def test_changed_setup_pauses_alerts_and_asks_to_recalibrate(window, qtbot, seq,
                                                              sports2d_video):
    from posture_monitor.core.posture.baseline import Baseline, MetricStats

    w = window("0", lambda: VideoAsCameraSource(sports2d_video))
    qtbot.waitUntil(lambda: w.frames_shown > 5, timeout=60_000)
    other_camera = Baseline("2026-01-01T00:00:00", "left",
                            {"cva_deg": MetricStats(75.0, 1.0, 50)}, 0.1, (0.5, 0.4),
                            {"description": "another camera", "width": 640, "height": 480})
    w.calibration.apply(other_camera)
    qtbot.waitUntil(lambda: "recalibrate" in w.banner.text(), timeout=20_000)
    assert w.calibration.baseline is None  # no alarms against a stale baseline


def test_desk_mode_hides_to_tray_and_lowers_the_rate(window, qtbot, sports2d_video):
    w = window("0", lambda: VideoAsCameraSource(sports2d_video))
    qtbot.waitUntil(lambda: w.frames_shown > 5, timeout=60_000)
    w.desk_mode_action.setChecked(True)
    assert not w.isVisible() and w.engine._rate_hz == 2.0
    qtbot.wait(4000)
    assert w.engine.stats().analysis_fps <= 5.5  # 2 Hz, 5 Hz while a deviation builds
    w.desk_mode_action.setChecked(False)
    assert w.isVisible() and w.engine._rate_hz is None
    assert w.desk.tray.icon() is not None and w.desk.state in ("ok", "warning", "alert")


def test_engine_desk_rate_and_camera_release(sports2d_video):
    opened = []

    def factory():
        opened.append(1)
        return VideoAsCameraSource(sports2d_video)

    engine = LiveEngine(factory, AnalysisSettings(model="lite"))
    engine.set_rate(2.0, 2.0)
    engine.start()
    engine.wait_ready(60)
    time.sleep(5)
    assert 1.0 <= engine.stats().analysis_fps <= 3.0
    engine.pause(True, release_camera=True)
    time.sleep(0.5)
    assert engine.source is None  # camera released while paused
    engine.pause(False)
    time.sleep(1.5)
    assert engine.source is not None and len(opened) == 2
    engine.stop()


def test_posture_tally_counts_today_only():
    tally = PostureTally()
    day = date(2026, 11, 20)
    for i in range(100):  # 10 s: 7 s ok, 3 s alert
        tally.update(i * 0.1, "ok" if i < 70 else "alert", day)
    assert tally.present_s == pytest.approx(9.9) and tally.good_share == pytest.approx(
        6.9 / 9.9, abs=0.02)
    tally.update(20.0, "away", day)  # a gap is not counted
    assert tally.present_s == pytest.approx(9.9)
    tally.update(21.0, "ok", date(2026, 11, 21))  # next day
    assert tally.present_s == 0 and tally.good_share is None


def test_break_reminder_resets_only_after_a_real_break():
    timer = BreakTimer(sit_limit_s=60, min_break_s=10)
    due = [t for t in range(0, 200) if timer.update(float(t), present=not 65 <= t < 70)]
    assert due == [60]  # once; a 5 s absence at 65 is no break
    timer = BreakTimer(sit_limit_s=60, min_break_s=10)
    due = [t for t in range(0, 200) if timer.update(float(t), present=not 61 <= t < 80)]
    assert due == [60, 140]  # a 19 s break reset the sitting time at 80

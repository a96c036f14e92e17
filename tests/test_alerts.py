"""The alert state machine, with exact timings (10 updates a second)."""

import pytest

from posture_monitor.core.common.settings import AlertSettings
from posture_monitor.core.posture.alerts import AlertEngine, AlertRule, AlertState

RULE = AlertRule("p_trunk_flexion", "above", 0.5, 0.15, "Trunk flexion")
SETTINGS = AlertSettings(onset_s=10, clear_s=2, cooldown_s=30, grace_s=5, away_after_s=3)


def run(engine, start, end, value, present=True, step=0.1):
    """Feed a constant value from `start` to `end` s; return [(t, update)]."""
    out = []
    n = round((end - start) / step)
    for i in range(n):
        t = round(start + i * step, 6)
        out.append((t, engine.update(t, present, {RULE.key: value})))
    return out


def first(updates, state):
    return next(t for t, u in updates if u.state == state)


def engine():
    return AlertEngine((RULE,), SETTINGS)


def test_alert_starts_exactly_one_onset_after_the_deviation_began():
    e = engine()
    run(e, 0, 5, 0.1)
    ups = run(e, 5, 20, 0.9)
    assert ups[0][1].state == AlertState.WARNING  # deviation noticed at once...
    assert first(ups, AlertState.ALERT) == pytest.approx(15.0)  # ...alert after 10 s
    starts = [t for t, u in ups if u.new_alert]
    assert starts == [pytest.approx(15.0)] and e.alerts == 1
    assert "Trunk flexion for 10 s" in next(u.reason for t, u in ups if u.new_alert)


def test_a_glance_shorter_than_the_onset_never_alerts():
    e = engine()
    for k in range(5):  # 8 s deviations separated by 1 s upright
        run(e, k * 9, k * 9 + 8, 0.9)
        run(e, k * 9 + 8, k * 9 + 9, 0.1)
    assert e.alerts == 0 and e.state == AlertState.OK


def test_dead_zone_keeps_a_deviation_going():
    e = engine()
    run(e, 0, 6, 0.9)
    run(e, 6, 9, 0.45)  # below the threshold but inside the dead zone (>0.35)
    ups = run(e, 9, 12, 0.9)
    assert first(ups, AlertState.ALERT) == pytest.approx(10.0)  # the timer kept running


def test_alert_clears_only_clear_s_after_leaving_the_dead_zone():
    e = engine()
    run(e, 0, 12, 0.9)  # alert from t=10
    assert e.state == AlertState.ALERT
    ups = run(e, 12, 20, 0.45)  # dead zone: not recovered
    assert all(u.state == AlertState.ALERT for _, u in ups)
    ups = run(e, 20, 25, 0.2)  # recovered: clears after clear_s = 2 s
    assert first(ups, AlertState.OK) == pytest.approx(22.0)


def test_relapse_during_recovery_keeps_the_alert():
    e = engine()
    run(e, 0, 12, 0.9)
    run(e, 12, 13.5, 0.2)
    ups = run(e, 13.5, 15, 0.9)
    assert all(u.state == AlertState.ALERT and not u.new_alert for _, u in ups)
    assert e.alerts == 1


def test_a_second_alert_waits_for_the_cooldown():
    e = engine()
    run(e, 0, 12, 0.9)  # alert 10..
    run(e, 12, 15, 0.2)  # ends at 14
    ups = run(e, 15, 60, 0.9)  # deviating again from 15
    # onset would be reached at 25, but the cooldown runs until 14 + 30 = 44
    assert all(u.state == AlertState.WARNING for t, u in ups if t < 44)
    assert first(ups, AlertState.ALERT) == pytest.approx(44.0)
    assert e.alerts == 2


def test_no_alert_before_the_grace_after_calibration_ends():
    e = engine()
    e.start_grace(0.0)
    ups = run(e, 0, 20, 0.9, step=0.5)
    # onset reached at 10 > grace end at 5: the alert comes at 10, not earlier
    assert first(ups, AlertState.ALERT) == pytest.approx(10.0)
    e2 = AlertEngine((RULE,), AlertSettings(onset_s=0, grace_s=5, away_after_s=3))
    e2.start_grace(0.0)
    ups = run(e2, 0, 8, 0.9)
    assert first(ups, AlertState.ALERT) == pytest.approx(5.0)  # onset 0, held by grace


def test_away_pauses_and_return_starts_with_grace():
    e = engine()
    run(e, 0, 8, 0.9)  # 8 s of deviation
    ups = run(e, 8, 10.9, None, present=False)
    assert all(u.state == AlertState.WARNING for _, u in ups)  # < 3 s: nothing changes
    ups = run(e, 10.9, 20, None, present=False)
    assert first(ups, AlertState.AWAY) == pytest.approx(11.0)  # away after 3 s absent
    ups = run(e, 20, 40, 0.9)
    # timers restart on return (20) and grace runs to 25: alert at 30, not at 22
    assert first(ups, AlertState.ALERT) == pytest.approx(30.0)


def test_away_ends_a_running_alert():
    e = engine()
    run(e, 0, 12, 0.9)
    run(e, 12, 16, None, present=False)
    assert e.state == AlertState.AWAY
    assert e.update(16.0, True, {RULE.key: 0.1}).state == AlertState.OK


def test_missing_values_neither_extend_nor_end_a_deviation():
    e = engine()
    run(e, 0, 6, 0.9)
    run(e, 6, 8, None)  # metric withheld for 2 s
    ups = run(e, 8, 12, 0.9)
    assert first(ups, AlertState.ALERT) == pytest.approx(10.0)


def test_outside_rule_alerts_below_minus_threshold_and_states_the_degrees():
    rule = AlertRule("dev_shoulder_tilt_deg", "outside", 6.0, 2.0, "Shoulders uneven", "deg")
    e = AlertEngine((rule,), AlertSettings(onset_s=1))
    for i in range(20):
        u = e.update(i * 0.1, True, {"dev_shoulder_tilt_deg": -9.0})
    assert u.state == AlertState.ALERT
    assert u.reason == "Shoulders uneven for 2 s: shoulder tilt -9° from your baseline"
    u = e.update(2.0, True, {"dev_shoulder_tilt_deg": -9.0, "shoulder_tilt_deg": -7.0})
    assert u.reason == "Shoulders uneven for 2 s: shoulder tilt -7° vs your 2°"


def test_analyze_marks_one_alert_during_the_real_slouch(tmp_path):
    """Real photos as a sequence: upright 20 s, slouched 30 s, upright 20 s at 10 fps."""
    from fetch_test_media import seated_sequence

    from posture_monitor.core.capture.sources import open_source
    from posture_monitor.core.common.settings import AnalysisSettings
    from posture_monitor.core.run.analysis import analyze_source
    from posture_monitor.core.vision.model_files import resolve_pose_model
    from tests.conftest import read_rows

    settings = AnalysisSettings(model="lite")  # default onset 10 s, clear 2 s
    with open_source(seated_sequence()) as src:
        report = analyze_source(src, tmp_path, "seq", settings, resolve_pose_model("lite"))
    rows = read_rows(report.csv_path)
    assert len(rows) == 700
    events = [float(r["time_s"]) for r in rows if r["alert_event"] == "1"]
    assert len(events) == 1
    assert 30.0 <= events[0] <= 31.0  # slouch starts at 20 s, onset delay 10 s
    alert = [float(r["time_s"]) for r in rows if r["alert_state"] == "alert"]
    assert min(alert) == events[0] and 50.0 < max(alert) < 54.0  # sat up at 50 s
    assert all(r["alert_state"] == "ok" for r in rows if float(r["time_s"]) < 19.9)
    assert all(r["alert_state"] == "ok" for r in rows if float(r["time_s"]) > 55)
    assert rows[300]["alert_reason"].startswith(("Trunk flexion", "Forward head"))


def test_onset_beyond_60_s_is_a_one_line_usage_error(tmp_path):
    import subprocess
    import sys

    from tests.conftest import ROOT, SEATED

    proc = subprocess.run([sys.executable, "-m", "posture_monitor", "analyze",
                           str(SEATED / "recline.jpg"), "--out", str(tmp_path), "--onset", "90"],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2 and "--onset must be between 0 and 60" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def _alert_reason(rule, values, seconds=12.0):
    e = AlertEngine((rule,), AlertSettings(onset_s=10))
    u = None
    for i in range(round(seconds * 10) + 1):
        u = e.update(i * 0.1, True, values)
    assert u.state == AlertState.ALERT
    return u.reason


def test_front_rules_phrase_their_reason_for_the_patient():
    from posture_monitor.core.posture.alerts import BASELINE_RULES

    rules = {r.key: r for r in BASELINE_RULES}
    assert _alert_reason(rules["dev_head_fwd_cm"], {"dev_head_fwd_cm": 4.4, "head_fwd_cm": 11.2}
                         ) == "Head forward for 12 s: 4 cm ahead of your usual"
    assert _alert_reason(rules["dev_neck_height_ratio"],
                         {"dev_neck_height_ratio": -0.2, "neck_height_ratio": 0.35}
                         ) == "Head lowered for 12 s: your neck looks 36 % shorter than usual"
    assert _alert_reason(rules["dev_fwd_head_ratio"],
                         {"dev_fwd_head_ratio": -0.23, "fwd_head_ratio": 0.23}) == (
        "Head forward and down for 12 s: your nose is 50 % closer to your shoulders than usual")
    assert _alert_reason(rules["dev_trunk_flex_3d_deg"],
                         {"dev_trunk_flex_3d_deg": 21.4, "trunk_flex_3d_deg": 30.0}
                         ) == "Slouching for 12 s: trunk bent 21° more than your usual"
    # the side view keeps its wording
    assert _alert_reason(rules["dev_cva_deg"], {"dev_cva_deg": -23.0, "cva_deg": 52.0}
                         ) == "Head forward for 12 s: CVA 52° vs your 75°"


def test_a_reason_without_its_numbers_falls_back_to_the_generic_wording():
    rule = AlertRule("dev_neck_height_ratio", "below", -0.18, 0.04, "Head lowered", "ratio",
                     "your neck looks {percent:.0f} % shorter than usual")
    # no absolute reading, so no percentage: the deviation itself, with its unit
    assert _alert_reason(rule, {"dev_neck_height_ratio": -0.2}) == (
        "Head lowered for 12 s: neck height -0.20 ratio from your baseline")


def test_an_absolute_rule_names_the_reading_and_the_limit():
    """Two-point calibration compares the metric itself with the person's own limit."""
    rule = AlertRule("cva_deg", "below", 60.0, 2.0, "Slouching (cva)", "deg")
    assert _alert_reason(rule, {"cva_deg": 52.0}) == (
        "Slouching (cva) for 12 s: CVA 52° (your limit 60°)")


def test_front_defaults_lie_beyond_the_recorded_noise():
    """Each front-view default is beyond the SDC95 of a still person at an eye-level webcam
    with at least a 10 % margin, the 3D ones also beyond the worst clip's (bench/
    front_noise.py on the real desk clips; re-measured in tests/test_baseline_from.py)."""
    from posture_monitor.core.posture.alerts import (
        BASELINE_RULES,
        FRONT_NOISE_SDC95,
        FRONT_NOISE_SDC95_EYE_LEVEL,
    )

    front = {r.key.removeprefix("dev_"): r for r in BASELINE_RULES
             if r.key.removeprefix("dev_") in FRONT_NOISE_SDC95}
    assert set(front) == set(FRONT_NOISE_SDC95)
    for metric, rule in front.items():
        floor = FRONT_NOISE_SDC95_EYE_LEVEL.get(metric, FRONT_NOISE_SDC95[metric])
        if metric.endswith(("_cm", "_deg")):
            floor = FRONT_NOISE_SDC95[metric]
        assert abs(rule.threshold) >= 1.1 * floor, metric
        assert 0 < rule.dead_zone < abs(rule.threshold) / 2, metric
        assert rule.detail and rule.unit

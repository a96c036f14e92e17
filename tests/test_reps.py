"""Repetition counting on constructed angle series with known answers, through the real
counter (core/movement/reps.py) and tracker (core/movement/tracker.py)."""

import math

import numpy as np
import pytest

from posture_monitor.core.movement.exercises import PRESETS, free_preset, resolve_preset
from posture_monitor.core.movement.reps import RepCounter, RepRule
from posture_monitor.core.movement.tracker import (
    ExerciseTracker,
    FormCue,
    RepFinished,
    summary_measures,
)

FPS = 30.0
SQUAT = RepRule(direction=+1, target=70.0, min_duration_s=0.5)


def bump(t, t0, dur, depth, rest=10.0):
    """A smooth repetition: rest -> rest + depth -> rest over `dur` seconds from t0."""
    x = np.full_like(t, rest)
    inside = (t >= t0) & (t <= t0 + dur)
    x[inside] = rest + depth * 0.5 * (1 - np.cos(2 * math.pi * (t[inside] - t0) / dur))
    return x


def series(seconds, *bumps, rest=10.0):
    t = np.arange(0, seconds, 1 / FPS)
    x = np.full_like(t, rest)
    for b in bumps:
        x += bump(t, *b, rest=0.0)
    return t, x


def count(rule, t, x):
    counter = RepCounter(rule)
    out = []
    for ti, xi in zip(t, x, strict=True):
        out += counter.update(float(ti), None if xi is None or np.isnan(xi) else float(xi))
    out += counter.finish(float(t[-1]))
    return out, counter


def test_a_dip_inside_a_repetition_does_not_split_it_and_a_half_one_is_incomplete():
    # rest 2 s; a deep rep (to 110) that dips back to 80 half way; rest; a full rep; a
    # half rep (to 45: past the start threshold, short of the target); rest.
    t, x = series(16.0, (2.0, 3.0, 100.0), (7.0, 2.0, 100.0), (11.0, 2.0, 35.0))
    dip = (t > 3.3) & (t < 3.7)
    x[dip] = 80.0
    naive = int(np.sum((x[1:] >= 90) & (x[:-1] < 90)))  # crossings of a fixed 90 deg
    assert naive == 3  # the dip makes a naive rule count the first rep twice
    reps, counter = count(SQUAT, t, x)
    assert [r.complete for r in reps] == [True, True, False]
    assert reps[2].reason == "short_of_target"
    assert reps[0].peak_value > 105  # the deepest moment outside the dip
    assert reps[0].start_s == pytest.approx(2.0, abs=0.5)  # taken back to where it left
    assert reps[0].end_s == pytest.approx(5.0, abs=0.5)
    assert counter.discarded == 0


def test_a_half_repetition_at_the_end_of_the_input_is_incomplete():
    t, x = series(8.0, (2.0, 2.0, 100.0))
    tail = t >= 6.0
    x[tail] = 10.0 + 40.0 * np.clip((t[tail] - 6.0) / 1.0, 0, 1)  # down to 50, stays
    reps, _ = count(SQUAT, t, x)
    assert [(r.complete, r.reason) for r in reps] == [(True, ""), (False, "did_not_return")]


def test_a_twitch_shorter_than_the_minimum_duration_is_discarded_not_counted():
    t, x = series(6.0, (2.0, 0.2, 100.0))  # 0.2 s: a label swap, not a squat
    reps, counter = count(SQUAT, t, x)
    assert reps == [] and counter.discarded == 1


def test_a_one_frame_glitch_back_to_rest_does_not_end_a_repetition():
    t, x = series(8.0, (2.0, 3.0, 100.0))
    i = int(3.5 * FPS)
    x[i] = 10.0  # one frame at rest in the middle of the repetition
    reps, _ = count(SQUAT, t, x)
    assert len(reps) == 1 and reps[0].complete


def test_tracking_lost_for_long_ends_the_repetition_as_incomplete():
    t, x = series(10.0, (2.0, 3.0, 100.0))
    x = x.astype(object)
    x[(t > 3.0) & (t < 5.0)] = None  # 2 s without a reading, mid-repetition
    counter = RepCounter(SQUAT)
    reps = []
    for ti, xi in zip(t, x, strict=True):
        reps += counter.update(float(ti), xi)
    assert [(r.complete, r.reason) for r in reps] == [(False, "tracking_lost")]


def test_no_repetition_starts_before_the_person_was_still_once():
    t = np.arange(0, 4, 1 / FPS)
    x = 10 + 100 * np.abs(np.sin(math.pi * t / 2))  # moving from the first frame on
    reps, counter = count(SQUAT, t, x)
    assert reps == [] and counter.rest is None


def test_falling_direction_counts_sit_to_stand_from_a_seated_rest():
    rule = RepRule(direction=-1, target=50.0, min_duration_s=0.8)
    t = np.arange(0, 12, 1 / FPS)
    x = 90 - bump(t, 2.0, 2.5, 80.0, rest=0.0) - bump(t, 6.0, 2.5, 80.0, rest=0.0)
    reps, _ = count(rule, t, x)
    assert [r.complete for r in reps] == [True, True]
    assert reps[0].rest == pytest.approx(90.0) and reps[0].peak_value == pytest.approx(10, abs=1)


def test_rules_must_have_the_exit_band_below_the_start_band():
    with pytest.raises(ValueError):
        RepCounter(RepRule(+1, 70.0, enter_frac=0.2, exit_frac=0.3))


# --- the tracker: statistics of each repetition ---------------------------------------

def side_frames(t, left, right, trunk=None, view="right"):
    for i, ti in enumerate(t):
        values = {"knee_flex_l_deg": left[i], "knee_flex_r_deg": right[i],
                  "knee_flex_l_3d_deg": left[i], "knee_flex_r_3d_deg": right[i],
                  "trunk_flex_deg": 5.0 if trunk is None else trunk[i]}
        yield float(ti), view, values


def run_tracker(tracker, frames):
    events = []
    for t, view, values in frames:
        events += tracker.update(t, view, values)
    return events + tracker.finish()


def test_tracker_reports_range_tempo_peak_speed_and_symmetry_of_each_repetition():
    t = np.arange(0, 9, 1 / FPS)
    left = bump(t, 2.0, 2.0, 100.0)  # 10 -> 110 -> 10 over 2 s
    right = bump(t, 2.0, 2.0, 80.0)  # 10 -> 90: a side that bends less
    tracker = ExerciseTracker(PRESETS["squat"])
    events = run_tracker(tracker, side_frames(t, left, right))
    reps = [e.rep for e in events if isinstance(e, RepFinished)]
    assert len(reps) == 1 and reps[0].complete
    r = reps[0]
    assert r.range == pytest.approx(90.0, abs=0.5)  # mean of both sides: 10 -> 100
    assert r.to_peak_s == pytest.approx(1.0, abs=0.15)  # from within 5 % of rest
    assert r.from_peak_s == pytest.approx(1.0, abs=0.15)
    assert r.duration_s == pytest.approx(2.0, abs=0.3)
    # peak speed of A/2 (1 - cos(2 pi t / T)) is A pi / T: mean side A = 90, T = 2 s
    assert r.peak_velocity == pytest.approx(90 * math.pi / 2, rel=0.03)
    # a side view compares the sides in 3D (the far limb is hidden in 2D)
    assert r.side_range["left"] == pytest.approx(100.0, abs=3)  # within the rep window
    assert r.side_range["right"] == pytest.approx(80.0, abs=3)
    sym = r.symmetry()
    assert sym["range_symmetry_pct"] == pytest.approx(80.0, abs=0.5)
    assert sym["range_si_pct"] == pytest.approx(20 / 90 * 100, abs=0.5)
    assert sym["speed_symmetry_pct"] == pytest.approx(80.0, abs=1.5)
    lo, hi, rng = r.angles["knee_flex_l_deg"]
    assert (lo, hi) == (pytest.approx(10.0, abs=3.0), pytest.approx(110.0, abs=0.5))
    row = r.row()
    assert row["complete"] == 1 and row["rep"] == 1 and row["view"] == "right"
    s = summary_measures(tracker.reps)
    assert s["reps"] == 1 and s["range_symmetry_pct"] == pytest.approx(80.0, abs=0.5)


def test_a_form_cue_fires_once_per_repetition_at_the_frame_it_happens():
    t = np.arange(0, 12, 1 / FPS)
    knee = bump(t, 2.0, 2.0, 100.0) + bump(t, 6.0, 2.0, 100.0, rest=0.0)
    trunk = 5 + bump(t, 2.0, 2.0, 55.0, rest=0.0) + bump(t, 6.0, 2.0, 20.0, rest=0.0)
    tracker = ExerciseTracker(PRESETS["squat"])
    events = run_tracker(tracker, side_frames(t, knee, knee, trunk))
    cues = [e for e in events if isinstance(e, FormCue)]
    assert [c.fault.check for c in cues] == ["trunk_lean"]  # only the first rep leans
    assert 2.5 < cues[0].fault.t < 3.5 and cues[0].fault.value > 45
    reps = [e.rep for e in events if isinstance(e, RepFinished)]
    assert [r.faults for r in reps] == [["trunk_lean"], []]
    # a stricter threshold (a setting) catches the second one too
    strict = ExerciseTracker(PRESETS["squat"], thresholds={"form_trunk_lean_deg": 20})
    events = run_tracker(strict, side_frames(t, knee, knee, trunk))
    assert len([e for e in events if isinstance(e, FormCue)]) == 2


def test_one_side_chosen_counts_that_side_only():
    t = np.arange(0, 8, 1 / FPS)
    left = bump(t, 2.0, 2.0, 100.0)
    right = np.full_like(t, 10.0)  # the right knee never bends
    both = ExerciseTracker(PRESETS["lunge"], side="both")  # lunge: the side that bends
    run_tracker(both, side_frames(t, left, right))
    only_right = ExerciseTracker(PRESETS["lunge"], side="right")
    run_tracker(only_right, side_frames(t, left, right))
    assert both.complete_count() == 1 and only_right.complete_count() == 0


def test_frames_from_a_view_the_exercise_has_no_signal_for_are_gaps_not_zeros():
    t = np.arange(0, 8, 1 / FPS)
    knee = bump(t, 2.0, 2.0, 100.0)
    tracker = ExerciseTracker(PRESETS["shoulder_flexion"])  # side view only
    run_tracker(tracker, ((ti, "oblique", {"shoulder_flex_r_deg": k})
                          for ti, k in zip(t, knee, strict=True)))
    assert tracker.reps == []


def test_free_mode_counts_the_first_chosen_joint_either_way():
    preset = free_preset(("elbow_flex", "shoulder_flex"), target=40.0)
    t = np.arange(0, 8, 1 / FPS)
    elbow = 100 - bump(t, 2.0, 2.0, 80.0, rest=0.0)  # extensions from 100 deg
    tracker = ExerciseTracker(preset)
    run_tracker(tracker, ((ti, "left", {"elbow_flex_l_deg": e, "elbow_flex_r_deg": e})
                          for ti, e in zip(t, elbow, strict=True)))
    assert tracker.complete_count() == 1


def test_a_target_of_the_users_own_replaces_the_presets_in_degrees_only():
    squat = resolve_preset("squat", target=110.0)
    assert squat.primary["side"].target == 110.0
    assert squat.primary["front"].target == PRESETS["squat"].primary["front"].target


def test_repetitions_without_a_pause_count_from_the_first_with_a_typical_rest():
    rule = RepRule(direction=+1, target=120.0, nominal_rest=10.0, min_duration_s=0.5)
    t = np.arange(0, 5, 1 / FPS)
    x = np.full_like(t, 10.0)
    for t0 in (0.1, 1.3, 2.5):  # three arm raises of 1.2 s, back to back, no pause
        x += bump(t, t0, 1.2, 140.0, rest=0.0)
    reps, counter = count(rule, t, x)
    assert [r.complete for r in reps] == [True, True, True]
    assert reps[0].start_s < 0.3  # before any still second could have taught the rest


def test_a_movement_already_under_way_when_first_seen_is_incomplete_not_a_rep():
    rule = RepRule(direction=+1, target=120.0, nominal_rest=10.0, min_duration_s=0.5)
    t = np.arange(0.3, 4, 1 / FPS)  # the first frames (a jump already begun) are missing
    x = 10 + bump(t, 0.0, 1.2, 140.0, rest=0.0) + bump(t, 1.7, 1.2, 140.0, rest=0.0)
    reps, _ = count(rule, t, x)
    assert [(r.complete, r.reason) for r in reps] == [(False, "start_not_seen"), (True, "")]


def test_a_form_condition_for_one_or_two_frames_raises_no_cue():
    t = np.arange(0, 8, 1 / FPS)
    knee = bump(t, 2.0, 2.0, 100.0)
    trunk = np.full_like(t, 5.0)
    trunk[int(3.0 * FPS):int(3.0 * FPS) + 2] = 70.0  # two frames of a landmark jump
    events = run_tracker(ExerciseTracker(PRESETS["squat"]), side_frames(t, knee, knee, trunk))
    assert not [e for e in events if isinstance(e, FormCue)]


def test_a_long_session_keeps_a_bounded_number_of_frames_and_still_counts():
    from posture_monitor.core.movement.tracker import KEEP_FRAMES

    t = np.arange(0, 200, 1 / FPS)  # 200 s, a squat every 20 s
    knee = np.full_like(t, 10.0)
    for t0 in range(5, 200, 20):
        knee += bump(t, float(t0), 2.0, 100.0, rest=0.0)
    tracker = ExerciseTracker(PRESETS["squat"])
    run_tracker(tracker, side_frames(t, knee, knee))
    assert tracker.complete_count() == 10
    assert len(tracker.times) <= 2 * KEEP_FRAMES + 1

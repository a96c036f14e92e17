"""Gait events and figures on walkers drawn from known events (tests/synthetic_walk.py),
through the real analysis (core/movement/gait.py): every event within one frame, the
timing figures, MediaPipe's leg-label swaps, the walker entering and leaving the frame,
a person who does not walk, and the choice of the walker among several people."""

from __future__ import annotations

import math

import numpy as np
import pytest

from posture_monitor.core.movement.gait import (
    LEG_LENGTH_PER_HEIGHT,
    analyse_gait,
    choose_walker,
)
from tests.synthetic_walk import walk


def _match(events, truth, t0: float, t1: float, frame_s: float):
    """Each true event inside [t0, t1] paired with the detected one of its kind and foot
    nearest in time; returns the errors in frames and the detected events left over."""
    left = list(events)
    errors = []
    for kind, foot, t in truth:
        if not t0 <= t <= t1:
            continue
        same = [e for e in left if e.kind == kind and e.foot == foot]
        assert same, f"{kind} of the {foot} foot at {t:.3f} s not found"
        e = min(same, key=lambda e: abs(e.time_s - t))
        errors.append((e.time_s - t) / frame_s)
        left.remove(e)
    return errors, left


@pytest.mark.parametrize("kw", [
    dict(fps=30.0, direction=-1),
    dict(fps=60.0, direction=1),
    dict(fps=25.0, direction=-1, stride_s=1.05),
    dict(fps=30.0, direction=1, stride_s=1.6, speed_legs_per_s=0.6),  # slow walker
    dict(fps=50.0, direction=-1, right_stance_share=0.70),  # a limp
], ids=["30fps", "60fps", "25fps-brisk", "slow", "limp"])
def test_events_of_constructed_walks_are_found_within_one_frame(kw):
    track, truth = walk(noise_px=2.0, **kw)
    result = analyse_gait(track)
    (t0, t1), = result.summary["analysed_s"]
    # extremes closer to a pass's end than the search window cannot be confirmed
    errors, extra = _match(result.events, truth, t0 + 0.25, t1 - 0.25, 1 / kw["fps"])
    assert len(errors) >= 8
    assert max(abs(e) for e in errors) <= 1.0, errors
    assert all(e.time_s < t0 + 0.25 or e.time_s > t1 - 0.25 for e in extra), extra
    assert result.summary["events"]["not_alternating"] == 0


def test_the_figures_of_a_constructed_walk_match_its_design():
    stride, share = 1.2, 0.62
    track, _ = walk(fps=30.0, noise_px=1.0, stride_s=stride, stance_share=share,
                    right_stance_share=0.68, speed_legs_per_s=1.4)
    s = analyse_gait(track, height_cm=170.0).summary
    frame = 1 / 30
    assert s["cadence_steps_per_min"] == pytest.approx(60 / (stride / 2), rel=0.01)
    assert s["stride_time_s"]["left"]["mean"] == pytest.approx(stride, abs=frame)
    # stance within one frame of the design, on each side (the limp shows)
    assert s["stance_pct"]["left"]["mean"] == pytest.approx(100 * share, abs=100 * frame / stride)
    assert s["stance_pct"]["right"]["mean"] == pytest.approx(68, abs=100 * frame / stride)
    ratio = s["symmetry"]["stance_s"]["ratio_pct"]
    assert ratio == pytest.approx(100 * share / 0.68, abs=3.0)
    assert s["symmetry"]["stride_time_s"]["ratio_pct"] > 98
    # double support: the two feet overlap for (stance_l + stance_r - stride) per stride
    assert s["double_support_pct"]["mean"] == pytest.approx(100 * (share + 0.68 - 1), abs=4)
    # step length: half a stride's travel, plus the difference of the two feet's lead
    # at heel strike (each lands half its stance's travel ahead of the pelvis)
    speed = 1.4 * 190.0  # px/s, as drawn
    lead_gap = speed * stride * (share - 0.68) / 2
    drawn = {"left": speed * stride / 2 + lead_gap, "right": speed * stride / 2 - lead_gap}
    for foot in ("left", "right"):
        assert s["step_length_leg"][foot]["mean"] == pytest.approx(
            drawn[foot] / s["leg_length_px"], rel=0.03)
        assert s["step_length_m"][foot]["mean"] == pytest.approx(
            s["step_length_leg"][foot]["mean"] * LEG_LENGTH_PER_HEIGHT * 1.70, rel=1e-9)
    assert s["curves"]["knee_flex_deg"]["left"]["n"] >= 2
    assert len(s["curves"]["knee_flex_deg"]["left"]["mean"]) == 101


def test_leg_label_swaps_are_repaired_and_change_no_event():
    swaps = (40, 41, 70, 95, 96, 97, 130, 131)
    clean = analyse_gait(walk(noise_px=1.0)[0])
    swapped = analyse_gait(walk(noise_px=1.0, swaps=swaps)[0])
    assert swapped.summary["events"]["leg_label_swaps_repaired_frames"] == len(swaps)
    assert [(e.kind, e.foot) for e in swapped.events] == [(e.kind, e.foot) for e in clean.events]
    assert np.allclose([e.time_s for e in swapped.events], [e.time_s for e in clean.events],
                       atol=1 / 30)


def test_without_the_repair_the_swaps_would_break_the_alternation(monkeypatch):
    """The repair is what keeps the feet apart: switched off, the same walk loses it."""
    import posture_monitor.core.movement.gait_signals as gs

    swaps = tuple(range(40, 44)) + tuple(range(100, 104))
    monkeypatch.setattr(gs, "repair_leg_labels", lambda legs, ok, length: np.zeros(len(legs), bool))
    broken = analyse_gait(walk(noise_px=1.0, swaps=swaps)[0])
    monkeypatch.undo()
    fixed = analyse_gait(walk(noise_px=1.0, swaps=swaps)[0])
    feet = [e.foot for e in fixed.events if e.kind == "heel_strike"]
    assert all(a != b for a, b in zip(feet, feet[1:], strict=False))
    assert [e.time_s for e in broken.events] != [e.time_s for e in fixed.events]


def test_a_walker_leaving_the_frame_is_analysed_only_while_whole_in_view():
    track, _ = walk(seconds=8.0, direction=-1)  # leaves through the left edge at ~5.1 s
    s = analyse_gait(track).summary
    gone = next(f for f in s["flagged"] if f["reason"] == "entering_or_leaving_frame")
    (t0, t1), = s["analysed_s"]
    assert t1 < gone["from_s"] <= t1 + 0.05
    assert gone["to_s"] == pytest.approx(track.t[-1])
    assert all(r["heel_strike_s"] <= t1 for r in analyse_gait(track).steps)
    # entering: the same walk starting outside the right edge
    late, _ = walk(seconds=8.0, direction=-1, start_x=track.width + 150)
    s2 = analyse_gait(late).summary
    assert s2["flagged"][0]["reason"] == "entering_or_leaving_frame"
    assert s2["flagged"][0]["from_s"] == 0.0
    assert s2["analysed_s"][0][0] > 0.3


def test_a_person_who_does_not_walk_has_no_steps_and_says_why():
    track, _ = walk(seconds=4.0, speed_legs_per_s=1.4)
    still = track.px.copy()
    still[:] = track.px[0]  # frozen in the first frame's pose
    track.px = still + np.random.default_rng(1).normal(0, 1.0, still.shape)
    s = analyse_gait(track).summary
    assert s["steps"] == 0 and s["cadence_steps_per_min"] is None
    assert s["withheld"].startswith("not_walking")


def test_the_walker_is_the_person_whose_hips_travel_across_the_frame():
    walker, _ = walk(seconds=4.0)
    jumper, _ = walk(seconds=4.0)
    jumper.px = np.repeat(jumper.px[:1], len(jumper.t), axis=0)
    jumper.px[:, :, 1] -= 80 * np.abs(np.sin(np.pi * jumper.t))[:, None]  # jumps on the spot
    chosen, seen = choose_walker({3: jumper, 7: walker})
    assert chosen == 7
    travel = {s["id"]: s["hip_travel_frame_widths"] for s in seen}
    assert travel[7] > 0.4 and travel[3] < 0.01


def test_step_rows_say_why_a_value_is_missing():
    result = analyse_gait(walk(noise_px=1.0)[0])
    rows = result.steps
    assert rows[0]["reason"] == "first_heel_strike_of_pass" and "step_time_s" not in rows[0]
    assert "stride_not_finished_in_pass" in rows[-1]["reason"]
    complete = [r for r in rows if r["complete"]]
    assert complete and all(not r["reason"] for r in complete)
    assert [r["foot"] for r in rows] == ["left", "right"] * (len(rows) // 2) + (
        ["left"] if len(rows) % 2 else [])
    for r in complete:
        assert r["stance_pct"] + r["swing_pct"] == pytest.approx(100.0)
        assert math.isclose(r["stride_time_s"], r["stance_s"] + r["swing_s"])


def test_a_missed_heel_strike_leaves_the_steps_around_it_empty(monkeypatch):
    """Two heel strikes of one foot in a row (the other foot's was missed, as a noisy
    model does): neither starts or ends a step, and the figures leave them out."""
    import posture_monitor.core.movement.gait as gait

    real = gait.detect_events
    dropped = []

    def missing_one(prep, passes):
        events = real(prep, passes)
        right = [e for e in events if e.kind == "heel_strike" and e.foot == "right"]
        dropped.append(right[1])
        return [e for e in events if e is not right[1]]

    monkeypatch.setattr(gait, "detect_events", missing_one)
    result = gait.analyse_gait(walk(noise_px=1.0)[0])
    rows = result.steps
    k = next(i for i, r in enumerate(rows) if r["heel_strike_s"] > dropped[0].time_s)
    before, after = rows[k - 1], rows[k]
    assert before["foot"] == after["foot"] == "left"
    for r in (before, after):
        assert "not_alternating" in r["reason"] and "step_time_s" not in r
        assert "stride_time_s" not in r and "step_length_leg" not in r
    # the step times that are left are all true ones (0.6 s)
    times = [r["step_time_s"] for r in rows if "step_time_s" in r]
    assert times and all(abs(t - 0.6) < 1 / 30 for t in times)
    assert result.summary["cadence_steps_per_min"] == pytest.approx(100, rel=0.02)
    assert result.summary["events"]["not_alternating"] == 1


def test_there_and_back_gives_two_passes_and_the_turn_is_flagged():
    from posture_monitor.core.movement.gait_signals import WalkerTrack

    there, truth_a = walk(seconds=4.0, direction=-1, start_x=1500.0)
    end_x = there.px[-1, 23, 0]
    back, truth_b = walk(seconds=4.0, direction=1, start_x=end_x)
    pause = np.repeat(there.px[-1:], 30, axis=0)  # one second standing at the turn
    dt = 1 / 30
    t = np.concatenate([there.t, there.t[-1] + dt * np.arange(1, 31),
                        there.t[-1] + 30 * dt + dt + back.t])
    track = WalkerTrack(t, np.concatenate([there.px, pause, back.px]),
                        np.full((len(t), 33), 0.95), there.width, there.height)
    result = analyse_gait(track)
    passes = result.summary["passes"]
    assert [p["direction"] for p in passes] == ["right_to_left", "left_to_right"]
    assert all(p["heel_strikes"] >= 4 for p in passes)
    turn = [f for f in result.summary["flagged"] if f["reason"] == "not_walking"]
    assert any(f["from_s"] <= 4.3 and f["to_s"] >= 4.7 for f in turn)
    assert result.summary["cadence_steps_per_min"] == pytest.approx(100, rel=0.02)
    assert {r["pass"] for r in result.steps} == {1, 2}

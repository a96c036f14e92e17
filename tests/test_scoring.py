import math

import pytest

from posture_monitor.core.classify.scoring import ImbalanceScorer

NONE = dict.fromkeys(["forward_head", "trunk_flexion", "trunk_extension", "lateral_lean",
                      "shoulder_asymmetry", "head_tilt"])


def probs(**kw):
    return NONE | kw


def test_region_is_worst_visible_label_and_overall_worst_region():
    s = ImbalanceScorer(time_constant_s=1e-9)
    out = s.update(probs(forward_head=0.2, trunk_flexion=0.9, trunk_extension=0.1), 0.0)
    assert out["score_head_neck"] == pytest.approx(20.0)
    assert out["score_trunk"] == pytest.approx(90.0)
    assert out["score_shoulders"] is None  # side view: not seen
    assert out["score_overall"] == pytest.approx(90.0)


def test_exponential_smoothing_over_time():
    s = ImbalanceScorer(time_constant_s=1.0)
    s.update(probs(trunk_flexion=0.0), 0.0)
    out = s.update(probs(trunk_flexion=1.0), 0.5)
    assert out["score_trunk"] == pytest.approx(100 * (1 - math.exp(-0.5)))
    out = s.update(probs(trunk_flexion=1.0), 1.0)
    assert out["score_trunk"] == pytest.approx(100 * (1 - math.exp(-1.0)))


def test_forgets_a_region_not_seen_for_a_while():
    s = ImbalanceScorer(time_constant_s=1.0, forget_after_s=2.0)
    s.update(probs(trunk_flexion=1.0), 0.0)
    assert s.update(NONE, 1.0)["score_overall"] is None  # abstained frame: nothing to show
    out = s.update(probs(trunk_flexion=0.0), 5.0)  # long gap: starts afresh
    assert out["score_trunk"] == pytest.approx(0.0)

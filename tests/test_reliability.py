"""Test-retest reliability (core/movement/reliability.py): the ICC forms against the
published worked example, SEM and MDC95 on a case worked by hand, and the one-patient
design (sessions x their first n complete repetitions)."""

import math

import numpy as np
import pytest

from posture_monitor.core.movement.reliability import icc, mdc95, repeatability, sem

# Shrout & Fleiss 1979 (Psychol Bull 86:420), Table 2: 6 targets rated by 4 judges.
SHROUT_FLEISS = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9],
                 [6, 2, 4, 7]]


@pytest.mark.parametrize(("form", "published"), [("1,1", 0.17), ("2,1", 0.29),
                                                 ("3,1", 0.71)])
def test_icc_matches_the_published_shrout_fleiss_example(form, published):
    assert icc(SHROUT_FLEISS, form) == pytest.approx(published, abs=0.005)


def test_icc_of_a_two_by_two_case_worked_by_hand():
    # grand mean 105; rows 102/108, columns 105/105: BMS 36, JMS 0, EMS 16, WMS 8
    x = [[100, 104], [110, 106]]
    assert icc(x, "3,1") == pytest.approx(20 / 52)
    # (BMS - EMS) / (BMS + (k-1) EMS + k (JMS - EMS) / n) = 20 / (36 + 16 - 16)
    assert icc(x, "2,1") == pytest.approx(20 / 36)
    assert icc(x, "1,1") == pytest.approx(28 / 44)


def test_sem_and_mdc95_formulas_on_the_hand_case():
    sd = math.sqrt(52 / 3)  # SD of the four cells above
    s = sem(sd, 20 / 52)
    assert s == pytest.approx(math.sqrt(32 / 3))
    assert mdc95(s) == pytest.approx(1.96 * math.sqrt(2) * math.sqrt(32 / 3))
    assert mdc95(s, 2) == pytest.approx(1.96 * math.sqrt(32 / 3))  # / sqrt(n)
    assert sem(4.0, -0.3) == 4.0 and sem(4.0, 1.2) == 0.0  # the ICC clipped to [0, 1]


def test_repeatability_uses_the_first_n_repetitions_of_each_session():
    # the third repetition of the first session is beyond the fewest (2): not used
    r = repeatability([[100, 104, 160], [110, 106]])
    assert r.ok and (r.n_sessions, r.n_reps, r.left_out) == (2, 2, 0)
    assert r.icc == pytest.approx(20 / 52)
    assert r.sem == pytest.approx(math.sqrt(32 / 3))
    assert r.mdc95_rep == pytest.approx(1.96 * math.sqrt(64 / 3))
    assert r.mdc95_mean == pytest.approx(1.96 * math.sqrt(32 / 3))


def test_few_sessions_and_repetitions_are_marked_rough():
    assert repeatability([[100, 104], [110, 106]]).rough  # 1 degree of freedom
    five = repeatability([[100, 104, 101], [110, 106, 108], [95, 99, 97]])
    assert five.noise_df == 4 and not five.rough


def test_sessions_with_fewer_than_two_values_are_left_out_and_said():
    r = repeatability([[100, 104], [None, 108, float("nan")], [110, 106]])
    assert r.ok and r.n_sessions == 2 and r.left_out == 1
    assert r.icc == pytest.approx(20 / 52)  # missing values skipped, not made 0


@pytest.mark.parametrize("sessions", [[], [[100, 101, 102]], [[100], [101]],
                                      [[100, 101], [None, 99]]])
def test_fewer_than_two_usable_sessions_give_no_value_with_a_reason(sessions):
    r = repeatability(sessions)
    assert not r.ok and r.icc is None and r.mdc95_mean is None
    assert "needs 2 or more sessions with 2 or more complete repetitions" in r.reason


def test_identical_values_give_no_icc_rather_than_a_division_by_zero():
    r = repeatability([[90.0, 90.0], [90.0, 90.0]])
    assert not r.ok and "do not vary" in r.reason
    # one recording analysed twice: the repetitions differ, the sessions do not at all
    twice = repeatability([[97.1, 96.9], [97.1, 96.9]])
    assert not twice.ok and "same recording twice?" in twice.reason


def test_sessions_that_differ_less_than_repetitions_give_a_negative_icc_and_sd_as_sem():
    x = np.array([[100.0, 110.0], [110.0, 100.0]])  # same session means, noisy reps
    r = repeatability(x.tolist())
    assert r.icc < 0
    assert r.sem == pytest.approx(float(x.std(ddof=1)))  # clipped: SEM = SD


def test_icc_refuses_incomplete_or_too_small_matrices():
    for bad in ([[1, 2]], [[1], [2]], [[1, float("nan")], [2, 3]]):
        with pytest.raises(ValueError):
            icc(bad)
    with pytest.raises(ValueError, match="form"):
        icc(SHROUT_FLEISS, "2,k")

import math

import numpy as np
import pytest

from posture_monitor.core.vision.smoothing import OneEuroFilter


def _run(f, signal, fps=30.0):
    return np.array([f(np.array([v]), i / fps)[0] for i, v in enumerate(signal)])


def test_constant_signal_passes_unchanged():
    out = _run(OneEuroFilter(1.0, 10.0), [0.3] * 50)
    assert np.allclose(out, 0.3)


def test_step_response_matches_time_constant_without_beta():
    # With beta = 0 the filter is a first-order low-pass: 63 % after tau = 1/(2 pi fc).
    fps, fc = 1000.0, 1.0
    out = _run(OneEuroFilter(fc, 0.0), [0.0] + [1.0] * 2000, fps)
    t63 = np.argmax(out >= 1 - math.exp(-1)) / fps
    assert t63 == pytest.approx(1 / (2 * math.pi * fc), rel=0.02)


def test_beta_makes_fast_moves_follow_sooner():
    step = [0.0] * 5 + [0.1] * 60
    slow = _run(OneEuroFilter(1.0, 0.0), step)
    fast = _run(OneEuroFilter(1.0, 10.0), step)
    # frames until 90 % of the step (len(step) where never: argmax alone would say 0)
    def reached(out):
        return int(np.argmax(out >= 0.09)) if (out >= 0.09).any() else len(step)

    assert reached(fast) < len(step) and reached(fast) < reached(slow)


def test_reset_forgets_history():
    f = OneEuroFilter(1.0, 0.0)
    f(np.array([0.0]), 0.0)
    f(np.array([0.0]), 0.1)
    f.reset()
    assert f(np.array([5.0]), 0.2)[0] == 5.0


def test_filters_whole_arrays_elementwise():
    f = OneEuroFilter(1.0, 0.0)
    f(np.zeros((33, 3)), 0.0)
    out = f(np.ones((33, 3)), 1 / 30)
    assert out.shape == (33, 3) and np.allclose(out, out[0, 0]) and 0 < out[0, 0] < 1

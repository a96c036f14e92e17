"""Imbalance scores 0-100 per body region and overall, smoothed over time.

A region's score is 100 x the highest probability among its labels that the current
view can see (core/classify/labels.py assigns labels to regions); the overall score is the worst
region. Scores are smoothed with an exponential moving average over time (time constant
`time_constant_s`, so a 30 fps camera and a 5 Hz desk mode behave alike) and dropped when
a region has not been seen for `forget_after_s`.
"""

from __future__ import annotations

import math

from posture_monitor.core.classify.labels import LABELS, REGIONS

SCORE_COLUMNS = tuple(f"score_{r}" for r in REGIONS) + ("score_overall",)


class ImbalanceScorer:
    def __init__(self, time_constant_s: float = 1.0, forget_after_s: float = 2.0) -> None:
        self.tau = time_constant_s
        self.forget_after_s = forget_after_s
        self._value: dict[str, float] = {}
        self._seen_t: dict[str, float] = {}

    def update(self, probabilities: dict[str, float | None], t: float) -> dict[str, float | None]:
        raw: dict[str, float] = {}
        for label in LABELS:
            p = probabilities.get(label.name)
            if p is not None:
                raw[label.region] = max(raw.get(label.region, 0.0), 100.0 * p)
        out: dict[str, float | None] = {}
        for region in REGIONS:
            last_t = self._seen_t.get(region)
            if last_t is not None and (t - last_t > self.forget_after_s or t < last_t):
                self._value.pop(region, None)  # stale or a new stream: start afresh
            if region in raw:
                prev = self._value.get(region)
                if prev is None or last_t is None:
                    value = raw[region]
                else:
                    alpha = 1.0 - math.exp(-max(t - last_t, 0.0) / self.tau)
                    value = prev + alpha * (raw[region] - prev)
                self._value[region] = value
                self._seen_t[region] = t
                out[f"score_{region}"] = value
            else:
                out[f"score_{region}"] = None
        present = [v for v in out.values() if v is not None]
        out["score_overall"] = max(present) if present else None
        return out

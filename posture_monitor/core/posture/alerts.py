"""Posture alerts: a pure state machine, driven by time stamps, used by the app and `analyze`.

What desk users of posture tools keep asking for: no alarm for a glance at the keyboard
(onset delay), no flicker at the threshold (dead zone and a recovery time), no nagging
(cooldown), no alarm right after calibrating or coming back (grace), and silence while
they are away. States:

  ok       no rule deviates
  warning  a rule deviates, but not yet for `onset_s` (or an alert is held back by
           grace or cooldown)
  alert    a rule has deviated for at least `onset_s`; ends once every rule has been
           back past its dead zone for `clear_s`
  away     nobody in view for `away_after_s`; timers start afresh on return, after grace

Rules read one number per frame: a classifier probability (`p_<label>`), a metric, or a
metric's deviation from the person's baseline (`dev_<metric>`). A missing number (metric
withheld) neither extends nor ends a deviation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

from posture_monitor.core.classify.labels import LABELS
from posture_monitor.core.common.settings import AlertSettings
from posture_monitor.core.measure.definitions import METRIC_BY_COLUMN


class AlertState(str, Enum):
    OK = "ok"
    WARNING = "warning"
    ALERT = "alert"
    AWAY = "away"


@dataclass(frozen=True)
class AlertRule:
    key: str  # value looked up per frame: "p_trunk_flexion", "cva_deg", "dev_cva_deg"
    direction: str  # "above", "below" or "outside" (|value| above the threshold)
    threshold: float
    dead_zone: float = 0.0  # back to normal only this far past the threshold
    message: str = ""  # "Head forward"
    unit: str = ""  # "deg" for angles, "" for probabilities
    # How the rule states its number in the reason, in words a patient understands: a
    # str.format template after "<message> for 12 s: ". Fields: value (the number the rule
    # reads: the deviation for a dev_ rule), size (|value|), metric (the measure itself),
    # usual (the person's baseline: metric - value), percent (100 * size / |usual|).
    # Empty, or a field that has no number this frame: the generic wording.
    detail: str = ""

    def deviates(self, v: float) -> bool:
        if self.direction == "above":
            return v > self.threshold
        if self.direction == "below":
            return v < self.threshold
        return abs(v) > self.threshold

    def recovered(self, v: float) -> bool:
        if self.direction == "above":
            return v < self.threshold - self.dead_zone
        if self.direction == "below":
            return v > self.threshold + self.dead_zone
        return abs(v) < self.threshold - self.dead_zone


def label_rules(threshold: float | Mapping[str, float] = 0.5,
                dead_zone: float = 0.15) -> tuple[AlertRule, ...]:
    """Without a baseline: the classifier's labels (probability above `threshold`, one
    for all labels or one per label name, as the classifier's own thresholds are)."""
    def limit(name: str) -> float:
        return float(threshold[name] if isinstance(threshold, Mapping) else threshold)

    return tuple(AlertRule(f"p_{lbl.name}", "above", limit(lbl.name), dead_zone,
                           lbl.name.replace("_", " ").capitalize()) for lbl in LABELS)


# With a baseline: deviations from the person's own neutral; they are settings, not
# diagnoses. Side view: beyond the smallest real change of app-based CVA (about 5 deg,
# Gallego-Izquierdo et al. 2020); frontal tilts: beyond the +-3-5 deg natural frontal
# variation (METRICS.md).
#
# Front view, forward head and slouch (issue 10). The smallest detectable change SDC95 =
# 1.96 x sqrt(2) x SD, measured by bench/front_noise.py on the two real front-facing desk
# webcam clips (tests/fixtures/desk_webcam_bsd2: one adult seated upright throughout,
# waving his hands, then holding a board in front of his chest; full model, smoothing on),
# whole clip / 1-10 s (hands waving only):
#   head_fwd_cm         eye-level 2.33 / 2.00 cm,   laptop-low 3.17 / 2.54 cm      -> 4 cm
#   neck_height_ratio   eye-level 0.089 / 0.023,    laptop-low 0.157 / 0.130       -> 0.12
#   fwd_head_ratio      eye-level 0.091 / 0.028,    laptop-low 0.159 / 0.145       -> 0.12
#   trunk_flex_3d_deg   eye-level no reading (hips hidden), laptop-low 16.9 deg
#                       (40 frames, board in hand) / no reading                    -> 20 deg
# Every default lies beyond the still person's SDC95 at an eye-level webcam. The 3D ones
# also lie beyond the laptop-low clip's. That clip's ratio figures are inflated by a
# hand held on the face and the board covering the shoulders: occlusions that pass within
# the 10 s onset, so the ratio rules sit between the two (0.12 of the shoulder width is
# about 4.5 cm); on both clips no front rule even starts a warning (largest deviation
# from the own baseline 0.065), tests/test_baseline_from.py re-measures both facts. A real
# forward head in front of a webcam moved fwd_head_ratio by -0.23 (0.49 -> 0.26, issue 10).
# Dead zones are about a quarter of the threshold, above the frame-to-frame jitter (SEM
# 0.25-0.48 cm, 0.003-0.021, 2.6 deg). Hips are often hidden at a desk; the slouch rule
# then simply has no reading.
FRONT_NOISE_SDC95 = {"head_fwd_cm": 3.17, "neck_height_ratio": 0.157,
                     "fwd_head_ratio": 0.159, "trunk_flex_3d_deg": 16.85}  # worst clip
FRONT_NOISE_SDC95_EYE_LEVEL = {"head_fwd_cm": 2.33, "neck_height_ratio": 0.089,
                               "fwd_head_ratio": 0.091}
BASELINE_RULES: tuple[AlertRule, ...] = (
    AlertRule("dev_cva_deg", "below", -8.0, 3.0, "Head forward", "deg"),
    AlertRule("dev_torso_incl_deg", "above", 15.0, 5.0, "Leaning forward", "deg"),
    AlertRule("dev_torso_incl_deg", "below", -15.0, 5.0, "Leaning back", "deg"),
    AlertRule("dev_shoulder_tilt_deg", "outside", 6.0, 2.0, "Shoulders uneven", "deg"),
    AlertRule("dev_head_tilt_deg", "outside", 7.0, 2.0, "Head tilted", "deg"),
    AlertRule("dev_lateral_lean_deg", "outside", 8.0, 3.0, "Leaning sideways", "deg"),
    AlertRule("dev_head_fwd_cm", "above", 4.0, 1.0, "Head forward", "cm",
              "{size:.0f} cm ahead of your usual"),  # SDC95 <= 3.17 cm
    AlertRule("dev_neck_height_ratio", "below", -0.12, 0.03, "Head lowered", "ratio",
              "your neck looks {percent:.0f} % shorter than usual"),  # SDC95 0.089 eye level
    AlertRule("dev_fwd_head_ratio", "below", -0.12, 0.03, "Head forward and down", "ratio",
              "your nose is {percent:.0f} % closer to your shoulders than usual"),  # 0.091
    AlertRule("dev_trunk_flex_3d_deg", "above", 20.0, 5.0, "Slouching", "deg",
              "trunk bent {size:.0f}° more than your usual"),  # SDC95 <= 16.9 deg
)


@dataclass
class AlertUpdate:
    state: AlertState
    reason: str | None = None  # "Head forward for 12 s: cva_deg -11° from your baseline"
    new_alert: bool = False  # True on the update an alert starts


@dataclass
class _RuleTimer:
    since: float | None = None  # deviating since
    last_value: float | None = None
    absolute: float | None = None  # for a dev_ rule: the metric itself (for the message)


@dataclass
class AlertEngine:
    rules: tuple[AlertRule, ...] = field(default_factory=label_rules)
    settings: AlertSettings = field(default_factory=AlertSettings)

    def __post_init__(self) -> None:
        self.state = AlertState.OK
        self.alerts = 0
        self._timers = [_RuleTimer() for _ in self.rules]
        self._absent_since: float | None = None
        self._recovering_since: float | None = None
        self._last_alert_end: float | None = None
        self._grace_until = float("-inf")
        self._alert_rule: int | None = None

    @property
    def alert_rule(self) -> AlertRule | None:
        """The rule that raised the alert in progress (None outside an alert)."""
        if self.state != AlertState.ALERT or self._alert_rule is None:
            return None
        return self.rules[self._alert_rule]

    def start_grace(self, t: float) -> None:
        """After calibration or resuming: start afresh and hold alerts back for grace_s."""
        self._grace_until = t + self.settings.grace_s
        self._timers = [_RuleTimer() for _ in self.rules]
        self._recovering_since = None
        if self.state != AlertState.AWAY:
            self.state = AlertState.OK

    def update(self, t: float, present: bool, values: dict[str, float | None]) -> AlertUpdate:
        s = self.settings
        if not present:
            if self._absent_since is None:
                self._absent_since = t
            if t - self._absent_since >= s.away_after_s:
                if self.state == AlertState.ALERT:
                    self._last_alert_end = t
                self.state = AlertState.AWAY
                self._timers = [_RuleTimer() for _ in self.rules]
            return AlertUpdate(self.state)  # a moment out of view changes nothing
        self._absent_since = None
        if self.state == AlertState.AWAY:
            self.state = AlertState.OK
            self.start_grace(t)

        for rule, timer in zip(self.rules, self._timers, strict=True):
            v = values.get(rule.key)
            if v is None:
                continue
            timer.last_value = v
            timer.absolute = values.get(rule.key.removeprefix("dev_"))
            if rule.deviates(v):
                if timer.since is None:
                    timer.since = t
            elif rule.recovered(v):
                timer.since = None

        deviating = [i for i, tm in enumerate(self._timers) if tm.since is not None]
        if self.state == AlertState.ALERT:
            if deviating:
                self._recovering_since = None
                return AlertUpdate(self.state, self._reason(deviating[0], t))
            if self._recovering_since is None:
                self._recovering_since = t
            if t - self._recovering_since >= s.clear_s:
                self.state = AlertState.OK
                self._last_alert_end = t
                self._recovering_since = None
            return AlertUpdate(self.state)

        if not deviating:
            self.state = AlertState.OK
            return AlertUpdate(self.state)
        longest = min(deviating, key=lambda i: self._timers[i].since)
        held_back = t < self._grace_until or (
            self._last_alert_end is not None and t - self._last_alert_end < s.cooldown_s)
        if t - self._timers[longest].since >= s.onset_s and not held_back:
            self.state = AlertState.ALERT
            self.alerts += 1
            self._alert_rule = longest
            return AlertUpdate(self.state, self._reason(longest, t), new_alert=True)
        self.state = AlertState.WARNING
        return AlertUpdate(self.state, self._reason(longest, t))

    def _reason(self, i: int, t: float) -> str:
        rule, timer = self.rules[i], self._timers[i]
        v = timer.last_value
        value = _detail(rule, v, timer.absolute) if rule.detail else None
        if value is None:
            value = _generic_value(rule, v, timer.absolute)
        return f"{rule.message} for {t - timer.since:.0f} s: {value}"


def _generic_value(rule: AlertRule, v: float, absolute: float | None) -> str:
    """The number of a rule without its own wording: 'CVA 52° vs your 75°'."""
    if rule.unit == "deg":
        metric = METRIC_BY_COLUMN.get(rule.key.removeprefix("dev_"))
        if metric is None:
            what = rule.key.removeprefix("dev_").removesuffix("_deg").replace("_", " ")
        else:  # the metric table's label, mid-sentence: lower case unless an acronym
            tag = metric.picture_tag
            what = tag if tag.isupper() else tag.lower()
        if rule.key.startswith("dev_") and absolute is not None:
            return f"{what} {absolute:.0f}° vs your {absolute - v:.0f}°"
        if rule.key.startswith("dev_"):
            return f"{what} {v:+.0f}° from your baseline"
        # an absolute rule (two-point calibration): the reading and the person's own limit
        return f"{what} {v:.0f}° (your limit {rule.threshold:.0f}°)"
    if not rule.unit:
        return f"classifier {100 * v:.0f} %"
    what = rule.key.removeprefix("dev_").removesuffix(f"_{rule.unit}").replace("_", " ")
    if rule.key.startswith("dev_"):
        return f"{what} {v:+.2f} {rule.unit} from your baseline"
    return f"{what} {v:.2f} {rule.unit} (your limit {rule.threshold:.2f})"


def _detail(rule: AlertRule, v: float, absolute: float | None) -> str | None:
    """The rule's own wording of its number, or None when a field it needs is missing."""
    fields: dict[str, float] = {"value": v, "size": abs(v)}
    if rule.key.startswith("dev_"):
        if absolute is not None:
            usual = absolute - v
            fields.update(metric=absolute, usual=usual)
            if abs(usual) > 1e-9:
                fields["percent"] = 100.0 * abs(v) / abs(usual)
    else:
        fields["metric"] = v
    try:
        return rule.detail.format(**fields)
    except (KeyError, ValueError, IndexError):
        return None

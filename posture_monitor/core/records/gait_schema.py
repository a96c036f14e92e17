"""What an imported sidecar's `gait` object may hold (issue 14), checked with the rest of
the sidecar by store_io (jsonschema, finite numbers, one-line texts), and the object
stored from it: the known fields only, never the paths of the files it names."""

from __future__ import annotations

from posture_monitor.core.records.exercise_schema import (
    _COUNT,
    _FREE,
    _LINE,
    _NAME,
    _NUMBER,
    _SHORT,
)

MAX_ITEMS = 100_000  # heel strikes, passes, flagged spans, people: a day of walking
_STATS = {"type": ["object", "null"], "additionalProperties": False,
          "properties": {"mean": _NUMBER, "sd": _NUMBER, "n": _COUNT}}
_FEET = {"type": ["object", "null"], "additionalProperties": False,
         "properties": {"left": _STATS, "right": _STATS}}
_SERIES = {"type": ["array", "null"], "maxItems": 1001, "items": _NUMBER}
_CURVE = {"type": ["object", "null"], "additionalProperties": False,
          "properties": {"mean": _SERIES, "sd": _SERIES, "n": _COUNT}}
_SPAN = {"type": "array", "minItems": 2, "maxItems": 2, "items": _NUMBER}
_DIRECTION = {"enum": ["left_to_right", "right_to_left"]}
_PERSON = {"type": ["object", "null"], "properties": {
    "analysed": {"type": ["integer", "null"], "minimum": 0},
    "rule": _LINE,
    "people_seen": {"type": "array", "maxItems": MAX_ITEMS, "items": {
        "type": "object", "additionalProperties": False, "properties": {
            "id": {"type": "integer", "minimum": 0}, "seen_s": _SPAN, "frames": _COUNT,
            "hip_travel_frame_widths": _NUMBER}}}}}
_PER_FOOT = ("step_time_s", "stride_time_s", "stance_s", "swing_s", "stance_pct",
             "swing_pct", "step_length_leg", "step_length_m")
GAIT_SCHEMA: dict = {
    "type": ["object", "null"],
    "required": ["steps"],
    "properties": {
        "person": _PERSON,
        "method": _FREE, "cadence_definition": _LINE, "step_length_unit": _LINE,
        "step_length_m_scale": _LINE, "withheld": _LINE,
        "analysed_s": {"type": "array", "maxItems": MAX_ITEMS, "items": _SPAN},
        "passes": {"type": "array", "maxItems": MAX_ITEMS, "items": {
            "type": "object", "additionalProperties": False, "properties": {
                "from_s": _NUMBER, "to_s": _NUMBER, "direction": _DIRECTION,
                "heel_strikes": _COUNT}}},
        "flagged": {"type": "array", "maxItems": MAX_ITEMS, "items": {
            "type": "object", "additionalProperties": False, "properties": {
                "from_s": _NUMBER, "to_s": _NUMBER, "reason": _SHORT}}},
        "steps": {"type": "integer", "minimum": 0, "maximum": MAX_ITEMS},
        "strides": {"type": ["object", "null"], "additionalProperties": False,
                    "properties": {"left": _COUNT, "right": _COUNT}},
        "cadence_steps_per_min": _NUMBER, "leg_length_px": _NUMBER, "height_cm": _NUMBER,
        **{k: _FEET for k in _PER_FOOT},
        "double_support_pct": _STATS,
        "symmetry": {"type": ["object", "null"], "propertyNames": _NAME,
                     "additionalProperties": {
                         "type": "object", "additionalProperties": False,
                         "properties": {"si_pct": _NUMBER, "ratio_pct": _NUMBER}}},
        "symmetry_definitions": {"type": ["object", "null"], "propertyNames": _NAME,
                                 "additionalProperties": _LINE},
        "events": {"type": ["object", "null"], "propertyNames": _NAME,
                   "additionalProperties": _COUNT},
        "curves": {"type": ["object", "null"], "propertyNames": _NAME,
                   "additionalProperties": {
                       "type": "object", "additionalProperties": False,
                       "properties": {"left": _CURVE, "right": _CURVE}}},
    },
}
KEPT = tuple(k for k in GAIT_SCHEMA["properties"])


def stored_gait(checked: dict) -> dict:
    """The object to store from a checked sidecar's `gait`: its known fields."""
    return {k: checked[k] for k in KEPT if k in checked}

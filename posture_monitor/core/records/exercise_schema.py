"""What an imported sidecar's `exercise` object may hold (issue 13), checked with the rest
of the sidecar by store_io (jsonschema, numbers finite there, one-line texts), and the
object that is stored from it.

Only what is kept is described; the summary is rebuilt from the repetitions, never
taken from the file, and the file paths it names (`files`) are left out.
"""

from __future__ import annotations

from posture_monitor.core.measure.definitions import VIEWS
from posture_monitor.core.movement.exercises import preset_names
from posture_monitor.core.movement.measures import summary_from_rows
from posture_monitor.core.movement.tracker import SIDE_CHOICES

MAX_REPS = 10_000  # an hour of one repetition every 0.4 s
# The formats are store_io's validator's: one line (no control characters), free text.
_LINE = {"type": ["string", "null"], "maxLength": 4096, "format": "one-line"}
_SHORT = {"type": ["string", "null"], "maxLength": 200, "format": "one-line"}
_FREE = {"type": ["string", "null"], "maxLength": 20000, "format": "free-text"}
_NAME = {"type": "string", "pattern": "^[a-z0-9_:]{1,80}$"}
_COUNT = {"type": ["integer", "null"], "minimum": 0, "maximum": MAX_REPS}
# Angles, ratios, seconds, degrees per second, percentages: all far inside this.
_NUMBER = {"type": ["number", "null"], "minimum": -1e6, "maximum": 1e6}

_ROW = {
    "type": "object", "propertyNames": _NAME, "maxProperties": 1000,
    "required": ["complete"],
    "properties": {
        "rep": {"type": "integer", "minimum": 0, "maximum": MAX_REPS},
        "complete": {"enum": [0, 1]},
        "view": {"enum": [*VIEWS, "", None]},
        "sides_from": {"enum": ["2D", "3D", "", None]},
        "signal": _SHORT, "unit": _SHORT, "reason": _SHORT, "faults": _LINE,
    },
    "additionalProperties": _NUMBER,  # every measure: a finite number or null
}
_COUNTED = {
    "type": "object", "propertyNames": _NAME,
    "additionalProperties": {"type": "object", "properties": {
        "signal": _LINE, "column": {"type": ["string", "null"], "pattern": "^[a-z0-9_]{1,80}$"},
        "direction": _NUMBER, "target": _NUMBER, "unit": _SHORT, "target_source": _FREE}},
}
EXERCISE_SCHEMA: dict = {
    "type": ["object", "null"],
    "required": ["preset", "per_rep"],
    "properties": {
        "preset": {"enum": list(preset_names())},
        "title": _LINE,
        "side": {"enum": [*SIDE_CHOICES, None]},
        "counted": _COUNTED,
        "view_to_film": _LINE,
        "reps": _COUNT, "incomplete": _COUNT, "discarded_movements": _COUNT,
        "form_checks": {"type": ["object", "null"], "propertyNames": _NAME,
                        "additionalProperties": {"type": "object", "properties": {
                            "title": _LINE, "threshold": _NUMBER, "setting": _SHORT}}},
        "form_faults": {"type": ["object", "null"], "propertyNames": _NAME,
                        "additionalProperties": _COUNT},
        "per_rep": {"type": "array", "maxItems": MAX_REPS, "items": _ROW},
        "summary": {"type": ["object", "null"]},  # rebuilt from per_rep
        "columns": {"type": ["object", "null"], "propertyNames": _NAME,
                    "additionalProperties": _LINE},
        "symmetry": _LINE,
    },
}
KEPT = ("preset", "title", "side", "counted", "view_to_film", "discarded_movements",
        "form_checks", "form_faults", "columns", "symmetry")


def stored_exercise(checked: dict) -> dict:
    """The object to store from a checked sidecar's: its own fields, the repetitions,
    and the counts and means rebuilt from them."""
    rows = [dict(r) for r in checked.get("per_rep") or []]
    summary = summary_from_rows(rows)
    kept = {k: checked[k] for k in KEPT if checked.get(k) is not None}
    return {**kept, "reps": int(summary["reps"]), "incomplete": int(summary["incomplete"]),
            "per_rep": rows, "summary": summary}

"""Gait results and gait goals in the session store (schema v7, issue 14).

A session analysed with --gait keeps the sidecar's `gait` object beside it, one row per
session (the figures, who was analysed, which seconds, and the mean and SD knee and hip
curves of the strides, which the report overlays across visits); the paths of the
files it wrote stay out, as with exercises. A gait goal is a row of exercise_store's
`goals` table with the preset GAIT ("step time symmetry (min/max) at least 90 %"), so
goal ids stay one sequence and `goals list|delete` cover both kinds.

MEASURES is the one list of what a goal and the progress pages can follow: its name (as
typed on the command line), title, unit, and where its value sits in the gait object.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from posture_monitor.core.common.errors import UserError
from posture_monitor.core.common.safe_text import bad_char, describe_char, printable
from posture_monitor.core.records import exercise_store as es
from posture_monitor.core.records.samples import _json_object
from posture_monitor.core.records.store import Store, now_iso

GAIT = "gait"  # the `preset` of a gait goal, and the EXERCISE word of `goals set`


@dataclass(frozen=True)
class GaitMeasure:
    name: str
    title: str
    unit: str
    kind: str  # "foot" (a per-foot mean), "cadence" or "ratio" (a symmetry ratio)
    key: str  # the gait object's per-foot measure (step_time_s ...), "" for cadence
    side: str = ""  # "left" or "right" for a per-foot mean
    digits: int = 1

    @property
    def percent(self) -> bool:
        return self.unit == "%"


def _feet(key: str, title: str, unit: str, digits: int) -> tuple[GaitMeasure, ...]:
    return tuple(GaitMeasure(f"{key}_{side}", f"{title} ({side})", unit, "foot", key, side,
                             digits) for side in ("left", "right"))


MEASURES: tuple[GaitMeasure, ...] = (
    GaitMeasure("cadence_steps_per_min", "Cadence", "steps/min", "cadence", ""),
    *_feet("step_time_s", "Step time", "s", 3),
    *_feet("stance_pct", "Stance phase", "%", 1),  # % of the stride
    *_feet("step_length_leg", "Step length", "leg lengths", 2),
    *_feet("step_length_m", "Step length", "m", 2),
    # min/max of the left and right means x 100 (100 = symmetric), of the times and
    # lengths: the stance symmetry compares stance times, as the gait object does
    GaitMeasure("step_time_symmetry_ratio_pct", "Step time symmetry (min/max)", "%",
                "ratio", "step_time_s"),
    GaitMeasure("stance_symmetry_ratio_pct", "Stance time symmetry (min/max)", "%",
                "ratio", "stance_s"),
    GaitMeasure("step_length_symmetry_ratio_pct", "Step length symmetry (min/max)", "%",
                "ratio", "step_length_leg"),
)
MEASURE_BY_NAME = {m.name: m for m in MEASURES}


def _number(v: Any) -> float | None:
    ok = isinstance(v, int | float) and not isinstance(v, bool) and v == v \
        and abs(v) != float("inf")
    return float(v) if ok else None


def foot_stats(gait: dict, key: str, side: str) -> tuple[float | None, float | None, int]:
    """(mean, SD, n) of one foot's `key` in a gait object; None where it has none."""
    s = (gait.get(key) or {}).get(side) or {}
    n = s.get("n")
    return _number(s.get("mean")), _number(s.get("sd")), n if isinstance(n, int) else 0


def measure_value(gait: dict, measure: GaitMeasure) -> float | None:
    """A measure's session value in a gait object (None: no reading)."""
    if measure.kind == "cadence":
        return _number(gait.get("cadence_steps_per_min"))
    if measure.kind == "ratio":
        return _number(((gait.get("symmetry") or {}).get(measure.key) or {}).get("ratio_pct"))
    return foot_stats(gait, measure.key, measure.side)[0]


# -- results ------------------------------------------------------------------------
def save_gait(store: Store, session_id: int, gait: dict) -> None:
    """Keep a session's gait object (replacing one stored before), less its `files`."""
    if not isinstance(gait, dict) or not isinstance(gait.get("steps"), int):
        raise ValueError("a gait object needs its step count")
    kept = {k: v for k, v in gait.items() if k != "files"}
    with store.transaction() as c:
        store.session(session_id)  # an unknown id: one line
        c.execute("INSERT OR REPLACE INTO gait_results (session_id, summary_json) "
                  "VALUES (?, ?)", (session_id, json.dumps(es._finite(kept), allow_nan=False)))


def gait_of(store: Store, session_id: int) -> dict | None:
    """The session's gait object, or None (no gait analysis, or a broken row)."""
    rows = store.query("SELECT summary_json FROM gait_results WHERE session_id = ?",
                       (session_id,))
    return _json_object(rows[0][0]) if rows else None


def gait_sessions(store: Store, patient_id: str) -> list[dict]:
    """The patient's sessions with a gait analysis, oldest first, each a session dict
    with its `gait` object."""
    rows = store.query(
        "SELECT s.*, g.summary_json AS gait_json FROM sessions s JOIN gait_results g ON "
        "g.session_id = s.id WHERE s.patient_id = ? ORDER BY s.started, s.id", (patient_id,))
    out = []
    for r in rows:
        d = dict(r)
        gait = _json_object(d.pop("gait_json"))
        if gait is not None:
            out.append({**Store._session_dict(d), "gait": gait})
    return out


# -- goals --------------------------------------------------------------------------
def _measure(name: str) -> GaitMeasure:
    found = MEASURE_BY_NAME.get(name)
    if found is None:
        raise UserError(f"unknown measure {printable(name)!r} for gait: choose "
                        f"{', '.join(MEASURE_BY_NAME)}")
    return found


def _check_value(text: str | float, m: GaitMeasure) -> float:
    value = es.parse_goal_value(text, m.name)  # a finite number, or one line
    if m.percent and not 0 <= value <= 100:
        raise UserError(f"goal value {value:g} for {m.title.lower()} is outside 0 to 100 %: "
                        "give a percentage, e.g. 90")
    if not m.percent and value <= 0:
        raise UserError(f"goal value {value:g} for {m.title.lower()} is not above 0: give "
                        f"a value in {m.unit}")
    return value


def set_goal(store: Store, patient_id: str, measure: str, direction: str,
             value: str | float, note: str | None = None) -> int:
    """A new gait goal of the patient (one line for each mistake); returns its id."""
    if store.patient(patient_id) is None:
        raise UserError(f"no patient {printable(patient_id)!r}: list them with "
                        "posture-monitor patients")
    m = _measure(measure)
    if direction not in es.DIRECTIONS:
        raise UserError(f"a goal is {' or '.join(es.DIRECTIONS)}, not {printable(direction)!r}")
    number = _check_value(value, m)
    if note is not None:
        ch = bad_char(note)
        if ch is not None or len(note) > es.MAX_NOTE:
            raise UserError(f"the goal's note {'contains ' + describe_char(ch) if ch else ''}"
                            f"{'' if ch else f'is longer than {es.MAX_NOTE} characters'}: "
                            "give one line of text")
    with store.transaction() as c:
        return int(c.execute(
            "INSERT INTO goals (patient_id, preset, measure, direction, value, unit, "
            "created, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (patient_id, GAIT, m.name, direction, number, m.unit, now_iso(),
             note or None)).lastrowid)


def gait_goals(store: Store, patient_id: str) -> list[dict]:
    return es.goals(store, patient_id, GAIT)


def goal_text(g: dict) -> str:
    """'Step time symmetry (min/max) at least 90 %' for a gait goal; an exercise goal in
    exercise_store's words."""
    if g.get("preset") != GAIT:
        return es.goal_text(g)
    m = MEASURE_BY_NAME.get(g["measure"])
    words, unit = (m.title, m.unit) if m else (g["measure"], g.get("unit") or "")
    return f"{words} {es.DIRECTIONS[g['direction']]} {g['value']:g} {unit}".rstrip()

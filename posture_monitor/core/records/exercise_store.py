"""Exercise results and goals in the session store (tables of schema v6).

A session of an exercise keeps the tracker's `exercise` object beside it: its summary
(everything but the repetitions) and its repetitions, one row each. A goal is a
patient's target for one measure of one exercise, at least or at most a value
("knee flexion (right) maximum at least 110 deg", "range symmetry (min/max, %) at
least 90"). Rows of both go with their session or patient (ON DELETE CASCADE).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from typing import Any

from posture_monitor.core.common.errors import UserError
from posture_monitor.core.common.safe_text import bad_char, describe_char, printable
from posture_monitor.core.measure.joints import JOINT_BY_NAME
from posture_monitor.core.movement.exercises import PRESETS, preset_names
from posture_monitor.core.movement.measures import (
    PERCENT_MAX,
    counted,
    describe_valid,
    known_preset,
    measure_title,
    measure_unit,
    valid_measures,
)
from posture_monitor.core.records.samples import _json_object
from posture_monitor.core.records.store import Store, now_iso

DIRECTIONS = {"at_least": "at least", "at_most": "at most"}
MAX_NOTE = 500
GOAL_LIMIT = 1e6  # no angle, ratio or time of a repetition comes near it


def _finite(value: Any) -> Any:
    """NaN and infinity become None (no reading), all the way down: stored JSON stays
    standard JSON that every reader takes."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def save_exercise(store: Store, session_id: int, exercise: dict) -> None:
    """Keep a session's exercise object (replacing one stored before). The paths of the
    files it wrote (`files`) stay out: they name another folder, often the patient."""
    preset = exercise.get("preset")
    per_rep = exercise.get("per_rep") or []
    if not isinstance(preset, str) or not isinstance(per_rep, list):
        raise ValueError("an exercise object needs a preset name and a per_rep list")
    summary = {k: v for k, v in exercise.items() if k not in ("per_rep", "files")}
    with store.transaction() as c:
        store.session(session_id)  # an unknown id: one line
        c.execute("INSERT OR REPLACE INTO exercise_results (session_id, preset, side, "
                  "summary_json, per_rep_json) VALUES (?, ?, ?, ?, ?)",
                  (session_id, preset, exercise.get("side"),
                   json.dumps(_finite(summary), allow_nan=False),
                   json.dumps(_finite(per_rep), allow_nan=False)))


def _exercise(summary_json: Any, per_rep_json: Any) -> dict | None:
    """The object as it was saved; None for what cannot be one (broken JSON)."""
    summary = _json_object(summary_json)
    try:
        rows = json.loads(per_rep_json) if isinstance(per_rep_json, str) else None
    except (ValueError, RecursionError):
        rows = None
    if summary is None or not isinstance(rows, list):
        return None
    return {**summary, "per_rep": [r for r in rows if isinstance(r, dict)]}


def exercise_of(store: Store, session_id: int) -> dict | None:
    """The session's exercise object, or None (a posture session)."""
    rows = store.query("SELECT summary_json, per_rep_json FROM exercise_results WHERE "
                       "session_id = ?", (session_id,))
    return _exercise(*rows[0]) if rows else None


def exercise_sessions(store: Store, patient_id: str, preset: str | None = None
                      ) -> list[dict]:
    """The patient's sessions with an exercise (of `preset`, else any), oldest first,
    each a session dict with its `exercise` object."""
    where, params = "s.patient_id = ?", [patient_id]
    if preset is not None:
        where, params = where + " AND e.preset = ?", [*params, preset]
    rows = store.query(
        "SELECT s.*, e.summary_json AS ex_summary, e.per_rep_json AS ex_rows FROM sessions s "
        f"JOIN exercise_results e ON e.session_id = s.id WHERE {where} "
        "ORDER BY s.started, s.id", tuple(params))
    out = []
    for r in rows:
        d = dict(r)
        exercise = _exercise(d.pop("ex_summary"), d.pop("ex_rows"))
        if exercise is not None:
            out.append({**Store._session_dict(d), "exercise": exercise})
    return out


def patient_presets(store: Store, patient_id: str) -> list[str]:
    """The exercises a patient has stored sessions or goals of, in the presets' order."""
    rows = store.query("SELECT e.preset FROM exercise_results e JOIN sessions s ON "
                       "s.id = e.session_id WHERE s.patient_id = ? UNION SELECT preset "
                       "FROM goals WHERE patient_id = ?", (patient_id, patient_id))
    found = {r[0] for r in rows if isinstance(r[0], str)}
    order = {p: i for i, p in enumerate(preset_names())}
    return sorted(found, key=lambda p: (order.get(p, len(order)), p))


def counted_unit(exercise: dict) -> str | None:
    """The unit the session's complete repetitions were counted in (deg from the side,
    ratio for hip height from the front)."""
    units = Counter(r.get("unit") for r in exercise.get("per_rep") or []
                    if r.get("complete") in (1, True) and isinstance(r.get("unit"), str))
    return units.most_common(1)[0][0] if units else None


def _default_unit(store: Store, patient_id: str, preset: str) -> str:
    for s in reversed(exercise_sessions(store, patient_id, preset)):
        unit = counted_unit(s["exercise"])
        if unit:
            return unit
    p = PRESETS.get(preset)
    if p is None:
        return "deg"
    primary = p.primary.get("side") or next(iter(p.primary.values()))
    return JOINT_BY_NAME[primary.joint].unit


# -- goals --------------------------------------------------------------------------
def parse_goal_value(text: str | float, measure: str) -> float:
    """A goal's value: a finite number in the measure's plausible range (one line)."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise UserError(f"goal value {printable(text)!r} is not a number: give e.g. 110 "
                        "(use a decimal point)") from None
    if not math.isfinite(value) or abs(value) > GOAL_LIMIT:
        raise UserError(f"goal value {printable(text)!r} is not a finite number: give e.g. "
                        "110")
    top = PERCENT_MAX.get(measure)
    if top is not None and not 0 <= value <= top:
        raise UserError(f"goal value {value:g} for {measure_title(measure)} is outside 0 to "
                        f"{top:g} %: give a percentage, e.g. 90")
    return value


def check_goal(store: Store, patient_id: str, preset: str, measure: str) -> None:
    """One-line errors for an unknown patient, exercise or measure."""
    if store.patient(patient_id) is None:
        raise UserError(f"no patient {printable(patient_id)!r}: list them with "
                        "posture-monitor patients")
    stored = exercise_sessions(store, patient_id, preset)
    if not known_preset(preset) and not stored:
        raise UserError(f"unknown exercise {printable(preset)!r}: choose one of "
                        f"{', '.join(preset_names())}")
    names = {k for s in stored for k in (s["exercise"].get("summary") or {})}
    if measure not in valid_measures(preset, names):
        raise UserError(f"unknown measure {printable(measure)!r} for {preset}: choose "
                        f"{describe_valid(preset, names)}")


def set_goal(store: Store, patient_id: str, preset: str, measure: str, direction: str,
             value: str | float, note: str | None = None) -> int:
    """A new goal (a patient may hold several per exercise); returns its id."""
    check_goal(store, patient_id, preset, measure)
    if direction not in DIRECTIONS:
        raise UserError(f"a goal is {' or '.join(DIRECTIONS)}, not {printable(direction)!r}")
    number = parse_goal_value(value, measure)
    if note is not None:
        ch = bad_char(note)
        if ch is not None or len(note) > MAX_NOTE:
            raise UserError(f"the goal's note {'contains ' + describe_char(ch) if ch else ''}"
                            f"{'' if ch else f'is longer than {MAX_NOTE} characters'}: "
                            "give one line of text")
    unit = measure_unit(measure, _default_unit(store, patient_id, preset))
    with store.transaction() as c:
        return int(c.execute(
            "INSERT INTO goals (patient_id, preset, measure, direction, value, unit, "
            "created, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (patient_id, preset, measure, direction, number, unit, now_iso(),
             note or None)).lastrowid)


def _goal_dict(row: Any) -> dict | None:
    d = dict(row)
    if d.get("direction") not in DIRECTIONS or not isinstance(d.get("value"), float | int):
        return None  # nothing this version wrote: skipped, not a crash
    d["value"] = float(d["value"])
    return d


def goals(store: Store, patient_id: str, preset: str | None = None) -> list[dict]:
    """The patient's goals (of `preset`, else all), in the order they were set."""
    where, params = "patient_id = ?", (patient_id,)
    if preset is not None:
        where, params = where + " AND preset = ?", (patient_id, preset)
    rows = store.query(f"SELECT * FROM goals WHERE {where} ORDER BY id", params)
    return [g for g in map(_goal_dict, rows) if g is not None]


def goal(store: Store, goal_id: int) -> dict:
    rows = store.query("SELECT * FROM goals WHERE id = ?", (goal_id,))
    found = _goal_dict(rows[0]) if rows else None
    if found is None:
        raise UserError(f"no goal {goal_id}: list them with posture-monitor goals list "
                        "PATIENT")
    return found


def delete_goal(store: Store, goal_id: int) -> None:
    with store.transaction() as c:
        goal(store, goal_id)
        c.execute("DELETE FROM goals WHERE id = ?", (goal_id,))


def goal_text(g: dict) -> str:
    """'Knee flexion (right) maximum at least 110 deg'."""
    unit = g.get("unit") or ""
    words = measure_title(g["measure"])
    words = words[0].upper() + words[1:]
    return f"{words} {DIRECTIONS[g['direction']]} {g['value']:g} {unit}".rstrip()


def comparable(measure: str, unit: str | None, exercise: dict) -> bool:
    """Whether a session's value of `measure` is in `unit`: a counted-signal measure
    only where that session was counted in it (degrees are not hip heights)."""
    return not counted(measure) or unit is None or counted_unit(exercise) == unit

"""Constructed exercise sessions for store, report and history tests: the shape of
`ExerciseTracker.summary()` (tracker.py) with chosen numbers, so a test knows every
value. Real sessions of the squat clip are in the end-to-end tests."""

from __future__ import annotations

from posture_monitor.core.movement.measures import summary_from_rows


def rep_row(i: int, rng: float, knee_r_max: float, knee_l_max: float | None = None,
            complete: bool = True) -> dict:
    """One repetition row as the tracker writes it (side view, knee counted)."""
    left = None if knee_l_max is None else knee_l_max - 12.0
    right = knee_r_max - 12.0
    sym = None if left is None else min(left, right) / max(left, right) * 100.0
    return {"rep": i, "complete": int(complete), "reason": "" if complete else "too small",
            "start_s": 2.0 * i, "peak_s": 2.0 * i + 1.0, "end_s": 2.0 * i + 1.8,
            "view": "right", "signal": "knee_flex (mean of both sides)", "unit": "deg",
            "rest": 12.0, "sides_from": "3D", "range": rng, "peak": rng + 12.0, "duration_s": 1.8,
            "to_peak_s": 1.0, "from_peak_s": 0.8, "peak_velocity": 150.0,
            "knee_flex_r_deg_min": 12.0, "knee_flex_r_deg_max": knee_r_max,
            "knee_flex_r_deg_range": right,
            **({} if knee_l_max is None else {"knee_flex_l_deg_min": 12.0,
                                              "knee_flex_l_deg_max": knee_l_max,
                                              "knee_flex_l_deg_range": left}),
            "left_range": left, "right_range": right, "range_symmetry_pct": sym,
            "range_si_pct": None, "faults": ""}


def exercise(ranges: list[float], knee_r: list[float] | None = None,
             knee_l: list[float] | None = None, incomplete: int = 0,
             preset: str = "squat") -> dict:
    """A squat session's exercise object; knee maxima default to range + 12."""
    knee_r = knee_r or [r + 12.0 for r in ranges]
    rows = [rep_row(i + 1, r, kr, None if knee_l is None else knee_l[i])
            for i, (r, kr) in enumerate(zip(ranges, knee_r, strict=True))]
    rows += [rep_row(len(rows) + j + 1, 20.0, 32.0, complete=False)
             for j in range(incomplete)]
    summary = summary_from_rows(rows)
    return {"preset": preset, "title": "Squat", "side": "both",
            "counted": {"side": {"signal": "knee_flex (mean of both sides)",
                                 "column": "knee_flex", "direction": 1, "target": 70.0,
                                 "unit": "deg", "target_source": "Schoenfeld 2010"}},
            "reps": int(summary["reps"]), "incomplete": int(summary["incomplete"]),
            "per_rep": rows, "summary": summary}


def store_visit(store, patient: str, day: int, ex: dict, model: str = "lite") -> int:
    """A finished session of `patient` on 2024-05-<day> with the exercise `ex`."""
    from posture_monitor.core.records.exercise_store import save_exercise

    if store.patient(patient) is None:
        store.add_patient(patient, "Ann Example", "knee op")
    sid = store.start_session(patient, "squat.mp4", model, {"model": model},
                              started=f"2024-05-{day:02d}T10:00:00+00:00")
    save_exercise(store, sid, ex)
    store.finish_session(sid, {"frames": 0, "duration_s": 30.0}, "complete",
                         ended=f"2024-05-{day:02d}T10:01:00+00:00")
    return sid

"""Gait from a side video: steps and strides of each foot, their timing, step length,
cadence, left/right symmetry, and the knee and hip angle curves of every stride on
0-100 % of the gait cycle. Conventions: docs/METRICS.md ("Movement and gait").

A step ends at a heel strike and lasts from the other foot's heel strike; a stride is
from one heel strike to the next of the same foot (two steps). Stance is heel strike to
toe off of that foot, swing toe off to its next heel strike; double support (the two
feet on the ground) is, per stride, the time from each heel strike to the other foot's
toe off, added over the stride's two steps. Every value that cannot be taken honestly
(events that do not alternate, a stride cut by the end of a pass) is left empty with
its reason in the step's row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from posture_monitor.core.measure.joint_angles import sagittal_angle
from posture_monitor.core.movement.gait_events import FEET, GaitEvent, detect_events
from posture_monitor.core.movement.gait_signals import (
    LEG_PARTS,
    Pass,
    Prepared,
    WalkerTrack,
    flagged_spans,
    prepare,
    walking_passes,
)
from posture_monitor.core.movement.kinematics import symmetry_index, symmetry_ratio

CYCLE_POINTS = 101  # 0, 1, ..., 100 % of the gait cycle
CURVE_JOINTS = ("knee_flex", "hip_flex")
ANGLE_JOINTS = ("hip_flex", "knee_flex", "ankle_dorsi")
# Hip-to-ankle length is thigh + shank = 0.245 H + 0.246 H (Winter, Biomechanics and
# Motor Control of Human Movement, 4th ed. 2009, fig. 4.1, after Drillis & Contini):
# the scale from leg lengths to metres when the walker's height is given.
LEG_LENGTH_PER_HEIGHT = 0.491
# A stride's curve is kept when at most this share of its samples had no angle.
MAX_MISSING_IN_CURVE = 0.2
SYMMETRY_MEASURES = ("step_time_s", "stride_time_s", "stance_s", "swing_s", "step_length_leg")

_P = {p: i for i, p in enumerate(LEG_PARTS)}


@dataclass
class GaitResult:
    t: np.ndarray
    events: list[GaitEvent]
    steps: list[dict]  # one row per heel strike in a steady pass
    summary: dict  # the sidecar's `gait` object
    # joint -> foot -> one (CYCLE_POINTS,) curve per stride
    curves: dict[str, dict[str, list[np.ndarray]]] = field(default_factory=dict)
    angles: dict[str, np.ndarray] = field(default_factory=dict)  # column -> (n,) degrees


def angle_column(joint: str, foot: str) -> str:
    return f"{joint}_{foot[0]}_deg"


def _angles(prep: Prepared, passes: list[Pass]) -> dict[str, np.ndarray]:
    """The sagittal angles of both legs in every frame of a pass (the table's
    definitions; forward = the walking direction, y up); the trunk line of the hip
    angle runs from the mid-hip to the mid-shoulder, which a label swap cannot move."""
    n = len(prep.t)
    out = {angle_column(j, f): np.full(n, np.nan) for j in ANGLE_JOINTS for f in FEET}
    flip = np.array([1.0, -1.0])
    for p in passes:
        for i in range(p.start, p.stop):
            if not prep.usable[i]:
                continue
            trunk_top = prep.shoulders[i] * flip  # the mid-shoulder, y up
            for f, foot in enumerate(FEET):
                leg = {k: prep.legs[i, f, v] * flip for k, v in _P.items()}
                points = {
                    "hip_flex": [trunk_top, leg["hip"], leg["knee"]],
                    "knee_flex": [leg["hip"], leg["knee"], leg["ankle"]],
                    "ankle_dorsi": [leg["knee"], leg["ankle"], leg["heel"], leg["foot_index"]],
                }
                for j in ANGLE_JOINTS:
                    if all(np.isfinite(q).all() for q in points[j]):
                        v = sagittal_angle(j, points[j], float(p.direction))
                        out[angle_column(j, foot)][i] = np.nan if v is None else v
    return out


def _heel_x(prep: Prepared, frame: float, foot: int) -> float:
    rows = np.arange(len(prep.t), dtype=float)
    return float(np.interp(frame, rows, prep.legs[:, foot, _P["heel"], 0]))


def _steps(prep: Prepared, passes: list[Pass], events: list[GaitEvent],
           height_cm: float | None) -> list[dict]:
    rows: list[dict] = []
    for no, p in enumerate(passes, start=1):
        hs = [e for e in events if e.pass_no == no and e.kind == "heel_strike"]
        to = [e for e in events if e.pass_no == no and e.kind == "toe_off"]
        # two heel strikes of one foot in a row: one of them is false or the other
        # foot's was missed; neither can be trusted to start or end a step
        suspect = {k for k in range(len(hs) - 1) if hs[k].foot == hs[k + 1].foot}
        suspect |= {k + 1 for k in suspect}
        for k, e in enumerate(hs):
            f = FEET.index(e.foot)
            other = FEET[1 - f]
            row: dict = {"pass": no, "direction": "left_to_right" if p.direction > 0
                         else "right_to_left", "foot": e.foot,
                         "heel_strike_s": e.time_s}
            reasons: list[str] = []
            prev = hs[k - 1] if k > 0 else None
            if prev is None:
                reasons.append("first_heel_strike_of_pass")
            elif k in suspect or k - 1 in suspect:
                reasons.append("not_alternating")
            else:
                row["step_time_s"] = e.time_s - prev.time_s
            # the stride: this heel strike, the other foot's, then this foot's again
            end = None
            if k + 2 < len(hs):
                if not suspect & {k, k + 1, k + 2}:
                    end = hs[k + 2]
                else:
                    reasons.append("not_alternating")
            else:
                reasons.append("stride_not_finished_in_pass")
            limit = end.time_s if end is not None else (
                next((h.time_s for h in hs[k + 1:] if h.foot == e.foot), p_end(prep, p)))
            own_to = [x for x in to if x.foot == e.foot and e.time_s < x.time_s < limit]
            if len(own_to) == 1:
                row["toe_off_s"] = own_to[0].time_s
                row["stance_s"] = own_to[0].time_s - e.time_s
                other_to = [x for x in to if x.foot == other
                            and e.time_s < x.time_s < own_to[0].time_s]
                if len(other_to) == 1:
                    row["double_support_s"] = other_to[0].time_s - e.time_s
            else:
                reasons.append("toe_off_unclear" if own_to else "toe_off_not_seen")
            if end is not None:
                row["next_heel_strike_s"] = end.time_s
                row["stride_time_s"] = end.time_s - e.time_s
                if "stance_s" in row:
                    row["swing_s"] = end.time_s - row["toe_off_s"]
                    row["stance_pct"] = 100.0 * row["stance_s"] / row["stride_time_s"]
                    row["swing_pct"] = 100.0 - row["stance_pct"]
            step = p.direction * (_heel_x(prep, e.frame, f) - _heel_x(prep, e.frame, 1 - f))
            if k not in suspect:  # a false heel strike would give a false length
                row["step_length_leg"] = step / prep.leg_length_px
            if height_cm is not None and "step_length_leg" in row:
                row["step_length_m"] = (row["step_length_leg"] * LEG_LENGTH_PER_HEIGHT
                                        * height_cm / 100.0)
            row["_frame"] = e.frame
            row["_end_frame"] = end.frame if end is not None else None
            row["reason"] = ";".join(dict.fromkeys(reasons))
            rows.append(row)
    # double support of a stride: this step's and the next one's (the other foot's)
    for k, row in enumerate(rows):
        nxt = rows[k + 1] if k + 1 < len(rows) else None
        if ("stride_time_s" in row and "double_support_s" in row and nxt is not None
                and nxt["pass"] == row["pass"] and "double_support_s" in nxt):
            row["double_support_pct"] = (100.0 * (row["double_support_s"]
                                                  + nxt["double_support_s"])
                                         / row["stride_time_s"])
        row["complete"] = int(all(c in row for c in (
            "step_time_s", "stride_time_s", "stance_s", "swing_s", "double_support_pct")))
    return rows


def p_end(prep: Prepared, p: Pass) -> float:
    return float(prep.t[p.stop - 1])


def _curves(prep: Prepared, steps: list[dict], angles: dict[str, np.ndarray]
            ) -> dict[str, dict[str, list[np.ndarray]]]:
    rows = np.arange(len(prep.t), dtype=float)
    out: dict[str, dict[str, list[np.ndarray]]] = {j: {f: [] for f in FEET}
                                                   for j in CURVE_JOINTS}
    for s in steps:
        if s.get("_end_frame") is None:
            continue
        where = np.linspace(s["_frame"], s["_end_frame"], CYCLE_POINTS)
        for j in CURVE_JOINTS:
            series = angles[angle_column(j, s["foot"])]
            near = series[np.clip(np.round(where).astype(int), 0, len(series) - 1)]
            if np.isnan(near).mean() > MAX_MISSING_IN_CURVE:
                continue
            ok = np.isfinite(series)
            out[j][s["foot"]].append(np.interp(where, rows[ok], series[ok]))
    return out


def _stats(values: list[float]) -> dict:
    v = [x for x in values if x is not None and math.isfinite(x)]
    return {"mean": float(np.mean(v)) if v else None,
            "sd": float(np.std(v, ddof=1)) if len(v) > 1 else None, "n": len(v)}


def _per_foot(steps: list[dict], key: str) -> dict:
    return {f: _stats([s[key] for s in steps if s["foot"] == f and key in s]) for f in FEET}


def _summary(prep: Prepared, passes: list[Pass], reason: list[str | None],
             events: list[GaitEvent], steps: list[dict], curves: dict,
             height_cm: float | None) -> dict:
    step_times = [s["step_time_s"] for s in steps if "step_time_s" in s]
    per_foot = {k: _per_foot(steps, k) for k in (
        "step_time_s", "stride_time_s", "stance_s", "swing_s", "stance_pct", "swing_pct",
        "step_length_leg", "step_length_m")}
    symmetry = {}
    for k in SYMMETRY_MEASURES:
        left, right = per_foot[k]["left"]["mean"], per_foot[k]["right"]["mean"]
        symmetry[k] = {"si_pct": symmetry_index(left, right),
                       "ratio_pct": symmetry_ratio(left, right)}
    hs = [e for e in events if e.kind == "heel_strike"]
    feet_in_order = [e.foot for e in hs]
    summary = {
        "method": "heel strike at the heel's largest lead over the pelvis, toe off at the "
                  "toes' largest lag behind it, along the walking direction (Zeni et al. "
                  "2008); left/right leg labels repaired by motion continuity",
        "analysed_s": [[float(prep.t[p.start]), float(prep.t[p.stop - 1])] for p in passes],
        "passes": [{"from_s": float(prep.t[p.start]), "to_s": float(prep.t[p.stop - 1]),
                    "direction": "left_to_right" if p.direction > 0 else "right_to_left",
                    "heel_strikes": sum(1 for e in hs if e.pass_no == no)}
                   for no, p in enumerate(passes, start=1)],
        "flagged": flagged_spans(prep.t, reason),
        "steps": len(hs),
        "strides": {f: sum(1 for s in steps if s["foot"] == f and "stride_time_s" in s)
                    for f in FEET},
        "cadence_steps_per_min": 60.0 / float(np.mean(step_times)) if step_times else None,
        "cadence_definition": "60 / mean step time (steps of either foot)",
        **per_foot,
        "double_support_pct": _stats([s["double_support_pct"] for s in steps
                                      if "double_support_pct" in s]),
        "step_length_unit": "leg_length (hip to ankle: thigh + shank)",
        "leg_length_px": prep.leg_length_px,
        "height_cm": height_cm,
        "step_length_m_scale": (f"leg length = {LEG_LENGTH_PER_HEIGHT} x height (Winter "
                                "2009); assumes the walker stays at one distance from the "
                                "camera" if height_cm is not None else None),
        "symmetry": symmetry,
        "symmetry_definitions": {
            "si_pct": "|L - R| / (0.5 (L + R)) x 100 (0 = symmetric; Robinson et al. 1987)",
            "ratio_pct": "min(L, R) / max(L, R) x 100 (100 = symmetric)"},
        "events": {"heel_strikes": len(hs),
                   "toe_offs": sum(1 for e in events if e.kind == "toe_off"),
                   "not_alternating": sum(1 for a, b in zip(feet_in_order, feet_in_order[1:],
                                                            strict=False) if a == b),
                   "leg_label_swaps_repaired_frames": int(prep.swapped.sum())},
        "curves": {f"{j}_deg": {f: _curve_stats(curves[j][f]) for f in FEET}
                   for j in CURVE_JOINTS},
    }
    if not passes:
        summary["withheld"] = _why_none(prep, reason)
    return summary


def _curve_stats(curves: list[np.ndarray]) -> dict:
    if not curves:
        return {"mean": None, "sd": None, "n": 0}
    a = np.array(curves)
    return {"mean": [round(float(x), 2) for x in a.mean(axis=0)],
            "sd": ([round(float(x), 2) for x in a.std(axis=0, ddof=1)]
                   if len(a) > 1 else None), "n": len(a)}


def _why_none(prep: Prepared, reason: list[str | None]) -> str:
    if prep.leg_length_px is None:
        return "legs_not_visible: no frame shows both legs whole"
    counts: dict[str, int] = {}
    for r in reason:
        if r:
            counts[r] = counts.get(r, 0) + 1
    top = max(counts, key=counts.get) if counts else "not_walking"
    return (f"{top}: no steady walking pass of at least 1 s across the frame (film the "
            "walker from the side, walking across the whole view)")


def analyse_gait(track: WalkerTrack, height_cm: float | None = None) -> GaitResult:
    prep = prepare(track)
    passes, reason = walking_passes(prep)
    events = detect_events(prep, passes) if passes else []
    angles = _angles(prep, passes) if passes else {}
    steps = _steps(prep, passes, events, height_cm) if passes else []
    curves = (_curves(prep, steps, angles) if passes
              else {j: {f: [] for f in FEET} for j in CURVE_JOINTS})
    summary = _summary(prep, passes, reason, events, steps, curves, height_cm)
    for s in steps:
        s.pop("_frame"), s.pop("_end_frame")
    return GaitResult(track.t, events, steps, summary, curves, angles)


def choose_walker(tracks: dict[int, WalkerTrack]) -> tuple[int | None, list[dict]]:
    """The walker is the person whose hips travel furthest across the frame (a person
    jumping or standing stays put); returns their number and what was seen of everyone."""
    seen = []
    for pid, tr in tracks.items():
        hips = tr.px[:, [23, 24], 0].mean(axis=1)
        ok = (tr.vis[:, [23, 24]] >= 0.5).all(axis=1) & np.isfinite(hips)
        travel = float((hips[ok].max() - hips[ok].min()) / tr.width) if ok.sum() > 1 else 0.0
        seen.append({"id": pid, "seen_s": [float(tr.t[0]), float(tr.t[-1])],
                     "frames": len(tr.t), "hip_travel_frame_widths": round(travel, 3)})
    if not seen:
        return None, seen
    best = max(seen, key=lambda s: s["hip_travel_frame_widths"])
    return best["id"], seen

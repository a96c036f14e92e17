"""The gait pages of the PDF reports (issue 14): the numbers of one visit (left and
right, symmetry index and ratio), its stride-normalised knee and hip curves (mean +- SD,
left and right), then progress across visits: a table per visit, plots per measure with
the smallest-real-change band (gait_progress.py) and the goal lines, the goals and how
far the latest visit is from each, and what the noise numbers mean.

Plain data in (GaitHistory: the patient's gait sessions, oldest first, and the gait
goals); `gait_history(store, patient)` gathers them. Same page and table as report.py.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass, field

import numpy as np
from matplotlib.backends.backend_pdf import PdfPages

from posture_monitor.core.records import gait_progress as gp
from posture_monitor.core.records.gait_store import (
    MEASURE_BY_NAME,
    foot_stats,
    gait_goals,
    gait_sessions,
    goal_text,
)
from posture_monitor.core.records.report_exercise import (
    ExerciseHistory,
    _grid,
    _text,
    exercise_pages,
)
from posture_monitor.core.records.report_format import NO_READING, _page, _when

COLOURS = {"left": "tab:red", "right": "tab:blue", "": "#333333"}
STYLES = {"left": "-", "right": "--", "": "-"}  # not told apart by colour alone
MAX_VISIT_ROWS = 12  # the latest; every visit is in the plots
# the latest visit's table: (title, gait object key, digits); symmetry where the gait
# object has it
ROWS = (("Step time, s", "step_time_s", 3), ("Stride time, s", "stride_time_s", 3),
        ("Stance time, s", "stance_s", 3), ("Swing time, s", "swing_s", 3),
        ("Stance, % of stride", "stance_pct", 1), ("Swing, % of stride", "swing_pct", 1),
        ("Step length, leg lengths", "step_length_leg", 2), ("Step length, m",
                                                             "step_length_m", 2))
# progress plots: (title, measures); a measure no visit and no goal has is left out
PANELS = (("Cadence per visit, steps/min", ("cadence_steps_per_min",)),
          ("Step time per visit, s", ("step_time_s_left", "step_time_s_right")),
          ("Stance phase per visit, % of stride", ("stance_pct_left", "stance_pct_right")),
          ("Step length per visit, leg lengths", ("step_length_leg_left",
                                                  "step_length_leg_right")),
          ("Step length per visit, m", ("step_length_m_left", "step_length_m_right")),
          ("Step time symmetry (min/max) per visit, %", ("step_time_symmetry_ratio_pct",)),
          ("Stance time symmetry (min/max) per visit, %", ("stance_symmetry_ratio_pct",)),
          ("Step length symmetry (min/max) per visit, %",
           ("step_length_symmetry_ratio_pct",)))
MEANING = (
    "Symmetry index SI = |L - R| / (0.5 (L + R)) x 100 % (0 = symmetric; Robinson et al. "
    "1987); symmetry ratio = min(L, R) / max(L, R) x 100 % (100 = symmetric), the form "
    "goals use. Stance symmetry compares stance times. Noise: the SEM of a visit value is "
    "the standard error of that visit's mean from its own step-to-step SD (SD / sqrt(n) "
    "for one foot; propagated to cadence and to the ratios), averaged over the visits as "
    "a root mean square; MDC95 = 1.96 x sqrt(2) x SEM. This is within-session noise only, "
    "not a test-retest ICC (the store keeps each visit's means and SDs, not its steps): "
    "differences between whole visits (camera place, another day, walking speed) are not "
    "in it, so the true noise between visits is at least this large.")


@dataclass
class GaitHistory:
    visits: list[dict]  # sessions with their `gait`, oldest first
    goals: list[dict] = field(default_factory=list)
    session_id: int | None = None  # the visit shown in detail; the latest when None

    @property
    def shown(self) -> dict | None:
        chosen = [v for v in self.visits if v.get("id") == self.session_id]
        return chosen[0] if chosen else (self.visits[-1] if self.visits else None)


def gait_history(store, patient_id: str, session_id: int | None = None
                 ) -> GaitHistory | None:
    """The patient's gait sessions and goals; None when there are neither."""
    visits, goals = gait_sessions(store, patient_id), gait_goals(store, patient_id)
    return GaitHistory(visits, goals, session_id) if visits or goals else None


def movement_pages(pdf: PdfPages, exercises: list[ExerciseHistory] | tuple,
                   gait: GaitHistory | None, who: str, anonymize: bool) -> None:
    """The exercise pages, then the gait pages: what report.py adds after posture."""
    for h in exercises:
        exercise_pages(pdf, h, who, anonymize)
    if gait is not None:
        gait_pages(pdf, gait, who, anonymize)


def _stat(mean: float | None, sd: float | None, n: int, digits: int) -> str:
    if mean is None:
        return NO_READING
    spread = f" ± {sd:.{digits}f}" if sd is not None else ""
    return f"{mean:.{digits}f}{spread} (n={n})"


def _num(v: object, digits: int = 1) -> str:
    ok = isinstance(v, int | float) and math.isfinite(v)
    return f"{v:.{digits}f}" if ok else NO_READING


def _about(g: dict) -> str:
    person = g.get("person") or {}
    seen = person.get("people_seen") or []
    spans = ", ".join(f"{p.get('from_s', 0):.1f}-{p.get('to_s', 0):.1f} s "
                      f"({str(p.get('direction', '')).replace('_', ' ')})"
                      for p in g.get("passes") or [])
    strides = g.get("strides") or {}
    ev = g.get("events") or {}
    walker = (f"person {person['analysed']} of {len(seen)} seen ({person.get('rule', '')})"
              if person.get("analysed") is not None else "nobody found")
    return (f"Walker: {walker}. Analysed: {spans or 'nothing'}; "
            f"{len(g.get('flagged') or [])} span(s) flagged and left out. "
            f"{g.get('steps', 0)} heel strikes; full strides: left {strides.get('left', 0)}"
            f", right {strides.get('right', 0)}; successive heel strikes of one foot: "
            f"{ev.get('not_alternating', 0)}; leg labels repaired in "
            f"{ev.get('leg_label_swaps_repaired_frames', 0)} frame(s).")


def _latest_table(fig, y: float, g: dict) -> float:
    sym = g.get("symmetry") or {}
    cad = g.get("cadence_steps_per_min")
    ds = g.get("double_support_pct") or {}
    both = "(both feet together)"
    rows = [["Cadence, steps/min", _num(cad), both, "", ""]]
    for title, key, d in ROWS:
        if key == "step_length_m" and g.get("height_cm") is None:
            continue  # no height given: only leg lengths
        left, right = (_stat(*foot_stats(g, key, f), d) for f in gp.FEET)
        s = sym.get(key) or {}
        rows.append([title, left, right, _num(s.get("si_pct")) if key in sym else "",
                     _num(s.get("ratio_pct")) if key in sym else ""])
    rows.append(["Double support, % of stride",
                 _stat(ds.get("mean"), ds.get("sd"), ds.get("n") or 0, 1), both, "", ""])
    header = ["Measure", "Left: mean ± SD (n)", "Right: mean ± SD (n)",
              "Symmetry index SI, % (0 = symmetric)",
              "Symmetry ratio min/max, % (100 = symmetric)"]
    return _grid(fig, y, rows, header, [0.27, 0.20, 0.20, 0.16, 0.17])


def _curves(fig, y: float, g: dict) -> float:
    curves = g.get("curves") or {}
    for i, (key, title) in enumerate((("knee_flex_deg", "Knee flexion"),
                                      ("hip_flex_deg", "Hip flexion"))):
        ax = fig.add_axes([0.09 + i * 0.46, y - 0.25, 0.38, 0.22])
        ax.set_title(f"{title}, deg", fontsize=10, loc="left")
        ax.set_xlabel("% of gait cycle (heel strike to heel strike)", fontsize=8)
        ax.set_xlim(0, 100)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=7)
        drawn = False
        for foot in gp.FEET:
            c = (curves.get(key) or {}).get(foot) or {}
            mean = c.get("mean")
            if not mean:
                continue
            m = np.array(mean, dtype=float)
            x = np.linspace(0, 100, len(m))
            n = c.get("n", 0)
            ax.plot(x, m, STYLES[foot], color=COLOURS[foot], lw=1.4,
                    label=f"{foot}, mean of {n} stride(s)")
            if c.get("sd") and len(c["sd"]) == len(m):
                sd = np.array(c["sd"], dtype=float)
                ax.fill_between(x, m - sd, m + sd, color=COLOURS[foot], alpha=0.15, lw=0)
            drawn = True
        if drawn:
            ax.legend(fontsize=7, loc="upper left", framealpha=0.85)
        else:
            ax.text(0.5, 0.5, "no complete stride", transform=ax.transAxes, ha="center",
                    color="grey")
            ax.set_yticks([])  # no made-up scale around an empty plot
    return y - 0.30


def _visit_page(pdf: PdfPages, h: GaitHistory, patient: str) -> None:
    v = h.shown
    g = v["gait"]
    fig = _page()
    fig.text(0.07, 0.955, f"Gait: session #{v.get('id')}, {_when(v.get('started'))}",
             fontsize=14, weight="bold")
    y = _say(fig, 0.935, f"Patient {patient}; {len(h.visits)} stored gait session(s). "
             + _about(g), 8.5)
    if g.get("withheld"):
        y = _say(fig, y, f"No steps measured: {g['withheld']}", 9, color="#b00000")
    y = _latest_table(fig, y - 0.005, g) - 0.012
    unit = str(g.get("step_length_unit") or "leg lengths").replace("leg_length", "leg lengths")
    cadence = g.get("cadence_definition") or "60 / mean step time"
    y = _say(fig, y, f"Mean ± SD over the steps of each foot; n = steps with a value (an SD "
             f"needs 2). Step length in {unit}; cadence = {cadence}; stance, swing and "
             "double support as % of each stride.", 8)
    y = _curves(fig, y - 0.01, g)
    _say(fig, y, "Each stride's knee and hip angle from its heel strike to the next of the "
          "same foot, resampled to 0-100 % of the cycle; the line is the mean, the band "
          "± 1 SD across strides (none with one stride). Flexion is positive; angles are "
          "in the image plane of a side view, so they are smaller than 3D values when the "
          "walker is not square to the camera.", 8)
    pdf.savefig(fig)


def _say(fig, y: float, text: str, size: float = 9, **kw) -> float:
    """Wrapped text across the page's text width (about 105 characters of 9 pt)."""
    return _text(fig, y, text, size, int(945 / size), **kw)


class _Flow:
    """Figures and text top-down; a new page when the next block does not fit."""

    def __init__(self, pdf: PdfPages, title: str) -> None:
        self.pdf, self.title, self.fig, self.y = pdf, title, None, 0.0

    def need(self, height: float) -> None:
        if self.fig is None or self.y - height < 0.05:
            self.close()
            self.fig = _page()
            self.fig.text(0.07, 0.955, self.title, fontsize=14, weight="bold")
            self.y = 0.93

    def text(self, text: str, size: float = 9, **kw) -> None:
        self.need(size * 1.4 / 72 / 11.69 * (len(textwrap.wrap(text, int(945 / size))) or 1))
        self.y = _say(self.fig, self.y, text, size, **kw)

    def close(self) -> None:
        if self.fig is not None:
            self.pdf.savefig(self.fig)
            self.fig = None


def _dates(visits: list[dict]) -> list[str]:
    dates = [_when(v.get("started"), "%Y-%m-%d") for v in visits]
    if len(set(dates)) < len(dates):  # two visits on one day: the session tells them apart
        dates = [f"{d} #{v.get('id')}" for d, v in zip(dates, visits, strict=True)]
    return dates


def _visit_table(flow: _Flow, h: GaitHistory, dates: list[str]) -> None:
    shown = list(enumerate(h.visits))[-MAX_VISIT_ROWS:]
    rows = []
    for i, v in shown:
        g, c = v["gait"], gp.visit_row(v)

        def pair(key: str, d: int, g=g) -> str:
            return " / ".join(_num(foot_stats(g, key, f)[0], d) for f in gp.FEET)

        sym = g.get("symmetry") or {}
        ratios = " / ".join(_num((sym.get(k) or {}).get("ratio_pct"), 0)
                            for k in ("step_time_s", "stance_s", "step_length_leg"))
        rows.append([f"#{v.get('id')}", dates[i].split(" ")[0],
                     f"{c['steps']} ({c['strides']['left']}, {c['strides']['right']})",
                     _num(g.get("cadence_steps_per_min")), pair("step_time_s", 3),
                     pair("stance_pct", 1), pair("step_length_leg", 2), ratios])
    header = ["Session", "Date", "Steps (strides L, R)", "Cadence, steps per min",
              "Step time L / R, s", "Stance L / R, % of stride", "Step length L / R, leg "
              "lengths", "Symmetry ratio: step time / stance / step length, %"]
    flow.need(0.05 + 0.018 * len(rows))
    flow.y = _grid(flow.fig, flow.y, rows, header,
                   [0.09, 0.12, 0.10, 0.10, 0.14, 0.13, 0.13, 0.19]) - 0.012
    if len(h.visits) > len(shown):
        flow.text(f"The latest {len(shown)} of {len(h.visits)} visits; the plots show all.",
                  8)


def _panel(flow: _Flow, h: GaitHistory, title: str, measures: list[str],
           dates: list[str], noise: dict[str, gp.Noise]) -> None:
    flow.need(0.23)
    ax = flow.fig.add_axes([0.11, flow.y - 0.16, 0.56, 0.14])
    ax.set_title(title, fontsize=10, loc="left")
    x = np.arange(len(h.visits))
    shown: list[float] = []
    changes, goal_lines = [], []
    for name in measures:
        m = MEASURE_BY_NAME[name]
        values = gp.series(h.visits, name)
        y = np.array([np.nan if v is None else v for v in values], dtype=float)
        colour, side = COLOURS[m.side], m.side or "visit value"
        ax.plot(x, y, "o" + STYLES[m.side], color=colour, label=side, ms=4)
        shown += list(y[np.isfinite(y)])
        b = gp.band(values, noise[name])
        if b.ok:  # a percentage stays within 0-100 %, its band too
            lo, hi = b.centre - b.half_width, b.centre + b.half_width
            lo, hi = (max(lo, 0.0), min(hi, 100.0)) if m.percent else (lo, hi)
            ax.axhspan(lo, hi, color=colour, alpha=0.12, label=f"{m.side + ': ' if m.side else ''}"
                       f"first visit ± {gp.fmt(b.half_width, m)}")
            shown += [lo, hi]
        for g in (g for g in h.goals if g["measure"] == name):
            ax.axhline(g["value"], color="tab:green", ls=STYLES[m.side] if m.side else ":",
                       lw=1.2, label=f"goal{' ' + m.side if m.side else ''} "
                       f"{'>=' if g['direction'] == 'at_least' else '<='} {g['value']:g}")
            shown.append(g["value"])
            goal_lines.append(f"{goal_text(g)}: {gp.goal_status(g, h.visits).text}.")
        change = gp.change_text(values, b, name)
        changes.append(f"{m.side.capitalize()}: {change[0].lower()}{change[1:]}."
                       if m.side else f"{change}.")
    step = math.ceil(len(x) / 8) or 1  # at most 8 date labels
    ax.set_xticks(x[::step], dates[::step], fontsize=7)
    ax.tick_params(axis="y", labelsize=7)
    ax.set_xlim(-0.5, max(len(x), 1) - 0.5)
    ax.grid(alpha=0.3)
    if shown:
        lo, hi = min(shown), max(shown)
        pad = 0.15 * (hi - lo) or 0.05 * abs(hi) or 1.0  # points, bands and goals in view
        top = hi + pad
        if all(MEASURE_BY_NAME[n].percent for n in measures):
            top = min(top, 100.0 + pad / 3)  # no made-up room above 100 %
        ax.set_ylim(lo - pad, top)
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    else:
        ax.text(0.5, 0.5, NO_READING, transform=ax.transAxes, ha="center", color="grey")
        ax.set_yticks([])
    flow.y -= 0.185
    for line in (*changes, *goal_lines):
        flow.y = _text(flow.fig, flow.y, line, 8, 118)
    flow.y -= 0.01


def _noise_table(flow: _Flow, names: list[str], noise: dict[str, gp.Noise]) -> None:
    flow.need(0.06 + 0.018 * len(names))
    flow.fig.text(0.07, flow.y, "Measurement noise of a visit value", fontsize=11,
                  weight="bold", va="top")
    flow.y -= 0.025
    rows, reasons = [], {}
    for name in names:
        m, n = MEASURE_BY_NAME[name], noise[name]
        if n.ok:
            rows.append([m.title, gp.fmt(n.sem, m) + (" *" if n.rough else ""),
                         gp.fmt(n.mdc95, m), str(n.visits_used), str(n.df)])
        else:
            rows.append([m.title, "no value", "", "0", ""])
            reasons.setdefault(n.reason, []).append(m.title)
    flow.y = _grid(flow.fig, flow.y, rows, ["Measure", "SEM of a visit value",
                                             "MDC95 between two visits", "Visits used",
                                             "Degrees of freedom"],
                   [0.34, 0.17, 0.23, 0.12, 0.14]) - 0.012
    if any(noise[n].rough for n in names):
        flow.text("* Rough: fewer than 4 degrees of freedom (steps - 1, summed over the "
                  "visits) under the SD; longer walks and more visits make it firmer.", 8)
    for reason, titles in reasons.items():
        flow.text(f"No value for {', '.join(titles)}: {reason}.", 8)


def gait_pages(pdf: PdfPages, h: GaitHistory, patient: str, anonymize: bool = False) -> None:
    """The detail page of one visit, then progress across visits with goals and noise."""
    if h.visits:
        _visit_page(pdf, h, patient)
    flow = _Flow(pdf, "Gait progress across visits")
    flow.need(0.1)
    flow.text(f"Patient {patient}; {len(h.visits)} stored gait session(s). Values are each "
              "visit's means over its steps; the band is the first visit ± the smallest "
              "real change (MDC95, see the end of this section).", 8.5)
    models = sorted({str(v.get("model")) for v in h.visits if v.get("model")})
    if len(models) > 1:  # a model changes the landmarks: that is no change of the walk
        flow.text(f"Sessions were analysed with different pose models ({', '.join(models)})"
                  ": a change between them can come from the model.", 8.5, color="#b00000")
    dates = _dates(h.visits)
    if h.visits:
        _visit_table(flow, h, dates)
    else:
        flow.text("No stored gait session yet.")
    flow.need(0.05)
    flow.fig.text(0.07, flow.y, "Goals", fontsize=11, weight="bold", va="top")
    flow.y -= 0.022
    if not h.goals:
        flow.text("No gait goal set. Set one with posture-monitor goals set PATIENT gait "
                  "MEASURE VALUE --at-least (e.g. step_time_symmetry_ratio_pct 90).")
    for g in h.goals:
        p = gp.goal_status(g, h.visits)
        when = f", {_when(p.when, '%Y-%m-%d')}" if p.when else ""
        note = f" Note: {g['note']}" if g.get("note") and not anonymize else ""
        flow.text(f"{goal_text(g)}: {p.text}{when}.{note}")
    flow.y -= 0.01
    goal_measures = {g["measure"] for g in h.goals}
    noise = {m: gp.measure_noise(h.visits, m) for m in MEASURE_BY_NAME}
    used = []
    for title, measures in PANELS:
        have = [m for m in measures if m in goal_measures
                or any(v is not None for v in gp.series(h.visits, m))]
        if have:
            _panel(flow, h, title, have, dates, noise)
            used += have
    if used:
        _noise_table(flow, used, noise)
    flow.text(MEANING, 8, color="#333")
    flow.close()

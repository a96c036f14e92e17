"""The exercise pages of the PDF reports (issue 13): per exercise, a table per visit,
range of motion per visit with the smallest-real-change band, the goals and how far the
latest visit is from each, and the test-retest numbers (ICC(3,1), SEM, MDC95) when there
are repeated sessions; a session's own repetitions in its report.

Plain data in (ExerciseHistory: the sessions of one exercise, oldest first, and the
goals); `histories(store, patient)` gathers them. Same page and table as report.py.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass, field

import numpy as np
from matplotlib.backends.backend_pdf import PdfPages

from posture_monitor.core.movement.measures import counted, measure_title, measure_unit
from posture_monitor.core.movement.reliability import Repeatability
from posture_monitor.core.records import exercise_progress as xp
from posture_monitor.core.records.exercise_store import (
    exercise_of,
    exercise_sessions,
    goal_text,
    goals,
    patient_presets,
)
from posture_monitor.core.records.report_format import NO_READING, _page, _table, _when

MAX_VISIT_ROWS = 12  # the latest; every visit is in the plot
REPS_PER_PAGE = 32
MEANING = (
    "ICC(3,1) (Shrout & Fleiss 1979, two-way mixed, consistency): rows are this patient's "
    "sessions, columns their first n complete repetitions; it is the share of the "
    "single-repetition variance that lies between sessions. SEM = SD x sqrt(1 - ICC); "
    "MDC95 = 1.96 x sqrt(2) x SEM for a single repetition, / sqrt(n) for a session mean "
    "of n repetitions. A change between two visits smaller than the session-mean MDC95 is "
    "within repetition-to-repetition noise. Limits: this is one patient's repeatability "
    "across sessions, not a between-subject ICC; differences between whole sessions "
    "(camera place, another day) are not in the SEM, so the true noise between visits is "
    "at least this large.")


@dataclass
class ExerciseHistory:
    preset: str
    title: str
    visits: list[dict]  # sessions with their `exercise`, oldest first
    goals: list[dict] = field(default_factory=list)


def histories(store, patient_id: str, preset: str | None = None) -> list[ExerciseHistory]:
    """One per exercise the patient has sessions or goals of (or only `preset`)."""
    out = []
    for p in [preset] if preset else patient_presets(store, patient_id):
        visits = exercise_sessions(store, patient_id, p)
        title = next((v["exercise"].get("title") for v in reversed(visits)
                      if isinstance(v["exercise"].get("title"), str)), p)
        out.append(ExerciseHistory(p, title, visits, goals(store, patient_id, p)))
    return out


def session_exercise(store, session: dict) -> tuple[dict | None, list[ExerciseHistory]]:
    """A session's exercise object and its patient's history in that exercise (both
    empty for a posture session): what its report shows."""
    exercise = exercise_of(store, session["id"])
    if exercise is None:
        return None, []
    return exercise, histories(store, session["patient_id"], exercise["preset"])


def _num(value: float | None, unit: str = "", digits: int = 1) -> str:
    if value is None or not math.isfinite(value):
        return NO_READING
    return f"{value:.{digits}f} {unit}".rstrip()


def _digits(unit: str) -> int:
    return 2 if unit == "ratio" else 1


def _short(measure: str) -> str:
    """A measure's name for table cells and plot titles: 'Knee flexion (right) max'."""
    words = {"range": "range of motion", "range_symmetry_pct": "range symmetry (min/max)",
             "speed_symmetry_pct": "speed symmetry (min/max)"}.get(measure) or \
        measure_title(measure).replace(" maximum", " max").replace(" minimum", " min")
    return words[0].upper() + words[1:]


def _grid(fig, y: float, rows: list[list[str]], header: list[str],
          widths: list[float]) -> float:
    """A table whose top is at `y` (headers wrapped to their column); returns the y of
    its bottom, measured on the drawn table."""
    header = ["\n".join(textwrap.wrap(h, max(int(78 * w), 6), break_long_words=False))
              for h, w in zip(header, widths, strict=True)]
    table = _table(fig, [0.07, y - 0.01, 0.86, 0.01], rows, header, widths, 8.5, 1.4)
    lines = max(h.count("\n") + 1 for h in header)
    for (r, _), cell in table.get_celld().items():
        if r == 0:
            cell.set_height(cell.get_height() * (0.35 + 0.65 * lines))
    box = table.get_window_extent(fig.canvas.get_renderer())
    return box.y0 / fig.bbox.height


class _Section:
    """One exercise's numbers, computed once for its pages."""

    def __init__(self, h: ExerciseHistory) -> None:
        self.h = h
        self.unit = xp.latest_counted_unit(h.visits) or "deg"
        self.measures = list(dict.fromkeys(
            [*xp.table_measures(h.visits), *(g["measure"] for g in h.goals)]))
        self.rel: dict[str, Repeatability] = {
            m: xp.measure_repeatability(h.visits, m, self._counted(m)) for m in self.measures}

    def _counted(self, measure: str) -> str | None:
        return self.unit if counted(measure) else None

    def unit_of(self, measure: str) -> str:
        return measure_unit(measure, self.unit)

    def values(self, measure: str) -> list[float | None]:
        return xp.series(self.h.visits, measure, self._counted(measure))

    def band(self, measure: str) -> xp.Band:
        return xp.band(self.values(measure), self.rel[measure])

    def progress(self, goal: dict) -> xp.GoalProgress:
        return xp.goal_status(goal, self.h.visits)


def _plot(ax, sec: _Section, measure: str, dates: list[str]) -> None:
    values = sec.values(measure)
    unit = sec.unit_of(measure)
    x = np.arange(len(values))
    y = np.array([np.nan if v is None else v for v in values], dtype=float)
    ax.plot(x, y, "o-", color="tab:blue", label="session mean")
    ax.set_title(f"{_short(measure)} per visit, {unit}", fontsize=10, loc="left")
    ax.grid(alpha=0.3)
    step = math.ceil(len(x) / 8) or 1  # at most 8 date labels
    ax.set_xticks(x[::step], dates[::step], fontsize=7)
    ax.set_xlim(-0.5, max(len(x), 1) - 0.5)
    shown = list(y[np.isfinite(y)])
    b = sec.band(measure)
    if b.ok:
        ax.axhspan(b.centre - b.half_width, b.centre + b.half_width, color="grey",
                   alpha=0.2, label=f"first visit +- {b.half_width:.{_digits(unit)}f} {unit} "
                   f"(MDC95, mean of {b.n_reps} reps)")
        shown += [b.centre - b.half_width, b.centre + b.half_width]
    # a goal in another unit (degrees, where the latest visits count hip height) is not
    # drawn on this scale; its progress line still says where it stands
    for g in (g for g in sec.h.goals if g["measure"] == measure
              and (g.get("unit") or unit) == unit):
        ax.axhline(g["value"], color="tab:red", ls="--", lw=1.0,
                   label=f"goal {'>=' if g['direction'] == 'at_least' else '<='} "
                   f"{g['value']:g} {unit}")
        shown.append(g["value"])
    if not shown:
        ax.text(0.5, 0.5, NO_READING, transform=ax.transAxes, ha="center", color="grey")
        ax.set_yticks([])
    else:
        lo, hi = min(shown), max(shown)
        pad = 0.15 * (hi - lo) or 1.0  # every point, the band and the goal stay in view
        ax.set_ylim(lo - pad, hi + pad)
    if not b.ok:
        ax.text(0.01, 0.04, b.reason, transform=ax.transAxes, fontsize=7, color="grey")
    ax.legend(fontsize=7, loc="best", framealpha=0.85)


def _text(fig, y: float, text: str, size: float = 9, width: int = 105, **kw) -> float:
    lines = textwrap.wrap(text, width) or [""]
    fig.text(0.07, y, "\n".join(lines), fontsize=size, va="top", **kw)
    return y - len(lines) * size * 1.4 / 72 / 11.69 - 0.006


def _visit_table(fig, y: float, sec: _Section, dates: list[str]) -> float:
    shown = list(enumerate(sec.h.visits))[-MAX_VISIT_ROWS:]
    cols = [m for m in sec.measures if m in xp.table_measures(sec.h.visits)]
    header = ["Session", "Date", "Reps: complete, incomplete", "Pose model",
              *(f"{_short(m)}, {sec.unit_of(m)}" for m in cols)]
    rows = []
    for i, v in shown:
        counts = xp.visit_row(v)
        rows.append([f"#{v.get('id')}", dates[i].split(" ")[0],
                     f"{counts['reps']}, {counts['incomplete']}",
                     textwrap.shorten(str(v.get("model") or "?"), 12, placeholder="..."),
                     *(_num(sec.values(m)[i], "", _digits(sec.unit_of(m))) for m in cols)])
    fixed = [0.09, 0.11, 0.14, 0.09]
    widths = [*fixed, *([(1.0 - sum(fixed)) / max(len(cols), 1)] * len(cols))]
    y = _grid(fig, y, rows, header, widths) - 0.012
    if len(sec.h.visits) > len(shown):
        y = _text(fig, y, f"The latest {len(shown)} of {len(sec.h.visits)} visits; the plot "
                  "shows all.", 8)
    return y


def _reliability(fig, y: float, sec: _Section) -> float:
    fig.text(0.07, y, "Test-retest reliability over this patient's sessions", fontsize=11,
             weight="bold", va="top")
    y -= 0.025
    if not any(r.ok for r in sec.rel.values()):
        reason = next(iter(sec.rel.values())).reason if sec.rel else "no measure"
        return _text(fig, y, f"No values yet: {reason} (this exercise has "
                     f"{len(sec.h.visits)} stored session(s)).")
    rows, reasons = [], {}
    for m, r in sec.rel.items():
        unit, d = sec.unit_of(m), _digits(sec.unit_of(m))
        if r.ok:
            rows.append([_short(m), f"{r.icc:.2f}{' *' if r.rough else ''}",
                         _num(r.sem, unit, d),
                         _num(r.mdc95_rep, unit, d), _num(r.mdc95_mean, unit, d),
                         str(r.n_sessions), str(r.n_reps)])
        else:
            rows.append([_short(m), "no value", "", "", "", str(r.n_sessions), ""])
            reasons.setdefault(r.reason, []).append(_short(m))
    header = ["Measure", "ICC(3,1)", "SEM", "MDC95 single rep", "MDC95 session mean",
              "Sessions used", "Reps each"]
    y = _grid(fig, y, rows, header, [0.31, 0.10, 0.10, 0.12, 0.13, 0.12, 0.12]) - 0.012
    rough = [r.noise_df for r in sec.rel.values() if r.rough]
    if rough:
        y = _text(fig, y, f"* Rough: the noise rests on {min(rough)} degree(s) of freedom "
                  "((sessions - 1) x (repetitions - 1)); more sessions and repetitions "
                  "make these numbers firmer.", 8)
    for reason, names in reasons.items():
        y = _text(fig, y, f"No value for {', '.join(names)}: {reason}.", 8)
    left: dict[int, list[str]] = {}
    for m, r in sec.rel.items():
        if r.ok and r.left_out:
            left.setdefault(r.left_out, []).append(_short(m))
    for n, names in left.items():
        y = _text(fig, y, f"Left out of {', '.join(names)}: {n} session(s) with fewer than "
                  "2 complete repetitions that have a value.", 8)
    return _text(fig, y - 0.004, MEANING, 8, 125, color="#333")


def exercise_pages(pdf: PdfPages, h: ExerciseHistory, patient: str,
                   anonymize: bool = False) -> None:
    """The progress page of one exercise (and a page of goal plots when goals are on
    other measures than the range)."""
    sec = _Section(h)
    dates = [_when(v.get("started"), "%Y-%m-%d") for v in h.visits]
    if len(set(dates)) < len(dates):  # two visits on one day: the session tells them apart
        dates = [f"{d} #{v.get('id')}" for d, v in zip(dates, h.visits, strict=True)]
    fig = _page()
    fig.text(0.07, 0.955, f"Exercise progress: {h.title}", fontsize=14, weight="bold")
    sides = sorted({str(v["exercise"].get("side")) for v in h.visits}) or ["-"]
    y = _text(fig, 0.935, f"Patient {patient}; {len(h.visits)} stored session(s); side "
              f"{', '.join(sides)}; range = the counted movement's range, in {sec.unit}; "
              "values are means over each session's complete repetitions; range symmetry = "
              "min/max of the left and right range x 100 % (100 = symmetric).", 8.5)
    models = sorted({str(v.get("model")) for v in h.visits if v.get("model")})
    if len(models) > 1:  # a model changes the angles: that is no change of the patient
        y = _text(fig, y, f"Sessions were analysed with different pose models "
                  f"({', '.join(models)}): a change between them can come from the model.",
                  8.5, color="#b00000")
    if h.visits:
        y = _visit_table(fig, y - 0.005, sec, dates)
        ax = fig.add_axes([0.11, y - 0.20, 0.84, 0.17])
        _plot(ax, sec, "range", dates)
        y -= 0.225
        b = sec.band("range")
        y = _text(fig, y, "Range: " + xp.change_text(sec.values("range"), b, sec.unit),
                  9, weight="bold")
    else:
        y = _text(fig, y - 0.01, "No stored session of this exercise yet.")
    y = _goals(fig, y - 0.005, sec, anonymize)
    _reliability(fig, y - 0.01, sec)
    pdf.savefig(fig)
    others = [m for m in dict.fromkeys(g["measure"] for g in h.goals) if m != "range"]
    for start in range(0, len(others), 3):
        fig = _page()
        fig.text(0.07, 0.955, f"{h.title}: goals per visit", fontsize=14, weight="bold")
        for i, m in enumerate(others[start:start + 3]):
            ax = fig.add_axes([0.11, 0.66 - i * 0.30, 0.84, 0.22])
            _plot(ax, sec, m, dates)
            lines = [xp.change_text(sec.values(m), sec.band(m), sec.unit_of(m))]
            lines += [f"{goal_text(g)}: {sec.progress(g).text}" for g in h.goals
                      if g["measure"] == m]
            fig.text(0.11, 0.63 - i * 0.30, "\n".join(lines), fontsize=9, va="top")
        pdf.savefig(fig)


def _goals(fig, y: float, sec: _Section, anonymize: bool) -> float:
    fig.text(0.07, y, "Goals", fontsize=11, weight="bold", va="top")
    y -= 0.022
    if not sec.h.goals:
        return _text(fig, y, "No goal set. Set one in Patients and history, or with "
                     f"posture-monitor goals set PATIENT {sec.h.preset} MEASURE VALUE "
                     "--at-least.", 9)
    for g in sec.h.goals:
        p = sec.progress(g)
        when = f", {_when(p.when, '%Y-%m-%d')}" if p.when else ""
        note = f" Note: {g['note']}" if g.get("note") and not anonymize else ""
        y = _text(fig, y, f"{goal_text(g)}: {p.text}{when}.{note}", 9)
    return y


def repetitions_page(pdf: PdfPages, session: dict, exercise: dict) -> None:
    """One session's repetitions, complete or not (its own report)."""
    rows = exercise.get("per_rep") or []
    unit = next((r.get("unit") for r in rows if isinstance(r.get("unit"), str)), "deg")
    d = _digits(unit)
    cells = [[str(r.get("rep", "")), "yes" if r.get("complete") in (1, True) else "no",
              _num(r.get("start_s"), "", 1), _num(r.get("range"), "", d),
              _num(r.get("peak"), "", d), _num(r.get("duration_s"), "", 1),
              _num(r.get("range_symmetry_pct"), "", 0),
              textwrap.shorten(str(r.get("faults") or r.get("reason") or ""), 34,
                               placeholder="...")] for r in rows]
    header = ["Rep", "Complete", "Start, s", f"Range, {unit}", f"Peak, {unit}",
              "Duration, s", "Symmetry\n(min/max), %", "Form cues / reason"]
    for start in range(0, max(len(cells), 1), REPS_PER_PAGE):
        fig = _page()
        fig.text(0.07, 0.955, f"{exercise.get('title', '')}: repetitions of session "
                 f"#{session.get('id')}", fontsize=14, weight="bold")
        fig.text(0.07, 0.93, f"{exercise.get('reps', 0)} complete, "
                 f"{exercise.get('incomplete', 0)} incomplete; counted: "
                 f"{rows[0].get('signal', '') if rows else ''}", fontsize=9, va="top")
        chunk = cells[start:start + REPS_PER_PAGE] or [["no repetitions", *[""] * 7]]
        table = _table(fig, [0.07, 0.89, 0.86, 0.01], chunk, header,
                       [0.06, 0.10, 0.09, 0.11, 0.11, 0.11, 0.13, 0.29], 8.5, 1.4)
        for (r, _), cell in table.get_celld().items():
            if r == 0:
                cell.set_height(cell.get_height() * 2.0)
        pdf.savefig(fig)

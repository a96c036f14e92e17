"""PDF reports of one session and of a patient's visits, for the patient's file.

Plain data in (session and sample dicts), A4 portrait PDF out. No Qt: figures are built
with matplotlib's object API on the Agg canvas, never through pyplot, so making a report
neither needs a display nor changes the process-wide backend of a running GUI.
Missing readings stay missing ("no reading", gaps in plots), never 0.
"""

from __future__ import annotations

import math
import os
import tempfile
import textwrap
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.image import imread

from posture_monitor import __version__
from posture_monitor.core.classify.labels import LABELS, TRUNK_FLEXION_DEG
from posture_monitor.core.measure.definitions import (
    METRIC_BY_COLUMN,
    METRICS,
    SHORT_NAMES,
    SUMMARY_COLUMNS,
)
from posture_monitor.core.records.outputs import refuse_database
from posture_monitor.core.records.report_exercise import ExerciseHistory, repetitions_page
from posture_monitor.core.records.report_format import (
    A4,
    NO_READING,
    _duration,
    _fmt,
    _missing,
    _page,
    _patient,
    _share,
    _source,
    _summary,
    _table,
    _when,
)
from posture_monitor.core.records.report_gait import GaitHistory, movement_pages

# Smallest real change of app-based CVA: MDC 4.96 deg intra-rater, 5.52 deg inter-rater
# (Gallego-Izquierdo et al. 2020, docs/METRICS.md). A change between visits inside
# +-MDC is measurement noise and must not be presented as progress.
MDC_CVA_DEG = 5.0
# Torso inclination has no published MDC for this set-up: 5 deg is a convention chosen
# to match the CVA value, used only to draw the same kind of noise band.
MDC_TORSO_DEG = 5.0

# The summary table's rows and names come from the metric table (its `summary` flag and
# short names), so the report lists exactly the medians the store keeps.
SUMMARY_ROWS = SUMMARY_COLUMNS
REFERENCES = (
    "Lau et al. 2009, Manual Therapy 14:363: CVA of normal adults 50.6 (SD 2.1) deg vs "
    "43.9 (SD 3.6) deg with neck pain.",
    "Mostafaee et al.: CVA 45.5 deg separates slight from moderate-to-severe forward head "
    "posture (sensitivity 0.93, AUC 0.88).",
    "Shaghayegh Fard et al. 2016, Eur Spine J: CVA is larger sitting than standing.",
    "Gallego-Izquierdo et al. 2020: smallest real change of app-based CVA about 5 deg "
    "(MDC 4.96 intra-, 5.52 inter-rater); BMC Pediatrics 2022: about 1.4 deg matters "
    "clinically.",
    "McAtamney & Corlett 1993 (RULA): trunk 0-20 deg flexion = 2, 20-60 = 3, >60 = 4.",
    "Cosoli 2026; Puig-Divi et al. 2019: 2D accuracy depends on camera geometry; a true "
    "90 deg side view is best.",
)


def _metric_fmt(column: str, value: float | None) -> str:
    """A median in its metric's unit: ratios (of the shoulder width) at two decimals."""
    unit = METRIC_BY_COLUMN[column].unit
    return _fmt(value, "" if unit == "ratio" else unit, 2 if unit == "ratio" else 1)


class _TextFlow:
    """Writes wrapped lines top-down and starts a new page when one is full."""

    def __init__(self, pdf: PdfPages, title: str) -> None:
        self.pdf, self.title = pdf, title
        self.fig: Figure | None = None

    def _new_page(self) -> None:
        self.close()
        self.fig = _page()
        self.fig.text(0.07, 0.955, self.title, fontsize=15, weight="bold")
        self.y = 0.92

    def line(self, text: str, size: float = 8.0, indent: float = 0.0, weight: str = "normal",
             gap: float = 0.0) -> None:
        # about 110 characters of 8 pt fit the text width of an A4 page
        for part in textwrap.wrap(text, int(880 / size - indent * 120)) or [""]:
            if self.fig is None or self.y < 0.05:
                self._new_page()
            self.fig.text(0.07 + indent, self.y, part, fontsize=size, weight=weight, va="top")
            self.y -= size * 1.45 / 72 / A4[1]
        self.y -= gap

    def close(self) -> None:
        if self.fig is not None:
            self.pdf.savefig(self.fig)
            self.fig = None


@contextmanager
def _private_pdf(pdf_path: Path, title: str) -> Iterator[PdfPages]:
    # Written to a temporary file beside it (created 0600, so health data is never
    # readable by others, not even while the report is being written), then renamed over
    # the target: a failure (a full disk) leaves no half report and an earlier one whole.
    refuse_database(pdf_path)  # never over the session database, whoever asks
    pdf_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{pdf_path.name}-", suffix=".tmp",
                               dir=pdf_path.parent)
    try:
        with os.fdopen(fd, "wb") as fh, PdfPages(fh, metadata={"Title": title}) as pdf:
            yield pdf
        if os.name == "posix":
            os.chmod(tmp, 0o600)
        os.replace(tmp, pdf_path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)  # no half-written report left behind
        raise


def _cover_page(pdf: PdfPages, session: dict, anonymize: bool, omitted: int) -> None:
    fig, s = _page(), _summary(session)
    fig.text(0.07, 0.94, "Posture Monitor session report", fontsize=18, weight="bold")
    info = [
        ("Patient", _patient(session["patient_id"], session.get("display_name"), anonymize)),
        ("Session", f"#{session['id']}"),
        ("Started", _when(session.get("started"))),
        ("Ended", _when(session.get("ended"))),
        ("Duration", _duration(s.get("duration_s"))),
        ("Source", _source(str(session.get("source", "")), anonymize)),
        ("Pose model", f"{session.get('model', '')} (sha256 "
                       f"{(session.get('pose_model_sha256') or 'none')[:12]})"),
        ("Classifier", f"sha256 {(session.get('classifier_sha256') or 'none')[:12]}"),
        ("Software", f"posture_monitor {__version__}"),
    ]
    for i, (key, value) in enumerate(info):
        y = 0.89 - i * 0.024
        fig.text(0.07, y, key, fontsize=10, weight="bold")
        fig.text(0.25, y, value, fontsize=10)
    rows = [[SHORT_NAMES[c], _metric_fmt(c, s.get(c)),
             METRIC_BY_COLUMN[c].convention.split(";")[0]] for c in SUMMARY_ROWS]
    rows = [[a, b, textwrap.shorten(c, 64, placeholder="...")] for a, b, c in rows]
    rows += [["Good posture", _share(s.get("good_share")), "share of measured time"],
             ["Frames", NO_READING if _missing(s.get("frames")) else str(s["frames"]),
              "frames analysed"]]
    fig.text(0.07, 0.64, "Summary (medians over the session)", fontsize=12, weight="bold")
    _table(fig, [0.07, 0.36, 0.86, 0.26], rows, ["Measure", "Median", "Convention"],
           [0.24, 0.16, 0.60])
    note = ("Measurements, not a diagnosis. The angles are estimated from a webcam image "
            "with MediaPipe Pose; the CVA is a proxy (ear and shoulder stand in for tragus "
            "and C7) and runs lower than radiographic CVA. Thresholds are settings with "
            "cited defaults (see the definitions page). A change smaller than about 5 deg "
            "between visits is within measurement noise.")
    if omitted:
        note += f" {omitted} snapshot(s) left out: this report is anonymised."
    fig.text(0.07, 0.31, "\n".join(textwrap.wrap(note, 100)), fontsize=9, va="top",
             bbox={"facecolor": "#fff6e0", "edgecolor": "#d9a400", "pad": 6})
    pdf.savefig(fig)


def _series(ax, t: np.ndarray, samples: dict, column: str, label: str,
            color: str) -> str | None:
    """Plot one column; returns a "no reading" note when it has no value at all."""
    y = np.asarray(samples.get(column, np.full(t.shape, np.nan)), dtype=float)
    ax.plot(t, y, color=color, lw=1.0, label=label)  # NaN breaks the line: a visible gap
    if np.isfinite(y).any():
        return None
    metric = METRIC_BY_COLUMN.get(column)
    views = f" (measured only in {'/'.join(sorted(metric.views))} views)" if metric else ""
    return f"{label}: {NO_READING}{views}"


# Time plots: (title, y unit, ((column, legend label, colour), ...)) per panel.
PANELS = (
    (f"{SHORT_NAMES['cva_deg']} (smaller = head further forward)", "deg",
     (("cva_deg", SHORT_NAMES["cva_deg"], "C0"),)),
    (f"{SHORT_NAMES['torso_incl_deg']} (+ = forward)", "deg",
     (("torso_incl_deg", SHORT_NAMES["torso_incl_deg"], "C2"),)),
    ("Shoulder and head tilt (+ = subject's left higher)", "deg",
     (("shoulder_tilt_deg", SHORT_NAMES["shoulder_tilt_deg"], "C1"),
      ("head_tilt_deg", SHORT_NAMES["head_tilt_deg"], "C4"))),
    ("Overall imbalance score (0-100)", "score", (("score_overall", "Imbalance score", "C3"),)),
)


def _timeline_page(pdf: PdfPages, samples: dict) -> None:
    fig = _page()
    fig.suptitle("Session over time", fontsize=14, weight="bold", x=0.07, ha="left", y=0.97)
    axes = fig.subplots(len(PANELS), 1, sharex=True, gridspec_kw={
        "hspace": 0.35, "top": 0.92, "bottom": 0.07, "left": 0.11, "right": 0.95})
    t = np.asarray(samples["time_s"], dtype=float) / 60.0
    axes[1].axhspan(-TRUNK_FLEXION_DEG, TRUNK_FLEXION_DEG, color="tab:green", alpha=0.12,
                    label=f"RULA +-{TRUNK_FLEXION_DEG:g} deg")
    alert = np.array([s == "alert" for s in samples.get("alert_state", [])], dtype=bool)
    if alert.size == t.size and alert.any():  # AlertState.ALERT periods shaded
        axes[3].fill_between(t, 0, 100, where=alert, color="tab:red", alpha=0.12,
                             step="mid", label="alert")
    axes[3].set_ylim(0, 100)
    for ax, (title, unit, series) in zip(axes, PANELS, strict=True):
        missing = [n for n in (_series(ax, t, samples, *sd) for sd in series) if n]
        ax.set_title(title, fontsize=10, loc="left")
        ax.set_ylabel(unit)
        ax.grid(alpha=0.3)
        empty = len(missing) == len(series)
        if empty:
            ax.set_yticks([])  # no made-up scale around an empty plot
        if missing:  # one stacked note per panel; in a corner when other data is shown
            ax.text(*((0.5, 0.5) if empty else (0.01, 0.03)), "\n".join(missing),
                    transform=ax.transAxes, ha="center" if empty else "left",
                    va="center" if empty else "bottom", color="grey", fontsize=8)
        ax.legend(fontsize=7, loc="upper right")
    axes[-1].set_xlabel("time (minutes)")
    pdf.savefig(fig)


def _change_text(values: list[float | None], mdc: float, basis: str) -> str:
    known = [v for v in values if not _missing(v)]
    if len(known) < 2:
        return f"Change since first visit: {NO_READING} (fewer than two readings)"
    change = known[-1] - known[0]
    side = "within" if abs(change) < mdc else "beyond"
    return f"Change since first visit: {change:+.1f} deg ({side} the {mdc:g} deg {basis})"


def _progress_plot(ax, x: np.ndarray, values: list[float | None], title: str,
                   mdc: float | None = None, band_label: str = "", scale: float = 1.0,
                   ref: tuple[float, str] | None = None) -> None:
    y = np.array([np.nan if _missing(v) else v * scale for v in values], dtype=float)
    ax.plot(x, y, "o-", color="tab:blue")
    ax.set_title(title, fontsize=10, loc="left")
    ax.grid(alpha=0.3)
    known = y[~np.isnan(y)]
    if not known.size:
        ax.text(0.5, 0.5, NO_READING, transform=ax.transAxes, ha="center", color="grey")
        ax.set_yticks([])
        return
    shown = [known.min(), known.max()]
    if mdc is not None:
        ax.axhspan(known[0] - mdc, known[0] + mdc, color="grey", alpha=0.2, label=band_label)
        shown += [known[0] - mdc, known[0] + mdc]
    if ref is not None:
        ax.axhline(ref[0], color="tab:red", ls="--", lw=0.8, label=ref[1])
        shown.append(ref[0])
    lo, hi = min(shown), max(shown)
    pad = 0.1 * (hi - lo) or 1.0  # the band, the reference and every point stay in view
    ax.set_ylim(lo - pad, hi + pad)


def _progress_page(pdf: PdfPages, visits: list[dict]) -> None:
    fig = _page()
    fig.text(0.07, 0.955, "Progress across visits", fontsize=14, weight="bold")
    x = np.arange(len(visits))
    col = {c: [_summary(v).get(c) for v in visits]
           for c in (*SUMMARY_ROWS, "good_share")}
    rects = ([0.11, 0.70, 0.84, 0.20], [0.11, 0.45, 0.84, 0.15], [0.11, 0.25, 0.84, 0.11],
             [0.11, 0.06, 0.84, 0.11])
    ax_cva, ax_torso, ax_tilt, ax_good = (fig.add_axes(r) for r in rects)
    def median_title(column: str) -> str:
        return f"Median {SHORT_NAMES[column]}, deg"

    _progress_plot(ax_cva, x, col["cva_deg"], median_title("cva_deg"), MDC_CVA_DEG,
                   f"within measurement noise (MDC {MDC_CVA_DEG:g} deg)")
    _progress_plot(ax_torso, x, col["torso_incl_deg"], median_title("torso_incl_deg"),
                   MDC_TORSO_DEG, f"+-{MDC_TORSO_DEG:g} deg of first visit (convention)",
                   ref=(TRUNK_FLEXION_DEG, f"RULA flexion {TRUNK_FLEXION_DEG:g} deg"))
    _progress_plot(ax_tilt, x, col["shoulder_tilt_deg"], median_title("shoulder_tilt_deg"))
    _progress_plot(ax_good, x, col["good_share"], "Share of time in good posture (%)",
                   scale=100.0)
    ax_good.set_ylim(0, 100)
    labels = [_when(v.get("started"), "%Y-%m-%d") for v in visits]
    step = math.ceil(len(x) / 8)  # at most 8 date labels: more would overprint
    for ax in (ax_cva, ax_torso, ax_tilt, ax_good):
        ax.set_xticks(x[::step], labels[::step], fontsize=7)
        ax.set_xlim(-0.5, len(x) - 0.5)
        if ax.get_legend_handles_labels()[0]:  # above the plot, clear of the data
            ax.legend(fontsize=7, loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=2,
                      frameon=False)
    cva_tag = METRIC_BY_COLUMN["cva_deg"].picture_tag
    torso_tag = METRIC_BY_COLUMN["torso_incl_deg"].picture_tag
    fig.text(0.11, 0.655, f"{cva_tag}: " + _change_text(col["cva_deg"], MDC_CVA_DEG,
                                                       "smallest real change"),
             fontsize=10, weight="bold")
    fig.text(0.11, 0.405, f"{torso_tag}: " + _change_text(col["torso_incl_deg"], MDC_TORSO_DEG,
                                                         "band, a convention"), fontsize=9)
    pdf.savefig(fig)


def _definitions_pages(pdf: PdfPages) -> None:
    flow = _TextFlow(pdf, "Definitions used")
    flow.line("Metrics (2D: in the image plane; 3D: model-based, world landmarks; \"left\" = "
              "the subject's own left)",
              size=11, weight="bold", gap=0.004)
    for m in METRICS:
        flow.line(f"{m.title} [{m.unit}]", weight="bold")
        flow.line(m.convention, indent=0.02, gap=0.003)
    flow.line("Posture labels (thresholds are settings with cited defaults)", size=11,
              weight="bold", gap=0.004)
    for lbl in LABELS:
        flow.line(f"{lbl.name.replace('_', ' ')}: {lbl.threshold}", weight="bold")
        flow.line(lbl.definition, indent=0.02)
        flow.line("Source: " + lbl.source, indent=0.02, size=7.5, gap=0.003)
    flow.line("References (docs/METRICS.md)", size=11, weight="bold", gap=0.004)
    for ref in REFERENCES:
        flow.line("- " + ref, gap=0.002)
    flow.close()


def _snapshot_page(pdf: PdfPages, path: Path) -> None:
    fig = _page()
    fig.text(0.07, 0.955, f"Snapshot: {path.name}", fontsize=12, weight="bold")
    ax = fig.add_axes([0.05, 0.05, 0.90, 0.86])
    ax.imshow(imread(path))  # aspect "equal" keeps proportions, fitted into the box
    ax.axis("off")
    pdf.savefig(fig)


def _visits(session: dict, history: Sequence[dict] | None) -> list[dict]:
    """History plus the current session (once), oldest first."""
    visits = list(history or [])
    if all(v.get("id") != session.get("id") for v in visits):
        visits.append(session)
    return sorted(visits, key=lambda v: v.get("started") or "")


def session_report(session: dict, samples: dict, pdf_path: Path | str,
                   history: Sequence[dict] | None = None,
                   snapshots: list[Path] | None = None, anonymize: bool = False,
                   exercise: dict | None = None,
                   exercises: Sequence[ExerciseHistory] = (),
                   gait: GaitHistory | None = None) -> Path:
    """Write the report of one session; returns its path. Progress across visits is
    shown when the history, with this session, has two or more visits. Snapshots show
    the person, so an anonymised report leaves them out. An exercise session adds its
    repetitions (`exercise`, its object) and the progress in that exercise
    (`exercises`, report_exercise.histories); a gait session its gait pages (`gait`,
    report_gait.gait_history)."""
    pdf_path = Path(pdf_path)
    shots = [] if anonymize else [Path(p) for p in snapshots or []]
    omitted = len(snapshots or []) - len(shots)
    with _private_pdf(pdf_path, "Posture Monitor session report") as pdf:
        _cover_page(pdf, session, anonymize, omitted)
        _timeline_page(pdf, samples)
        visits = _visits(session, history)
        if len(visits) >= 2:
            _progress_page(pdf, visits)
        if exercise is not None:
            repetitions_page(pdf, session, exercise)
        who = _patient(session["patient_id"], session.get("display_name"), anonymize)
        movement_pages(pdf, exercises, gait, who, anonymize)
        _definitions_pages(pdf)
        for path in shots:
            _snapshot_page(pdf, path)
    return pdf_path


def patient_report(patient: dict, sessions: Sequence[dict], pdf_path: Path | str,
                   anonymize: bool = False,
                   exercises: Sequence[ExerciseHistory] = (),
                   gait: GaitHistory | None = None) -> Path:
    """Write a patient's overview (all sessions, progress, the progress per exercise in
    `exercises` and in gait, definitions); returns its path. Only session summaries are
    read: `samples` may be absent or None."""
    pdf_path = Path(pdf_path)
    visits = sorted(sessions, key=lambda v: v.get("started") or "")
    rows = [[_when(v.get("started")), _duration(_summary(v).get("duration_s")),
             _fmt(_summary(v).get("cva_deg")), _fmt(_summary(v).get("torso_incl_deg")),
             _share(_summary(v).get("good_share"))] for v in visits]
    per_page = 28
    with _private_pdf(pdf_path, "Posture Monitor patient report") as pdf:
        for start in range(0, max(len(rows), 1), per_page):
            fig = _page()
            fig.text(0.07, 0.94, "Posture Monitor patient report", fontsize=18,
                     weight="bold")
            name = _patient(patient["id"], patient.get("display_name"), anonymize)
            fig.text(0.07, 0.905, f"Patient: {name}    Sessions: {len(visits)}", fontsize=10)
            chunk = rows[start:start + per_page] or [["no sessions", "", "", "", ""]]
            _table(fig, [0.07, 0.10, 0.86, 0.78], chunk,
                   ["Date", "Duration", SHORT_NAMES["cva_deg"], SHORT_NAMES["torso_incl_deg"],
                    "Good posture"],
                   [0.26, 0.18, 0.18, 0.18, 0.20])
            fig.text(0.07, 0.05, "Measurements, not a diagnosis. Medians per session; "
                     "changes under 5 deg CVA are within measurement noise.", fontsize=9)
            pdf.savefig(fig)
        if len(visits) >= 2:
            _progress_page(pdf, visits)
        movement_pages(pdf, exercises, gait, name, anonymize)
        _definitions_pages(pdf)
    return pdf_path

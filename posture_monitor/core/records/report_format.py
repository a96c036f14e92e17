"""Formatting for the PDF reports: a missing value reads "no reading", never 0; the
A4 page and the table every report page uses."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

NO_READING = "no reading"
A4 = (8.27, 11.69)  # inches, portrait


def _page() -> Figure:
    fig = Figure(figsize=A4)
    FigureCanvasAgg(fig)  # explicit Agg canvas: no pyplot, no global backend switch
    return fig


def _table(fig: Figure, rect: Sequence[float], rows: list[list[str]], header: list[str],
           widths: list[float], fontsize: float = 9, row_scale: float = 1.5):
    ax = fig.add_axes(rect)
    ax.axis("off")
    table = ax.table(cellText=rows, colLabels=header, colWidths=widths, loc="upper left",
                     cellLoc="left")
    table.auto_set_font_size(False)
    table.set_fontsize(fontsize)
    table.scale(1.0, row_scale)
    for (row, _), cell in table.get_celld().items():
        if row == 0:
            cell.set_text_props(weight="bold", ha="left")
            cell.set_facecolor("#e8eef4")
    return table


def _missing(value: object) -> bool:
    try:  # None, NaN (also numpy scalars) and anything not a number count as no reading
        return value is None or math.isnan(float(value))
    except (TypeError, ValueError):
        return True


def _fmt(value: float | None, unit: str = "deg", digits: int = 1) -> str:
    return NO_READING if _missing(value) else f"{value:.{digits}f} {unit}".rstrip()


def _share(value: float | None) -> str:
    return NO_READING if _missing(value) else f"{100.0 * value:.0f} %"


def _duration(seconds: float | None) -> str:
    if _missing(seconds):
        return "unknown"
    minutes, sec = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {sec:02d} s"


def _when(iso: str | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if not iso:
        return "unknown"
    try:  # Python 3.10's fromisoformat does not accept a trailing "Z"
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).strftime(fmt)
    except ValueError:
        return iso


def _source(source: str, anonymize: bool) -> str:
    # A file name often carries the patient's name; a camera index never does.
    if not anonymize or source.startswith("camera") or source.isdigit():
        return source
    return "recorded file (name withheld)"


def _patient(patient_id: str, display_name: str | None, anonymize: bool) -> str:
    return patient_id if anonymize or not display_name else f"{patient_id} ({display_name})"


def _summary(session: dict) -> dict:
    return session.get("summary") or {}  # a session still running has no summary yet

"""Each fact has one definition (issue 12): these fail when a second copy comes back."""

from __future__ import annotations

import ast
from pathlib import Path

from posture_monitor.core.measure.definitions import METRICS, SHORT_NAMES, SUMMARY_COLUMNS
from posture_monitor.core.records import report, store

PACKAGE = Path(__file__).resolve().parents[1] / "posture_monitor"


def _string_constants(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.value for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def test_no_module_spells_a_metric_short_name_outside_the_metric_table():
    names = {m.short for m in METRICS} | {m.tag for m in METRICS if m.tag}
    # An alert's message names the problem ("Head forward" from the CVA or from the 3D
    # distance), not the measure: the same words, a different fact.
    allowed = {("core/posture/alerts.py", "Head forward")}
    copies = {}
    for path in PACKAGE.rglob("*.py"):
        if path.name == "definitions.py":
            continue
        where = str(path.relative_to(PACKAGE))
        found = {n for n in names & _string_constants(path) if (where, n) not in allowed}
        if found:
            copies[where] = sorted(found)
    assert copies == {}


def test_store_and_report_summaries_are_the_metric_tables_summary_flag():
    assert store.SUMMARY_METRICS == SUMMARY_COLUMNS == report.SUMMARY_ROWS
    assert tuple(m.column for m in METRICS if m.summary) == SUMMARY_COLUMNS
    assert all(SHORT_NAMES[c] for c in SUMMARY_COLUMNS)

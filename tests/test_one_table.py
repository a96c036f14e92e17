"""Each fact has one definition (issue 12): these fail when a second copy comes back."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from posture_monitor.core.measure.definitions import METRICS, SHORT_NAMES, SUMMARY_COLUMNS
from posture_monitor.core.records import report, samples

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
    assert samples.SUMMARY_METRICS == SUMMARY_COLUMNS == report.SUMMARY_ROWS
    assert tuple(m.column for m in METRICS if m.summary) == SUMMARY_COLUMNS
    assert all(SHORT_NAMES[c] for c in SUMMARY_COLUMNS)


def test_one_landmark_row_reader_rebuilds_the_pose_and_refuses_bad_rows():
    import numpy as np

    from posture_monitor.core.records.recorder import LANDMARK_FIELDS, pose_from_row
    from posture_monitor.core.vision.landmarks import NAMES

    rng = np.random.default_rng(0)
    values = rng.uniform(-1, 1, (len(NAMES), len(LANDMARK_FIELDS)))
    row = {f"{n}_{f}": f"{values[i, j]:.5f}" for i, n in enumerate(NAMES)
           for j, f in enumerate(LANDMARK_FIELDS)}
    pose = pose_from_row(row)
    np.testing.assert_allclose(pose.image, values[:, 0:3], atol=1e-5)
    np.testing.assert_allclose(pose.visibility, values[:, 3], atol=1e-5)
    np.testing.assert_allclose(pose.presence, values[:, 4], atol=1e-5)
    np.testing.assert_allclose(pose.world, values[:, 5:8], atol=1e-5)
    for bad in ({**row, "nose_wz": "nan"}, {**row, "nose_x": ""},
                {k: v for k, v in row.items() if k != "left_hip_vis"}):
        with pytest.raises(ValueError):
            pose_from_row(bad)


def test_the_landmark_columns_are_parsed_in_one_place():
    readers = [str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
               if '"pres"' in p.read_text(encoding="utf-8")]
    assert readers == ["core/records/recorder.py"]

"""The history window's exercise view (issue 13), offscreen: visits per exercise, range of
motion per visit with its band and goal lines, and goals set and deleted through the
same store functions as `posture-monitor goals` (their one-line refusals shown)."""

import pytest

from posture_monitor.core.records import exercise_store as es
from posture_monitor.core.records.store import Store
from tests.exercise_data import exercise, store_visit


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "s.sqlite3") as s:
        for day, ranges in ((2, [80.0, 84.0, 82.0]), (9, [90.0, 93.0, 88.0])):
            store_visit(s, "P1", day, exercise(ranges))
        store_visit(s, "P1", 12, exercise([60.0, 62.0], preset="lunge"))
        s.add_patient("P2")
        yield s


def _view(qtbot, store, patient="P1"):
    from posture_monitor.gui.history import HistoryWindow

    w = HistoryWindow(store, patient=patient)
    qtbot.addWidget(w)  # a weak reference: the caller keeps the window alive
    w.tabs.setCurrentWidget(w.exercise)
    return w, w.exercise


def test_the_exercise_view_shows_visits_the_band_and_the_reliability(qtbot, store):
    window, view = _view(qtbot, store)
    assert view.preset == "squat"  # the patient's own exercises come first
    assert view.visit_table.rowCount() == 2
    assert view.visit_table.item(0, 1).text() == "3 / 0"
    assert view.visit_table.item(1, 2).text() == "90.3 deg"
    assert view.plot.getPlotItem().listDataItems()  # range per visit is drawn
    assert view.band is not None  # two sessions of three repetitions: a band
    lo, hi = view.band.getRegion()
    assert (lo + hi) / 2 == pytest.approx(82.0)
    assert "ICC(3,1)" in view.note.text() and "set-up changes" in view.note.text()
    view.exercise.setCurrentIndex(view.exercise.findData("lunge"))
    assert view.visit_table.rowCount() == 1 and view.band is None
    assert "no band yet" in view.note.text()


def test_a_goal_set_in_the_window_is_the_stores_goal_with_its_progress(qtbot, store):
    window, view = _view(qtbot, store)
    view.measure.setCurrentIndex(view.measure.findData("range"))
    view.direction.setCurrentIndex(view.direction.findData("at_least"))
    view.value.setText("100")
    gid = view.set_goal()
    assert [g["id"] for g in es.goals(store, "P1", "squat")] == [gid]
    assert view.goal_table.rowCount() == 1
    assert view.goal_table.item(0, 1).text() == "Range of motion (counted movement) at " \
                                                "least 100 deg"
    assert "not yet, 9.7 deg to go" in view.goal_table.item(0, 2).text()
    assert len(view.goal_lines) == 1 and view.goal_lines[0].value() == 100.0
    view.goal_table.selectRow(0)
    view.delete_goal(ask=False)
    assert es.goals(store, "P1") == [] and view.goal_table.rowCount() == 0


@pytest.mark.parametrize(("text", "needle"), [("nan", "not a finite number"),
                                              ("", "not a number"),
                                              ("ninety", "not a number")])
def test_a_refused_goal_value_shows_the_stores_one_line_and_stores_nothing(
        qtbot, store, text, needle):
    window, view = _view(qtbot, store)
    view.value.setText(text)
    assert view.set_goal() is None
    assert needle in view.message.text()
    assert es.goals(store, "P1") == []


def test_a_patient_without_exercise_sessions_can_get_a_goal_first(qtbot, store):
    window, view = _view(qtbot, store, "P2")
    assert view.visit_table.rowCount() == 0 and view.preset == "squat"
    view.measure.setCurrentIndex(view.measure.findData("range_symmetry_pct"))
    view.value.setText("90")
    assert view.set_goal() is not None
    assert "no visit with this measure yet" in view.goal_table.item(0, 2).text()

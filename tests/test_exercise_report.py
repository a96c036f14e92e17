"""The report's exercise pages (issue 13): range of motion per visit with the
smallest-real-change band, the goals and the distance to them, and ICC/SEM/MDC95 when
there are repeated sessions; the reasons when there are not. Built from constructed
sessions stored in a real SQLite file (tests/exercise_data.py) and read by pdftotext."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from posture_monitor.core.records import exercise_store as es
from posture_monitor.core.records.exercise_progress import measure_repeatability
from posture_monitor.core.records.report import patient_report, session_report
from posture_monitor.core.records.report_exercise import histories, session_exercise
from posture_monitor.core.records.store import Store
from tests.exercise_data import exercise, store_visit

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None,
                                reason="needs poppler-utils")


def _text(pdf) -> str:
    out = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True,
                         capture_output=True, text=True).stdout
    return " ".join(out.split())


def _pages(pdf) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages")))


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "s.sqlite3") as s:
        yield s


def _three_visits(store):
    for day, ranges, left in ((2, [80.0, 84.0, 82.0], [96.0, 97.0, 95.0]),
                              (9, [90.0, 93.0, 88.0], [103.0, 104.0, 101.0]),
                              (16, [99.0, 103.0, 100.0], [112.0, 113.0, 111.0])):
        store_visit(store, "P1", day, exercise(ranges, knee_l=left))
    es.set_goal(store, "P1", "squat", "range", "at_least", 110, note="Ann wants to ski")
    es.set_goal(store, "P1", "squat", "knee_flex_r_deg_max", "at_least", 100)


def _patient_pdf(store, tmp_path, anonymize=False):
    return patient_report(store.patient("P1"), list(reversed(store.sessions("P1"))),
                          tmp_path / "p.pdf", anonymize=anonymize,
                          exercises=histories(store, "P1"))


def test_the_patient_report_shows_range_per_visit_the_goals_and_the_reliability(
        store, tmp_path):
    _three_visits(store)
    text = _text(_patient_pdf(store, tmp_path))
    assert "Exercise progress: Squat" in text
    # the table per visit: dates, repetitions, mean range, both knees' maxima, symmetry
    cells = text.replace(" ", "")
    first, last = (s["id"] for s in es.exercise_sessions(store, "P1", "squat")[::2])
    assert f"#{first}2024-05-023,0lite82.096.094.097.6" in cells
    assert f"#{last}2024-05-163,0lite100.7112.0112.798.7" in cells
    # the change since the first visit, against the session-mean MDC95
    visits = es.exercise_sessions(store, "P1", "squat")
    rel = measure_repeatability(visits, "range", "deg")
    assert rel.ok and rel.n_sessions == 3 and rel.n_reps == 3
    word = "beyond" if rel.mdc95_mean < 18.7 else "within"
    assert (f"Change since the first visit: +18.7 deg ({word} the {rel.mdc95_mean:.1f} deg "
            "smallest real change)") in text
    # goals: met or not, and how far
    assert "Range of motion (counted movement) at least 110 deg: not yet, 9.3 deg to go" in text
    assert "Knee flexion (right) maximum at least 100 deg: met" in text
    assert "Ann wants to ski" in text
    # the reliability table with its meaning and limits
    assert "Test-retest reliability" in text and "ICC(3,1)" in text
    assert f"{rel.icc:.2f}" in text and f"{rel.sem:.1f} deg" in text
    assert f"{rel.mdc95_rep:.1f} deg" in text
    assert "not a between-subject ICC" in text
    # a goal on another measure than the range gets its own plot page
    assert "Squat: goals per visit" in text


def test_one_session_has_no_band_and_no_reliability_and_says_why(store, tmp_path):
    store_visit(store, "P1", 2, exercise([80.0, 84.0]))
    text = _text(_patient_pdf(store, tmp_path))
    assert "Exercise progress: Squat" in text
    assert "no band yet: needs 2 or more sessions with 2 or more complete repetitions" in text
    assert "No values yet" in text and "1 stored session(s)" in text
    assert "No goal set" in text


def test_a_session_with_one_complete_repetition_is_left_out_of_the_reliability(
        store, tmp_path):
    store_visit(store, "P1", 2, exercise([80.0, 84.0]))
    store_visit(store, "P1", 5, exercise([86.0], incomplete=2))
    store_visit(store, "P1", 9, exercise([90.0, 91.0]))
    text = _text(_patient_pdf(store, tmp_path))
    assert ("Left out of Range of motion, Knee flexion (right) max: 1 session(s) with "
            "fewer than 2 complete repetitions") in text
    assert "1,2lite" in text.replace(" ", "")  # that visit's complete, incomplete reps


def test_the_anonymised_report_leaves_out_names_and_goal_notes(store, tmp_path):
    _three_visits(store)
    text = _text(_patient_pdf(store, tmp_path, anonymize=True))
    assert "Exercise progress: Squat" in text and "P1" in text
    assert "Ann" not in text and "ski" not in text


def test_an_exercise_sessions_report_lists_its_repetitions_and_its_progress(store,
                                                                          tmp_path):
    _three_visits(store)
    session = store.sessions("P1")[0]  # the latest visit
    exercise_obj, exercises = session_exercise(store, session)
    assert exercise_obj["reps"] == 3 and [h.preset for h in exercises] == ["squat"]
    pdf = session_report(session, store.samples(session["id"]), tmp_path / "s.pdf",
                         history=list(reversed(store.sessions("P1"))),
                         exercise=exercise_obj, exercises=exercises)
    text = _text(pdf)
    assert f"Squat: repetitions of session #{session['id']}" in text
    assert "3 complete, 0 incomplete" in text
    assert "Exercise progress: Squat" in text and "Test-retest reliability" in text
    posture_only = session_report(session, store.samples(session["id"]), tmp_path / "t.pdf")
    assert _pages(pdf) > _pages(posture_only)


def test_sessions_from_different_pose_models_are_flagged(store, tmp_path):
    store_visit(store, "P1", 2, exercise([80.0, 84.0]), model="lite")
    store_visit(store, "P1", 9, exercise([90.0, 93.0]), model="full")
    text = _text(_patient_pdf(store, tmp_path))
    assert "different pose models (full, lite)" in text

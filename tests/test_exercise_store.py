"""Exercise results and goals in the store (schema v6, issue 13): saved and read back,
removed with their session or patient, goals checked in one line, progress toward a goal,
and the exercise object carried by session export and import (checked like the rest of
the sidecar: the store is unchanged by a refused file)."""

import json
import math
import sqlite3

import pytest

from posture_monitor.core.common.errors import UserError
from posture_monitor.core.records import exercise_store as es
from posture_monitor.core.records import store_io
from posture_monitor.core.records.exercise_progress import (
    band,
    goal_status,
    measure_repeatability,
    series,
)
from posture_monitor.core.records.samples import summarize
from posture_monitor.core.records.schema import MIGRATIONS
from posture_monitor.core.records.store import SampleWriter, Store
from tests.exercise_data import exercise, store_visit


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "s.sqlite3") as s:
        yield s


def test_the_migration_adds_exercise_and_goal_tables_to_an_older_file(tmp_path):
    from posture_monitor.core.records.schema import _statements

    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as c:  # version 5, as that release left it, with a patient
        for script in MIGRATIONS[:5]:
            for stmt in _statements(script):
                c.execute(stmt)
        c.execute("PRAGMA user_version = 5")
        c.execute("INSERT INTO patients (id, created) VALUES ('P1', '2024-05-01')")
    with Store(path) as s:
        assert s.version == len(MIGRATIONS) == 8
        assert s.patient("P1") is not None
        assert s.query("SELECT count(*) FROM goals")[0][0] == 0


def test_an_exercise_is_stored_and_read_back_with_its_repetitions(store):
    ex = exercise([90.0, 94.0, 92.0], incomplete=1)
    sid = store_visit(store, "P1", 3, ex | {"files": {"reps_csv": "/home/ann/x.csv"}})
    back = es.exercise_of(store, sid)
    assert back["preset"] == "squat" and back["reps"] == 3 and back["incomplete"] == 1
    assert [r["rep"] for r in back["per_rep"]] == [1, 2, 3, 4]
    assert back["summary"]["range"] == pytest.approx(92.0)
    assert "files" not in back  # another computer's paths, often with a name in them
    assert es.exercise_of(store, store_visit(store, "P1", 4, exercise([80.0]))) is not None


def test_non_finite_numbers_are_stored_as_no_reading(store):
    ex = exercise([90.0, 91.0])
    ex["per_rep"][0]["peak_velocity"] = float("nan")
    ex["summary"]["peak"] = float("inf")
    sid = store_visit(store, "P1", 3, ex)
    row = store.query("SELECT per_rep_json, summary_json FROM exercise_results")[0]
    assert "NaN" not in row[0] and "Infinity" not in row[1]  # standard JSON only
    back = es.exercise_of(store, sid)
    assert back["per_rep"][0]["peak_velocity"] is None and back["summary"]["peak"] is None


def test_sessions_of_an_exercise_are_listed_oldest_first(store):
    late = store_visit(store, "P1", 20, exercise([100.0, 102.0]))
    early = store_visit(store, "P1", 2, exercise([80.0, 82.0]))
    store_visit(store, "P2", 5, exercise([70.0, 71.0]))
    store_visit(store, "P1", 9, exercise([60.0, 61.0], preset="lunge"))
    assert [s["id"] for s in es.exercise_sessions(store, "P1", "squat")] == [early, late]
    assert len(es.exercise_sessions(store, "P1")) == 3
    assert es.patient_presets(store, "P1") == ["squat", "lunge"]


def test_deleting_a_session_or_a_patient_removes_its_exercise_rows_and_goals(store):
    a = store_visit(store, "P1", 2, exercise([80.0, 82.0]))
    store_visit(store, "P1", 3, exercise([84.0, 86.0]))
    es.set_goal(store, "P1", "squat", "range", "at_least", 100)
    store.delete_session(a)
    assert store.query("SELECT count(*) FROM exercise_results")[0][0] == 1
    assert es.exercise_of(store, a) is None
    store.delete_patient("P1")
    assert store.query("SELECT count(*) FROM exercise_results")[0][0] == 0
    assert store.query("SELECT count(*) FROM goals")[0][0] == 0


def test_a_stored_session_keeps_the_exercise_its_sink_handed_over(store):
    from posture_monitor.core.run.sinks import StoredSession

    session = StoredSession(store, "P7", "squat.mp4", "lite", {})
    session.begin()
    session.exercise = exercise([95.0, 97.0])
    session.close("complete")
    assert store.session(session.id)["status"] == "complete"
    assert es.exercise_of(store, session.id)["reps"] == 2
    posture = StoredSession(store, "P7", "desk", "lite", {})
    posture.begin()
    posture.close("complete")
    assert es.exercise_of(store, posture.id) is None  # a posture session has none


def test_goals_are_set_listed_in_words_and_deleted(store):
    store_visit(store, "P1", 2, exercise([80.0, 82.0]))
    a = es.set_goal(store, "P1", "squat", "knee_flex_r_deg_max", "at_least", "110")
    b = es.set_goal(store, "P1", "squat", "range_symmetry_pct", "at_least", 90,
                    note="after the op")
    got = es.goals(store, "P1")
    assert [g["id"] for g in got] == [a, b]
    assert es.goal_text(got[0]) == "Knee flexion (right) maximum at least 110 deg"
    assert es.goal_text(got[1]) == "Range symmetry (min/max, %) at least 90 %"
    assert got[1]["note"] == "after the op"
    es.delete_goal(store, a)
    assert [g["id"] for g in es.goals(store, "P1")] == [b]
    with pytest.raises(UserError, match=f"no goal {a}"):
        es.delete_goal(store, a)
    es.delete_goal(store, b)
    # ids are typed to delete a goal: a deleted one's id never comes back
    assert es.set_goal(store, "P1", "squat", "range", "at_most", 120) > b


@pytest.mark.parametrize(("args", "needle"), [
    (("NOPE", "squat", "range", "at_least", 1), "no patient 'NOPE'"),
    (("P1", "squatx", "range", "at_least", 1), "unknown exercise 'squatx': choose one of "
                                              "squat"),
    (("P1", "squat", "knee_max", "at_least", 1), "unknown measure 'knee_max' for squat: "
                                                "choose range, peak"),
    (("P1", "squat", "range", "at_least", "nan"), "not a finite number"),
    (("P1", "squat", "range", "at_least", "inf"), "not a finite number"),
    (("P1", "squat", "range", "at_least", "1,5"), "not a number"),
    (("P1", "squat", "range_symmetry_pct", "at_least", 120), "outside 0 to 100 %"),
    (("P1", "squat", "range", "more", 1), "at_least or at_most"),
])
def test_goal_mistakes_are_one_line_errors_and_store_nothing(store, args, needle):
    store.add_patient("P1")
    with pytest.raises(UserError) as err:
        es.set_goal(store, *args)
    assert needle in str(err.value) and "\n" not in str(err.value)
    assert store.query("SELECT count(*) FROM goals")[0][0] == 0


def test_the_measure_list_names_the_presets_own_columns(store):
    store.add_patient("P1")
    with pytest.raises(UserError) as err:
        es.set_goal(store, "P1", "squat", "elbow_flex_r_deg_max", "at_least", 1)
    assert "knee_flex_r_deg" in str(err.value) and "hip_flex_l_deg" in str(err.value)
    # a shoulder exercise takes its own joint's columns
    assert es.set_goal(store, "P1", "shoulder_flexion", "shoulder_flex_r_deg_max",
                       "at_least", 150)


def test_progress_toward_a_goal_uses_the_latest_visit(store):
    for day, ranges in ((2, [80.0, 84.0]), (9, [92.0, 96.0]), (16, [99.0, 103.0])):
        store_visit(store, "P1", day, exercise(ranges))
    visits = es.exercise_sessions(store, "P1", "squat")
    up = es.goal(store, es.set_goal(store, "P1", "squat", "range", "at_least", 110))
    p = goal_status(up, visits)
    assert p.latest == pytest.approx(101.0) and p.met is False
    assert p.to_go == pytest.approx(9.0) and "9.0 deg to go" in p.text
    assert p.when.startswith("2024-05-16")
    down = es.goal(store, es.set_goal(store, "P1", "squat", "range", "at_most", 105))
    assert goal_status(down, visits).met is True
    assert "met" in goal_status(down, visits).text


def test_a_gap_smaller_than_the_noise_is_said_to_be_within_it(store):
    for day, ranges in ((2, [90.0, 100.0]), (9, [105.0, 95.0])):
        store_visit(store, "P1", day, exercise(ranges))
    visits = es.exercise_sessions(store, "P1", "squat")
    g = es.goal(store, es.set_goal(store, "P1", "squat", "range", "at_least", 101))
    rel = measure_repeatability(visits, "range", "deg")
    assert rel.ok and rel.mdc95_mean > 10.0  # the repetitions scatter by 10 deg
    p = goal_status(g, visits)
    assert p.to_go == pytest.approx(1.0) and "within the" in p.text


def test_the_band_is_the_first_visit_plus_minus_the_session_mean_mdc(store):
    for day, ranges in ((2, [80.0, 84.0, 82.0]), (9, [90.0, 88.0])):
        store_visit(store, "P1", day, exercise(ranges))
    visits = es.exercise_sessions(store, "P1", "squat")
    values = series(visits, "range")
    rel = measure_repeatability(visits, "range")
    b = band(values, rel)
    assert b.centre == pytest.approx(82.0) and b.half_width == pytest.approx(rel.mdc95_mean)
    assert rel.n_reps == 2 and rel.n_sessions == 2
    one = band(values[:1], measure_repeatability(visits[:1], "range"))
    assert not one.ok and "no band yet" in one.reason


def test_values_counted_on_another_signal_are_not_compared(store):
    side = exercise([80.0, 82.0])
    front = exercise([0.6, 0.7])
    for row in front["per_rep"]:
        row["unit"], row["signal"] = "ratio", "hip_height_ratio"
    store_visit(store, "P1", 2, side)
    store_visit(store, "P1", 9, front)
    visits = es.exercise_sessions(store, "P1", "squat")
    assert series(visits, "range", "deg") == [pytest.approx(81.0), None]
    assert series(visits, "knee_flex_r_deg_max", "deg")[1] is not None  # a column: same unit


# -- export and import ----------------------------------------------------------------
def _exported(tmp_path, store):
    sid = store_visit(store, "P1", 3, exercise([90.0, 94.0], incomplete=1))
    w = SampleWriter(store, sid)
    for i in range(3):
        w.add({"frame": i, "time_s": i / 10, "view": "right", "alert_state": "ok"})
    w.close()
    store.finish_session(sid, summarize(store.samples(sid)))
    out = tmp_path / "e.csv"
    store_io.export_session(store, sid, out, anonymize=True)
    return out


def test_export_and_import_carry_the_exercise(tmp_path, store):
    out = _exported(tmp_path, store)
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["exercise"]["preset"] == "squat"
    sid = store_io.import_session(store, out, "P2")
    back = es.exercise_of(store, sid)
    assert back["reps"] == 2 and back["incomplete"] == 1
    assert back["summary"]["range"] == pytest.approx(92.0)


def test_an_imported_summary_is_rebuilt_from_the_repetitions(tmp_path, store):
    out = _exported(tmp_path, store)
    side = out.with_suffix(".json")
    meta = json.loads(side.read_text())
    meta["exercise"]["summary"]["range"] = 500.0  # a file's own claim is not trusted
    meta["exercise"]["reps"] = 40
    side.write_text(json.dumps(meta))
    back = es.exercise_of(store, store_io.import_session(store, out, "P2"))
    assert back["summary"]["range"] == pytest.approx(92.0) and back["reps"] == 2


def _edit(meta, path, value):
    target = meta
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value


@pytest.mark.parametrize(("path", "value", "field"), [
    (["exercise", "preset"], "yoga", "exercise.preset"),
    (["exercise", "per_rep"], KeyError, "exercise.per_rep"),
    (["exercise", "per_rep"], "none", "exercise.per_rep"),
    (["exercise", "per_rep", 0, "range"], math.inf, "exercise.per_rep.0.range"),
    (["exercise", "per_rep", 1, "range"], 1e9, "exercise.per_rep.1.range"),
    (["exercise", "per_rep", 0, "range"], "far", "exercise.per_rep.0.range"),
    (["exercise", "per_rep", 0, "complete"], 2, "exercise.per_rep.0.complete"),
    (["exercise", "per_rep", 0, "signal"], "knee\x1b[2J", "exercise.per_rep.0.signal"),
    (["exercise", "per_rep", 0, "Bad Key"], 1.0, "exercise.per_rep.0"),
    (["exercise", "side"], "middle", "exercise.side"),
    (["exercise", "title"], "Squat\nagain", "exercise.title"),
])
def test_a_bad_exercise_object_is_refused_in_one_line_and_stores_nothing(
        tmp_path, store, path, value, field):
    out = _exported(tmp_path, store)
    side = out.with_suffix(".json")
    meta = json.loads(side.read_text())
    _edit(meta, path, value)
    side.write_text(json.dumps(meta, indent=2))  # json writes inf as Infinity
    before = (store.query("SELECT count(*) FROM sessions")[0][0],
              store.query("SELECT count(*) FROM exercise_results")[0][0])
    with pytest.raises(UserError) as err:
        store_io.import_session(store, out, "P2")
    text = str(err.value)
    assert "\n" not in text and f"field {field}" in text and str(side) in text, text
    assert "line " in text
    after = (store.query("SELECT count(*) FROM sessions")[0][0],
             store.query("SELECT count(*) FROM exercise_results")[0][0])
    assert after == before

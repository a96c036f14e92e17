"""Gait results and gait goals in the store (schema v7, issue 14): the gait object of a
real `analyze --gait --patient P1 --save` run is stored with its session, read back, and
gone with it; a real v6 file is migrated with its data kept; gait goals are set, listed
and refused on the command line in one line; progress and noise across visits are the
hand-computed values."""

from __future__ import annotations

import copy
import functools
import json
import math
import os
import sqlite3
import tempfile
from pathlib import Path

import numpy as np
import pytest

from posture_monitor import cli
from posture_monitor.core.common.errors import UserError
from posture_monitor.core.records import exercise_store as es
from posture_monitor.core.records import gait_progress as gp
from posture_monitor.core.records import gait_store as gs
from posture_monitor.core.records.schema import MIGRATIONS, _statements
from posture_monitor.core.records.store import Store

pytestmark = pytest.mark.slow  # one real analysis of the sports2d clip (about 15 s)


@functools.lru_cache(maxsize=1)
def real_run(video: str) -> tuple[Path, dict]:
    """`analyze VIDEO --gait --patient P1 --save` once per test process, in a private data
    folder: (that folder, the sidecar's gait object)."""
    home = Path(tempfile.mkdtemp(prefix="gait-home-"))
    before = os.environ.get("POSTURE_MONITOR_DATA_HOME")
    os.environ["POSTURE_MONITOR_DATA_HOME"] = str(home)
    try:
        rc = cli.main(["analyze", video, "--out", str(home / "out"), "--gait",
                       "--classifier", "none", "--patient", "P1", "--save", "--quiet"])
    finally:
        if before is None:
            os.environ.pop("POSTURE_MONITOR_DATA_HOME")
        else:
            os.environ["POSTURE_MONITOR_DATA_HOME"] = before
    assert rc == 0
    sidecar = json.loads((home / "out" / f"{Path(video).stem}.json").read_text())
    return home, sidecar["gait"]


@pytest.fixture
def real(sports2d_video):
    return real_run(str(sports2d_video))


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "s.sqlite3") as s:
        yield s


def gait_visit(store, patient: str, day: int, gait: dict, model: str = "lite") -> int:
    """A finished session of `patient` on 2024-05-<day> with the gait object `gait`."""
    if store.patient(patient) is None:
        store.add_patient(patient, "Ann Example")
    sid = store.start_session(patient, "walk.mp4", model, {"model": model},
                              started=f"2024-05-{day:02d}T10:00:00+00:00")
    gs.save_gait(store, sid, gait)
    store.finish_session(sid, {"frames": 0, "duration_s": 8.0}, "complete",
                         ended=f"2024-05-{day:02d}T10:01:00+00:00")
    return sid


def with_feet(gait: dict, key: str, left: list[float], right: list[float]) -> dict:
    """`gait` with one measure's per-foot mean, SD and n taken from these step values,
    and its symmetry recomputed, as core/movement/gait.py makes them."""
    g = copy.deepcopy(gait)
    g[key] = {f: {"mean": float(np.mean(v)), "sd": float(np.std(v, ddof=1)), "n": len(v)}
              for f, v in (("left", left), ("right", right))}
    lo, hi = sorted((np.mean(left), np.mean(right)))
    if key in g["symmetry"]:
        g["symmetry"][key] = {"si_pct": (hi - lo) / (0.5 * (hi + lo)) * 100,
                              "ratio_pct": lo / hi * 100}
    if key == "step_time_s":
        g["cadence_steps_per_min"] = 60.0 / float(np.mean([*left, *right]))
    return g


def test_the_real_run_stores_its_gait_object_without_the_file_paths(real):
    home, sidecar = real
    assert sidecar["steps"] >= 4 and sidecar["files"]  # the run found the walker's steps
    with Store(home / "posture-monitor.sqlite3") as store:
        (visit,) = gs.gait_sessions(store, "P1")
        assert visit["status"] == "complete"
        stored = visit["gait"]
        assert "files" not in stored  # another folder's paths, often with a name in them
        assert stored == {k: v for k, v in sidecar.items() if k != "files"}
        assert len(stored["curves"]["knee_flex_deg"]["left"]["mean"]) == 101
        assert gs.gait_of(store, visit["id"]) == stored


def test_save_replaces_cleans_non_finite_numbers_and_goes_with_its_session(store, real):
    g = copy.deepcopy(real[1])
    g["cadence_steps_per_min"] = float("nan")
    g["step_time_s"]["left"]["sd"] = float("inf")
    sid = gait_visit(store, "P1", 2, g)
    assert "NaN" not in store.query("SELECT summary_json FROM gait_results")[0][0]
    back = gs.gait_of(store, sid)
    assert back["cadence_steps_per_min"] is None and back["step_time_s"]["left"]["sd"] is None
    gs.save_gait(store, sid, {**g, "steps": 99})  # saved again: replaced, not added
    assert store.query("SELECT count(*) FROM gait_results")[0][0] == 1
    assert gs.gait_of(store, sid)["steps"] == 99
    with pytest.raises(UserError):
        gs.save_gait(store, 12345, g)  # no such session
    store.delete_session(sid)
    assert store.query("SELECT count(*) FROM gait_results")[0][0] == 0


def test_a_stored_session_keeps_the_gait_object_its_sink_handed_over(store, real):
    from posture_monitor.core.run.sinks import StoredSession

    session = StoredSession(store, "P7", "walk.mp4", "lite", {})
    session.begin()
    session.gait = real[1]
    session.close("complete")
    assert gs.gait_of(store, session.id)["steps"] == real[1]["steps"]
    plain = StoredSession(store, "P7", "desk", "lite", {})
    plain.begin()
    plain.close("complete")
    assert gs.gait_of(store, plain.id) is None


def test_a_version_6_file_is_migrated_with_its_data_kept(tmp_path, real):
    path = tmp_path / "v6.sqlite3"
    with sqlite3.connect(path) as c:  # what the previous release created, with data in it
        for script in MIGRATIONS[:6]:
            for stmt in _statements(script):
                c.execute(stmt)
        c.execute("PRAGMA user_version = 6")
        c.execute("INSERT INTO patients (id, created) VALUES ('P1', '2024-05-01')")
        c.execute("INSERT INTO sessions (id, patient_id, started, source, model, status) "
                  "VALUES (1, 'P1', '2024-05-02T10:00:00+00:00', 'squat.mp4', 'lite', "
                  "'complete')")
        c.execute("INSERT INTO exercise_results VALUES (1, 'squat', 'both', ?, '[]')",
                  (json.dumps({"preset": "squat", "reps": 2}),))
        c.execute("INSERT INTO goals (patient_id, preset, measure, direction, value, unit) "
                  "VALUES ('P1', 'squat', 'range', 'at_least', 100, 'deg')")
    with Store(path) as s:
        assert s.version == len(MIGRATIONS) == 8  # v7 gait results, v8 3D sample columns
        assert es.exercise_of(s, 1)["reps"] == 2 and len(es.goals(s, "P1")) == 1
        assert s.query("SELECT count(*) FROM gait_results")[0][0] == 0
        gs.save_gait(s, 1, real[1])  # the old session takes a gait object now
        assert gs.gait_of(s, 1)["steps"] == real[1]["steps"]
        s.delete_patient("P1")
        assert s.query("SELECT count(*) FROM gait_results")[0][0] == 0  # cascades


def run_cli(monkeypatch, capsys, home: Path, *args) -> tuple[int, str, str]:
    monkeypatch.setenv("POSTURE_MONITOR_DATA_HOME", str(home))
    rc = cli.main([str(a) for a in args])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_gait_goals_on_the_command_line(monkeypatch, capsys, tmp_path, real):
    home = tmp_path / "home"
    home.mkdir()
    with Store(home / "posture-monitor.sqlite3") as store:
        g = real[1]
        gait_visit(store, "P1", 2, g)
    ratio = g["symmetry"]["step_time_s"]["ratio_pct"]
    rc, out, _ = run_cli(monkeypatch, capsys, home, "goals", "set", "P1", "gait",
                         "step_time_symmetry_ratio_pct", "90", "--at-least", "--note", "shop")
    assert rc == 0 and "gait: Step time symmetry (min/max) at least 90 %" in out
    rc, out, _ = run_cli(monkeypatch, capsys, home, "goals", "set", "P1", "gait",
                         "cadence_steps_per_min", "200", "--at-least")
    assert rc == 0
    rc, out, _ = run_cli(monkeypatch, capsys, home, "goals", "list", "P1")
    assert rc == 0
    lines = out.strip().splitlines()
    assert len(lines) == 2
    met = "met" if ratio >= 90 else "not yet"
    assert lines[0].split("\t")[1:3] == ["gait", "Step time symmetry (min/max) at least 90 %"]
    assert lines[0].split("\t")[3].startswith(met) and f"latest {ratio:.1f} %" in lines[0]
    cad = g["cadence_steps_per_min"]
    assert f"not yet, {200 - cad:.1f} steps/min to go (latest {cad:.1f} steps/min)" in lines[1]
    for args, needle in (
            (("cadence", "90"), "unknown measure 'cadence' for gait: choose "
                                "cadence_steps_per_min, step_time_s_left"),
            (("stance_pct_left", "120"), "outside 0 to 100 %"),
            (("step_time_s_left", "-1"), "not above 0"),
            (("step_time_s_left", "nan"), "not a finite number")):
        rc, out, err = run_cli(monkeypatch, capsys, home, "goals", "set", "P1", "gait",
                               *args, "--at-most")
        assert rc == 2 and needle in err, err
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    rc, _, err = run_cli(monkeypatch, capsys, home, "goals", "set", "P9", "gait",
                         "cadence_steps_per_min", "90", "--at-least")
    assert rc == 2 and "no patient 'P9'" in err
    gid = lines[1].split("\t")[0]
    rc, out, _ = run_cli(monkeypatch, capsys, home, "goals", "delete", gid, "--yes")
    assert rc == 0 and "Cadence at least 200 steps/min" in out
    with Store(home / "posture-monitor.sqlite3") as store:
        assert [x["measure"] for x in gs.gait_goals(store, "P1")] == [
            "step_time_symmetry_ratio_pct"]


def test_progress_across_three_visits_is_the_hand_computed_one(store, real):
    base = real[1]
    steps = ([0.70, 0.72, 0.74], [0.60, 0.64, 0.62]), ([0.66, 0.64], [0.62, 0.60, 0.61]), \
        ([0.60, 0.61, 0.59, 0.60], [0.59, 0.60, 0.61, 0.60])
    for day, (left, right) in zip((2, 9, 16), steps, strict=True):
        gait_visit(store, "P1", day, with_feet(base, "step_time_s", left, right))
    visits = gs.gait_sessions(store, "P1")
    assert [v["started"][:10] for v in visits] == ["2024-05-02", "2024-05-09", "2024-05-16"]
    left = gp.series(visits, "step_time_s_left")
    assert left == pytest.approx([0.72, 0.65, 0.60])
    ratio = gp.series(visits, "step_time_symmetry_ratio_pct")
    assert ratio == pytest.approx([0.62 / 0.72 * 100, 0.61 / 0.65 * 100, 100.0])
    # the SEM of a visit's left mean is its SD / sqrt(n); the band's is their RMS
    sems = [np.std(v, ddof=1) / math.sqrt(len(v)) for v, _ in steps]
    noise = gp.measure_noise(visits, "step_time_s_left")
    assert noise.sem == pytest.approx(math.sqrt(np.mean(np.square(sems))))
    assert noise.mdc95 == pytest.approx(1.96 * math.sqrt(2) * noise.sem)
    assert noise.visits_used == 3 and noise.df == 2 + 1 + 3 and not noise.rough
    b = gp.band(left, noise)
    assert b.centre == pytest.approx(0.72) and b.half_width == pytest.approx(noise.mdc95)
    assert gp.change_text(left, b, "step_time_s_left") == (
        f"Change since the first visit: -0.120 s (beyond the {noise.mdc95:.3f} s smallest "
        "real change)")
    # cadence: both feet's step times pooled, propagated through 60 / mean
    first = np.array([*steps[0][0], *steps[0][1]])
    se, _ = gp.visit_sem(visits[0]["gait"], gs.MEASURE_BY_NAME["cadence_steps_per_min"])
    assert se == pytest.approx(60 * first.std(ddof=1) / math.sqrt(6) / first.mean() ** 2)
    # a ratio: first-order propagation of both feet's SEMs
    (lv, rv) = steps[0]
    sl, sr = (np.std(v, ddof=1) / math.sqrt(len(v)) for v in (lv, rv))
    se, df = gp.visit_sem(visits[0]["gait"],
                          gs.MEASURE_BY_NAME["step_time_symmetry_ratio_pct"])
    assert se == pytest.approx(ratio[0] * math.hypot(sl / np.mean(lv), sr / np.mean(rv)))
    assert df == 4
    # goals against the latest visit
    goal = es.goal(store, gs.set_goal(store, "P1", "step_time_symmetry_ratio_pct",
                                      "at_least", 90))
    assert gp.goal_status(goal, visits).text == "met (latest 100.0 %)"
    slow = es.goal(store, gs.set_goal(store, "P1", "step_time_s_left", "at_most", 0.55))
    p = gp.goal_status(slow, visits)
    assert not p.met and p.to_go == pytest.approx(0.05)
    assert p.text.startswith("not yet, 0.050 s to go (latest 0.600 s)")
    assert p.when.startswith("2024-05-16")


def test_one_visit_with_single_steps_has_no_band_and_says_why(store, real):
    g = with_feet(real[1], "step_time_s", [0.6, 0.62], [0.6, 0.61])
    g["step_time_s"]["left"] = {"mean": 0.6, "sd": None, "n": 1}
    gait_visit(store, "P1", 2, g)
    visits = gs.gait_sessions(store, "P1")
    noise = gp.measure_noise(visits, "step_time_s_left")
    assert not noise.ok and noise.reason == ("needs a visit with 2 or more left steps that "
                                             "have this value")
    b = gp.band(gp.series(visits, "step_time_s_left"), noise)
    assert not b.ok and b.reason.startswith("no band yet")
    assert gp.change_text([0.6], b, "step_time_s_left") == (
        "Change since the first visit: needs two visits with a value")


def test_gait_goes_with_a_session_through_import_and_export(tmp_path, real):
    """analyze's CSV + sidecar imported into another store keep the gait object; its
    export and re-import too (the file paths never travel)."""
    from posture_monitor.core.records.store_io import export_session, import_session

    home, gait = real
    with Store(tmp_path / "a.sqlite3") as a:
        sid = import_session(a, home / "out" / "sports2d_demo.csv", patient_id="P9")
        stored = gs.gait_of(a, sid)
        assert stored["cadence_steps_per_min"] == pytest.approx(gait["cadence_steps_per_min"])
        assert stored["curves"] == gait["curves"] and "files" not in stored
        export_session(a, sid, tmp_path / "exp" / "visit.csv")
    exported = json.loads((tmp_path / "exp" / "visit.json").read_text())
    assert exported["gait"]["steps"] == gait["steps"]
    with Store(tmp_path / "b.sqlite3") as b:
        sid = import_session(b, tmp_path / "exp" / "visit.csv")
        assert gs.gait_of(b, sid) == stored


def test_a_damaged_gait_field_is_refused_in_one_line_and_stores_nothing(tmp_path, real):
    from posture_monitor.core.common.errors import UserError
    from posture_monitor.core.records.store_io import import_session

    home, _ = real
    meta = json.loads((home / "out" / "sports2d_demo.json").read_text())
    meta["gait"]["cadence_steps_per_min"] = "fast"
    (tmp_path / "walk.csv").write_bytes((home / "out" / "sports2d_demo.csv").read_bytes())
    (tmp_path / "walk.json").write_text(json.dumps(meta, indent=2))
    with Store(tmp_path / "c.sqlite3") as c:
        with pytest.raises(UserError) as err:
            import_session(c, tmp_path / "walk.csv", patient_id="P9")
        assert "field gait.cadence_steps_per_min" in str(err.value)
        assert "\n" not in str(err.value)
        assert c.query("SELECT count(*) FROM sessions")[0][0] == 0

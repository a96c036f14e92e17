"""Issue 13 end to end on the real side-view squat clip (tests/fixtures/exercise_side_mit):
`analyze --exercise squat --patient P1 --save` twice (with the lite and the full pose model,
so the two visits differ, if only by the model) stores two exercise sessions; the command
line sets and lists goals, shows a session's exercise, and writes the reports with the
exercise pages; deleting a session takes its exercise rows along."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from posture_monitor.core.movement.measures import summary_from_rows
from posture_monitor.core.records import exercise_store as es
from posture_monitor.core.records.store import Store
from tests.conftest import FIXTURES, ROOT

SQUAT = FIXTURES / "exercise_side_mit" / "squat_side_barbell.mp4"
CLI = [sys.executable, "-m", "posture_monitor"]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    home = tmp_path_factory.mktemp("exercise-home")
    env = dict(os.environ, POSTURE_MONITOR_DATA_HOME=str(home))
    out = home / "results"
    # the second visit replaces the first's files (its session keeps its stored numbers)
    for model, extra in (("lite", []), ("full", ["--overwrite"])):
        proc = subprocess.run([*CLI, "analyze", str(SQUAT), "--out", str(out), "--exercise",
                               "squat", "--model", model, "--patient", "P1", "--save",
                               "--quiet", *extra], capture_output=True, text=True, cwd=ROOT,
                              env=env, timeout=600)
        assert proc.returncode == 0, proc.stderr
    return home, env, out


def cli(env, *args):
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=300, stdin=subprocess.DEVNULL)


def one_line_error(proc) -> str:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    return lines[0]


def test_both_runs_are_stored_with_their_exercise(home):
    path, _, out = home
    sidecar = json.loads((out / "squat_side_barbell.json").read_text())["exercise"]
    with Store(path / "posture-monitor.sqlite3") as store:
        visits = es.exercise_sessions(store, "P1", "squat")
        assert len(visits) == 2
        for v in visits:
            ex = v["exercise"]
            assert ex["reps"] == 2 and ex["incomplete"] == 0 and len(ex["per_rep"]) == 2
            assert ex["summary"]["range"] > 80  # two deep squats
            # what the store keeps is what the run wrote, and rebuilds from its rows
            assert ex["summary"] == pytest.approx(summary_from_rows(ex["per_rep"]))
        assert visits[-1]["exercise"]["summary"] == pytest.approx(sidecar["summary"])


def test_goals_on_the_command_line(home):
    _, env, _ = home
    ok = cli(env, "goals", "set", "P1", "squat", "knee_flex_r_deg_max", "130", "--at-least",
             "--note", "deep squat for skiing")
    assert ok.returncode == 0, ok.stderr
    assert "Knee flexion (right) maximum at least 130 deg" in ok.stdout
    gid = ok.stdout.split()[1].rstrip(":")
    listed = cli(env, "goals", "list", "P1")
    assert listed.returncode == 0
    assert "Knee flexion (right) maximum at least 130 deg\tnot yet," in listed.stdout
    assert "deg to go (latest" in listed.stdout
    assert "unknown measure 'knee'" in one_line_error(
        cli(env, "goals", "set", "P1", "squat", "knee", "1", "--at-most"))
    assert "not a finite number" in one_line_error(
        cli(env, "goals", "set", "P1", "squat", "range", "inf", "--at-most"))
    assert "unknown exercise 'jumping'" in one_line_error(
        cli(env, "goals", "set", "P1", "jumping", "range", "1", "--at-most"))
    assert "no patient 'P9'" in one_line_error(cli(env, "goals", "list", "P9"))
    # deleting asks; without a terminal and without --yes nothing is deleted
    assert "without confirmation" in one_line_error(cli(env, "goals", "delete", gid))
    assert cli(env, "goals", "delete", gid, "--yes").returncode == 0
    assert "no goals for patient P1" in cli(env, "goals", "list", "P1").stdout
    assert "no goal" in one_line_error(cli(env, "goals", "delete", gid, "--yes"))


def test_sessions_show_names_the_exercise_measures_in_words(home):
    _, env, _ = home
    sid = cli(env, "sessions", "list", "--patient", "P1").stdout.split()[0]
    shown = json.loads(cli(env, "sessions", "show", sid).stdout)
    ex = shown["exercise"]
    assert ex["preset"] == "squat" and ex["reps"] == 2
    words = ex["summary_in_words"]
    assert words["range of motion (counted movement)"].endswith(" deg")
    assert words["Knee flexion (right) maximum"].endswith(" deg")


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils")
def test_reports_carry_the_exercise_pages_with_the_reliability(home, tmp_path):
    _, env, _ = home
    assert cli(env, "goals", "set", "P1", "squat", "range", "100", "--at-least"
               ).returncode == 0
    pdf = tmp_path / "p1.pdf"
    proc = cli(env, "report", "--patient", "P1", "--pdf", pdf, "--anonymize")
    assert proc.returncode == 0, proc.stderr
    text = " ".join(subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True,
                                   capture_output=True, text=True).stdout.split())
    assert "Exercise progress: Squat" in text and "2 stored session(s)" in text
    assert "Range of motion per visit" in text
    assert "Range of motion (counted movement) at least 100 deg:" in text
    assert "Test-retest reliability" in text and "ICC(3,1)" in text
    assert "smallest real change" in text and "no band yet" not in text
    assert "different pose models (full, lite)" in text  # a change that is the model's
    sid = cli(env, "sessions", "list", "--patient", "P1").stdout.split()[0]
    one = tmp_path / "s.pdf"
    assert cli(env, "report", "--session", sid, "--pdf", one).returncode == 0
    text = " ".join(subprocess.run(["pdftotext", "-layout", str(one), "-"], check=True,
                                   capture_output=True, text=True).stdout.split())
    assert f"Squat: repetitions of session #{sid}" in text
    assert "2 complete, 0 incomplete" in text


def test_the_analyze_sidecar_imports_with_its_exercise(home):
    path, env, out = home
    proc = cli(env, "sessions", "import", out / "squat_side_barbell.csv", "--patient", "P2",
               "--again")  # the same CSV as the stored second visit
    assert proc.returncode == 0, proc.stderr
    sidecar = json.loads((out / "squat_side_barbell.json").read_text())["exercise"]
    with Store(path / "posture-monitor.sqlite3") as store:
        (visit,) = es.exercise_sessions(store, "P2", "squat")
        assert visit["exercise"]["per_rep"] == sidecar["per_rep"]
        assert visit["exercise"]["summary"] == pytest.approx(sidecar["summary"])
        assert "files" not in visit["exercise"]


def test_deleting_a_session_on_the_command_line_removes_its_exercise(home):
    path, env, _ = home
    sid = cli(env, "sessions", "list", "--patient", "P1").stdout.split()[0]
    assert cli(env, "sessions", "delete", sid, "--yes").returncode == 0
    with Store(path / "posture-monitor.sqlite3") as store:
        assert es.exercise_of(store, int(sid)) is None
        assert len(es.exercise_sessions(store, "P1", "squat")) == 1

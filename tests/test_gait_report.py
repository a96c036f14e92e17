"""The report's gait pages (issue 14): one visit's numbers left and right with both
symmetry forms, its stride-normalised knee and hip curves, then the visits, the goals,
the plots with the smallest-real-change band and the noise table. Built from the real
gait object of the sports2d clip (tests/test_gait_store.py runs it once), stored three
times with chosen step times in a real SQLite file, reported through the command line,
read by pdftotext and rendered by pdftoppm."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from posture_monitor.core.records import gait_progress as gp
from posture_monitor.core.records import gait_store as gs
from posture_monitor.core.records.store import Store
from tests.test_gait_store import gait_visit, real_run, run_cli, with_feet

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("pdftotext") is None or
                                 shutil.which("pdftoppm") is None,
                                 reason="needs poppler-utils")]
STEPS = (([0.70, 0.72, 0.74], [0.60, 0.64, 0.62]), ([0.66, 0.64], [0.62, 0.60, 0.61]),
         ([0.60, 0.61, 0.59, 0.60], [0.59, 0.60, 0.61, 0.60]))


def _text(pdf, first: int | None = None) -> str:
    pages = ["-f", str(first), "-l", str(first)] if first else []
    out = subprocess.run(["pdftotext", "-layout", *pages, str(pdf), "-"], check=True,
                         capture_output=True, text=True).stdout
    return " ".join(out.split())


def _pages(pdf) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages")))


@pytest.fixture
def home(tmp_path, sports2d_video):
    """A data folder with patient P1's three gait visits, an exercise session and goals
    of both kinds."""
    from tests.exercise_data import exercise, store_visit

    base = real_run(str(sports2d_video))[1]
    home = tmp_path / "home"
    home.mkdir()
    with Store(home / "posture-monitor.sqlite3") as store:
        for day, (left, right) in zip((2, 9, 16), STEPS, strict=True):
            gait_visit(store, "P1", day, with_feet(base, "step_time_s", left, right))
        store_visit(store, "P1", 20, exercise([80.0, 84.0]))
        gs.set_goal(store, "P1", "step_time_symmetry_ratio_pct", "at_least", 95,
                    note="Ann wants to walk to the shop")
        gs.set_goal(store, "P1", "step_time_s_left", "at_most", 0.55)
        gs.set_goal(store, "P1", "cadence_steps_per_min", "at_least", 110)
    return home


def test_the_patient_report_has_the_gait_pages(monkeypatch, capsys, tmp_path, home):
    pdf = tmp_path / "p1.pdf"
    rc, _, err = run_cli(monkeypatch, capsys, home, "report", "--patient", "P1", "--pdf", pdf)
    assert rc == 0, err
    text = _text(pdf)
    with Store(home / "posture-monitor.sqlite3") as store:
        visits = gs.gait_sessions(store, "P1")
    latest = visits[-1]
    # the latest visit in detail: both feet, both symmetry forms, named
    assert f"Gait: session #{latest['id']}, 2024-05-16 10:00" in text
    assert "3 stored gait session(s)" in text
    assert "Left: mean ± SD" in text and "Right: mean ±" in text
    assert "index SI, %" in text and "min/max, %" in text  # both forms, headers wrapped
    assert "Step time, s 0.600 ± 0.008 (n=4) 0.600 ± 0.008 (n=4) 0.0 100.0" in text
    assert "Knee flexion, deg" in text and "Hip flexion, deg" in text
    assert "% of gait cycle" in text
    # progress: the visit table, the plots with the band, the goals and the noise
    assert "Gait progress across visits" in text
    cells = text.replace(" ", "")
    first = visits[0]
    assert f"#{first['id']}2024-05-02" in cells and "0.720/0.620" in cells
    noise = gp.measure_noise(visits, "step_time_s_left")
    assert (f"Left: change since the first visit: -0.120 s (beyond the {noise.mdc95:.3f} s "
            "smallest real change)") in text
    assert "Step time symmetry (min/max) at least 95 %: met (latest 100.0 %)" in text
    assert "Step time (left) at most 0.55 s: not yet, 0.050 s to go (latest 0.600 s)" in text
    assert "Ann wants to walk to the shop" in text
    assert "Measurement noise of a visit value" in text and "not a test-retest ICC" in text
    # the gait goals are no exercise: the squat has its pages, "gait" has none of those
    assert "Exercise progress: Squat" in text and "Exercise progress: gait" not in text
    # rendered: every page is a picture with ink on it (no blank or broken page)
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(pdf), str(tmp_path / "pg")],
                   check=True)
    pngs = sorted(tmp_path.glob("pg-*.png"))
    assert len(pngs) == _pages(pdf) >= 6
    assert all(p.stat().st_size > 2000 for p in pngs)


def test_a_gait_sessions_report_details_that_session(monkeypatch, capsys, tmp_path, home):
    with Store(home / "posture-monitor.sqlite3") as store:
        first = gs.gait_sessions(store, "P1")[0]
    pdf = tmp_path / "s.pdf"
    rc, _, err = run_cli(monkeypatch, capsys, home, "report", "--session", first["id"],
                         "--pdf", pdf, "--anonymize")
    assert rc == 0, err
    text = _text(pdf)
    assert f"Gait: session #{first['id']}, 2024-05-02 10:00" in text
    assert "Step time, s 0.720 ± 0.020 (n=3) 0.620 ± 0.020 (n=3)" in text
    assert "Gait progress across visits" in text
    assert "Ann" not in text and "shop" not in text  # anonymised: no name, no goal note
    plain = tmp_path / "plain.pdf"
    with Store(home / "posture-monitor.sqlite3") as store:
        squat = next(s for s in store.sessions("P1") if gs.gait_of(store, s["id"]) is None)
    rc, _, _ = run_cli(monkeypatch, capsys, home, "report", "--session", squat["id"], "--pdf",
                       plain)
    assert rc == 0 and "Gait:" not in _text(plain)  # not a gait session: no gait pages

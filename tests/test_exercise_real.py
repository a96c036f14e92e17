"""`analyze --exercise` on a real side-view squat (tests/fixtures/exercise_side_mit): the
man stands still until about 8.5 s, squats twice (bottoms about 10.5 s and 17.3 s) and
racks the bar. Real MediaPipe (full model), the real command line."""

import json
import subprocess
import sys

import pytest

from posture_monitor.core.measure.joints import ANGLE_COLUMNS
from posture_monitor.core.records.exercise_files import read_mot
from tests.conftest import FIXTURES, ROOT, read_rows

SQUAT = FIXTURES / "exercise_side_mit" / "squat_side_barbell.mp4"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def squat_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("squat")
    proc = subprocess.run([sys.executable, "-m", "posture_monitor", "analyze", str(SQUAT),
                           "--out", str(out), "--exercise", "squat", "--angles", "--mot"],
                          capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return out, proc


def test_two_complete_squats_and_none_in_the_still_phases(squat_run):
    out, proc = squat_run
    reps = read_rows(out / "squat_side_barbell_reps.csv")
    assert [r["complete"] for r in reps] == ["1", "1"]  # no incomplete row either
    bottoms = [float(r["peak_s"]) for r in reps]
    assert bottoms == [pytest.approx(10.5, abs=0.6), pytest.approx(17.3, abs=0.6)]
    for r in reps:
        # each repetition lies between the still phases: none starts before 8 s
        assert float(r["start_s"]) > 8.0 and float(r["end_s"]) < 19.0
        # deep squats: knee and hip both go far past the half-squat target
        assert float(r["range"]) > 80
        assert float(r["knee_flex_r_deg_max"]) > 95 and float(r["hip_flex_r_deg_max"]) > 95
        assert float(r["knee_flex_r_deg_range"]) > 70 and float(r["hip_flex_r_deg_range"]) > 70
        assert 1.0 < float(r["duration_s"]) < 4.0
        assert float(r["peak_velocity"]) > 50
        assert r["view"] == "right"
    assert "Squat: 2 complete repetitions" in proc.stdout


def test_the_sidecar_carries_the_exercise_and_its_per_rep_summary(squat_run):
    out, _ = squat_run
    meta = json.loads((out / "squat_side_barbell.json").read_text())
    ex = meta["exercise"]
    assert ex["preset"] == "squat" and ex["reps"] == 2 and ex["incomplete"] == 0
    assert ex["counted"]["side"]["column"] == "knee_flex"
    assert "Schoenfeld" in ex["counted"]["side"]["target_source"]
    assert [r["rep"] for r in ex["per_rep"]] == [1, 2]
    assert ex["summary"]["reps"] == 2
    assert 0 < ex["summary"]["range_symmetry_pct"] <= 100
    assert meta["status"] == "complete"
    assert {j["name"] for j in meta["joints"]} >= {"knee_flex", "hip_flex", "ankle_dorsi"}


def test_angle_columns_are_filled_in_the_side_view_and_frontal_ones_withheld(squat_run):
    out, _ = squat_run
    rows = read_rows(out / "squat_side_barbell.csv")
    assert set(ANGLE_COLUMNS) <= set(rows[0])
    knee = [r["knee_flex_r_deg"] for r in rows]
    assert sum(v != "" for v in knee) > 0.95 * len(rows)  # the near knee, nearly always
    assert all(r["knee_valgus_r_deg"] == "" for r in rows)  # frontal: not from the side
    assert "knee_valgus_r_deg:view:right" in rows[0]["angle_flags"]
    assert all(r["knee_flex_r_3d_deg"] != "" for r in rows if r["pose_detected"] == "1")


def test_the_mot_files_hold_the_angle_series_and_the_repetitions(squat_run):
    out, _ = squat_run
    text = (out / "squat_side_barbell_angles.mot").read_text()
    head = text.splitlines()[:6]
    assert head[1:] == ["version=1", "nRows=614", f"nColumns={len(ANGLE_COLUMNS) + 1}",
                        "inDegrees=yes", "endheader"]
    header, rows = read_mot(out / "squat_side_barbell_angles.mot")
    assert header == ["time", *ANGLE_COLUMNS] and len(rows) == 614
    knee = header.index("knee_flex_r_deg")
    assert max(r[knee] for r in rows) > 95  # the squats are in it
    rep_header, reps = read_mot(out / "squat_side_barbell_reps.mot")
    assert rep_header[0] == "time" and len(reps) == 2
    assert reps[0][0] == pytest.approx(float(read_rows(out / "squat_side_barbell_reps.csv")
                                             [0]["start_s"]), abs=1e-3)


def test_existing_repetition_files_are_not_replaced_without_being_asked(squat_run, tmp_path):
    out, _ = squat_run
    (tmp_path / "squat_side_barbell_reps.csv").write_text("keep me")
    proc = subprocess.run([sys.executable, "-m", "posture_monitor", "analyze", str(SQUAT),
                           "--out", str(tmp_path), "--exercise", "squat"],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    assert "squat_side_barbell_reps.csv exists already" in proc.stderr
    assert (tmp_path / "squat_side_barbell_reps.csv").read_text() == "keep me"
    assert not (tmp_path / "squat_side_barbell.csv").exists()  # refused before any work


@pytest.mark.parametrize("args,needle", [
    (["--exercise", "pushup"], "unknown exercise 'pushup'"),
    (["--exercise", "free"], "--exercise free needs --joints"),
    (["--exercise", "free", "--joints", "knee"], "unknown joint 'knee'"),
    (["--exercise", "squat", "--target", "500"], "--target must be between"),
    (["--joints", "knee_flex"], "--joints and --target go with --exercise"),
])
def test_exercise_mistakes_are_one_line_errors(tmp_path, args, needle):
    proc = subprocess.run([sys.executable, "-m", "posture_monitor", "analyze", str(SQUAT),
                           "--out", str(tmp_path), *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and needle in proc.stderr
    assert "Traceback" not in proc.stderr and not list(tmp_path.iterdir())


def test_jumping_jacks_from_the_front_count_as_arm_abductions(sports2d_video, tmp_path):
    # Sports2D demo: a man does two jumping jacks facing the camera (0.3-2.5 s); the
    # first is already under way when MediaPipe first sees him from the front (0.3 s).
    proc = subprocess.run([sys.executable, "-m", "posture_monitor", "analyze",
                           str(sports2d_video), "--out", str(tmp_path), "--exercise",
                           "shoulder_abduction", "--max-frames", "100"],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    reps = read_rows(tmp_path / "sports2d_demo_reps.csv")
    assert [(r["complete"], r["reason"]) for r in reps] == [("0", "start_not_seen"),
                                                            ("1", "")]
    second = reps[1]
    assert float(second["peak_s"]) == pytest.approx(2.0, abs=0.3)
    assert float(second["range"]) > 120 and second["view"] == "front"
    # arms go up together: both sides' ranges agree within a fifth
    assert float(second["range_symmetry_pct"]) > 80


def test_the_pipeline_measures_joint_angles_only_when_something_reads_them():
    from dataclasses import replace

    from posture_monitor.core.capture.sources import open_source
    from posture_monitor.core.common.settings import AnalysisSettings, ExerciseSettings
    from posture_monitor.core.posture.pipeline import PosePipeline

    photo = FIXTURES / "seated_side_mit" / "straight_hf.jpg"
    plain = AnalysisSettings(model="lite", classifier="none")
    for settings, measured in ((plain, False), (replace(plain, angles=True), True),
                               (replace(plain, mot=True), True),
                               (replace(plain, exercise=ExerciseSettings("squat")), True)):
        with PosePipeline(settings, sequence=False) as pipe, open_source(photo) as src:
            result = pipe.process(src.read())
        assert result.pose is not None
        filled = [v for v in result.angles.values.values() if v is not None]
        assert bool(filled) is measured, settings
        if not measured:  # posture monitoring does not pay for them
            assert result.angles.flags == ["not_measured"]


def test_the_reps_mot_holds_only_numeric_columns(squat_run):
    out, _ = squat_run
    header, reps = read_mot(out / "squat_side_barbell_reps.mot")
    for text in ("view", "signal", "unit", "reason", "faults", "sides_from", "start_s"):
        assert text not in header
    assert {"rep", "complete", "range", "peak_velocity", "knee_flex_r_deg_max"} <= set(header)
    rep = header.index("rep")
    assert [r[rep] for r in reps] == [1.0, 2.0]

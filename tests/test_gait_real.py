"""`analyze --gait` on real people (real MediaPipe, the real command line):
* the Sports2D demo: a woman walks right to left across the frame from about 2 s to 6 s
  while a man jumps and flips on a roof. Counted by eye on a contact sheet of every
  second frame cropped around her feet (tools/gait_contact_sheet.py): her leading foot
  lands at frames ~58, 78, 96, 114, 134, 152, 170 and 188, 7 steps in 130 frames at
  30 fps = 96.9 steps/min.
* Pose2Sim cam01: a person balancing on one leg, who does not walk.
"""

import json
import subprocess
import sys

import pytest

from tests.conftest import read_rows


def _analyze(video, out, *extra):
    return subprocess.run([sys.executable, "-m", "posture_monitor", "analyze", str(video),
                           "--out", str(out), "--gait", "--classifier", "none", "--quiet",
                           *extra], capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def walker_run(sports2d_video, tmp_path_factory):
    out = tmp_path_factory.mktemp("gait")
    proc = _analyze(sports2d_video, out, "--height-cm", "165", "--mot")
    assert proc.returncode == 0, proc.stderr
    meta = json.loads((out / "sports2d_demo.json").read_text())
    return out, meta["gait"]


def test_the_walker_is_analysed_not_the_man_on_the_roof(walker_run):
    _, g = walker_run
    seen = {p["id"]: p for p in g["person"]["people_seen"]}
    walker = seen[g["person"]["analysed"]]
    assert walker["hip_travel_frame_widths"] > 0.5  # she crosses most of the frame
    assert all(p["hip_travel_frame_widths"] < 0.3 for pid, p in seen.items()
               if pid != walker["id"])
    assert walker["seen_s"][0] == pytest.approx(2.0, abs=0.2)


def test_steps_of_the_steady_walk_alternate_and_the_cadence_matches_the_count_by_eye(
        walker_run):
    out, g = walker_run
    assert g["passes"] and g["passes"][0]["direction"] == "right_to_left"
    (t0, t1), = g["analysed_s"]
    assert 1.9 <= t0 <= 2.3 and 5.5 <= t1 <= 6.3
    assert g["steps"] >= 5
    assert g["events"]["not_alternating"] == 0
    rows = read_rows(out / "sports2d_demo_gait.csv")
    feet = [r["foot"] for r in rows]
    assert all(a != b for a, b in zip(feet, feet[1:], strict=False))
    # heel strikes near the frames counted by eye (78, 96, 114, 134, 152, 170 at 30 fps)
    by_eye = [f / 30 for f in (78, 96, 114, 134, 152, 170)]
    strikes = [float(r["heel_strike_s"]) for r in rows]
    for t in by_eye:
        assert min(abs(s - t) for s in strikes) <= 2.5 / 30, (t, strikes)
    assert g["cadence_steps_per_min"] == pytest.approx(96.9, rel=0.05)
    for foot in ("left", "right"):
        assert 55 <= g["stance_pct"][foot]["mean"] <= 70  # about 60 % at a comfortable walk
        assert 0.4 <= g["step_length_m"][foot]["mean"] <= 0.9  # leg lengths x 0.491 x 1.65 m


def test_the_files_hold_steps_cycles_and_the_angle_series(walker_run):
    out, g = walker_run
    from posture_monitor.core.records.exercise_files import read_mot

    cycles = read_rows(out / "sports2d_demo_gait_cycles.csv")
    strides = {(r["joint"], r["foot"], r["stride"]) for r in cycles}
    assert {("knee_flex_deg", "left", "1"), ("hip_flex_deg", "right", "1")} <= strides
    assert len(cycles) == 101 * len(strides)
    knee = g["curves"]["knee_flex_deg"]["left"]["mean"]
    # swing knee flexion (about 60 deg in adults) far above stance
    assert max(knee) - min(knee) > 35
    header, rows = read_mot(out / "sports2d_demo_gait.mot")
    assert header[:3] == ["time", "hip_flex_l_deg", "hip_flex_r_deg"]
    assert len(rows) == g["person"]["people_seen"][
        [p["id"] for p in g["person"]["people_seen"]].index(g["person"]["analysed"])]["frames"]
    assert set(g["files"]) == {"steps_csv", "cycles_csv", "gait_mot"}


def test_a_person_balancing_on_one_leg_takes_no_steps(media_dir, tmp_path):
    proc = _analyze(media_dir / "pose2sim_cam01.mp4", tmp_path)
    assert proc.returncode == 0, proc.stderr
    g = json.loads((tmp_path / "pose2sim_cam01.json").read_text())["gait"]
    assert g["steps"] == 0 and g["cadence_steps_per_min"] is None
    assert "no steady walking pass" in g["withheld"]
    assert read_rows(tmp_path / "pose2sim_cam01_gait.csv") == []


@pytest.mark.parametrize("args, needle", [
    (["--height-cm", "170"], "--height-cm goes with --gait"),
    (["--gait", "--height-cm", "20"], "--height-cm must be between 50 and 250 cm"),
])
def test_gait_mistakes_are_one_line_errors(sports2d_video, tmp_path, args, needle):
    proc = subprocess.run([sys.executable, "-m", "posture_monitor", "analyze",
                           str(sports2d_video), "--out", str(tmp_path), *args],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert needle in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not list(tmp_path.iterdir())


def test_an_existing_gait_file_is_not_replaced_without_being_asked(sports2d_video, tmp_path):
    (tmp_path / "sports2d_demo_gait.csv").write_text("keep me\n")
    proc = _analyze(sports2d_video, tmp_path)
    assert proc.returncode == 2 and "--overwrite" in proc.stderr
    assert (tmp_path / "sports2d_demo_gait.csv").read_text() == "keep me\n"
    assert not (tmp_path / "sports2d_demo.csv").exists()

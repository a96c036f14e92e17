"""The `posture-monitor` command as a user runs it: real subprocesses, real files."""

import json
import os
import signal
import subprocess
import sys
import time
import zipfile

import pytest

from posture_monitor.core.classify.features import FEATURE_VERSION
from posture_monitor.core.common.hashing import file_sha256
from posture_monitor.core.vision.model_files import resolve_pose_model
from tests.conftest import FIXTURES, ROOT, SEATED, read_rows

CLI = [sys.executable, "-m", "posture_monitor"]


def run(*args, env=None, **kw):
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=300, **kw)


def assert_one_line_error(proc, *needles):
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert lines[0].startswith("posture-monitor")
    for needle in needles:
        assert needle in lines[0]


def test_analyze_writes_csv_and_sidecar(tmp_path, sports2d_video):
    proc = run("analyze", sports2d_video, SEATED / "straight_hf.jpg", "--out", tmp_path,
               "--model", "lite")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # no native log noise, no progress bar when piped
    rows = read_rows(tmp_path / "sports2d_demo.csv")
    assert len(rows) == 230
    for col in ("frame", "time_s", "pose_detected", "view", "cva_deg", "neck_incl_deg",
                "torso_incl_deg", "shoulder_tilt_deg", "head_tilt_deg", "lateral_lean_deg",
                "quality", "flags"):
        assert col in rows[0]
    meta = json.loads((tmp_path / "sports2d_demo.json").read_text())
    assert meta["status"] == "complete"
    assert meta["frames_written"] == 230
    assert meta["model"]["name"] == "lite"
    assert meta["model"]["sha256"] == file_sha256(resolve_pose_model("lite").path)
    assert meta["source"]["width"] == 1768 and meta["source"]["fps"] == 30.0
    assert meta["settings"]["smoothing"]["enabled"] is True
    assert set(meta["columns"]) == set(rows[0])
    assert meta["classifier"]["file"] == "posture_classifier.tflite"
    assert len(meta["classifier"]["sha256"]) == 64
    assert meta["classifier"]["feature_version"] == FEATURE_VERSION == 2
    assert [lbl["name"] for lbl in meta["labels"]][0] == "forward_head"
    for col in ("posture_label", "posture_confidence", "p_trunk_flexion", "score_head_neck",
                "score_shoulders", "score_trunk", "score_overall"):
        assert col in rows[0]
    labelled = [r for r in rows if r["posture_label"]]
    assert len(labelled) > 100  # side and front frames get a label...
    assert all(r["view"] in ("left", "right", "front") for r in labelled)
    assert all(r["posture_label"] == "" for r in rows if r["view"] in ("oblique", "back"))
    assert "deg" in meta["columns"]["cva_deg"]
    assert meta["software"]["version"]
    image_rows = read_rows(tmp_path / "straight_hf.csv")
    assert image_rows[0]["file"] == "straight_hf.jpg" and image_rows[0]["view"] == "left"


def test_landmarks_flag_adds_landmark_columns_and_no_smooth_turns_smoothing_off(tmp_path):
    proc = run("analyze", SEATED / "recline.jpg", "--out", tmp_path, "--landmarks",
               "--no-smooth", "--model", "lite")
    assert proc.returncode == 0, proc.stderr
    (row,) = read_rows(tmp_path / "recline.csv")
    assert 0 < float(row["left_ear_x"]) < 1 and row["right_hip_wz"]
    meta = json.loads((tmp_path / "recline.json").read_text())
    assert meta["settings"]["smoothing"]["enabled"] is False and meta["settings"]["landmarks"]


def test_classifier_can_be_turned_off(tmp_path):
    proc = run("analyze", SEATED / "recline.jpg", "--out", tmp_path, "--model", "lite",
               "--classifier", "none")
    assert proc.returncode == 0, proc.stderr
    (row,) = read_rows(tmp_path / "recline.csv")
    assert row["posture_label"] == "" and row["torso_incl_deg"]
    missing = run("analyze", SEATED / "recline.jpg", "--out", tmp_path, "--classifier",
                  tmp_path / "none.tflite")
    assert_one_line_error(missing, "posture classifier not found")


def test_missing_input_is_a_one_line_not_found_error(tmp_path):
    assert_one_line_error(run("analyze", tmp_path / "nope.mp4", "--out", tmp_path),
                          "not found")


def test_text_file_named_mp4_is_a_one_line_unreadable_video_error(tmp_path):
    fake = tmp_path / "clip.mp4"
    fake.write_text("hello\n" * 100)
    assert_one_line_error(run("analyze", fake, "--out", tmp_path), "not a readable video")


def test_truncated_video_keeps_rows(tmp_path, sports2d_video):
    cut = tmp_path / "cut.mp4"
    data = sports2d_video.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    proc = run("analyze", cut, "--out", tmp_path / "out", "--model", "lite")
    assert_one_line_error(proc, "ends early")
    rows = read_rows(tmp_path / "out" / "cut.csv")
    assert 50 < len(rows) < 230  # everything decoded before the damage is kept
    meta = json.loads((tmp_path / "out" / "cut.json").read_text())
    assert meta["status"].startswith("error") and meta["frames_written"] == len(rows)


def test_empty_folder_is_a_one_line_no_images_error(tmp_path):
    (tmp_path / "empty").mkdir()
    assert_one_line_error(run("analyze", tmp_path / "empty", "--out", tmp_path),
                          "no images in folder")


def test_bad_inputs_do_not_stop_the_batch(tmp_path):
    proc = run("analyze", tmp_path / "missing.mp4", SEATED / "straight_hf.jpg", "--out",
               tmp_path, "--model", "lite")
    assert proc.returncode == 2
    assert (tmp_path / "straight_hf.csv").exists()


@pytest.mark.parametrize("kind", ["missing", "text", "zip_without_model", "bad_tflite",
                                  "truncated"])
def test_unreadable_pose_model_is_a_one_line_error_before_any_input(tmp_path, kind):
    path = tmp_path / "pose.task"
    if kind == "text":
        path.write_text("not a model")
    elif kind == "zip_without_model":
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("readme.txt", "nothing here")
    elif kind == "bad_tflite":
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("pose_detector.tflite", b"\x00garbage" * 100)
            z.writestr("pose_landmarks_detector.tflite", b"\x00garbage" * 100)
    elif kind == "truncated":
        full = resolve_pose_model("lite").path.read_bytes()
        path.write_bytes(full[: len(full) // 3])
    proc = run("analyze", SEATED / "recline.jpg", "--out", tmp_path, "--model", path)
    assert_one_line_error(proc, str(path))
    assert not (tmp_path / "recline.csv").exists()  # model is checked before any input


def test_usage_error_is_one_line():
    proc = run("analyze")
    assert_one_line_error(proc, "required")


def _ctrl_c_as_from_a_terminal() -> None:
    """In the child before it starts: SIGINT unblocked and at its default, as a terminal
    gives it. A child inherits an ignored or blocked SIGINT (and Python then keeps
    ignoring it); in the full suite an earlier in-process test leaves it so."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_leaves_whole_rows_and_an_interrupted_sidecar(tmp_path, sports2d_video):
    proc = subprocess.Popen([*CLI, "analyze", str(sports2d_video), "--out", str(tmp_path),
                             # full, not lite: the run must still be going when the
                             # signal comes (lite can finish the clip on a fast machine)
                             "--model", "full"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=_ctrl_c_as_from_a_terminal)
    csv_path = tmp_path / "sports2d_demo.csv"
    deadline = time.time() + 120
    while time.time() < deadline:  # wait until rows have been flushed
        if csv_path.exists() and csv_path.stat().st_size > 5000:
            break
        time.sleep(0.1)
    assert proc.poll() is None, "the analysis ended before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "interrupted" in err
    rows = read_rows(csv_path)
    assert 0 < len(rows) < 230
    assert all(r["flags"] is not None for r in rows)  # every row complete
    meta = json.loads((tmp_path / "sports2d_demo.json").read_text())
    assert meta["status"] == "interrupted" and meta["frames_written"] == len(rows)


def test_main_job_without_camera_or_display_analyses_the_sample(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    proc = run("start", "--source", "9", "--model", "lite", "--out", tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "No camera found at index 9" in proc.stdout
    assert "No display found" in proc.stdout
    rows = read_rows(tmp_path / "pose2sim_cam02.csv")
    assert len(rows) == 100 and sum(r["pose_detected"] == "1" for r in rows) > 90


def test_fixture_licences_lie_beside_the_fixtures_and_name_their_terms():
    assert (SEATED / "LICENSE.MIT.txt").read_text().startswith("MIT License")
    squat = FIXTURES / "exercise_side_mit"
    assert (squat / "LICENSE.MIT.txt").read_text().startswith("MIT License")
    assert "Rohan Kumar" in (squat / "LICENSE.MIT.txt").read_text()
    assert "MIT" in (squat / "README.md").read_text()
    skimage = (FIXTURES / "skimage" / "README.md").read_text()
    assert "public domain" in skimage and "CC0" in skimage
    sample = (ROOT / "assets" / "sample" / "LICENSE.BSD-3-Clause.txt").read_text()
    assert sample.startswith("BSD 3-Clause License")

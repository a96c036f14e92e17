"""`analyze --front A --side B` on two synchronized real cameras (Pose2Sim cam02 in front,
cam01 at the side; 60 fps, 100 frames each): one table on one time axis, every value
from the camera whose view shows its plane, with its source; the same values as each
camera analysed alone."""

import json
import subprocess
import sys

import pytest

from posture_monitor.core.measure.definitions import FRONTAL_VIEWS, METRIC_BY_COLUMN
from tests.conftest import read_rows


def _run(*args, timeout=600):
    return subprocess.run([sys.executable, "-m", "posture_monitor", "analyze", *args,
                           "--classifier", "none", "--quiet"], capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(scope="module")
def pair(media_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("pair")
    front, side = media_dir / "pose2sim_cam02.mp4", media_dir / "pose2sim_cam01.mp4"
    proc = _run("--front", str(front), "--side", str(side), "--out", str(out), "--angles")
    assert proc.returncode == 0, proc.stderr
    alone = {}
    for name, video in (("front", front), ("side", side)):
        proc = _run(str(video), "--out", str(out / name), "--angles")
        assert proc.returncode == 0, proc.stderr
        alone[name] = read_rows(out / name / f"{video.stem}.csv")
    stem = "pose2sim_cam02+pose2sim_cam01"
    return (read_rows(out / f"{stem}.csv"), json.loads((out / f"{stem}.json").read_text()),
            alone)


def test_one_table_on_the_front_cameras_time_axis(pair):
    rows, meta, alone = pair
    assert len(rows) == len(alone["front"]) == 100
    times = [float(r["time_s"]) for r in rows]
    assert times == sorted(times) and len(set(times)) == len(times)
    # synchronized 60 fps cameras: each front frame pairs with the same side frame
    assert all(r["side_frame"] == r["front_frame"] for r in rows)
    assert meta["two_cameras"]["unmatched_front_frames"] == 0
    assert meta["source"]["front"]["description"].endswith("pose2sim_cam02.mp4")
    assert meta["source"]["side"]["description"].endswith("pose2sim_cam01.mp4")


def test_each_value_comes_from_the_camera_whose_view_shows_its_plane(pair):
    rows, meta, alone = pair
    used = 0
    for i, r in enumerate(rows):
        for col, m in METRIC_BY_COLUMN.items():
            frontal = set(m.views) <= set(FRONTAL_VIEWS)
            primary, other = ("front", "side") if frontal else ("side", "front")
            mine, theirs = alone[primary][i][col], alone[other][i][col]
            if mine != "":
                assert (r[col], r[f"{col}_source"]) == (mine, primary), (i, col)
                used += 1
            elif theirs != "":
                assert (r[col], r[f"{col}_source"]) == (theirs, other), (i, col)
            else:
                assert (r[col], r[f"{col}_source"]) == ("", ""), (i, col)
    assert used > 500
    # the oblique side camera gives its 3D trunk angles, the front one its frontal ones
    counts = meta["two_cameras"]["values_from"]
    assert counts["shoulder_tilt_deg"]["front"] > 50
    assert counts["knee_flex_r_3d_deg"]["side"] > 50


@pytest.mark.parametrize("args, needle", [
    (["--front", "a.mp4"], "--front and --side go together"),
    (["--front", "a.mp4", "--side", "b.mp4", "--gait"], "--gait does not work with"),
    (["x.mp4", "--front", "a.mp4", "--side", "b.mp4"], "not both"),
    (["x.mp4", "--exercise", "squat", "--side", "up"], "--side must be both, left or right"),
])
def test_two_camera_mistakes_are_one_line_errors(tmp_path, args, needle):
    proc = _run(*args, "--out", str(tmp_path), timeout=120)
    assert proc.returncode == 2
    assert needle in proc.stderr and len(proc.stderr.strip().splitlines()) == 1

"""`analyze --opensim`: the measured person's landmarks as an OpenSim marker file
(`<stem>.trc`, docs/OPENSIM.md) and the angle tables of --mot, on real clips through the
real pipeline and the real command line (`posture_monitor.cli.main`, in this process):

* Pose2Sim's cam01 (100 frames at 60 fps, 1080 x 1920, a person balancing on one leg,
  the whole body in view in every frame), with --height-cm 172;
* the same clip with 15 frames blacked out (40-54): real frames without a person;
* the desk webcam clip (upper body only): --height-cm cannot be used there.

Every coordinate is checked against the CSV's landmark columns (--landmarks), read with
the csv module, through the documented transform X = s x W, Y = s (1 - y) H, Z = 0.
"""

import contextlib
import io
import json
import math

import numpy as np
import pytest

from posture_monitor.cli import main
from posture_monitor.core.measure.joints import ANGLE_COLUMNS
from posture_monitor.core.records.exercise_files import read_mot
from posture_monitor.core.records.trc_files import read_trc, trc_text
from posture_monitor.core.vision.landmarks import NAMES
from tests.conftest import read_rows

pytestmark = pytest.mark.slow

# Pose2Sim's OpenSim marker set for BlazePose (Markers_BlazePose.xml): its 24 names
POSE2SIM_BLAZEPOSE = (
    "nose", "left_eye", "right_eye", "left_shoulder", "right_shoulder", "left_elbow",
    "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee",
    "right_knee", "left_ankle", "right_ankle", "left_foot_index", "left_heel",
    "right_foot_index", "right_heel", "right_thumb", "right_pinky", "right_index",
    "left_thumb", "left_pinky", "left_index",
)  # fmt: skip
BLACK = range(40, 55)


def _analyze(*args):
    """main() in this process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["analyze", *map(str, args), "--classifier", "none"])
    return code, out.getvalue(), err.getvalue()


def _run(out_dir, video, *extra):
    code, stdout, stderr = _analyze(video, "--out", out_dir, "--landmarks", "--opensim",
                                    *extra)
    assert code == 0, stderr
    stem = video.stem
    meta = json.loads((out_dir / f"{stem}.json").read_text())
    return {"dir": out_dir, "stem": stem, "stdout": stdout, "meta": meta,
            "rows": read_rows(out_dir / f"{stem}.csv"),
            "trc": read_trc(out_dir / f"{stem}.trc"),
            "text": (out_dir / f"{stem}.trc").read_text()}


@pytest.fixture(scope="module")
def height_run(media_dir, tmp_path_factory):
    return _run(tmp_path_factory.mktemp("trc_height"),
                media_dir / "pose2sim_cam01.mp4", "--height-cm", "172")


@pytest.fixture(scope="module")
def gappy_run(media_dir, tmp_path_factory):
    from tests.test_xcb import rewrite_clip

    folder = tmp_path_factory.mktemp("trc_gaps")
    clip = rewrite_clip(media_dir / "pose2sim_cam01.mp4", folder / "cam01_gaps.mp4", 60.0,
                        edit=lambda i, frame: frame * 0 if i in BLACK else frame)
    return _run(folder / "out", clip)


@pytest.fixture(scope="module")
def desk_run(media_dir, tmp_path_factory):
    return _run(tmp_path_factory.mktemp("trc_desk"),
                media_dir / "desk_forward_head.mp4", "--height-cm", "172",
                "--max-frames", "30")


def _expected(run) -> np.ndarray:
    """The markers the documented transform gives from the CSV's landmark columns:
    (rows, 33, 3), NaN where the person or the landmark does not count."""
    src, s = run["meta"]["source"], run["meta"]["trc"]["scale_m_per_px"]
    w, h = src["width"], src["height"]
    out = np.full((len(run["rows"]), len(NAMES), 3), np.nan)
    for i, r in enumerate(run["rows"]):
        if r["pose_detected"] != "1":
            continue
        for j, n in enumerate(NAMES):
            if float(r[f"{n}_vis"]) >= 0.5 and float(r[f"{n}_pres"]) >= 0.5:
                out[i, j] = (s * float(r[f"{n}_x"]) * w, s * (1 - float(r[f"{n}_y"])) * h, 0)
    return out


def _near_threshold(run) -> np.ndarray:
    """Landmarks whose CSV visibility or presence (3 decimals) is too near 0.5 to say on
    which side the unrounded value lies."""
    return np.array([[min(abs(float(r[f"{n}_vis"] or 1) - 0.5),
                          abs(float(r[f"{n}_pres"] or 1) - 0.5)) < 0.0015 for n in NAMES]
                     for r in run["rows"]])


@pytest.mark.parametrize("name", ["height_run", "gappy_run", "desk_run"])
def test_the_header_is_opensims_and_counts_the_rows_and_markers(name, request):
    run = request.getfixturevalue(name)
    trc, rows, lines = run["trc"], run["rows"], run["text"].splitlines()
    assert lines[0] == f"PathFileType\t4\t(X/Y/Z)\t{run['stem']}.trc"  # no folder in it
    fps = run["meta"]["source"]["fps"]
    rate = str(int(fps)) if float(fps).is_integer() else f"{fps:.6g}"
    assert trc.header == {"DataRate": rate, "CameraRate": rate, "NumFrames": str(len(rows)),
                          "NumMarkers": "33", "Units": "m", "OrigDataRate": rate,
                          "OrigDataStartFrame": "0", "OrigNumFrames": str(len(rows))}
    assert lines[3] == "Frame#\tTime\t" + "\t\t\t".join(NAMES) + "\t\t\t"  # Sports2D's
    assert len(trc.frames) == len(rows) == int(trc.header["NumFrames"])
    assert trc.frames == [int(r["frame"]) for r in rows]
    assert trc.times == pytest.approx([float(r["time_s"]) for r in rows], abs=6e-4)
    assert trc.markers == list(NAMES)
    assert set(POSE2SIM_BLAZEPOSE) <= set(trc.markers)


def test_the_rate_and_the_rows_of_the_60_fps_clip(height_run):
    trc = height_run["trc"]
    assert trc.header["DataRate"] == "60" and len(trc.frames) == 100
    assert np.diff(trc.times) == pytest.approx(1 / 60, abs=1e-3)


@pytest.mark.parametrize("name", ["height_run", "gappy_run", "desk_run"])
def test_every_marker_is_the_csv_landmark_through_the_documented_transform(name, request):
    run = request.getfixturevalue(name)
    got, want = run["trc"].coords, _expected(run)
    sure = ~_near_threshold(run)
    assert np.array_equal(np.isnan(got[sure]), np.isnan(want[sure]))
    both = sure[:, :, None] & np.isfinite(got) & np.isfinite(want)
    assert both.any()
    # the CSV rounds x, y to 5 decimals: under 0.01 px, far below 1e-4 m here
    assert np.abs(got[both] - want[both]).max() < 1e-4
    assert np.all(got[np.isfinite(got[:, :, 2]), 2] == 0.0)  # one camera: Z = 0


@pytest.mark.parametrize("name", ["height_run", "gappy_run", "desk_run"])
def test_visible_markers_lie_in_the_picture_with_y_up(name, request):
    run = request.getfixturevalue(name)
    src, s = run["meta"]["source"], run["meta"]["trc"]["scale_m_per_px"]
    trc = run["trc"]
    x, y = trc.coords[:, :, 0], trc.coords[:, :, 1]
    ok = np.isfinite(x)
    assert (x[ok] > -0.05).all() and (x[ok] < s * src["width"] + 0.05).all()
    assert (y[ok] > -0.05).all() and (y[ok] < s * src["height"] + 0.05).all()
    # y up: the nose above the shoulders in every frame with both
    nose, shoulder = trc.marker("nose")[:, 1], trc.marker("left_shoulder")[:, 1]
    both = np.isfinite(nose) & np.isfinite(shoulder)
    assert both.sum() > 10 and (nose[both] > shoulder[both]).all()


def test_the_height_scales_the_markers_as_sports2d_does(height_run):
    """The scale is 1.72 m over Sports2D's height in pixels, recomputed here from the CSV
    (segment sum, flexion under 45 deg, mean of the middle half)."""
    t = height_run["meta"]["trc"]
    src = height_run["meta"]["source"]
    w, h = src["width"], src["height"]
    needed = ("nose", *(f"{side}_{j}" for side in ("left", "right")
                        for j in ("shoulder", "hip", "knee", "ankle", "heel")))
    heights, flex = [], []
    for r in height_run["rows"]:
        if not all(float(r[f"{n}_vis"]) >= 0.5 and float(r[f"{n}_pres"]) >= 0.5
                   for n in needed):
            continue
        p = {n: np.array([float(r[f"{n}_x"]) * w, float(r[f"{n}_y"]) * h]) for n in NAMES}

        def seg(a, b, p=p):
            return (np.linalg.norm(p[f"left_{a}"] - p[f"left_{b}"])
                    + np.linalg.norm(p[f"right_{a}"] - p[f"right_{b}"])) / 2

        mid_s = (p["left_shoulder"] + p["right_shoulder"]) / 2
        mid_h = (p["left_hip"] + p["right_hip"]) / 2
        heights.append(seg("heel", "ankle") + seg("ankle", "knee") + seg("knee", "hip")
                       + seg("hip", "shoulder") + 1.33 * np.linalg.norm(mid_s - p["nose"]))

        def angle(u, v):
            return math.degrees(math.acos(np.dot(u, v) / np.linalg.norm(u) / np.linalg.norm(v)))

        flex.append(np.mean([a for side in ("left", "right") for a in (
            angle(p[f"{side}_knee"] - p[f"{side}_hip"], p[f"{side}_ankle"] - p[f"{side}_knee"]),
            angle(p[f"{side}_knee"] - p[f"{side}_hip"], mid_h - mid_s))]))
    kept = sorted(hh for hh, f in zip(heights, flex, strict=True) if f < 45)
    assert len(kept) >= 50  # enough extended frames: Sports2D's rule takes those
    middle = kept[len(kept) // 4: int(len(kept) * 0.75)]
    height_px = float(np.mean(middle))
    assert t["scale_basis"] == "height" and t["height_cm"] == 172
    assert t["frames_used"] == len(kept)
    assert t["height_px"] == pytest.approx(height_px, rel=2e-3)
    assert t["scale_m_per_px"] == pytest.approx(1.72 / height_px, rel=2e-3)
    # the body in metres: the nose 1.3-1.7 m above the lower heel while she balances
    trc = height_run["trc"]
    heel = np.fmin(trc.marker("left_heel")[:, 1], trc.marker("right_heel")[:, 1])
    assert 1.3 < float(np.median(trc.marker("nose")[:, 1] - heel)) < 1.7
    assert "OpenSim markers" in height_run["stdout"]
    assert "from the height 172 cm" in height_run["stdout"]


def test_without_a_height_the_scale_is_mediapipes_and_says_so(gappy_run):
    t = gappy_run["meta"]["trc"]
    assert t["scale_basis"] == "mediapipe_world" and "height_cm" not in t
    assert t["frames_used"] == sum(r["pose_detected"] == "1" for r in gappy_run["rows"])
    assert "MediaPipe's size of the body; no --height-cm" in gappy_run["stdout"]
    trc = gappy_run["trc"]
    heel = np.fmin(trc.marker("left_heel")[:, 1], trc.marker("right_heel")[:, 1])
    rise = trc.marker("nose")[:, 1] - heel
    assert 1.0 < float(np.nanmedian(rise)) < 1.8  # an adult's size, if not the true one


def test_frames_without_a_person_are_whole_rows_of_nan(gappy_run):
    rows, trc = gappy_run["rows"], gappy_run["trc"]
    empty = [i for i, r in enumerate(rows) if r["pose_detected"] == "0"]
    assert len(empty) >= 12 and set(empty) <= set(BLACK)  # the blacked-out frames
    assert len(rows) == 100 and len(trc.frames) == 100  # no row dropped or added
    for i in range(100):
        assert np.isnan(trc.coords[i]).all() == (i in empty)
    data = gappy_run["text"].splitlines()[5:]
    for i in empty:
        cells = data[i].split("\t")
        assert cells[0] == rows[i]["frame"] and cells[2:] == ["nan"] * 99
    assert gappy_run["meta"]["trc"]["rows_with_markers"] == 100 - len(empty)


@pytest.mark.parametrize("name", ["height_run", "gappy_run", "desk_run"])
def test_no_cell_is_blank_so_opensims_tokenizer_counts_every_row(name, request):
    """OpenSim's TRCFileAdapter drops a trailing empty cell: a blank last marker would
    leave a row short. Every row has Frame#, Time and 3 x 33 non-empty cells."""
    for line in request.getfixturevalue(name)["text"].splitlines()[5:]:
        cells = line.split("\t")
        assert len(cells) == 2 + 99 and all(cells), line[:80]


def test_landmarks_below_the_visibility_rule_are_nan_in_a_frame_with_the_person(desk_run):
    """The desk webcam sees the upper body only: the legs are under the rule, so they
    are NaN while the face and shoulders have positions."""
    trc, rows = desk_run["trc"], desk_run["rows"]
    with_pose = [i for i, r in enumerate(rows) if r["pose_detected"] == "1"]
    assert len(with_pose) == 30
    for i in with_pose:
        assert np.isfinite(trc.coords[i, NAMES.index("nose")]).all()
        assert np.isnan(trc.coords[i, NAMES.index("left_ankle")]).all()


def test_a_height_that_cannot_be_used_is_said_and_mediapipes_size_used(desk_run):
    t = desk_run["meta"]["trc"]
    assert t["scale_basis"] == "mediapipe_world"
    assert t["height_cm_unused"] == "no frame showed the whole body (heels to nose)"
    assert "--height-cm unused: no frame showed the whole body" in desk_run["stdout"]
    assert t["scale_m_per_px"] > 0


def test_the_mot_tables_come_with_it(height_run):
    header, rows = read_mot(height_run["dir"] / "pose2sim_cam01_angles.mot")
    assert header == ["time", *ANGLE_COLUMNS] and len(rows) == 100
    settings = height_run["meta"]["settings"]
    assert settings["trc"] is True and settings["mot"] is True
    assert settings["height_cm"] == 172
    assert height_run["meta"]["trc"]["file"].endswith("pose2sim_cam01.trc")
    assert height_run["meta"]["status"] == "complete"


def test_an_existing_trc_is_not_replaced_without_being_asked(media_dir, tmp_path):
    video = media_dir / "pose2sim_cam01.mp4"
    (tmp_path / "pose2sim_cam01.trc").write_text("keep me")
    code, _, err = _analyze(video, "--out", tmp_path, "--opensim")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "pose2sim_cam01.trc exists already" in err and "--overwrite" in err
    assert (tmp_path / "pose2sim_cam01.trc").read_text() == "keep me"
    assert not (tmp_path / "pose2sim_cam01.csv").exists()  # refused before any work
    # without --opensim the .trc is no result of the run: it does not stop it
    code, _, err = _analyze(video, "--out", tmp_path, "--mot", "--max-frames", "3",
                            "--quiet")
    assert code == 0, err
    assert (tmp_path / "pose2sim_cam01.trc").read_text() == "keep me"
    # with --overwrite it is replaced (by a file of the frames analysed)
    code, _, err = _analyze(video, "--out", tmp_path, "--opensim", "--overwrite",
                            "--max-frames", "10", "--quiet")
    assert code == 0, err
    trc = read_trc(tmp_path / "pose2sim_cam01.trc")
    assert trc.header["NumFrames"] == "10" and trc.frames == list(range(10))


@pytest.mark.parametrize("args, needle", [
    (["--height-cm", "172"], "--height-cm goes with --gait or --opensim"),
    (["--opensim", "--height-cm", "20"], "--height-cm"),
])
def test_height_mistakes_are_one_line_before_any_work(media_dir, tmp_path, args, needle):
    code, _, err = _analyze(media_dir / "pose2sim_cam01.mp4", "--out", tmp_path,
                            *args)
    assert code == 2 and len(err.strip().splitlines()) == 1 and needle in err
    assert not list(tmp_path.iterdir())


def test_two_cameras_refuse_it(media_dir, tmp_path):
    code, _, err = _analyze("--front", media_dir / "pose2sim_cam02.mp4", "--side",
                            media_dir / "pose2sim_cam01.mp4", "--out", tmp_path, "--opensim")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "--opensim does not work with --front/--side" in err
    assert not list(tmp_path.iterdir())


def test_photos_refuse_it_in_one_line(media_dir, tmp_path):
    import cv2

    reader = cv2.VideoCapture(str(media_dir / "pose2sim_cam01.mp4"))
    ok, frame = reader.read()
    reader.release()
    assert ok
    photo = tmp_path / "still.png"
    cv2.imwrite(str(photo), frame)
    code, _, err = _analyze(photo, "--out", tmp_path / "out", "--opensim")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "--opensim needs a video or a camera" in err
    assert not (tmp_path / "out" / "still.trc").exists()
    assert not (tmp_path / "out" / "still.csv").exists()


def test_the_reader_refuses_what_opensim_refuses(tmp_path):
    coords = np.arange(2 * 2 * 3, dtype=float).reshape(2, 2, 3)
    coords[1, 1] = np.nan  # the last marker of the last row: nan, never blank
    text = trc_text("t.trc", 30, [0, 1], [0.0, 1 / 30], ["a", "b"], coords)
    assert text.splitlines()[-1].endswith("\tnan\tnan\tnan")
    good = tmp_path / "t.trc"
    good.write_text(text)
    back = read_trc(good)
    assert np.array_equal(np.isnan(back.coords), np.isnan(coords))
    assert np.nanmax(np.abs(back.coords - coords)) == 0
    lines = text.splitlines()
    for broken, why in (
            (lines[:2] + [lines[2].replace("\t2\tm", "\t3\tm")] + lines[3:], "NumMarkers"),
            (lines[:4] + [lines[4].replace("Y2", "Q2")] + lines[5:], "X1 Y1 Z1"),
            (lines[:-1] + [lines[-1].rsplit("\t", 1)[0]], "cells")):
        bad = tmp_path / "bad.trc"
        bad.write_text("\n".join(broken) + "\n")
        with pytest.raises(ValueError, match=why):
            read_trc(bad)

"""`posture-monitor batch` as a researcher runs it: the real command in its own process,
a real Dask LocalCluster (two worker processes on 127.0.0.1), real videos of people
through MediaPipe and the int8 classifier; compared byte for byte with `analyze`."""

import csv
import hashlib
import os
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

from posture_monitor import __version__
from posture_monitor.cli import main
from tests.conftest import FIXTURES, read_rows

CLI = [sys.executable, "-m", "posture_monitor"]
pytestmark = pytest.mark.slow
OURS = ("summary.csv", "manifest.csv")  # rewritten by every run, the videos' files are not


def clips(media_dir: Path) -> list[Path]:
    """Seven short real clips: four cameras around one person (1080x1920, 60 fps) and a
    man at a desk seen by three webcams (720p, 6 fps)."""
    desk = FIXTURES / "desk_webcam_bsd2"
    return ([media_dir / f"pose2sim_cam0{i}.mp4" for i in (1, 2, 3, 4)]
            + sorted(desk.glob("*.mp4")))


def batch(*args, check=None, **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run([*CLI, "batch", *map(str, args)], capture_output=True, text=True,
                          timeout=600, **kw)
    if check is not None:
        assert proc.returncode == check, proc.stderr[-3000:]
    return proc


def manifest(out: Path) -> dict[str, dict]:
    return {row["stem"]: row for row in read_rows(out / "manifest.csv")}


@pytest.fixture(scope="module")
def study(tmp_path_factory, media_dir):
    """A study's list of videos (the walker with gait options and a height, a patient
    each) run by batch, and every video run by analyze with the same options."""
    root = tmp_path_factory.mktemp("study")
    videos = clips(media_dir)
    walker = media_dir / "sports2d_demo.mp4"
    listing = root / "study.csv"
    with open(listing, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["input", "patient", "gait", "height_cm"])
        for i, v in enumerate(videos):
            w.writerow([os.path.relpath(v, root), f"P{i:03d}", "", ""])
        w.writerow([str(walker), "P100", "yes", "165"])
    out = root / "batch"
    proc = batch(listing, "--out", out, "--angles", "--long", "--parquet", "--opensim", check=0)
    ref = root / "analyze"
    assert main(["analyze", *map(str, videos), "--out", str(ref), "--angles", "--opensim",
                 "--quiet"]) == 0
    assert main(["analyze", str(walker), "--out", str(ref), "--angles", "--opensim", "--gait",
                 "--height-cm", "165", "--quiet"]) == 0
    return {"root": root, "out": out, "ref": ref, "videos": [*videos, walker],
            "listing": listing, "stderr": proc.stderr}


def test_batch_writes_what_analyze_writes_for_every_video(study):
    out, ref = study["out"], study["ref"]
    assert len(study["videos"]) == 8
    for video in study["videos"]:
        stem = video.stem
        # identical per-frame values: the same bytes
        assert (out / f"{stem}.csv").read_bytes() == (ref / f"{stem}.csv").read_bytes(), stem
        assert (out / f"{stem}.json").exists()
        # researcher formats: OpenSim markers and angles, the same as analyze --opensim
        assert (out / f"{stem}.trc").read_bytes() == (ref / f"{stem}.trc").read_bytes()
        assert (out / f"{stem}_angles.mot").read_bytes() == \
            (ref / f"{stem}_angles.mot").read_bytes()
    # the walker's own options from the list: gait files, exactly as analyze --gait wrote
    for suffix in ("_gait.csv", "_gait_cycles.csv", ".trc", "_angles.mot", "_gait.mot"):
        assert (out / f"sports2d_demo{suffix}").read_bytes() == \
            (ref / f"sports2d_demo{suffix}").read_bytes()
    assert not (out / "pose2sim_cam01_gait.csv").exists()
    # nothing left half-way: no staging, no incomplete folder
    assert not (out / ".partial").exists() and not (out / "incomplete").exists()
    assert "Dask dashboard: http://127.0.0.1:" in study["stderr"]


def test_the_manifest_records_each_input_honestly(study):
    out = study["out"]
    rows = manifest(out)
    assert len(rows) == 8
    from posture_monitor.core.vision.model_files import resolve_pose_model

    model = resolve_pose_model("full")
    workers = set()
    for video in study["videos"]:
        row = rows[video.stem]
        assert row["status"] == "done", row
        assert row["input"] == os.path.abspath(video)
        assert row["input_sha256"] == hashlib.sha256(video.read_bytes()).hexdigest()
        assert int(row["input_bytes"]) == video.stat().st_size
        assert int(row["frames"]) == len(read_rows(out / f"{video.stem}.csv"))
        assert row["software_version"] == __version__
        assert row["pose_model"] == "full" and row["pose_model_sha256"] == model.sha256
        assert row["classifier"] == "default" and len(row["classifier_sha256"]) == 64
        assert float(row["wall_s"]) > 0 and row["error"] == ""
        for rel in row["outputs"].split(";"):
            assert (out / rel).is_file(), rel
        workers.add(row["worker"])
    assert rows["sports2d_demo"]["patient"] == "P100"
    assert rows["sports2d_demo"]["options"] == "patient=P100;gait=yes;height_cm=165"
    assert len(workers) == 2  # two worker processes shared the videos
    for f in (out / "manifest.csv", out / "summary.csv", out / "pose2sim_cam01.csv"):
        assert f.stat().st_mode & 0o777 == 0o600, f


def test_the_study_table_has_one_row_per_video_with_its_medians(study):
    out = study["out"]
    table = {r["stem"]: r for r in read_rows(out / "summary.csv")}
    assert set(table) == {v.stem for v in study["videos"]}
    for stem in ("pose2sim_cam02", "front_cam2"):
        frames = read_rows(out / f"{stem}.csv")
        for col in ("torso_incl_deg", "shoulder_tilt_deg", "knee_flex_l_deg"):
            values = [float(r[col]) for r in frames if r[col] != ""]
            assert int(table[stem][f"{col}_n"]) == len(values)
            if values:
                assert float(table[stem][f"{col}_median"]) == pytest.approx(
                    statistics.median(values), abs=1e-9)
        assert table[stem]["status"] == "done" and table[stem]["patient"].startswith("P")
    walker = table["sports2d_demo"]
    assert float(walker["gait_cadence_steps_per_min"]) == pytest.approx(96.9, rel=0.05)
    assert walker["gait_step_length_m_left"] != ""  # metres: the list gave her height
    assert table["pose2sim_cam01"]["gait_steps"] == ""  # no gait asked for that video


def test_long_and_parquet_tables_hold_the_same_values(study):
    import pyarrow.parquet as pq

    out = study["out"]
    wide = read_rows(out / "front_cam2.csv")
    long = read_rows(out / "front_cam2_long.csv")
    cva = {int(r["frame"]): r["value"] for r in long if r["measure"] == "torso_incl_deg"}
    assert len(cva) == len(wide)
    assert all(cva[int(r["frame"])] == r["torso_incl_deg"] for r in wide)
    table = pq.read_table(out / "parquet" / "frames" / "front_cam2.parquet")
    assert table.num_rows == len(wide)
    values = table.column("torso_incl_deg").to_pylist()
    assert values == [float(r["torso_incl_deg"]) if r["torso_incl_deg"] else None for r in wide]
    import pyarrow.dataset as ds

    every = ds.dataset(out / "parquet" / "long", format="parquet").to_table()
    assert set(every.column("video").to_pylist()) == {v.stem for v in study["videos"]}


def test_a_rerun_skips_what_is_done_and_refuses_changed_settings(study):
    out, listing = study["out"], study["listing"]
    before = {p.name: p.stat().st_mtime_ns for p in out.glob("*.csv") if p.name not in OURS}
    proc = batch(listing, "--out", out, "--angles", "--long", "--parquet", "--opensim",
                 check=0)
    assert "8 skipped (done before)" in proc.stderr
    after = {p.name: p.stat().st_mtime_ns for p in out.glob("*.csv") if p.name not in OURS}
    assert before == after  # not one video analysed again
    # other settings: the earlier results are not replaced without --overwrite
    proc = batch(listing, "--out", out, "--long", "--parquet", check=2)
    assert proc.stderr.count("\n") == 1 and "--overwrite" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert before == {p.name: p.stat().st_mtime_ns for p in out.glob("*.csv")
                      if p.name not in OURS}


def _start(args, out):
    import signal

    return subprocess.Popen([*CLI, "batch", *map(str, args), "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True,  # its own group, as a terminal's job
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _wait_for_done(out: Path, n: int, proc, timeout=300) -> dict:
    import time

    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        assert proc.poll() is None, proc.communicate()
        if (out / "manifest.csv").exists():
            rows = manifest(out)
            if sum(r["status"] == "done" for r in rows.values()) >= n:
                return rows
        time.sleep(0.2)
    raise AssertionError("batch made no progress")


def test_ctrl_c_and_a_killed_batch_lose_nothing_and_the_rerun_finishes(study, tmp_path):
    import signal

    videos = clips(study["videos"][0].parent)[:4] + [FIXTURES / "desk_webcam_bsd2"]
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\0not a video" * 100)
    args = [*videos, broken, "--angles"]
    out = tmp_path / "out"

    # Ctrl+C (the terminal sends it to the whole group): one clean stop
    proc = _start(args, out)
    _wait_for_done(out, 1, proc)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130
    assert "Traceback" not in err and "interrupted" in err
    rows = manifest(out)
    stopped = [s for s, r in rows.items() if r["status"] == "interrupted"]
    assert stopped  # something was still to do
    for stem in stopped:  # nothing of an unfinished video carries a result's name
        assert not (out / f"{stem}.csv").exists()

    # run again, then kill it hard (a crash, a power cut) after one more video
    after_ctrl_c = rows
    done = sum(r["status"] == "done" for r in rows.values())
    proc = _start(args, out)
    first = {s: dict(r) for s, r in _wait_for_done(out, done + 1, proc).items()}
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)
    done_before = {s: r for s, r in first.items() if r["status"] == "done"}
    mtimes = {s: (out / f"{s}.csv").stat().st_mtime_ns for s in done_before}

    # the rerun finishes and redoes nothing that was done
    proc = batch(*args, "--out", out, check=2)  # 2: the broken file failed again
    rows = manifest(out)
    assert {s for s, r in rows.items() if r["status"] == "done"} == \
        {v.stem for v in videos[:4]} | {"front_cam2", "front_low_cam0", "oblique_cam1"}
    for stem, row in done_before.items():
        assert rows[stem]["finished"] == row["finished"] and rows[stem]["worker"] == row["worker"]
        assert (out / f"{stem}.csv").stat().st_mtime_ns == mtimes[stem]
    for stem in rows:
        if stem != "broken":
            assert (out / f"{stem}.csv").read_bytes() == \
                (study["ref"] / f"{stem}.csv").read_bytes()
    bad = rows["broken"]
    assert bad["status"] == "failed" and "broken.mp4" in bad["error"]
    if after_ctrl_c["broken"]["status"] == "failed":  # failed inputs are tried again
        assert bad["started"] > after_ctrl_c["broken"]["started"]
    assert "broken failed:" in proc.stderr and "Traceback" not in proc.stderr
    assert not (out / "broken.csv").exists()


@pytest.mark.parametrize("args, message", [
    (["nowhere.mp4"], "nowhere.mp4 does not exist"),
    (["{list}", "--workers", "0"], "--workers must be 1 or more"),
])
def test_mistakes_are_one_line_before_any_work(tmp_path, capsys, args, message):
    listing = tmp_path / "l.csv"
    listing.write_text("input\nv.mp4\n")
    (tmp_path / "v.mp4").write_bytes(b"x")
    args = [a.replace("{list}", str(listing)) for a in args]
    assert main(["batch", *args, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


@pytest.mark.parametrize("text, message", [
    ("video,colour\nv.mp4,red\n", "unknown column 'colour'"),
    ("input,gait,height_cm\nv.mp4,yes,170\nv2.mp4,yes,tall\n",
     "l.csv row 3: height_cm must be a number"),
    ("input,gait\nv.mp4,maybe\n", "l.csv row 2: gait must be yes or no"),
    ("input,exercise\nv.mp4,juggling\n", "l.csv row 2:"),
    ("input\nmissing.mp4\n", "l.csv row 2:"),
    ("input\n\n", "lists no videos"),
])
def test_a_wrong_list_of_videos_names_its_row(tmp_path, capsys, text, message):
    for name in ("v.mp4", "v2.mp4"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "l.csv").write_text(text)
    assert main(["batch", str(tmp_path / "l.csv"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err


def test_results_it_did_not_write_are_not_replaced(tmp_path, capsys, media_dir):
    out = tmp_path / "o"
    out.mkdir()
    (out / "pose2sim_cam01.csv").write_text("mine\n")
    assert main(["batch", str(media_dir / "pose2sim_cam01.mp4"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "pose2sim_cam01.csv exists already" in err and "--overwrite" in err
    assert (out / "pose2sim_cam01.csv").read_text() == "mine\n"
    # its own manifest is not a list of videos
    (out / "manifest.csv").write_text("input,stem,status\n")
    assert main(["batch", str(out / "manifest.csv"), "--out", str(out)]) == 2
    assert "this batch's own manifest" in capsys.readouterr().err


def test_videos_in_folders_keep_their_participant_in_the_name(tmp_path):
    from posture_monitor.batch.inputs import expand_inputs

    for p in ("p01/front.mp4", "p02/front.mp4", "p02/side.MOV", "p03/photos/a.jpg",
              ".hidden/x.mp4", "notes.txt"):
        (tmp_path / p).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / p).write_bytes(b"x")
    jobs = expand_inputs([str(tmp_path)])
    assert [j.name for j in jobs] == ["p01_front", "p02_front", "p02_side", "p03_photos"]
    assert jobs[3].input == tmp_path / "p03" / "photos"

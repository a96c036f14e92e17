"""Several people on real video (real MediaPipe, the real command line): the Sports2D
demo has a man doing jumping jacks on a roof (0.3-5.6 s, then a flip) and a woman who
walks right to left across the frame (2-6.7 s)."""

import json
import subprocess
import sys

import pytest

from tests.conftest import read_rows


def _analyze(video, out, *extra, timeout=600):
    return subprocess.run([sys.executable, "-m", "posture_monitor", "analyze", str(video),
                           "--out", str(out), "--classifier", "none", "--quiet", *extra],
                          capture_output=True, text=True, timeout=timeout)


def _hip_x(row) -> float | None:
    if row["left_hip_x"] == "":
        return None
    return 0.5 * (float(row["left_hip_x"]) + float(row["right_hip_x"]))


@pytest.fixture(scope="module")
def everyone(sports2d_video, tmp_path_factory):
    out = tmp_path_factory.mktemp("people")
    proc = _analyze(sports2d_video, out, "--all-people", "--landmarks")
    assert proc.returncode == 0, proc.stderr
    return out, json.loads((out / "sports2d_demo.json").read_text())["people"]


def test_all_people_writes_one_csv_per_person_the_walker_and_the_jumper(everyone):
    out, people = everyone
    files = {p["id"]: p for p in people["seen"] if p["csv"]}
    long = {pid: p for pid, p in files.items() if p["frames"] >= 90}
    assert len(long) == 2, people["seen"]
    tracks = {}
    for pid in long:
        rows = read_rows(out / f"sports2d_demo_p{pid}.csv")
        assert rows and all(r["person"] == str(pid) for r in rows)
        xs = [x for x in map(_hip_x, rows) if x is not None]
        tracks[pid] = xs
        # no identity swap: the hips never jump between two frames (the two people are
        # 0.3-0.5 of the frame apart for most of the walk)
        assert max(abs(b - a) for a, b in zip(xs, xs[1:], strict=False)) < 0.06, pid
    walker = max(tracks, key=lambda pid: tracks[pid][0] - tracks[pid][-1])
    jumper = next(pid for pid in tracks if pid != walker)
    assert tracks[walker][0] - tracks[walker][-1] > 0.6  # crossed most of the frame
    assert max(tracks[jumper]) - min(tracks[jumper]) < 0.2  # stayed on the roof
    # brief flickers are listed, not written
    assert any(p["csv"] is None for p in people["seen"])


def test_person_chooses_whom_the_main_csv_measures(everyone, sports2d_video, tmp_path):
    _, people = everyone
    walker = next(p for p in people["seen"] if p["csv"] and p["first_s"] > 1.5
                  and p["frames"] >= 90)
    proc = _analyze(sports2d_video, tmp_path, "--person", str(walker["id"]))
    assert proc.returncode == 0, proc.stderr
    rows = read_rows(tmp_path / "sports2d_demo.csv")
    measured = [r for r in rows if r["pose_detected"] == "1"]
    assert measured and all(r["person"] == str(walker["id"]) for r in measured)
    times = [float(r["time_s"]) for r in measured]
    assert min(times) >= walker["first_s"] - 1e-6 and max(times) <= walker["last_s"] + 1e-6
    # before she comes in, nobody is measured (not the man on the roof)
    assert all(r["pose_detected"] == "0" for r in rows if float(r["time_s"]) < 1.9)
    meta = json.loads((tmp_path / "sports2d_demo.json").read_text())["people"]
    assert meta["rule"] == walker["id"] and meta["measured"] == [walker["id"]]


def test_a_plain_run_says_who_was_seen_and_measured(sports2d_video, tmp_path):
    proc = _analyze(sports2d_video, tmp_path, "--max-frames", "60")
    assert proc.returncode == 0, proc.stderr
    people = json.loads((tmp_path / "sports2d_demo.json").read_text())["people"]
    assert people["sought"] == 1 and people["rule"] == "auto"
    assert sum(p["measured_frames"] for p in people["seen"]) == sum(
        r["pose_detected"] == "1" for r in read_rows(tmp_path / "sports2d_demo.csv"))


@pytest.mark.parametrize("args, needle", [
    (["--person", "tallest"], "--person must be auto, largest or a person number"),
    (["--person", "0"], "--person numbers start at 1"),
    (["--max-people", "0"], "--max-people must be between 1 and 10"),
])
def test_people_mistakes_are_one_line_errors(sports2d_video, tmp_path, args, needle):
    proc = _analyze(sports2d_video, tmp_path, *args, timeout=120)
    assert proc.returncode == 2
    assert needle in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not list(tmp_path.iterdir())


def test_earlier_per_person_files_are_refused_then_replaced_when_asked(sports2d_video,
                                                                      tmp_path):
    (tmp_path / "sports2d_demo_p99.csv").write_text("an earlier run\n")
    proc = _analyze(sports2d_video, tmp_path, "--all-people", "--max-frames", "30",
                    timeout=120)
    assert proc.returncode == 2 and "--overwrite" in proc.stderr
    assert (tmp_path / "sports2d_demo_p99.csv").read_text() == "an earlier run\n"
    proc = _analyze(sports2d_video, tmp_path, "--all-people", "--max-frames", "30",
                    "--overwrite", timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / "sports2d_demo_p99.csv").exists()  # not left as if of this run

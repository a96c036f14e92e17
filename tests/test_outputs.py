"""Issue 11 (trust), findings 3, 8 and the `file` column of 9: nothing recorded is
replaced or lost without being asked, no output can be the session database, every
unusable output place is one line (exit 2) before any work, a full disk keeps the rows
already written, a replaced CSV is noticed by its sha256, and free text in the CSV
cannot run as a spreadsheet formula."""

import csv
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from posture_monitor.core.records import store_io
from posture_monitor.core.records.store import Store
from tests.conftest import ROOT, SEATED, read_rows

CLI = [sys.executable, "-m", "posture_monitor"]
SAMPLE = ROOT / "assets" / "sample" / "pose2sim_cam02.mp4"  # 100 frames
FAST = ("--model", "lite", "--classifier", "none", "--quiet")
DB = "posture-monitor.sqlite3"


def run(*args, home: Path, cwd: Path = ROOT):
    # PYTHONPATH: this checkout's package, also from another working folder
    env = dict(os.environ, POSTURE_MONITOR_DATA_HOME=str(home), PYTHONPATH=str(ROOT))
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=300)


def one_line_error(proc, *needles):
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("posture-monitor: error: ")
    for needle in needles:
        assert str(needle) in lines[0], (needle, lines[0])
    return lines[0]


def sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def two_clips(tmp_path: Path) -> tuple[Path, Path]:
    """Two different photos with the same file name in two folders."""
    a, b = tmp_path / "a" / "clip.jpg", tmp_path / "b" / "clip.jpg"
    a.parent.mkdir()
    b.parent.mkdir()
    shutil.copy(SEATED / "recline.jpg", a)
    shutil.copy(SEATED / "straight_hf.jpg", b)
    return a, b


def sessions(home: Path) -> list[dict]:
    if not (home / DB).exists():
        return []
    with Store(home / DB) as store:
        return store.sessions()


# -- places a test can make read-only or full, honestly (root ignores permission bits) --

def _mount_tmpfs(path: Path, options: str) -> bool:
    if os.name != "posix" or os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
                          capture_output=True, text=True)
    return proc.returncode == 0


def _umount(path: Path) -> None:
    subprocess.run(["umount", str(path)], check=True)


@pytest.fixture
def read_only_dir(tmp_path):
    d = tmp_path / "readonly"
    d.mkdir()
    if os.name != "posix":
        pytest.skip("POSIX permissions")
    if os.geteuid() != 0:
        d.chmod(0o500)
        yield d
        d.chmod(0o700)
        return
    # root writes through permission bits: only a read-only mount stops it
    if not _mount_tmpfs(d, "ro,size=64k"):
        pytest.skip("running as root (permission bits do not stop it) and no read-only "
                    "tmpfs can be mounted here")
    yield d
    _umount(d)


@pytest.fixture
def tiny_disk(tmp_path):
    """A 128 kB file system: the sidecar and some 30 landmark rows fit, 100 do not."""
    d = tmp_path / "tiny"
    d.mkdir()
    if not _mount_tmpfs(d, "size=128k,mode=0700"):
        pytest.skip("a full disk needs a small tmpfs: root and mount(8)")
    yield d
    _umount(d)


# -- finding 3: results are never silently replaced ---------------------------------

def test_same_name_twice_in_one_run_gets_its_own_files_and_sessions(tmp_path):
    home = tmp_path / "home"
    a, b = two_clips(tmp_path)
    proc = run("analyze", a, b, "--out", tmp_path / "out", *FAST, "--patient", "P1", "--save",
               home=home)
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == ["clip-2.csv", "clip-2.json",
                                                    "clip.csv", "clip.json"]
    # which input went where: in input order, and the sidecar names it
    for stem, folder in (("clip", "a"), ("clip-2", "b")):
        source = json.loads((out / f"{stem}.json").read_text())["source"]["description"]
        assert source.endswith(os.path.join(folder, "clip.jpg")), source
    stored = sorted(sessions(home), key=lambda s: s["id"])
    assert [Path(s["csv_path"]).name for s in stored] == ["clip.csv", "clip-2.csv"]
    for s in stored:
        assert Path(s["csv_path"]).is_absolute()
        assert s["csv_sha256"] == sha(s["csv_path"])  # each points at its own file
    assert read_rows(out / "clip.csv")[0]["cva_deg"] != read_rows(out / "clip-2.csv")[0][
        "cva_deg"]


def test_an_earlier_result_is_replaced_only_with_overwrite(tmp_path):
    home = tmp_path / "home"
    a, b = two_clips(tmp_path)
    out = tmp_path / "out"
    first = run("analyze", a, "--out", out, *FAST, "--patient", "P1", "--save", home=home)
    assert first.returncode == 0, first.stderr
    before = sha(out / "clip.csv"), sha(out / "clip.json")

    # another patient's clip of the same name, into the same folder: refused before work
    proc = run("analyze", b, "--out", out, *FAST, "--patient", "P2", "--save", home=home)
    one_line_error(proc, out / "clip.csv", "exists already", "--overwrite")
    assert (sha(out / "clip.csv"), sha(out / "clip.json")) == before
    assert [s["patient_id"] for s in sessions(home)] == ["P1"]  # no session for P2

    again = run("analyze", b, "--out", out, *FAST, "--patient", "P2", "--save",
                "--overwrite", home=home)
    assert again.returncode == 0, again.stderr
    assert sha(out / "clip.csv") != before[0]
    old, new = sorted(sessions(home), key=lambda s: s["id"])
    from posture_monitor.core.records.store import csv_changed

    assert csv_changed(new) is None
    note = csv_changed(old)  # P1's session still names that path, whose data changed
    assert note and str(out / "clip.csv") in note and "changed" in note

    # every command that reads the session back by its path says so, in one line
    show = run("sessions", "show", old["id"], home=home)
    assert show.returncode == 0
    export = run("sessions", "export", old["id"], "--out", tmp_path / "e.csv", home=home)
    assert export.returncode == 0, export.stderr
    report = run("report", "--session", old["id"], "--pdf", tmp_path / "r.pdf", home=home)
    assert report.returncode == 0, report.stderr
    for proc in (show, export, report):
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and "has changed since it was stored" in lines[0], proc.stderr
    fine = run("sessions", "show", new["id"], home=home)
    assert fine.returncode == 0 and fine.stderr == ""


def test_stored_csv_path_is_absolute(tmp_path):
    home = tmp_path / "home"
    (tmp_path / "work").mkdir()
    proc = run("analyze", SEATED / "recline.jpg", "--out", "rel", *FAST, "--patient", "P1",
               "--save", home=home, cwd=tmp_path / "work")
    assert proc.returncode == 0, proc.stderr
    (s,) = sessions(home)
    assert s["csv_path"] == str(tmp_path / "work" / "rel" / "recline.csv")


def test_no_output_is_ever_the_database(tmp_path):
    home = tmp_path / "home"
    out = tmp_path / "out"
    proc = run("analyze", SEATED / "recline.jpg", "--out", out, *FAST, "--patient", "P1",
               "--save", home=home)
    assert proc.returncode == 0, proc.stderr
    db = home / DB
    Path(str(db) + "-shm").touch()  # whatever SQLite keeps beside it
    before = sha(db)
    for target in (db, Path(str(db) + "-wal"), Path(str(db) + "-shm")):
        one_line_error(run("sessions", "export", 1, "--out", target, "--overwrite",
                           home=home), "session database")
    one_line_error(run("report", "--session", 1, "--pdf", db, "--overwrite", home=home),
                   "session database")
    # a result file that is a link to the database: not even --overwrite writes through it
    (out / "recline.csv").unlink()
    (out / "recline.csv").symlink_to(db)
    one_line_error(run("analyze", SEATED / "recline.jpg", "--out", out, *FAST, "--overwrite",
                       home=home), "session database")
    assert sha(db) == before
    assert [s["id"] for s in sessions(home)] == [1]
    # an export named .json would write its CSV where its own sidecar goes
    one_line_error(run("sessions", "export", 1, "--out", tmp_path / "s.json", home=home),
                   "s.json", ".csv")


def test_the_library_refuses_the_database_too(tmp_path):
    """The window's export and report buttons call the core directly (after their own
    file dialog): the database guard lives there as well."""
    from posture_monitor.core.common.errors import OutputError

    db = tmp_path / "store.sqlite3"
    with Store(db) as store:
        store.add_patient("P1")
        sid = store.start_session("P1", "camera 0", "lite", {})
        store.finish_session(sid, {"frames": 0})
        before = sha(db)
        for target in (db, Path(str(db) + "-wal")):
            with pytest.raises(OutputError, match="session database"):
                store_io.export_session(store, sid, target)
        assert sha(db) == before and store.session(sid)["id"] == sid


def test_export_and_report_replace_a_file_only_with_overwrite(tmp_path):
    home = tmp_path / "home"
    proc = run("analyze", SEATED / "recline.jpg", "--out", tmp_path / "out", *FAST,
               "--patient", "P1", "--save", home=home)
    assert proc.returncode == 0, proc.stderr
    csv_out, pdf = tmp_path / "s.csv", tmp_path / "s.pdf"
    csv_out.write_text("keep me\n")
    pdf.write_text("keep me too\n")
    one_line_error(run("sessions", "export", 1, "--out", csv_out, home=home),
                   csv_out, "exists already", "--overwrite")
    one_line_error(run("report", "--session", 1, "--pdf", pdf, home=home),
                   pdf, "exists already", "--overwrite")
    assert csv_out.read_text() == "keep me\n" and pdf.read_text() == "keep me too\n"
    assert not (tmp_path / "s.json").exists()
    assert run("sessions", "export", 1, "--out", csv_out, "--overwrite",
               home=home).returncode == 0
    assert run("report", "--session", 1, "--pdf", pdf, "--overwrite",
               home=home).returncode == 0
    assert read_rows(csv_out)[0]["frame"] == "0" and pdf.read_bytes().startswith(b"%PDF")


def test_review_says_the_csv_changed_instead_of_replaying_other_data(tmp_path, qtbot):
    from posture_monitor.gui.history import ReviewWidget

    home = tmp_path / "home"
    out = tmp_path / "out"
    proc = run("analyze", SEATED / "recline.jpg", "--out", out, *FAST, "--landmarks",
               "--patient", "P1", "--save", home=home)
    assert proc.returncode == 0, proc.stderr
    with Store(home / DB) as store:
        review = ReviewWidget(store, 1)
        qtbot.addWidget(review)
        assert review.replay is not None  # the stored file: its skeleton is replayed
        with open(out / "recline.csv", "a", encoding="utf-8") as fh:
            fh.write("\n")  # any change at all
        review = ReviewWidget(store, 1)
        qtbot.addWidget(review)
        assert review.replay is None
        assert "has changed since it was stored" in review.picture.text()


# -- finding 8: one line, exit 2, before any work; nothing recorded is lost ---------

def test_unusable_out_is_one_line_before_any_work_and_stores_nothing(tmp_path):
    home = tmp_path / "home"
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    save = ("--patient", "P1", "--save")
    one_line_error(run("analyze", SEATED / "recline.jpg", "--out", a_file, *FAST, *save,
                       home=home), a_file, "is a file, not a folder")
    one_line_error(run("analyze", SEATED / "recline.jpg", "--out", a_file / "sub", *FAST,
                       *save, home=home), a_file, "is a file, not a folder")
    (tmp_path / "out" / "recline.csv").mkdir(parents=True)  # a folder with the CSV's name
    one_line_error(run("analyze", SEATED / "recline.jpg", "--out", tmp_path / "out", *FAST,
                       *save, "--overwrite", home=home), "recline.csv", "is a folder")
    assert sessions(home) == []  # no empty 'interrupted' session left behind
    # an input that fails before its first frame stores no session either
    proc = run("analyze", SAMPLE, "--out", tmp_path / "out2", *FAST, *save,
               "--baseline-from", "50:55", home=home)
    one_line_error(proc, "beyond the end")
    assert sessions(home) == []
    # export and report into a folder, or under a file
    assert run("analyze", SEATED / "recline.jpg", "--out", tmp_path / "out3", *FAST, *save,
               home=home).returncode == 0
    one_line_error(run("sessions", "export", 1, "--out", tmp_path, home=home),
                   "is a folder", "give a file name")
    one_line_error(run("report", "--session", 1, "--pdf", tmp_path, home=home),
                   "is a folder", "report.pdf")
    one_line_error(run("report", "--patient", "P1", "--pdf", a_file / "r.pdf", home=home),
                   a_file, "is a file, not a folder")


def test_read_only_places_are_one_line(tmp_path, read_only_dir):
    home = tmp_path / "home"
    one_line_error(run("analyze", SEATED / "recline.jpg", "--out", read_only_dir, *FAST,
                       home=home), read_only_dir)
    one_line_error(run("analyze", SEATED / "recline.jpg", "--out", read_only_dir / "new",
                       *FAST, home=home), read_only_dir / "new")
    assert run("analyze", SEATED / "recline.jpg", "--out", tmp_path / "out", *FAST,
               "--patient", "P1", "--save", home=home).returncode == 0
    one_line_error(run("sessions", "export", 1, "--out", read_only_dir / "s.csv", home=home),
                   read_only_dir)
    one_line_error(run("report", "--session", 1, "--pdf", read_only_dir / "s.pdf",
                       home=home), read_only_dir)


def test_a_full_disk_keeps_every_whole_row_and_the_stored_samples(tmp_path, tiny_disk):
    home = tmp_path / "home"
    proc = run("analyze", SAMPLE, "--out", tiny_disk, *FAST, "--landmarks", "--patient",
               "P1", "--save", home=home)
    line = one_line_error(proc, "disk is full", tiny_disk / "pose2sim_cam02.csv",
                          "free some space")
    with open(tiny_disk / "pose2sim_cam02.csv", newline="", encoding="utf-8") as fh:
        header, *rows = list(csv.reader(fh))
    assert 5 < len(rows) < 100
    assert all(len(r) == len(header) for r in rows)  # whole rows only, no half row
    assert [int(r[0]) for r in rows] == list(range(len(rows)))
    assert f"the {len(rows)} rows written before are kept" in line
    meta = json.loads((tiny_disk / "pose2sim_cam02.json").read_text())  # never half written
    # The final sidecar is written where the freed half row leaves room for it; otherwise
    # the first one stays, whole. Either way it claims no row that is not in the CSV.
    if meta["status"] == "running":
        assert meta["frames_written"] <= len(rows) and "finished" not in meta
    else:
        assert meta["status"].startswith("error: the disk is full"), meta["status"]
        assert meta["frames_written"] == len(rows) and "finished" in meta
    (s,) = sessions(home)
    assert s["status"].startswith("error: the disk is full")
    with Store(home / DB) as store:  # the store has every frame analysed, at least those
        assert len(store.samples(s["id"])["frame"]) >= len(rows)


def test_an_unusable_database_is_one_line(tmp_path):
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    one_line_error(run("sessions", "list", home=a_file), a_file, "is a file, not a folder",
                   "POSTURE_MONITOR_DATA_HOME")
    folder_db = tmp_path / "h1"
    (folder_db / DB).mkdir(parents=True)
    one_line_error(run("analyze", SEATED / "recline.jpg", "--out", tmp_path / "o", *FAST,
                       "--patient", "P1", "--save", home=folder_db), folder_db / DB,
                   "is a folder")
    foreign = tmp_path / "h2"
    foreign.mkdir()
    con = sqlite3.connect(foreign / DB)
    con.execute("CREATE TABLE invoices (n INTEGER)")
    con.commit()
    con.close()
    before = sha(foreign / DB)
    one_line_error(run("patients", home=foreign), "another program's SQLite database",
                   "invoices")
    assert sha(foreign / DB) == before  # not one table added, journal mode unchanged
    assert not Path(str(foreign / DB) + "-wal").exists()


# -- finding 9: the `file` column is defused like exports ----------------------------

def test_image_file_names_cannot_become_formulas(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    names = ["=HYPERLINK(1+1).jpg", "@SUM(1).jpg", "-2+3.jpg", "plain.jpg"]
    for n in names:
        shutil.copy(SEATED / "recline.jpg", photos / n)
    proc = run("analyze", photos, "--out", tmp_path / "out", *FAST, home=tmp_path / "home")
    assert proc.returncode == 0, proc.stderr
    rows = read_rows(tmp_path / "out" / "photos.csv")
    files = sorted(r["file"] for r in rows)
    assert files == sorted(["'=HYPERLINK(1+1).jpg", "'@SUM(1).jpg", "'-2+3.jpg",
                            "plain.jpg"])
    assert all(r["torso_incl_deg"].startswith("-") for r in rows)  # numbers stay numbers

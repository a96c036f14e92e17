"""The batch's study table and per-frame research tables (posture_monitor/batch/
study_table.py, frame_tables.py) on real `analyze` outputs made here with the real
command line: Pose2Sim cam01 with the classifier and joint angles, the Sports2D demo's
jumping jacks counted as arm abductions (first 100 frames) and the Sports2D walker with
--gait. Every figure is checked against an independent reading with the csv module."""

import csv
import json
import os
import shutil
import stat
import statistics

import pytest

from posture_monitor.batch import frame_tables, study_table
from posture_monitor.batch.frame_tables import write_long_csv, write_parquet
from posture_monitor.batch.study_table import summary_columns, summary_row, write_summary
from posture_monitor.cli import main
from posture_monitor.core.classify.labels import LABEL_NAMES
from posture_monitor.core.classify.scoring import SCORE_COLUMNS
from posture_monitor.core.measure.definitions import METRIC_COLUMNS, TILT_COLUMNS, VIEWS
from posture_monitor.core.measure.joints import ANGLE_COLUMNS
from tests.conftest import read_rows

pytestmark = pytest.mark.slow


def _analyze(media_dir, tmp_path_factory, clip, *options):
    out = tmp_path_factory.mktemp("analyze")
    assert main(["analyze", str(media_dir / clip), "--out", str(out), "--quiet",
                 *options]) == 0
    stem = clip.removesuffix(".mp4")
    return out / f"{stem}.csv", out / f"{stem}.json"


@pytest.fixture(scope="module")
def posture(media_dir, tmp_path_factory):
    return _analyze(media_dir, tmp_path_factory, "pose2sim_cam01.mp4", "--classifier",
                    "default", "--angles")


@pytest.fixture(scope="module")
def exercise(media_dir, tmp_path_factory):
    return _analyze(media_dir, tmp_path_factory, "sports2d_demo.mp4", "--exercise",
                    "shoulder_abduction", "--max-frames", "100", "--angles")


@pytest.fixture(scope="module")
def gait(media_dir, tmp_path_factory):
    return _analyze(media_dir, tmp_path_factory, "sports2d_demo.mp4", "--gait",
                    "--classifier", "none")


@pytest.fixture
def umask_022():
    """Files default to world-readable here, so user-only must come from the writer (the
    CLI set 077 for this process)."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def _mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def _floats(rows, col):
    return [float(r[col]) for r in rows if r[col] != ""]


def _copy_with(csv_path, json_path, folder, change):
    """The run's CSV (each row passed through `change`) and sidecar, under `folder`."""
    folder.mkdir()
    rows = read_rows(csv_path)
    header = list(rows[0])
    with open(folder / "v.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, header)
        w.writeheader()
        for i, r in enumerate(rows):
            w.writerow(change(i, dict(r)))
    shutil.copy(json_path, folder / "v.json")
    return folder / "v.csv", folder / "v.json"


def test_counts_medians_and_spread_agree_with_the_csv(posture):
    rows = read_rows(posture[0])
    row = summary_row(*posture)
    assert row["status"] == "complete" and row["status_detail"] is None
    assert row["frames"] == len(rows) == 100
    assert row["frames_with_person"] == sum(r["pose_detected"] == "1" for r in rows)
    assert row["seconds_analysed"] == pytest.approx(100 / 60, abs=2e-3)  # 60 fps clip
    measured = 0
    for col in (*METRIC_COLUMNS, *ANGLE_COLUMNS):
        values = _floats(rows, col)
        assert row[f"{col}_n"] == len(values), col
        if not values:
            assert row[f"{col}_median"] is None and row[f"{col}_iqr"] is None
            continue
        measured += 1
        assert row[f"{col}_median"] == pytest.approx(statistics.median(values), abs=1e-9)
        if len(values) >= 2:  # R's type 7 is "inclusive" here
            q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
            assert row[f"{col}_iqr"] == pytest.approx(q3 - q1, abs=1e-9), col
    assert measured > 20  # 3D metrics and angles in every view, 2D ones in a few frames


def test_view_and_label_shares(posture):
    rows = [r for r in read_rows(posture[0]) if r["pose_detected"] == "1"]
    row = summary_row(*posture)
    views = [r["view"] for r in rows]
    assert sum(row[f"view_share_{v}"] for v in VIEWS) == pytest.approx(1.0)
    for v in VIEWS:
        assert row[f"view_share_{v}"] == pytest.approx(views.count(v) / len(rows))
    assert row["view_main"] == max(VIEWS, key=views.count) == "oblique"
    labels = [r["posture_label"] for r in rows]
    parts = [row[f"label_share_{k}"] for k in ("upright", "deviated", "abstained")]
    assert sum(parts) == pytest.approx(1.0)
    assert row["label_share_abstained"] == pytest.approx(labels.count("") / len(rows))
    assert row["label_share_upright"] == pytest.approx(labels.count("upright") / len(rows))
    for name in LABEL_NAMES:  # multi-label: 'a+b' counts the frame for a and for b
        shown = sum(name in lbl.split("+") for lbl in labels)
        assert row[f"label_share_{name}"] == pytest.approx(shown / len(rows)), name
        assert row[f"label_share_{name}"] <= row["label_share_deviated"] + 1e-12
    assert any("+" in lbl for lbl in labels)  # the clip has such cells, so the sum exceeds
    assert sum(row[f"label_share_{n}"] for n in LABEL_NAMES) > row["label_share_deviated"]


def test_alerts_status_and_an_empty_metric(posture, tmp_path):
    def change(i, r):
        r["cva_deg"] = ""
        r["alert_event"] = "1" if i in (10, 40, 41) else r["alert_event"]
        return r

    csv_path, json_path = _copy_with(*posture, tmp_path / "v", change)
    meta = json.loads(json_path.read_text())
    meta["status"] = "error: the disk is full"
    json_path.write_text(json.dumps(meta))
    assert summary_row(*posture)["alerts_started"] == 0  # every cell 0: none started
    row = summary_row(csv_path, json_path)
    assert row["alerts_started"] == 3
    assert row["cva_deg_n"] == 0 and row["cva_deg_median"] is None
    assert row["cva_deg_iqr"] is None
    assert (row["status"], row["status_detail"]) == ("error", "the disk is full")
    out = tmp_path / "summary.csv"
    write_summary(out, [row])
    written = read_rows(out)[0]
    assert (written["cva_deg_n"], written["cva_deg_median"], written["cva_deg_iqr"]) == \
        ("0", "", "")


def test_exercise_summary_matches_the_repetitions(exercise):
    row = summary_row(*exercise)
    reps = read_rows(exercise[0].with_name("sports2d_demo_reps.csv"))
    done = [r for r in reps if r["complete"] == "1"]
    assert row["exercise_name"] == "shoulder_abduction" and row["exercise_unit"] == "deg"
    assert row["exercise_reps_complete"] == len(done) == 1
    assert row["exercise_reps_incomplete"] == len(reps) - len(done) == 1
    for key in ("range", "peak", "duration_s", "peak_velocity", "range_symmetry_pct",
                "left_range", "right_range"):
        mean = statistics.mean(float(r[key]) for r in done)
        assert row[f"exercise_{key}_mean"] == pytest.approx(mean, abs=2e-3), key
    assert row["exercise_form_faults"] >= 0 and "gait_steps" not in row


def test_gait_summary_matches_the_steps(gait):
    row = summary_row(*gait)
    meta = json.loads(gait[1].read_text())
    steps = read_rows(gait[0].with_name("sports2d_demo_gait.csv"))
    step_times = _floats(steps, "step_time_s")
    assert row["gait_steps"] == len(steps) >= 5
    assert row["gait_person"] == meta["gait"]["person"]["analysed"]
    assert row["gait_cadence_steps_per_min"] == pytest.approx(60 / statistics.mean(
        step_times), rel=5e-3)
    side = {f: [s for s in steps if s["foot"] == f] for f in ("left", "right")}
    mean = {f: statistics.mean(_floats(side[f], "step_time_s")) for f in side}
    for f in side:
        assert row[f"gait_step_time_s_{f}"] == pytest.approx(mean[f], abs=2e-3)
        assert row[f"gait_stance_pct_{f}"] == pytest.approx(
            statistics.mean(_floats(side[f], "stance_pct")), abs=2e-2)
        assert row[f"gait_step_length_leg_{f}"] == pytest.approx(
            statistics.mean(_floats(side[f], "step_length_leg")), abs=2e-3)
        assert row[f"gait_step_length_m_{f}"] is None  # no --height-cm
    assert row["gait_step_time_symmetry_pct"] == pytest.approx(
        100 * min(mean.values()) / max(mean.values()), abs=0.5)
    (t0, t1), = meta["gait"]["analysed_s"]
    assert row["gait_walking_s"] == pytest.approx(t1 - t0) and row["gait_withheld"] is None
    # not classified (--classifier none): no label shares, rather than "all abstained"
    assert not any(k.startswith("label_share_") for k in row)
    assert "exercise_name" not in row and "knee_flex_l_deg_n" not in row


def test_column_order_is_stable_and_the_file_user_only(posture, exercise, gait, tmp_path,
                                                       umask_022):
    rows = [summary_row(*p) for p in (posture, exercise, gait)]
    cols = summary_columns(rows)
    assert cols == summary_columns(rows[::-1])
    assert cols[:len(study_table.BASE_COLUMNS)] == list(study_table.BASE_COLUMNS)
    stems = [c.removesuffix("_median") for c in cols if c.endswith("_median")]
    assert stems == [*METRIC_COLUMNS, *ANGLE_COLUMNS]
    groups = [c.split("_")[0] for c in cols[len(study_table.BASE_COLUMNS)
                                            + 3 * (len(METRIC_COLUMNS) + len(ANGLE_COLUMNS)):]]
    assert groups == sorted(groups, key=["label", "alerts", "exercise", "gait"].index)
    plain = summary_columns(rows[2:])  # no angles, no labels, no exercise
    assert not any(c.startswith(("knee_", "label_", "exercise_")) for c in plain)
    assert any(c.startswith("gait_") for c in plain)

    for r, name in zip(rows, ("=HYPERLINK(x)", "b", "c"), strict=True):
        r["video"] = name
    out = tmp_path / "study" / "summary.csv"
    write_summary(out, rows, first=["video"])
    assert _mode(out) == 0o600 and os.listdir(out.parent) == ["summary.csv"]
    with open(out, newline="", encoding="utf-8") as fh:
        back = list(csv.reader(fh))
    assert back[0] == ["video", *cols]
    assert back[1][0] == "'=HYPERLINK(x)"  # a free-text cell never runs as a formula
    for got, want in zip(back[1:], rows, strict=True):
        for c, cell in zip(back[0][1:], got[1:], strict=True):
            v = want.get(c)
            if v is None:
                assert cell == "", c
            elif isinstance(v, str):
                assert cell == v, c
            else:
                assert float(cell) == v, c  # every digit kept: exact round trip


def _flag_map(text):
    own = {}
    for entry in text.split(";"):
        head, _, rest = entry.partition(":")
        if head in frame_tables.MEASURES:
            own[head] = rest
    return own


def test_long_csv_holds_every_frame_times_measure(posture, tmp_path, umask_022):
    rows = read_rows(posture[0])
    expected = [c for c in rows[0] if c in (*METRIC_COLUMNS, *ANGLE_COLUMNS,
                                             *SCORE_COLUMNS, "posture_confidence")]
    assert len(expected) == len(METRIC_COLUMNS) + len(ANGLE_COLUMNS) + len(SCORE_COLUMNS) + 1
    out = tmp_path / "long" / "cam01.csv"
    n = write_long_csv(posture[0], out, "cam01")
    long = read_rows(out)
    assert n == len(long) == len(rows) * len(expected)
    assert list(long[0]) == list(frame_tables.LONG_COLUMNS) and _mode(out) == 0o600
    seen = {"own": 0, "view": 0, "tilt": 0}
    for i, r in enumerate(rows):
        block = long[i * len(expected):(i + 1) * len(expected)]
        assert [b["measure"] for b in block] == expected
        own = {**_flag_map(r["flags"]), **_flag_map(r["angle_flags"])}
        for b in block:
            m = b["measure"]
            assert (b["video"], b["frame"], b["time_s"], b["person"], b["view"]) == (
                "cam01", r["frame"], r["time_s"], r["person"], r["view"])
            assert b["value"] == r[m], (i, m)
            if m in own:
                assert b["reason"] == own[m]
                seen["own"] += 1
            elif r[m] == "" and r["view"] == "oblique":
                assert b["reason"] == "view:oblique"
                seen["view"] += 1
            elif r[m] != "" and m in TILT_COLUMNS:
                assert b["reason"] == "camera_tilt:not_removed"  # the flags say so
                seen["tilt"] += 1
            elif r[m] != "":
                assert b["reason"] == ""
    assert min(seen.values()) > 0


def test_parquet_round_trips_the_csv_and_a_folder_is_the_study(posture, exercise,
                                                               tmp_path, umask_022):
    import pyarrow as pa
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    for name, (csv_path, _) in (("cam01", posture), ("jacks", exercise)):
        write_parquet(csv_path, name, tmp_path / "wide" / f"{name}.parquet",
                      tmp_path / "long" / f"{name}.parquet")
        write_long_csv(csv_path, tmp_path / f"{name}_long.csv", name)
    wide = pq.read_table(tmp_path / "wide" / "cam01.parquet")
    rows = read_rows(posture[0])
    assert wide.column_names == ["video", *rows[0]] and wide.num_rows == len(rows)
    types = dict(zip(wide.column_names, wide.schema.types, strict=True))
    assert types["frame"] == types["person"] == types["pose_detected"] == pa.int64()
    assert types["cva_deg"] == types["time_s"] == types["knee_flex_l_deg"] == pa.float64()
    assert types["view"] == types["flags"] == types["posture_label"] == pa.string()
    for got, r in zip(wide.to_pylist(), rows, strict=True):
        assert got["video"] == "cam01"
        for c, cell in r.items():
            kind = types[c]
            want = None if cell == "" else int(cell) if kind == pa.int64() else \
                float(cell) if kind == pa.float64() else cell
            assert got[c] == want, c
    long = pq.read_table(tmp_path / "long" / "cam01.parquet").to_pylist()
    text = read_rows(tmp_path / "cam01_long.csv")
    assert len(long) == len(text)
    for got, r in zip(long, text, strict=True):
        assert got == {"video": "cam01", "frame": int(r["frame"]),
                       "time_s": float(r["time_s"]),
                       "person": int(r["person"]) if r["person"] else None,
                       "view": r["view"] or None, "measure": r["measure"],
                       "value": float(r["value"]) if r["value"] else None,
                       "reason": r["reason"] or None}
    for folder in ("wide", "long"):
        assert sorted(os.listdir(tmp_path / folder)) == ["cam01.parquet", "jacks.parquet"]
        assert all(_mode(p) == 0o600 for p in (tmp_path / folder).iterdir())
    study = ds.dataset(tmp_path / "wide").to_table()
    assert study.num_rows == 200 and set(study.column("video").to_pylist()) == {
        "cam01", "jacks"}
    assert ds.dataset(tmp_path / "long").to_table().num_rows == 2 * len(long)


def test_a_failed_parquet_write_keeps_the_old_file_and_leaves_no_temporary(
        posture, tmp_path):
    def change(i, r):
        r["cva_deg"] = "not a number" if i == 50 else r["cva_deg"]
        return r

    csv_path, _ = _copy_with(*posture, tmp_path / "v", change)
    wide, long = tmp_path / "out" / "w.parquet", tmp_path / "out" / "l.parquet"
    write_parquet(posture[0], "cam01", wide, long)
    before = wide.read_bytes()
    with pytest.raises(Exception, match="not a number"):
        write_parquet(csv_path, "cam01", wide, long)
    assert wide.read_bytes() == before
    assert sorted(os.listdir(wide.parent)) == ["l.parquet", "w.parquet"]

"""Personal baseline on the real seated clip: upright 0-20 s, slouched 20-50 s, upright
50-70 s (real photos of one person, side-on, 10 fps)."""

import copy
import dataclasses
import json
import os

import numpy as np
import pytest

from posture_monitor.core.common.errors import UserError
from posture_monitor.core.measure.metrics import measure
from posture_monitor.core.measure.person import person_position
from posture_monitor.core.posture.baseline import (
    Baseline,
    BaselineCollector,
    MetricStats,
    Profile,
    ProfileStore,
    setup_change,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def results():
    from fetch_test_media import seated_sequence

    from posture_monitor.core.capture.sources import open_source
    from posture_monitor.core.capture.worker import CaptureWorker
    from posture_monitor.core.common.settings import AnalysisSettings
    from posture_monitor.core.posture.pipeline import PosePipeline

    with PosePipeline(AnalysisSettings(model="lite")) as pipe, \
            open_source(seated_sequence()) as src:
        # Every 2nd frame (5 fps) keeps the test fast and still gives 25 frames per 5 s.
        out = [pipe.process(f) for f in CaptureWorker(src).frames() if f.index % 2 == 0]
    assert len(out) == 350
    return out


@pytest.fixture(scope="module")
def camera(results):
    h, w = results[0].frame.image.shape[:2]
    return {"description": "seated_sequence.mp4", "width": w, "height": h}


def _collect(results, start_s, duration_s=5.0):
    c = BaselineCollector(duration_s=duration_s)
    for r in results:
        if r.frame.time_s >= start_s and not c.done:
            c.add(r)
    assert c.done and c.progress() == 1.0
    return c


@pytest.fixture(scope="module")
def baseline(results, camera):
    return _collect(results, 0.0).baseline(camera)


def _at(results, t):
    return next(r for r in results if r.frame.time_s >= t)


def test_upright_baseline_matches_the_upright_photo(baseline, camera):
    assert baseline.view == "left"
    torso, cva = baseline.metrics["torso_incl_deg"], baseline.metrics["cva_deg"]
    assert -20 < torso.median < 0
    assert cva.median > 65
    assert torso.spread < 3 and cva.spread < 3
    assert torso.n >= 20  # 5 s at 5 fps, not a frame beyond the window
    assert baseline.camera == camera
    assert 0.05 < baseline.scale < 0.2  # nose-shoulder is a tenth of the frame height
    assert all(0 < p < 1 for p in baseline.position)
    assert baseline.slouch is None and baseline.personal_thresholds() == {}


def test_collector_progress_follows_stream_time(results):
    c = BaselineCollector(duration_s=5.0)
    assert c.progress() == 0.0 and not c.done
    for r in results[:13]:  # 0.0 .. 2.4 s
        c.add(r)
    assert c.progress() == pytest.approx(0.48)
    assert not c.done


def test_deviation_shows_the_slouch(baseline, results):
    for t in (25.0, 35.0, 45.0):
        dev = baseline.deviation(_at(results, t).measurement.values)
        assert dev["torso_incl_deg"] > 20, t
        assert dev["cva_deg"] < -10, t
        assert dev["shoulder_tilt_deg"] is None  # a front-view metric: missing in a side view
    upright = baseline.deviation(_at(results, 60.0).measurement.values)
    assert abs(upright["torso_incl_deg"]) < 3 and abs(upright["cva_deg"]) < 3


def test_two_point_thresholds_lie_between_neutral_and_slouch(baseline, results):
    slouch = _collect(results, 25.0).slouch_medians()
    assert slouch["torso_incl_deg"] > 20 and slouch["cva_deg"] < 65
    two_point = dataclasses.replace(baseline, slouch=slouch)
    thresholds = two_point.personal_thresholds()
    assert set(thresholds) == set(baseline.metrics) & set(slouch)
    for c in ("torso_incl_deg", "cva_deg"):
        low, high = sorted((baseline.metrics[c].median, slouch[c]))
        assert low + 5 < thresholds[c] < high - 5, c


def test_too_few_frames_is_a_user_error(results, camera):
    c = BaselineCollector(duration_s=5.0, min_frames=10)
    nobody = dataclasses.replace(results[0], pose=None, measurement=measure(None, 1, 1))
    oblique = dataclasses.replace(
        results[1], measurement=dataclasses.replace(results[1].measurement, view="oblique"))
    for r in [nobody, oblique, *results[2:5]]:
        c.add(r)
    with pytest.raises(UserError) as err:
        c.baseline(camera)
    message = str(err.value)
    assert "only 3 usable frames" in message and "calibrate again" in message
    assert "\n" not in message
    with pytest.raises(UserError):
        c.slouch_medians()


def _scaled(result, factor):
    """The same frame with the person `factor` times larger about the mid-shoulder."""
    pose = copy.deepcopy(result.pose)
    centre = np.array(person_position(pose))
    pose.image[:, :2] = centre + (pose.image[:, :2] - centre) * factor
    h, w = result.frame.image.shape[:2]
    return dataclasses.replace(result, pose=pose, measurement=measure(pose, w, h))


def test_setup_change_names_camera_resolution_distance_place_view_not_slouch(
        baseline, camera, results):
    later = _at(results, 60.0)
    assert setup_change(baseline, camera, later) is None
    # Slouching moves the shoulders forward, but that is the posture, not a new set-up.
    assert setup_change(baseline, camera, _at(results, 35.0)) is None
    other = setup_change(baseline, camera | {"description": "USB Camera 2"}, later)
    assert other is not None and "camera" in other and "\n" not in other
    resized = setup_change(baseline, camera | {"width": 1280, "height": 720}, later)
    assert resized is not None and "resolution" in resized
    nearer = _scaled(later, 1.6)
    assert nearer.measurement.view == "left"  # the view alone would not explain it
    reason = setup_change(baseline, camera, nearer)
    assert reason is not None and "nearer" in reason
    farther = setup_change(baseline, camera, _scaled(later, 0.5))
    assert farther is not None and "farther" in farther
    moved = copy.deepcopy(later.pose)
    moved.image[:, 0] -= 0.35  # sat down further to the side
    h, w = later.frame.image.shape[:2]
    moved_result = dataclasses.replace(later, pose=moved, measurement=measure(moved, w, h))
    assert "moved" in setup_change(baseline, camera, moved_result)
    front = dataclasses.replace(
        later, measurement=dataclasses.replace(later.measurement, view="front"))
    assert "view" in setup_change(baseline, camera, front)
    assert setup_change(baseline, camera, dataclasses.replace(later, pose=None)) is None


def test_baseline_dict_round_trip(baseline):
    b = dataclasses.replace(baseline, slouch={"torso_incl_deg": 34.5, "cva_deg": 55.0})
    again = Baseline.from_dict(json.loads(json.dumps(b.to_dict())))
    assert again == b
    assert isinstance(again.position, tuple)
    assert isinstance(again.metrics["cva_deg"], MetricStats)


def _baseline(torso: float) -> Baseline:
    return Baseline("2024-01-01T00:00:00+00:00", "left",
                    {"torso_incl_deg": MetricStats(torso, 1.0, 25)}, 0.1, (0.6, 0.3),
                    {"description": "cam A", "width": 640, "height": 480})


def test_profile_store_round_trip(tmp_path):
    store = ProfileStore(tmp_path / "data" / "profiles.json")
    assert store.list() == [] and store.warning is None  # first start: no file, no warning
    store.save(Profile("p01", "cam A", _baseline(-10.0)))
    store.save(Profile("p02", "cam A"))
    assert [(p.person, p.camera) for p in store.list()] == [("p01", "cam A"), ("p02", "cam A")]
    assert store.get("p01", "cam A").baseline == _baseline(-10.0)
    assert store.get("p01", "cam B") is None
    store.save(Profile("p01", "cam A", _baseline(-5.0)))  # replace, not a duplicate
    assert len(store.list()) == 2
    assert store.get("p01", "cam A").baseline.metrics["torso_incl_deg"].median == -5.0
    store.delete("p02", "cam A")
    assert [p.person for p in store.list()] == ["p01"]
    if os.name == "posix":
        assert (store.path.stat().st_mode & 0o777) == 0o600
    assert list(store.path.parent.glob(".profiles-*")) == []  # no temporaries left behind
    assert store.warning is None


def test_profile_store_lives_under_the_data_home_override(tmp_path, monkeypatch):
    monkeypatch.setenv("POSTURE_MONITOR_DATA_HOME", str(tmp_path / "env"))
    store = ProfileStore()
    assert store.path == tmp_path / "env" / "profiles.json"
    store.save(Profile("p01", "cam A"))
    assert store.path.exists()


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", '{"profiles": 3}'])
def test_corrupt_profiles_file_never_raises(tmp_path, text):
    path = tmp_path / "profiles.json"
    path.write_text(text, encoding="utf-8")
    store = ProfileStore(path)
    assert store.list() == []
    assert store.warning and "\n" not in store.warning and str(path) in store.warning
    store.save(Profile("p01", "cam A"))  # the bad file is kept aside, not lost
    [copy] = tmp_path.glob("profiles.json.backup-*")
    assert copy.read_text(encoding="utf-8") == text and store.backup == copy
    assert [p.person for p in store.list()] == ["p01"] and store.warning is None


def test_one_damaged_profile_does_not_cost_the_others(tmp_path):
    path = tmp_path / "profiles.json"
    good = {"person": "p01", "camera": "cam A", "baseline": _baseline(-10.0).to_dict()}
    path.write_text(json.dumps({"profiles": [good, {"person": "p02"}]}), encoding="utf-8")
    store = ProfileStore(path)
    assert [p.person for p in store.list()] == ["p01"]
    assert "skipped 1" in store.warning

"""Model and asset resolution: named models, paths, and the data-folder override."""

import shutil

import pytest

from posture_monitor.core.common import resources
from posture_monitor.core.common.errors import ModelError
from posture_monitor.core.vision.model_files import resolve_pose_model
from tests.conftest import ROOT


def test_named_models_resolve_to_shipped_files():
    for name in ("lite", "full"):
        model = resolve_pose_model(name)
        assert model.path.is_file() and model.name == name
        assert model.path.stat().st_size > 1_000_000
    assert resolve_pose_model("lite").sha256 == (
        "59929e1d1ee95287735ddd833b19cf4ac46d29bc7afddbbf6753c459690d574a")


def test_model_by_path(tmp_path):
    copy = tmp_path / "my_pose.task"
    shutil.copy(resolve_pose_model("lite").path, copy)
    model = resolve_pose_model(str(copy))
    assert model.path == copy.resolve() and model.name == "my_pose.task"


def test_data_override_is_searched_first(tmp_path, monkeypatch):
    (tmp_path / "models").mkdir()
    shutil.copy(ROOT / "models" / "pose_landmarker_lite.task", tmp_path / "models")
    monkeypatch.setenv("POSTURE_MONITOR_DATA", str(tmp_path))
    assert resources.models_dir() == tmp_path / "models"
    assert resolve_pose_model("lite").path.parent == (tmp_path / "models").resolve()
    with pytest.raises(ModelError, match="pose model not found"):
        resolve_pose_model("full")  # the override folder lacks it: say so, don't guess


def test_sample_clip_is_shipped():
    assert resources.sample_video().is_file()

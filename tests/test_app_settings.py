"""App settings: defaults, validation and the JSON file (core, no Qt)."""

import json
import os
import stat
from dataclasses import asdict, fields

import pytest

from posture_monitor.core.common.paths import ENV_DATA_DIR
from posture_monitor.core.common.settings import SETTINGS, AlertSettings, AnalysisSettings
from posture_monitor.core.records.app_settings import (
    AppSettings,
    after_dialog,
    load_settings,
    save_settings,
    settings_path,
)


def test_defaults_are_valid_and_private():
    s = AppSettings()
    assert s.validated() == s
    assert s.model == "full" and s.record_video is False and s.angle_decimals == 0


def test_saved_settings_load_back_equal_with_no_temporary_file_left(tmp_path):
    path = tmp_path / "sub" / "settings.json"
    s = AppSettings(camera_index=2, camera_width=640, camera_height=480, camera_fps=15,
                    model="lite", smoothing=False, min_visibility=0.7, decision_threshold=0.3,
                    plot_window_s=120, angle_decimals=1, mirror=False, grid=True,
                    plumb_line=False, record_video=True)
    assert save_settings(s, path) == path
    assert load_settings(path) == (s, None)
    assert not [p for p in path.parent.iterdir() if p.name != "settings.json"]  # no tmp left


def test_missing_file_is_first_start(tmp_path):
    assert load_settings(tmp_path / "nope.json") == (AppSettings(), None)


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", "", "\xff\xfe"])
def test_corrupt_file_gives_defaults_and_warning(tmp_path, text):
    path = tmp_path / "settings.json"
    path.write_bytes(text.encode("latin-1"))
    settings, warning = load_settings(path)
    assert settings == AppSettings()
    assert warning and "using defaults" in warning and "\n" not in warning


def test_out_of_range_values_are_clamped_with_warning(tmp_path):
    path = tmp_path / "settings.json"
    data = asdict(AppSettings()) | {"plot_window_s": 5, "min_visibility": 2.0,
                                    "decision_threshold": 0.01, "angle_decimals": 3}
    path.write_text(json.dumps(data))
    settings, warning = load_settings(path)
    assert (settings.plot_window_s, settings.min_visibility) == (10, 0.95)
    assert (settings.decision_threshold, settings.angle_decimals) == (0.05, 1)
    assert "plot_window_s=5" in warning and "and 1 more" in warning and "\n" not in warning


def test_bad_types_and_choices_are_replaced_by_defaults(tmp_path):
    path = tmp_path / "settings.json"
    data = asdict(AppSettings()) | {"model": "huge", "mirror": "yes", "camera_fps": "30",
                                    "camera_index": 1.5, "min_visibility": None}
    path.write_text(json.dumps(data))
    settings, warning = load_settings(path)
    assert settings == AppSettings()
    assert "model='huge'" in warning


def test_whole_floats_are_accepted_as_ints(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps(asdict(AppSettings()) | {"camera_fps": 60.0,
                                                         "min_visibility": 1}))
    settings, warning = load_settings(path)
    assert settings.camera_fps == 60 and type(settings.camera_fps) is int
    assert settings.min_visibility == 0.95 and "min_visibility" in warning


def test_unknown_and_missing_keys_load_silently(tmp_path):
    # Files from newer (unknown keys) and older versions (missing keys) both just load.
    path = tmp_path / "settings.json"
    path.write_text(json.dumps(asdict(AppSettings(grid=True)) | {"from_the_future": 1}))
    assert load_settings(path) == (AppSettings(grid=True), None)
    path.write_text(json.dumps({"grid": True, "from_the_future": 1}))
    assert load_settings(path) == (AppSettings(grid=True), None)


def test_validated_clamps_ranges_and_replaces_bad_choices():
    s = AppSettings(camera_index=-1, plot_window_s=10_000, model="xl", grid=1).validated()
    assert (s.camera_index, s.plot_window_s, s.model, s.grid) == (0, 600, "full", False)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_saved_file_is_user_only(tmp_path):
    path = save_settings(AppSettings(), tmp_path / "settings.json")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.chmod(0o644)
    save_settings(AppSettings(grid=True), path)  # overwriting tightens it again
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_save_writes_validated_values(tmp_path):
    path = save_settings(AppSettings(plot_window_s=1), tmp_path / "settings.json")
    assert json.loads(path.read_text())["plot_window_s"] == 10


def test_settings_live_under_the_data_home_override_else_the_platform_config_folder(
        tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_DATA_DIR, str(tmp_path))
    assert settings_path() == tmp_path / "config" / "settings.json"
    save_settings(AppSettings(model="lite"))
    assert load_settings()[0].model == "lite"
    monkeypatch.delenv(ENV_DATA_DIR)
    assert settings_path().name == "settings.json"
    assert "posture-monitor" in str(settings_path())
    assert not settings_path().is_relative_to(tmp_path)


def test_to_analysis_settings_carries_model_smoothing_visibility_threshold():
    a = AppSettings(model="lite", smoothing=False, min_visibility=0.8).to_analysis_settings()
    assert isinstance(a, AnalysisSettings)
    assert (a.model, a.smoothing.enabled, a.quality.min_visibility) == ("lite", False, 0.8)
    assert a.quality.min_presence == AnalysisSettings().quality.min_presence
    # The app always states its label threshold (default 0.5, the model's own).
    # the label threshold left empty: the classifier's own per-label ones, as in analyze
    # ...and the window looks for 2 people (SETTINGS max_people), analyze for 1
    assert AppSettings().to_analysis_settings() == AnalysisSettings(max_people=2)
    assert AnalysisSettings().max_people == 1
    assert AppSettings().decision_threshold is None
    assert AppSettings(decision_threshold=0.7).to_analysis_settings().decision_threshold == 0.7


def test_command_line_choice_is_for_the_run_and_the_dialog_saves():
    saved, run_only = AppSettings(model="full"), {"model": "lite"}
    # the dialog shows what is in force (lite); OK with the model left as it was keeps the
    # saved model and the run's choice, and saves what else changed
    shown = AppSettings(model="lite", plot_window_s=120)
    assert after_dialog(saved, run_only, shown) == (
        AppSettings(model="full", plot_window_s=120), {"model": "lite"})
    # choosing a model there is a choice to keep: saved, and in force from now on
    assert after_dialog(saved, run_only, AppSettings(model="full", grid=True)) == (
        AppSettings(model="full", grid=True), {})
    assert after_dialog(AppSettings(model="lite"), {"model": "full"}, AppSettings(
        model="lite")) == (AppSettings(model="lite"), {})


def test_every_ranged_setting_takes_default_and_range_from_the_settings_table():
    ranged = {f.name: f for f in fields(AppSettings) if "range" in f.metadata}
    assert set(ranged) == set(SETTINGS)
    for name, f in ranged.items():
        spec = SETTINGS[name]
        assert (f.default, f.metadata["range"]) == (spec.default, (spec.low, spec.high)), name
    assert AlertSettings().onset_s == SETTINGS["alert_onset_s"].default


def test_an_empty_threshold_loads_as_the_models_own_and_a_bad_one_says_so(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"decision_threshold": None}))
    assert load_settings(path) == (AppSettings(decision_threshold=None), None)
    path.write_text(json.dumps({"decision_threshold": "high"}))
    settings, warning = load_settings(path)
    assert settings.decision_threshold is None and "model’s own" in warning

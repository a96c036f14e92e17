"""The desktop app's user settings: defaults, validation and a small JSON file.

Core module (no Qt), so the settings can be read, checked and tested headless. A bad
file never stops the app: each unusable value falls back to its default and the user
gets one line saying what was replaced.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

import platformdirs

from posture_monitor.core.alerts import AlertSettings
from posture_monitor.core.private_files import write_private_text
from posture_monitor.core.settings import AnalysisSettings, QualitySettings, SmoothingSettings

ENV_CONFIG_DIR = "POSTURE_MONITOR_CONFIG_DIR"
MODELS = ("lite", "full")


def _ranged(default: float, low: float, high: float):
    # The allowed range lives beside the default so validation and dialog cannot drift.
    return field(default=default, metadata={"range": (low, high)})


@dataclass(frozen=True)
class AppSettings:
    camera_index: int = _ranged(0, 0, 63)
    camera_width: int = _ranged(1280, 160, 7680)
    camera_height: int = _ranged(720, 120, 4320)
    camera_fps: int = _ranged(30, 1, 240)
    model: str = "full"  # "lite" | "full": MediaPipe pose model
    smoothing: bool = True
    # MediaPipe's own default confidence; below 0.1 noise passes, above 0.95 nothing does.
    min_visibility: float = _ranged(0.5, 0.1, 0.95)
    # Classifier probability above which a posture label is shown.
    decision_threshold: float = _ranged(0.5, 0.05, 0.95)
    plot_window_s: int = _ranged(60, 10, 600)
    # Angles are always degrees; this is only the precision shown (0 or 1 decimal).
    angle_decimals: int = _ranged(0, 0, 1)
    mirror: bool = True  # self-view, as people expect from a webcam
    grid: bool = False
    plumb_line: bool = True
    # Privacy: video frames are never written to disk unless the user turns this on.
    record_video: bool = False
    # Alerts: a deviation must last this long (users' first wish: no alarm for a glance).
    alert_onset_s: int = _ranged(10, 0, 60)
    alert_sound: bool = False

    def validated(self) -> AppSettings:
        """A copy with every value of the right type and inside its range."""
        return _check(self)[0]

    def to_analysis_settings(self) -> AnalysisSettings:
        return AnalysisSettings(
            model=self.model,
            quality=QualitySettings(min_visibility=self.min_visibility),
            smoothing=SmoothingSettings(enabled=self.smoothing),
            decision_threshold=self.decision_threshold,
            alerts=AlertSettings(onset_s=float(self.alert_onset_s)),
        )


def after_dialog(saved: AppSettings, run_only: dict[str, object],
                 chosen: AppSettings) -> tuple[AppSettings, dict[str, object]]:
    """(settings to save, run-only choices) after OK in the Settings dialog.

    A command-line choice (`gui --model lite`) is for that run only and never saved; the
    dialog, which shows the settings in force, is what changes the saved ones. A run-only
    value the user left as shown stays run-only (the saved value is kept); one the user
    changed there is saved and in force from then on."""
    unchanged = {k: v for k, v in run_only.items() if getattr(chosen, k) == v}
    return replace(chosen, **{k: getattr(saved, k) for k in unchanged}), unchanged


def _check(settings: AppSettings) -> tuple[AppSettings, list[str]]:
    changes: dict[str, object] = {}
    issues: list[str] = []
    for f in fields(AppSettings):
        value, default = getattr(settings, f.name), f.default
        kind = type(default)
        # bool is an int subclass and JSON has no int/float split: check types by hand.
        ok_type = (isinstance(value, bool) if kind is bool
                   else isinstance(value, kind) if kind is str
                   else isinstance(value, (int, float)) and not isinstance(value, bool)
                   and math.isfinite(value) and (kind is float or value == int(value)))
        if not ok_type:
            changes[f.name] = default
            issues.append(f"{f.name}={value!r} is not a {kind.__name__}, using {default!r}")
            continue
        new = kind(value)
        if "range" in f.metadata:
            low, high = f.metadata["range"]
            new = kind(min(max(new, low), high))
            if new != value:
                issues.append(f"{f.name}={value!r} outside {low}-{high}, using {new!r}")
        elif f.name == "model" and value not in MODELS:
            new = default
            issues.append(f"model={value!r} is not one of {'/'.join(MODELS)}, using {new!r}")
        if new != value or type(new) is not type(value):
            changes[f.name] = new
    return replace(settings, **changes), issues


def settings_path() -> Path:
    """Where the settings live; POSTURE_MONITOR_CONFIG_DIR overrides (tests, portable use)."""
    folder = os.environ.get(ENV_CONFIG_DIR) or platformdirs.user_config_dir(
        "posture-monitor", appauthor=False)
    return Path(folder) / "settings.json"


def load_settings(path: Path | None = None) -> tuple[AppSettings, str | None]:
    """Settings from `path` (default `settings_path()`) and a one-line warning, or None.

    A missing file is a first start, not a problem: defaults without a warning. Unknown
    keys are ignored silently so a newer version's file still loads, and missing keys take
    their defaults silently so an older version's file does too.
    """
    path = Path(path) if path is not None else settings_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return AppSettings(), None
    except (OSError, ValueError) as exc:
        return AppSettings(), (f"settings file {path} is unreadable "
                               f"({exc.__class__.__name__}); using defaults")
    if not isinstance(data, dict):
        return AppSettings(), f"settings file {path} is not a JSON object; using defaults"
    names = [f.name for f in fields(AppSettings)]
    settings, issues = _check(AppSettings(**{n: data[n] for n in names if n in data}))
    if not issues:
        return settings, None
    shown = "; ".join(issues[:3]) + (f"; and {len(issues) - 3} more" if len(issues) > 3 else "")
    return settings, f"settings file {path}: {shown}"


def save_settings(settings: AppSettings, path: Path | None = None) -> Path:
    """Write atomically (a crash never leaves half a file) and readable by the user only."""
    path = Path(path) if path is not None else settings_path()
    text = json.dumps(asdict(settings.validated()), indent=2, sort_keys=True) + "\n"
    write_private_text(path, text)
    return path

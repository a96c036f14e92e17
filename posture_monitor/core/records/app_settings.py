"""The desktop app's user settings: defaults, validation and a small JSON file.

Core module (no Qt), so the settings can be read, checked and tested headless. A bad
file never stops the app: each unusable value falls back to its default and the user
gets one line saying what was replaced.
"""

from __future__ import annotations

import json
import math
import reprlib
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

from posture_monitor.core.common.errors import UserError
from posture_monitor.core.common.paths import config_dir
from posture_monitor.core.common.private_files import (
    keep_damaged_copy,
    read_json,
    write_private_text,
)
from posture_monitor.core.common.settings import (
    SETTINGS,
    AlertSettings,
    AnalysisSettings,
    ExerciseSettings,
    GaitSettings,
    QualitySettings,
    SmoothingSettings,
)

FORM_SETTINGS = tuple(n for n in SETTINGS if n.startswith("form_"))

MODELS = ("lite", "full")


def _ranged(name: str):
    # Default and range come from the one table (core/common/settings.py SETTINGS).
    spec = SETTINGS[name]
    return field(default=spec.default, metadata={"range": (spec.low, spec.high)})


@dataclass(frozen=True)
class AppSettings:
    camera_index: int = _ranged("camera_index")
    camera_width: int = _ranged("camera_width")
    camera_height: int = _ranged("camera_height")
    camera_fps: int = _ranged("camera_fps")
    model: str = "full"  # "lite" | "full": MediaPipe pose model
    smoothing: bool = True
    min_visibility: float = _ranged("min_visibility")
    # Classifier probability above which a posture label is shown; None (the default):
    # the model's own threshold for each label, the same as `analyze`.
    decision_threshold: float | None = _ranged("decision_threshold")
    plot_window_s: int = _ranged("plot_window_s")
    angle_decimals: int = _ranged("angle_decimals")
    mirror: bool = True  # self-view, as people expect from a webcam
    grid: bool = False
    plumb_line: bool = True
    # Privacy: video frames are never written to disk unless the user turns this on.
    record_video: bool = False
    alert_onset_s: int = _ranged("alert_onset_s")
    alert_sound: bool = False
    # exercise mode: form-cue thresholds and the repetition target (core/movement)
    form_trunk_lean_deg: int = _ranged("form_trunk_lean_deg")
    form_knee_valgus_deg: int = _ranged("form_knee_valgus_deg")
    form_heel_lift_deg: int = _ranged("form_heel_lift_deg")
    form_lean_back_deg: int = _ranged("form_lean_back_deg")
    form_lateral_lean_deg: int = _ranged("form_lateral_lean_deg")
    form_arm_height_diff: float = _ranged("form_arm_height_diff")
    rep_target_deg: float | None = _ranged("rep_target_deg")
    # exercise mode's audio cues (gui/cues.py): a beep, or the cue spoken offline
    exercise_sound: bool = False
    exercise_speech: bool = False
    # gait mode: the walker's height (step lengths in metres too); people looked for
    height_cm: float | None = _ranged("height_cm")
    max_people: int = _ranged("max_people")

    def validated(self) -> AppSettings:
        """A copy with every value of the right type and inside its range."""
        return _check(self)[0]

    def exercise_settings(self, name: str, side: str = "both",
                          joints: tuple[str, ...] = ()) -> ExerciseSettings:
        """Exercise mode with this user's thresholds and target."""
        return ExerciseSettings(name=name, side=side, joints=joints,
                                target=self.rep_target_deg,
                                thresholds={n: getattr(self, n) for n in FORM_SETTINGS})

    def gait_settings(self) -> GaitSettings:
        """Gait mode with this user's walker height."""
        return GaitSettings(enabled=True, height_cm=self.height_cm)

    def to_analysis_settings(self) -> AnalysisSettings:
        return AnalysisSettings(
            model=self.model,
            max_people=self.max_people,
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


# Values quoted in a warning stay short: a file may hold a 400-digit number, a 1 MB string
# or a deep structure.
_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = _REPR.maxlong = 40
_REPR.maxlevel, _REPR.maxdict, _REPR.maxlist = 2, 3, 3


def _short(value: object) -> str:
    text = _REPR.repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _finite_number(value: object, whole: bool) -> bool:
    """A JSON number that fits a float (10**400 does not), not NaN or infinite, and a whole
    number where `whole`. bool is an int subclass, but never a number here."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        number = float(value)
    except OverflowError:
        return False
    return math.isfinite(number) and (not whole or number == int(number))


def _check(settings: AppSettings) -> tuple[AppSettings, list[str]]:
    changes: dict[str, object] = {}
    issues: list[str] = []
    for f in fields(AppSettings):
        value, default = getattr(settings, f.name), f.default
        if default is None and value is None:
            continue  # an optional number left empty (decision_threshold: the model's own)
        kind = float if default is None else type(default)
        # bool is an int subclass and JSON has no int/float split: check types by hand.
        ok_type = (isinstance(value, bool) if kind is bool
                   else isinstance(value, kind) if kind is str
                   else _finite_number(value, whole=kind is int))
        if not ok_type:
            changes[f.name] = default
            issues.append(f"{f.name}={_short(value)} is not a {kind.__name__}, using "
                          f"{'the model’s own' if default is None else repr(default)}")
            continue
        new = kind(value)
        if "range" in f.metadata:
            low, high = f.metadata["range"]
            new = kind(min(max(new, low), high))
            if new != value:
                issues.append(f"{f.name}={_short(value)} outside {low}-{high}, "
                              f"using {new!r}")
        elif f.name == "model" and value not in MODELS:
            new = default
            issues.append(f"model={_short(value)} is not one of {'/'.join(MODELS)}, "
                          f"using {new!r}")
        if new != value or type(new) is not type(value):
            changes[f.name] = new
    return replace(settings, **changes), issues


def settings_path() -> Path:
    """Where the settings live (core/common/paths.py: POSTURE_MONITOR_DATA_HOME moves them)."""
    return config_dir() / "settings.json"


def load_settings(path: Path | None = None) -> tuple[AppSettings, str | None]:
    """Settings from `path` (default `settings_path()`) and a one-line warning, or None.

    A missing file is a first start, not a problem: defaults without a warning. Unknown
    keys are ignored silently so a newer version's file still loads, and missing keys take
    their defaults silently so an older version's file does too. Nothing in the file can
    make this raise (a folder, a pipe, any bytes, any JSON) and reading never changes it.
    """
    path = Path(path) if path is not None else settings_path()
    try:
        data = read_json(path)
    except FileNotFoundError:
        return AppSettings(), None
    except ValueError as exc:
        return AppSettings(), f"settings file {path} is unreadable ({exc}); using defaults"
    settings, warning, _ = _from_data(data, path)
    return settings, warning


def _from_data(data: object, path: Path) -> tuple[AppSettings, str | None, bool]:
    """Settings, warning, and whether a save of them would drop nothing of `data`."""
    if not isinstance(data, dict):
        return (AppSettings(), f"settings file {path} is not a JSON object; using defaults",
                False)
    names = [f.name for f in fields(AppSettings)]
    settings, issues = _check(AppSettings(**{n: data[n] for n in names if n in data}))
    if not issues:
        return settings, None, set(data) <= set(names)
    shown = "; ".join(issues[:3]) + (f"; and {len(issues) - 3} more" if len(issues) > 3 else "")
    return settings, f"settings file {path}: {shown}", False


def keep_settings_copy(path: Path | None = None) -> Path | None:
    """Before settings replace the file at `path`: when it holds anything a save would drop
    (it is unreadable, a value is invalid, or a key is unknown to this version), copy it
    to a timestamped backup beside it and return the copy; None when nothing would be
    lost. Repeated calls for the same content give the same copy. Raises OSError when no
    copy can be written (then nothing may be saved over the file either)."""
    path = Path(path) if path is not None else settings_path()
    if not path.is_file():
        return None
    try:
        raw = path.read_bytes()
        data = read_json(path)
    except FileNotFoundError:
        return None
    except ValueError:
        lossless = False
    else:
        lossless = _from_data(data, path)[2]
    if lossless or not raw.strip():  # an empty file holds nothing to keep
        return None
    return keep_damaged_copy(path)


def save_settings(settings: AppSettings, path: Path | None = None) -> Path:
    """Write atomically (a crash never leaves half a file) and readable by the user only.

    Content of the old file that the new one would drop is first copied aside
    (`keep_settings_copy`). Raises UserError (one line) where the settings cannot be
    saved: a folder or another non-file at `path` (never replaced), an unwritable folder,
    or no room for the copy."""
    path = Path(path) if path is not None else settings_path()
    if path.exists() and not path.is_file():
        raise UserError(f"settings not saved: {path} is not a file (a folder?); move it "
                        "aside to keep settings")
    text = json.dumps(asdict(settings.validated()), indent=2, sort_keys=True) + "\n"
    try:
        keep_settings_copy(path)
        write_private_text(path, text)
    except OSError as exc:
        raise UserError(f"settings not saved to {path} "
                        f"({exc.strerror or exc.__class__.__name__})") from None
    return path

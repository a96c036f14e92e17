"""The command line's analysis options turned into AnalysisSettings, each checked now
against the one SETTINGS table: a mistake is one line and exit 2, before any work."""

from __future__ import annotations

import argparse
from dataclasses import replace

from posture_monitor.core.common.errors import UserError
from posture_monitor.core.common.settings import SETTINGS


def _exercise_settings(args: argparse.Namespace):
    """--exercise and its options, checked now (one line and exit 2 for a mistake)."""
    from posture_monitor.core.common.settings import ExerciseSettings
    from posture_monitor.core.movement.exercises import resolve_preset

    name = getattr(args, "exercise", None)
    joints = tuple(j.strip() for j in getattr(args, "joints", "").split(",") if j.strip())
    side = getattr(args, "side", None) or "both"
    if side not in ("both", "left", "right"):
        raise UserError(f"--side must be both, left or right (or, with --front VIDEO, the "
                        f"side camera's video), not {side!r}")
    if name is None:
        if joints or getattr(args, "target", None) is not None:
            raise UserError("--joints and --target go with --exercise NAME")
        return ExerciseSettings()
    if args.target is not None:
        try:
            SETTINGS["rep_target_deg"].check(args.target, "--target")
        except ValueError as exc:
            raise UserError(str(exc)) from None
    resolve_preset(name, joints, args.target)  # unknown names: one line now
    return ExerciseSettings(name=name, side=side, joints=joints, target=args.target)


def _people_settings(args: argparse.Namespace) -> dict:
    """--person, --all-people and --max-people, checked now (one line, exit 2)."""
    from posture_monitor.core.posture.person_choice import parse_rule

    out: dict = {}
    if getattr(args, "person", None) is not None:
        try:
            out["person"] = parse_rule(args.person)
        except ValueError as exc:
            raise UserError(str(exc)) from None
    out["all_people"] = bool(getattr(args, "all_people", False))
    if getattr(args, "max_people", None) is not None:
        try:
            SETTINGS["max_people"].check(args.max_people, "--max-people")
        except ValueError as exc:
            raise UserError(str(exc)) from None
        out["max_people"] = args.max_people
    return out


def _height_cm(args: argparse.Namespace) -> float | None:
    """--height-cm, checked now: it goes with --gait (step lengths) or --opensim (the
    .trc's metres)."""
    height = getattr(args, "height_cm", None)
    if height is None:
        return None
    if not (getattr(args, "gait", False) or getattr(args, "opensim", False)):
        raise UserError("--height-cm goes with --gait or --opensim")
    try:
        SETTINGS["height_cm"].check(height, "--height-cm")
    except ValueError as exc:
        raise UserError(str(exc)) from None
    return height


def _gait_settings(args: argparse.Namespace):
    """--gait and --height-cm, checked now (one line and exit 2 for a mistake)."""
    from posture_monitor.core.common.settings import GaitSettings

    height = _height_cm(args)
    if not getattr(args, "gait", False):
        return GaitSettings()
    return GaitSettings(enabled=True, height_cm=height)


def analysis_settings(args: argparse.Namespace):
    """The analysis settings of `analyze` (and the main job) from the parsed options."""
    from posture_monitor.core.common.settings import (
        AlertSettings,
        AnalysisSettings,
        SmoothingSettings,
    )

    try:
        SETTINGS["alert_onset_s"].check(args.onset, "--onset")
    except ValueError as exc:
        raise UserError(str(exc)) from None
    # --opensim: the .mot tables of --mot and the marker file (<stem>.trc)
    opensim = getattr(args, "opensim", False)
    base = AnalysisSettings(model=args.model, landmarks=args.landmarks,
                            classifier=args.classifier,
                            alerts=AlertSettings(onset_s=args.onset),
                            angles=args.angles, mot=getattr(args, "mot", False) or opensim,
                            trc=opensim, height_cm=_height_cm(args) if opensim else None,
                            exercise=_exercise_settings(args),
                            gait=_gait_settings(args), **_people_settings(args))
    return replace(base, smoothing=SmoothingSettings(enabled=not args.no_smooth))

"""Command line: `posture-monitor [start|analyze|...]`. Headless; the same pipeline as the app."""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

from posture_monitor import __version__
from posture_monitor.cli_analyze import EXIT_INTERRUPTED, run_analysis
from posture_monitor.cli_settings import analysis_settings as _settings
from posture_monitor.core.common.errors import (
    EXIT_USAGE,
    SourceError,
    UserError,
)
from posture_monitor.core.common.settings import SETTINGS


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line and exit 2 (argparse's own code)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _add_pipeline_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default="full", metavar="lite|full|PATH",
                   help="pose model: lite (faster), full (default, steadier) or a .task file")
    p.add_argument("--no-smooth", action="store_true",
                   help="turn off One Euro smoothing of the landmarks (to compare)")
    p.add_argument("--landmarks", action="store_true",
                   help="also write the raw landmark columns (33 points x 8 values)")
    p.add_argument("--classifier", default="default", metavar="default|none|PATH",
                   help="posture classifier: the shipped one, none, or a .tflite file")
    p.add_argument("--angles", action="store_true",
                   help="also write the joint-angle columns (knee, hip, ankle, shoulder, "
                   "elbow, neck, trunk, valgus, pelvis; 2D where the view shows the "
                   "plane, 3D columns from the world landmarks)")
    onset = SETTINGS["alert_onset_s"]
    p.add_argument("--onset", type=float, default=float(onset.default), metavar="S",
                   help=f"{onset.help} In seconds ({onset.low:g}-{onset.high:g}, default "
                   f"{onset.default:g})")


def _add_people_options(p: argparse.ArgumentParser) -> None:
    people = SETTINGS["max_people"]
    p.add_argument("--person", default="auto", metavar="auto|largest|ID",
                   help="whom to measure when several people are in view: auto (the one "
                   "nearest the calibrated position with --baseline-from, else the one "
                   "measured so far, then the one most in view), largest (the one most in "
                   "view in each frame), or a person's number from --all-people or the "
                   "sidecar's people list")
    p.add_argument("--all-people", action="store_true",
                   help="also write one CSV per person: <stem>_p<ID>.csv (+ .json), each "
                   "with its own smoothing, scores and alerts")
    p.add_argument("--max-people", type=int, default=None, metavar="N",
                   help=f"people the pose model looks for ({people.low}-{people.high}; "
                   "default 1, 2 with --gait, 4 with --all-people or --person largest|ID); "
                   "more cost time")


def _add_movement_options(p: argparse.ArgumentParser) -> None:
    from posture_monitor.core.movement.exercises import preset_names

    p.add_argument("--exercise", default=None, metavar="|".join(preset_names()),
                   help="count repetitions of this exercise: writes <stem>_reps.csv (one "
                   "row per repetition, complete or not) and an 'exercise' object in the "
                   "sidecar JSON")
    p.add_argument("--side", default=None, metavar="both|left|right|VIDEO",
                   help="which side's joints count the repetitions (default both); with "
                   "--front: the side camera's video")
    p.add_argument("--joints", default="", metavar="JOINT,...",
                   help="--exercise free: the joints to report, the first one counted "
                   "(e.g. knee_flex,hip_flex)")
    target = SETTINGS["rep_target_deg"]
    p.add_argument("--target", type=float, default=None, metavar="DEG",
                   help=f"{target.help} ({target.low:g}-{target.high:g} deg)")
    p.add_argument("--gait", action="store_true",
                   help="gait of a walker filmed from the side: writes <stem>_gait.csv "
                   "(one row per step), <stem>_gait_cycles.csv (knee and hip curves of "
                   "every stride) and a 'gait' object in the sidecar JSON")
    height = SETTINGS["height_cm"]
    p.add_argument("--height-cm", type=float, default=None, metavar="CM",
                   help=f"with --gait: {height.help} With --opensim: the person's height, "
                   "the .trc's metres from it (else MediaPipe's estimate of the body's "
                   f"size). ({height.low:g}-{height.high:g} cm)")
    p.add_argument("--mot", action="store_true",
                   help="also write OpenSim .mot tables: <stem>_angles.mot (every frame's "
                   "joint angles), with --exercise <stem>_reps.mot, with --gait "
                   "<stem>_gait.mot (the walker's hip, knee and ankle angles)")
    p.add_argument("--opensim", action="store_true",
                   help="files for OpenSim: the .mot tables of --mot and <stem>.trc, the "
                   "measured person's 33 landmarks as markers in metres (a 2D estimate in "
                   "the picture's plane, Sports2D's convention: docs/OPENSIM.md)")


def parse_seconds_window(text: str) -> tuple[float, float]:
    """'START:END' in seconds (e.g. '0:5', '2.5:7.5') -> (start, end); a bad value is a
    one-line usage error naming the fix."""
    parts = text.split(":")
    try:
        if len(parts) != 2:
            raise ValueError
        start, end = float(parts[0]), float(parts[1])
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not START:END in seconds: write e.g. 0:5") from None
    if not (math.isfinite(start) and math.isfinite(end)):
        raise argparse.ArgumentTypeError(f"{text!r}: seconds must be numbers: write e.g. 0:5")
    if start < 0 or end < 0:
        raise argparse.ArgumentTypeError(
            f"{text!r}: seconds cannot be negative: count from the start of the input, "
            "e.g. 0:5")
    if end <= start:
        raise argparse.ArgumentTypeError(
            f"{text!r}: END must be later than START: write e.g. {start:g}:{start + 5:g}")
    return start, end


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="posture-monitor",
                     description="Measure posture from a webcam, video or photos, offline.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    start = sub.add_parser("start", help="the main job (default): camera 0, else the "
                           "bundled sample; analysed headless when there is no display")
    start.add_argument("--source", default="0", help="camera index or video file (default 0)")
    start.add_argument("--out", type=Path, default=None,
                       help="folder for the CSV (default: your user data folder)")
    _add_pipeline_options(start)
    start.set_defaults(func=cmd_start)

    gui = sub.add_parser("gui", help="open the desktop window")
    gui.add_argument("--source", default=None,
                     help="camera index or video file (default: the camera in Settings)")
    gui.add_argument("--side-source", default=None, metavar="SOURCE",
                     help="a second camera index or video file, shown and analysed beside "
                     "the first (the front camera): each value from the camera whose view "
                     "shows its plane (Source menu: Add side camera)")
    gui.add_argument("--model", default=None, metavar="lite|full",
                     help="pose model (default: the one in Settings)")
    from posture_monitor.core.movement.exercises import preset_names

    gui.add_argument("--exercise", default=None, metavar="|".join(preset_names()),
                     help="open in exercise mode for this exercise (the form thresholds "
                     "and target of Settings apply); Exercise menu: Ctrl+Shift+E")
    gui.add_argument("--side", default="both", choices=("both", "left", "right"),
                     help="with --exercise: which side's joints count (default both)")
    gui.add_argument("--joints", default="", metavar="JOINT,...",
                     help="--exercise free: the joints to follow, the first one counted")
    gui.add_argument("--gait", action="store_true",
                     help="open in gait mode: the walker's steps, cadence, timing and "
                     "stride curves in the Gait panel (film from the side)")
    gui.set_defaults(func=cmd_gui)

    analyze = sub.add_parser("analyze", help="analyse videos, images, folders or a camera "
                             "into per-frame CSV + JSON sidecar")
    analyze.add_argument("inputs", nargs="*", metavar="INPUT",
                         help="video file, image, folder of images, or camera index")
    analyze.add_argument("--front", default=None, metavar="VIDEO",
                         help="two synchronized cameras in one table: the front camera's "
                         "video (with --side; instead of INPUT): writes "
                         "<front-stem>+<side-stem>.csv, each value from the camera whose "
                         "view shows its plane, with a <column>_source")
    analyze.add_argument("--out", type=Path, required=True, metavar="DIR",
                         help="folder for <input-stem>.csv and <input-stem>.json (inputs "
                         "with the same name in one run get <stem>-2, <stem>-3, ...)")
    analyze.add_argument("--overwrite", action="store_true",
                         help="replace results of an earlier run in DIR (without it, an "
                         "existing <stem>.csv or .json stops the run before any work)")
    analyze.add_argument("--max-frames", type=int, default=None, metavar="N",
                         help="stop after N frames per input (useful with a camera)")
    analyze.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    analyze.add_argument("--patient", default=None, metavar="ID",
                         help="the patient (pseudonymous ID) the inputs belong to")
    analyze.add_argument("--save", action="store_true",
                         help="also store each input as a session of --patient in the "
                         "local database (history, reports)")
    analyze.add_argument("--baseline-from", type=parse_seconds_window, default=None,
                         metavar="START:END",
                         help="take the person's neutral baseline from these seconds of each "
                         "input (e.g. 0:5: sit as usual then), as the window's calibration "
                         "does, and alert on deviations from it instead of on the "
                         "classifier's labels. A video file: a first pass over START..END "
                         "builds the baseline, then the whole file is analysed with it in "
                         "force from the first frame (grace period from the first frame). "
                         "A camera: taken live over START..END and in force from END on. "
                         "The sidecar JSON records it")
    analyze.add_argument("--camera-tilt-from", type=parse_seconds_window, default=None,
                         metavar="START:END",
                         help="estimate the camera's pitch and roll from these seconds of "
                         "each video, while the person stands or sits upright and still, "
                         "and remove it from the 3D trunk and head columns (without it they "
                         "carry the camera's tilt; the sidecar's camera_tilt says which)")
    _add_movement_options(analyze)
    _add_people_options(analyze)
    _add_pipeline_options(analyze)
    analyze.set_defaults(func=cmd_analyze)

    from posture_monitor.cli_store import add_parsers

    add_parsers(sub)
    from posture_monitor.cli_batch import add_parser as add_batch

    add_batch(sub, (_add_movement_options, _add_people_options, _add_pipeline_options),
              parse_seconds_window)

    train = sub.add_parser("train", help="build the posture classifier (needs the [train] "
                           "extra: TensorFlow)")
    train.add_argument("--synthetic", type=int, default=0, metavar="N",
                       help="N synthetic poses (e.g. 60000)")
    train.add_argument("--images", type=Path, action="append", default=[], metavar="DIR",
                       help="photos in DIR/<label>/*.jpg (label, alias or a+b)")
    train.add_argument("--yolo", type=Path, action="append", default=[], metavar="DIR",
                       help="YOLO-pose set with 4 spine keypoints (images/, labels/)")
    train.add_argument("--sessions", type=Path, nargs="+", default=[], metavar="CSV",
                       help="session CSVs from analyze --landmarks with a 'label' column")
    train.add_argument("--real-eval", type=Path, action="append", default=[], metavar="DIR",
                       help="real photos with labels.csv, evaluated only, never trained on")
    train.add_argument("--out", type=Path, required=True, metavar="DIR")
    train.add_argument("--epochs", type=int, default=60)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--shift-samples", type=int, default=3000, metavar="N",
                       help="synthetic samples per distribution-shift experiment (0: skip)")
    train.add_argument("--quiet", action="store_true")
    train.set_defaults(func=cmd_train)

    evaluate = sub.add_parser("evaluate", help="evaluate a classifier on labelled data")
    evaluate.add_argument("--model", type=Path, required=True, metavar="PATH",
                          help="posture_classifier.tflite (its .json beside it)")
    evaluate.add_argument("data", nargs="+", metavar="DATA",
                          help="photos with labels.csv, DIR/<label>/ folders, YOLO-pose set, "
                          "labelled session CSV, or synthetic:N")
    evaluate.set_defaults(func=cmd_evaluate)
    return parser


def subcommands(parser: argparse.ArgumentParser) -> frozenset[str]:
    """The names of the parser's subcommands, asked of the parser itself, so a command
    added in build_parser (or cli_store) is never mistaken for options of the main job."""
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return frozenset(name for a in actions for name in a.choices)


_NOT_WITH_PAIR = (("exercise", "--exercise"), ("gait", "--gait"),
                  ("all_people", "--all-people"), ("patient", "--patient"),
                  ("baseline_from", "--baseline-from"), ("landmarks", "--landmarks"),
                  ("mot", "--mot"), ("opensim", "--opensim"),
                  ("camera_tilt_from", "--camera-tilt-from"))


def cmd_analyze(args: argparse.Namespace) -> int:
    if args.save and not args.patient:
        raise UserError("--save needs --patient ID (the pseudonymous patient ID)")
    if args.front:
        if not args.side:
            raise UserError("--front and --side go together: the two synchronized videos")
        args.side_video, args.side = args.side, None
        if args.inputs:
            raise UserError("give either INPUT... or --front VIDEO --side VIDEO, not both")
        for dest, flag in _NOT_WITH_PAIR:
            if getattr(args, dest, None):
                raise UserError(f"{flag} does not work with --front/--side yet: analyse "
                                "each video on its own for it")
        from posture_monitor.cli_analyze import run_pair

        return run_pair(args.front, args.side_video, args.out, _settings(args), args.quiet,
                        args.max_frames, overwrite=args.overwrite)
    if not args.inputs:
        raise UserError("give a video, image, folder or camera to analyse (INPUT), or "
                        "--front VIDEO --side VIDEO")
    settings = _settings(args)
    return run_analysis(args.inputs, args.out, settings, args.quiet,
                        args.max_frames, patient=args.patient if args.save else None,
                        baseline_from=args.baseline_from, overwrite=args.overwrite,
                        camera_tilt_from=args.camera_tilt_from)


def cmd_gui(args: argparse.Namespace) -> int:
    from posture_monitor.gui.main import run_gui

    joints = tuple(j.strip() for j in args.joints.split(",") if j.strip())
    if args.exercise is None and joints:
        raise UserError("--joints goes with --exercise NAME")
    if args.exercise is not None:
        from posture_monitor.core.movement.exercises import resolve_preset

        resolve_preset(args.exercise, joints)  # a wrong name: one line now, not in the window
    exercise = (args.exercise, args.side, joints) if args.exercise else None
    return run_gui(args.source, args.model, exercise=exercise, gait=args.gait,
                   side_source=args.side_source)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from posture_monitor.training.run import evaluate_command

    print(evaluate_command(args.model, args.data))
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from posture_monitor.training.run import TrainOptions, train_command

    if args.synthetic < 0 or args.epochs < 1:
        raise UserError("--synthetic must be >= 0 and --epochs >= 1")
    result = train_command(TrainOptions(
        synthetic=args.synthetic, images=args.images, yolo=args.yolo, sessions=args.sessions,
        real_eval=args.real_eval, out=args.out, seed=args.seed, epochs=args.epochs,
        shift_samples=args.shift_samples, quiet=args.quiet))
    ev = result["evaluation"]
    print(f"wrote {result['model']} ({result['meta']['size_bytes']} bytes), "
          f"{args.out / 'EVALUATION.md'}, {args.out / 'MODEL_CARD.md'}")
    print(f"validation accuracy (int8) {ev['validation_int8']['accuracy']:.3f}, float vs int8 "
          f"agreement {ev['float_vs_int8']['label_agreement']:.3f}")
    return 0


def _has_display() -> bool:
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True  # Windows and macOS desktops always have one


def _gui_available() -> bool:
    """Qt loads (a missing system library such as libGL makes it fail on bare servers)."""
    try:
        import PySide6.QtWidgets  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


def cmd_start(args: argparse.Namespace) -> int:
    """The main job: camera, else the bundled sample; a window, else headless CSV."""
    from posture_monitor.core.capture.sources import CameraSource
    from posture_monitor.core.common.resources import sample_video

    if _has_display():
        from posture_monitor.gui.platform_check import check_qt_platform

        check_qt_platform()  # a display but no X11 libraries for Qt: say which, exit 2
    source, sample = args.source, False
    if source.isdigit():
        try:
            CameraSource(int(source)).close()
        except SourceError:
            source, sample = str(sample_video()), True
            print(f"No camera found at index {args.source}: playing the bundled sample clip "
                  f"instead ({source}).")
    if _has_display() and _gui_available():
        from posture_monitor.gui.main import run_gui

        return run_gui(source, args.model, loop=sample)
    reason = ("No display found" if not _has_display()
              else "The desktop window cannot start (Qt failed to load)")
    from posture_monitor.core.common.paths import sessions_dir

    out_dir = args.out or sessions_dir()
    print(f"{reason}: analysing headless into CSV in {out_dir}.")
    # an earlier run's result stays: this one gets the next free name (<stem>-2, ...)
    return run_analysis([source], out_dir, _settings(args), keep_existing=True)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    # No command means the main job, whose options may then follow directly.
    if not argv or (argv[0] not in subcommands(parser)
                    and argv[0] not in ("-h", "--help", "--version")):
        argv = ["start", *argv]
    args = parser.parse_args(argv)
    from posture_monitor.core.common.private_files import make_private_by_default

    make_private_by_default()  # every file and folder this process creates: user-only
    try:
        return args.func(args)
    except UserError as exc:
        print(f"posture-monitor: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED

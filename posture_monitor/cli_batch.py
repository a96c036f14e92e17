"""`posture-monitor batch INPUT... --out DIR`: many videos, each one task on Dask
distributed (posture_monitor/batch/), with exactly the options and outputs of `analyze`.
A CSV list of videos may give each video options of its own (patient, exercise, gait,
height_cm, ...); they are checked here, before any work, with the row named."""

from __future__ import annotations

import argparse
import copy
from pathlib import Path

from posture_monitor.core.common.errors import UserError


def add_parser(sub, option_groups, parse_seconds_window) -> None:
    """The batch subcommand. `option_groups`: the functions that add analyze's pipeline,
    movement and people options (cli.py passes them in, so the two commands cannot drift
    apart and this module need not import cli.py)."""
    batch = sub.add_parser(
        "batch", help="analyse many videos on a Dask cluster (local by default): "
        "resumable, with DIR/manifest.csv and a study table DIR/summary.csv",
        description="Each video is one task on Dask distributed: a local cluster with one "
        "worker process per core, or an existing cluster with --scheduler. Every video "
        "gets exactly what analyze writes; DIR/manifest.csv records each input (sha256, "
        "status, frames, time, error, outputs, versions) and a rerun skips what is done.")
    batch.add_argument("inputs", nargs="+", metavar="INPUT",
                       help="video files, folders (searched for videos; a folder of photos "
                       "is one input), or a CSV list of videos with an 'input' column and "
                       "optional patient, exercise, side, joints, target, gait, height_cm, "
                       "baseline_from, camera_tilt_from, person columns")
    batch.add_argument("--out", type=Path, required=True, metavar="DIR",
                       help="folder for every video's results, manifest.csv and summary.csv")
    where = batch.add_mutually_exclusive_group()
    where.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="send the tasks to a running Dask scheduler (tcp://HOST:8786) "
                       "instead of a local cluster; inputs and DIR must have the same paths "
                       "on every worker (a shared folder)")
    where.add_argument("--scheduler-file", default=None, metavar="FILE",
                       help="the same, with the scheduler's address from the JSON file "
                       "`dask scheduler --scheduler-file FILE` wrote")
    batch.add_argument("--workers", type=int, default=None, metavar="N",
                       help="worker processes of the local cluster (default: one per core)")
    batch.add_argument("--long", action="store_true",
                       help="also write <stem>_long.csv: every frame's measures in tidy long "
                       "format (video, frame, time_s, person, view, measure, value, reason)")
    batch.add_argument("--parquet", action="store_true",
                       help="also write the per-frame tables as Parquet, one file per video: "
                       "DIR/parquet/frames/<stem>.parquet (wide) and "
                       "DIR/parquet/long/<stem>.parquet (long); a folder reads as one table")
    batch.add_argument("--overwrite", action="store_true",
                       help="replace results in DIR this batch did not write, and analyse "
                       "again inputs whose content or settings changed since they were done")
    batch.add_argument("--quiet", action="store_true", help="no progress, only errors")
    batch.add_argument("--patient", default=None, metavar="ID",
                       help="the patient (pseudonymous ID) of every input; a list's patient "
                       "column gives each its own. Recorded in the manifest and summary")
    for flag in ("--baseline-from", "--camera-tilt-from"):
        batch.add_argument(flag, type=parse_seconds_window, default=None, metavar="START:END",
                           help=f"as analyze {flag}, for every video (a list's column "
                           f"{flag[2:].replace('-', '_')} per video)")
    for add in option_groups:
        add(batch)
    batch.set_defaults(func=cmd_batch, parse_seconds=parse_seconds_window)


def _job_args(args: argparse.Namespace, options: dict[str, str]) -> argparse.Namespace:
    """The batch's options with one video's own from its row of the list."""
    ns = copy.copy(args)
    for key, value in options.items():
        if key in ("target", "height_cm"):
            try:
                setattr(ns, key, float(value))
            except ValueError:
                raise UserError(f"{key} must be a number, not {value!r}") from None
        elif key in ("baseline_from", "camera_tilt_from"):
            try:
                setattr(ns, key, args.parse_seconds(value))
            except argparse.ArgumentTypeError as exc:
                raise UserError(f"{key} {exc}") from None
        elif key == "gait":
            ns.gait = True
        else:
            setattr(ns, key, value)
    return ns


def cmd_batch(args: argparse.Namespace) -> int:
    from posture_monitor.batch.inputs import expand_inputs
    from posture_monitor.batch.manifest import MANIFEST_NAME
    from posture_monitor.batch.runner import BatchOptions, PlannedJob, plan_jobs, run_batch
    from posture_monitor.cli_analyze import _result_suffixes
    from posture_monitor.cli_settings import analysis_settings

    if args.workers is not None and args.workers < 1:
        raise UserError("--workers must be 1 or more")
    if args.workers is not None and (args.scheduler or args.scheduler_file):
        raise UserError("--workers sets the local cluster's size: with --scheduler the "
                        "cluster has the workers it was started with")
    jobs = expand_inputs(args.inputs, args.out / MANIFEST_NAME)

    def settings_for(job) -> PlannedJob:
        ns = _job_args(args, job.options)
        return PlannedJob(job, analysis_settings(ns), ns.baseline_from, ns.camera_tilt_from,
                          ns.patient or "")

    planned = plan_jobs(jobs, settings_for)
    suffixes = sorted({s for p in planned for s in _result_suffixes(p.settings)}
                      | ({"_long.csv"} if args.long else set()))
    opts = BatchOptions(args.out, long=args.long, parquet=args.parquet,
                        overwrite=args.overwrite, quiet=args.quiet, scheduler=args.scheduler,
                        scheduler_file=args.scheduler_file, workers=args.workers,
                        suffixes=tuple(suffixes))
    return run_batch(planned, opts)

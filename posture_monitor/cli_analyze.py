"""`analyze`'s loop over its inputs: result names, output checks before any work, the
session store, progress and the summary line. The command line's parser is in cli.py."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from posture_monitor.core.common.errors import (
    EXIT_USAGE,
    CalibrationError,
    OutputError,
    SourceError,
)

EXIT_INTERRUPTED = 130  # shell convention for Ctrl+C


def _unique_stem(spec: str, used: set[str], taken=lambda stem: False) -> str:
    """The result name of an input: its file stem (`camera0` for camera 0); a second input
    of the same name in one run gets `-2`, `-3`, ... (compared without case: macOS and
    Windows file names ignore it). `taken(stem)`: also skip names already on disk."""
    stem = f"camera{spec}" if spec.isdigit() else Path(spec).stem or "input"
    candidate, n = stem, 2
    while candidate.casefold() in used or taken(candidate):
        candidate, n = f"{stem}-{n}", n + 1
    used.add(candidate.casefold())
    return candidate


RESULT_SUFFIXES = (".csv", ".json")


def _result_suffixes(settings) -> tuple[str, ...]:
    from posture_monitor.core.run.exercise_sink import extra_suffixes
    from posture_monitor.core.run.gait_sink import gait_suffixes

    return (RESULT_SUFFIXES + extra_suffixes(bool(settings.exercise.name), settings.mot,
                                             settings.trc)
            + gait_suffixes(settings.gait.enabled, settings.mot))


def _check_outputs(out_dir: Path, stems: list[str], overwrite: bool,
                   suffixes: tuple[str, ...] = RESULT_SUFFIXES,
                   all_people: bool = False) -> None:
    """Before any work: `--out` is a folder this process can write, no result file is the
    database or a folder, and no earlier result is replaced unless --overwrite (with
    --all-people: no <stem>_p<ID> file of an earlier run either; --overwrite removes
    them, so none is left looking like a person of this run)."""
    from posture_monitor.core.common.errors import OutputError
    from posture_monitor.core.records.outputs import check_output_dir, check_result_files
    from posture_monitor.core.run.people_sink import person_files

    check_output_dir(out_dir)
    check_result_files(out_dir, stems, suffixes, overwrite)
    if all_people and not overwrite:
        earlier = [p for stem in stems for p in person_files(out_dir, stem)]
        if earlier:
            raise OutputError(f"{earlier[0]} exists already (a person of an earlier "
                              "--all-people run): pass --overwrite to replace results, or "
                              "choose another --out folder")


def _summary_line(name: str, report) -> str:
    views = ", ".join(f"{v} {c}" for v, c in report.views.most_common())
    medians = ", ".join(f"{k} {v:.1f} (n={report.measured[k]})"
                        for k, v in report.medians.items() if v is not None)
    postures = ", ".join(f"{label} {n}" for label, n in report.postures.most_common(4) if label)
    baseline = ""
    if report.baseline is not None:
        b = report.baseline
        baseline = (f"; baseline {b['from_s'][0]:g}-{b['from_s'][1]:g} s ({b['view']} view, "
                    f"{len(b['metrics'])} measures), alerts {report.alerts}")
    exercise = ""
    if report.exercise is not None:
        e = report.exercise
        exercise = (f"; {e['title']}: {e['reps']} complete repetitions"
                    f"{', ' + str(e['incomplete']) + ' incomplete' if e['incomplete'] else ''}")
    people = ""
    if report.people is not None and len(report.people["seen"]) > 1:
        p = report.people
        people = (f"; {len(p['seen'])} people seen, measured "
                  + ", ".join(f"#{pid}" for pid in p["measured"]))
    gait = ""
    if report.gait is not None:
        g = report.gait
        cadence = g.get("cadence_steps_per_min")
        gait = (f"; gait: {g['steps']} steps"
                + (f", cadence {cadence:.0f} steps/min" if cadence else "")
                + (f" ({g['withheld']})" if g.get("withheld") else ""))
    return (f"{name}: {report.frames} frames, person in {report.with_pose} ({views})"
            f"{'; medians ' + medians if medians else ''}"
            f"{'; posture ' + postures if postures else ''}{people}{baseline}{exercise}{gait}"
            f"{_trc_note(getattr(report, 'trc', None))} -> {report.csv_path}")


def _trc_note(trc: dict | None) -> str:
    """Where the .trc's metres come from, said where the user reads (not only in the
    sidecar): the height given, or MediaPipe's size and why the height was not used."""
    if trc is None:
        return ""
    s = trc["scale_m_per_px"]
    if s is None:
        return "; OpenSim markers: none (no person with a scale in any frame)"
    basis = (f"from the height {trc['height_cm']:g} cm" if trc["scale_basis"] == "height"
             else "MediaPipe's size of the body; " + (
                 f"--height-cm unused: {trc['height_cm_unused']}" if "height_cm_unused" in trc
                 else "no --height-cm"))
    return f"; OpenSim markers {s * 1000:.3f} mm/px ({basis})"


def _say_capture_status(status) -> None:
    """A camera lost and found again during `analyze`: one line each on stderr (errors
    that end an input are reported by the caller)."""
    if status.kind in ("lost", "recovered"):
        what = "camera lost" if status.kind == "lost" else "camera back"
        print(f"posture-monitor: {what}: {status.message}", file=sys.stderr, flush=True)


def run_analysis(inputs: list[str], out_dir: Path, settings, quiet: bool = False,
                 max_frames: int | None = None, patient: str | None = None,
                 baseline_from: tuple[float, float] | None = None,
                 camera_tilt_from: tuple[float, float] | None = None,
                 overwrite: bool = False, keep_existing: bool = False,
                 open_input=None) -> int:
    """Analyse each input in turn; a bad input is reported and the others still run.

    A camera that is unplugged is re-opened every few seconds (`open_input(spec)` again,
    `open_source` by default) and its rows go on after the gap; stderr says so.

    Models, the output folder and the result names are checked first, before any work
    and before a session is stored: an existing result stops the run unless `overwrite`
    (`keep_existing`: pick the next free name instead, for the main job). A failed
    write (a full disk) stops the batch: nothing more can be written there."""
    from contextlib import ExitStack

    from posture_monitor.core.capture.sources import open_source
    from posture_monitor.core.run.analysis import analyze_source
    from posture_monitor.core.run.sinks import StoredSession
    from posture_monitor.core.vision.model_files import resolve_pose_model
    from posture_monitor.progress import ProgressBar

    open_input = open_input or open_source
    model = resolve_pose_model(settings.model)  # fail once, before any input
    if settings.classifier != "none":
        from posture_monitor.core.classify.classifier import resolve_classifier

        resolve_classifier(settings.classifier)
    used: set[str] = set()

    suffixes = _result_suffixes(settings)

    def taken(stem: str) -> bool:
        return keep_existing and any((out_dir / f"{stem}{s}").exists() for s in suffixes)

    stems = [_unique_stem(spec, used, taken) for spec in inputs]
    _check_outputs(out_dir, stems, overwrite, suffixes, settings.all_people)
    failures = 0
    stop = threading.Event()
    with ExitStack() as stack:
        store = None
        if patient is not None:
            from posture_monitor.core.records.store import Store

            store = stack.enter_context(Store())  # an unusable database: one line, now
        for spec, stem in zip(inputs, stems, strict=True):
            bar = None
            try:
                with open_input(spec) as source:
                    bar = ProgressBar(stem, enabled=None if not quiet else False)
                    session = None
                    if store is not None:
                        # stored with its CSV path from the start: a killed run still
                        # points at its CSV
                        session = StoredSession(store, patient, source.description,
                                                model.name, settings.to_dict(),
                                                (out_dir / f"{stem}.csv").absolute())
                    report = analyze_source(
                        source, out_dir, stem, settings, model, bar, stop, max_frames,
                        sinks=[session] if session else (), baseline_from=baseline_from,
                        camera_tilt_from=camera_tilt_from,
                        overwrite=overwrite, reopen=lambda spec=spec: open_input(spec),
                        on_status=_say_capture_status)
                bar.close()
                if session is not None and session.id is not None:
                    print(f"stored as session {session.id} of patient {patient}")
                if not quiet:
                    print(_summary_line(spec, report))
            except (SourceError, CalibrationError) as exc:
                if bar:
                    bar.close()
                failures += 1
                print(f"posture-monitor: error: {exc}", file=sys.stderr)
            except OutputError:
                if bar:
                    bar.close()
                raise  # a full disk or a lost folder: the other inputs cannot be written
            except KeyboardInterrupt:
                if bar:
                    bar.close()
                print(f"posture-monitor: interrupted; rows so far kept in "
                      f"{out_dir / (stem + '.csv')}", file=sys.stderr)
                return EXIT_INTERRUPTED
    return EXIT_USAGE if failures else 0


def run_pair(front: str, side: str, out_dir: Path, settings, quiet: bool = False,
             max_frames: int | None = None, overwrite: bool = False) -> int:
    """`analyze --front A --side B`: two synchronized videos into one table
    (core/run/two_cameras.py), `<A-stem>+<B-stem>.csv` and `.json`."""
    from posture_monitor.core.capture.sources import open_source
    from posture_monitor.core.run.two_cameras import analyze_pair
    from posture_monitor.core.vision.model_files import resolve_pose_model
    from posture_monitor.progress import ProgressBar

    model = resolve_pose_model(settings.model)
    if settings.classifier != "none":
        from posture_monitor.core.classify.classifier import resolve_classifier

        resolve_classifier(settings.classifier)
    stem = f"{Path(front).stem}+{Path(side).stem}"
    _check_outputs(out_dir, [stem], overwrite)
    with open_source(front) as a, open_source(side) as b:
        for spec, src in ((front, a), (side, b)):
            if src.is_live or not src.is_sequence:
                raise SourceError(f"{spec}: --front and --side take two video files "
                                  "(synchronized recordings)")
        bar = ProgressBar(stem, enabled=None if not quiet else False)
        try:
            report = analyze_pair(a, b, out_dir, stem, settings, model, overwrite,
                                  progress=bar, max_frames=max_frames)
        except KeyboardInterrupt:
            bar.close()
            print(f"posture-monitor: interrupted; rows so far kept in {out_dir / stem}.csv",
                  file=sys.stderr)
            return EXIT_INTERRUPTED
        bar.close()
    if not quiet:
        fps = ", ".join(f"{k} {v:.1f}" for k, v in report.fps.items())
        print(f"{stem}: {report.frames} rows on the front camera's time axis, person in "
              f"front {report.with_pose['front']} / side {report.with_pose['side']}, "
              f"{report.unmatched} without a side frame; analysed fps {fps} -> "
              f"{report.csv_path}")
    return 0

"""Command line over the session store: `sessions list|show|export|import|delete`,
`patients`, `goals set|list|delete`, `report`, and `analyze --patient ID --save` (the
same SQLite file the app uses)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from posture_monitor.core.common.errors import UserError
from posture_monitor.core.common.safe_text import printable
from posture_monitor.core.measure.definitions import METRIC_BY_COLUMN
from posture_monitor.core.records import store_io

OVERWRITE_HELP = "replace FILE (and its .json) if it exists; never the session database"


def add_parsers(sub) -> None:
    sessions = sub.add_parser("sessions", help="list, show, export or import recorded sessions")
    ssub = sessions.add_subparsers(dest="action", required=True, parser_class=type(sessions))
    lst = ssub.add_parser("list", help="sessions, newest first")
    lst.add_argument("--patient", default=None, metavar="ID")
    show = ssub.add_parser("show", help="one session's details and summary")
    show.add_argument("id", type=int)
    export = ssub.add_parser("export", help="a session as CSV + JSON")
    export.add_argument("id", type=int)
    export.add_argument("--out", type=Path, required=True, metavar="FILE.csv")
    export.add_argument("--anonymize", action="store_true", help="leave names out")
    export.add_argument("--overwrite", action="store_true", help=OVERWRITE_HELP)
    imp = ssub.add_parser("import", help="a session CSV (from export, or analyze + .json)")
    imp.add_argument("csv", type=Path)
    imp.add_argument("--patient", default=None, metavar="ID")
    imp.add_argument("--again", action="store_true",
                     help="import a file that is stored already (same sha256) once more")
    delete = ssub.add_parser("delete", help="delete a session and its samples (asks first; "
                             "its CSV file stays)")
    delete.add_argument("id", type=int)
    delete.add_argument("--yes", action="store_true", help="do not ask")
    sessions.set_defaults(func=run)
    patients = sub.add_parser("patients", help="list patients or add one")
    patients.add_argument("--add", default=None, metavar="ID", help="pseudonymous ID")
    patients.add_argument("--name", default=None, help="display name (optional)")
    patients.set_defaults(func=run)
    report = sub.add_parser("report", help="PDF report of a session or a patient")
    which = report.add_mutually_exclusive_group(required=True)
    which.add_argument("--session", type=int, metavar="ID")
    which.add_argument("--patient", metavar="ID")
    report.add_argument("--pdf", type=Path, required=True, metavar="FILE")
    report.add_argument("--anonymize", action="store_true", help="leave names out")
    report.add_argument("--overwrite", action="store_true",
                        help="replace FILE if it exists; never the session database")
    report.set_defaults(func=run)
    _add_goal_parsers(sub)


def _add_goal_parsers(sub) -> None:
    goals = sub.add_parser("goals", help="a patient's goals per exercise and measure, and "
                           "how far the latest visit is from each")
    gsub = goals.add_subparsers(dest="action", required=True, parser_class=type(goals))
    gset = gsub.add_parser("set", help="e.g. goals set P001 squat knee_flex_r_deg_max 110 "
                           "--at-least, or goals set P001 gait "
                           "step_time_symmetry_ratio_pct 90 --at-least")
    gset.add_argument("patient", metavar="PATIENT")
    gset.add_argument("exercise", metavar="EXERCISE", help="an exercise preset, e.g. "
                      "squat, or gait (sessions analysed with --gait)")
    gset.add_argument("measure", metavar="MEASURE", help="e.g. range, knee_flex_r_deg_max, "
                      "range_symmetry_pct; for gait e.g. cadence_steps_per_min, "
                      "step_time_symmetry_ratio_pct (a wrong name lists the valid ones)")
    gset.add_argument("value", metavar="VALUE", help="in the measure's unit (deg, %%, s)")
    way = gset.add_mutually_exclusive_group(required=True)
    way.add_argument("--at-least", dest="direction", action="store_const", const="at_least")
    way.add_argument("--at-most", dest="direction", action="store_const", const="at_most")
    gset.add_argument("--note", default=None, help="one line (left out of anonymised reports)")
    glist = gsub.add_parser("list", help="the patient's goals with their progress")
    glist.add_argument("patient", metavar="PATIENT")
    glist.add_argument("--exercise", default=None, metavar="EXERCISE")
    gdel = gsub.add_parser("delete", help="delete a goal (asks first)")
    gdel.add_argument("id", type=int)
    gdel.add_argument("--yes", action="store_true", help="do not ask")
    goals.set_defaults(func=run)


def _open():
    from posture_monitor.core.records.store import Store

    return Store()


def run(args: argparse.Namespace) -> int:
    with _open() as store:
        if args.command == "patients":
            if args.add:
                store.add_patient(args.add, args.name)
            for p in store.patients():  # escaped: an old import may hold escape codes
                print(f"{printable(p['id'])}\t{printable(p.get('display_name'))}")
            return 0
        if args.command == "report":
            return _report(store, args)
        if args.command == "goals":
            return _goals(store, args)
        if args.action == "list":
            tag = METRIC_BY_COLUMN["cva_deg"].picture_tag
            for s in store.sessions(args.patient):
                summary = s.get("summary") or {}
                cva = summary.get("cva_deg")
                print(f"{s['id']}\t{printable(s['patient_id'])}\t{_date(s)}\t"
                      f"{(summary.get('duration_s') or 0) / 60:.1f} min\t"
                      f"{tag} {'-' if cva is None else f'{cva:.1f}'}\t"
                      f"{printable(s.get('status'))}")
            return 0
        if args.action == "show":
            session = store.session(args.id)
            _note_changed_csv(session)
            exercise = _shown_exercise(store, args.id)
            if exercise is not None:
                session["exercise"] = exercise
            from posture_monitor.core.records.gait_store import gait_of

            gait = gait_of(store, args.id)
            if gait is not None:
                session["gait"] = gait
            print(json.dumps(session, indent=2, default=str))
            return 0
        if args.action == "export":
            _export(store, args.id, args.out, args.anonymize, args.overwrite)
            print(f"wrote {args.out} and {args.out.with_suffix('.json')}")
            return 0
        if args.action == "import":
            if not args.csv.is_file():
                raise UserError(f"not found: {args.csv}")
            sid = store_io.import_session(store, args.csv, args.patient, again=args.again)
            print(f"imported as session {sid}")
            return 0
        if args.action == "delete":
            return _delete(store, args.id, args.yes)
    return 2


def _date(session: dict) -> str:
    started = session.get("started")
    return printable(started[:16]) if isinstance(started, str) else "unknown date"


def _delete(store, session_id: int, yes: bool) -> int:
    s = store.session(session_id)  # an unknown id: one line, exit 2
    what = (f"session {session_id} of patient {printable(s['patient_id'])} ({_date(s)}, "
            f"{store.frame_count(session_id)} frames)")
    if not _confirmed(what, yes):
        return 1
    store.delete_session(session_id)
    print(f"deleted {what}")
    return 0


def _confirmed(what: str, yes: bool) -> bool:
    """"[y/N]" on a terminal; --yes skips the question; with no terminal and no --yes
    nothing is deleted (exit 2): a script must say it means it."""
    if not yes:
        if not (sys.stdin.isatty() and sys.stdout.isatty()):
            raise UserError(f"not deleting {what} without confirmation: run it on a terminal "
                            "to be asked, or add --yes")
        try:
            answer = input(f"Delete {what}? [y/N] ")
        except EOFError:
            answer = ""
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing deleted")
            return False
    return True


def _shown_exercise(store, session_id: int) -> dict | None:
    """The session's exercise for `sessions show`: its object, and its session means
    named in words."""
    from posture_monitor.core.movement.measures import measure_title, measure_unit
    from posture_monitor.core.records.exercise_store import counted_unit, exercise_of

    exercise = exercise_of(store, session_id)
    if exercise is None:
        return None
    unit = counted_unit(exercise) or "deg"
    summary = exercise.get("summary") or {}
    exercise["summary_in_words"] = {
        measure_title(k): f"{v:.2f} {measure_unit(k, unit)}".rstrip()
        for k, v in summary.items() if isinstance(v, float) and k not in ("reps", "incomplete")}
    return exercise


def _goals(store, args) -> int:
    from posture_monitor.core.records import exercise_store as es
    from posture_monitor.core.records import gait_store as gs

    if args.action == "set":
        if args.exercise == gs.GAIT:  # gait is no exercise preset: its own measures
            gid = gs.set_goal(store, args.patient, args.measure, args.direction, args.value,
                              args.note)
        else:
            gid = es.set_goal(store, args.patient, args.exercise, args.measure,
                              args.direction, args.value, args.note)
        print(f"goal {gid} of patient {printable(args.patient)}: {args.exercise}: "
              f"{gs.goal_text(es.goal(store, gid))}")
        return 0
    if args.action == "list":
        if store.patient(args.patient) is None:
            raise UserError(f"no patient {printable(args.patient)!r}: list them with "
                            "posture-monitor patients")
        _print_goals(store, args.patient, args.exercise)
        return 0
    g = es.goal(store, args.id)  # an unknown id: one line, exit 2
    what = (f"goal {g['id']} of patient {printable(g['patient_id'])} ({g['preset']}: "
            f"{gs.goal_text(g)})")
    if not _confirmed(what, args.yes):
        return 1
    es.delete_goal(store, args.id)
    print(f"deleted {what}")
    return 0


def _print_goals(store, patient: str, preset: str | None) -> None:
    from posture_monitor.core.records import exercise_progress as xp
    from posture_monitor.core.records import exercise_store as es
    from posture_monitor.core.records import gait_progress as gp
    from posture_monitor.core.records import gait_store as gs

    found = es.goals(store, patient, preset)
    if not found:
        print(f"no goals for patient {printable(patient)}")
    visits: dict[str, list[dict]] = {}
    for g in found:
        gait = g["preset"] == gs.GAIT
        if g["preset"] not in visits:
            visits[g["preset"]] = (gs.gait_sessions(store, patient) if gait
                                   else es.exercise_sessions(store, patient, g["preset"]))
        progress = (gp if gait else xp).goal_status(g, visits[g["preset"]])
        print(f"{g['id']}\t{g['preset']}\t{gs.goal_text(g)}\t{progress.text}")


def _note_changed_csv(session: dict) -> None:
    """One line on stderr when the session's CSV is not the file that was stored: what
    this command shows comes from the database's own samples, not from that file."""
    from posture_monitor.core.records.store import csv_changed

    note = csv_changed(session)
    if note:
        print(f"posture-monitor: note: {note}; the stored samples are used, not the file",
              file=sys.stderr)


def _writing(path: Path, write, option: str) -> None:
    """Run `write()`; a failed write (a full disk, a read-only place, a folder) is one
    line naming the path and the fix."""
    from posture_monitor.core.records.outputs import output_error

    try:
        write()
    except OSError as exc:
        raise output_error(exc, path, f"give another {option}") from None


def _export(store, session_id: int, path: Path, anonymize: bool,
            overwrite: bool = False) -> None:
    from posture_monitor.core.records.outputs import check_output_file

    session = store.session(session_id)  # an unknown id first: nothing is written
    sidecar = path.with_suffix(".json")
    if sidecar == path:
        raise UserError(f"--out {path} ends in .json, where the export's sidecar goes: name "
                        "the CSV, e.g. --out session.csv")
    check_output_file(path, overwrite, "--out")
    check_output_file(sidecar, overwrite, "--out")
    _note_changed_csv(session)
    _writing(path, lambda: store_io.export_session(store, session_id, path, anonymize=anonymize),
             "--out")


def _report(store, args) -> int:
    from posture_monitor.core.records.gait_store import GAIT, gait_of
    from posture_monitor.core.records.outputs import check_output_file
    from posture_monitor.core.records.report import patient_report, session_report
    from posture_monitor.core.records.report_exercise import histories, session_exercise
    from posture_monitor.core.records.report_gait import gait_history

    store.check_integrity()  # a damaged file: one line (keep a copy), not a wrong report
    if args.session is not None:
        session = store.session(args.session)
        check_output_file(args.pdf, args.overwrite, "--pdf", "report.pdf")
        _note_changed_csv(session)
        history = list(reversed(store.sessions(session["patient_id"])))
        exercise, exercises = session_exercise(store, session)
        gait = (gait_history(store, session["patient_id"], args.session)
                if gait_of(store, args.session) is not None else None)
        _writing(args.pdf, lambda: session_report(
            session, store.samples(args.session), args.pdf, history=history,
            anonymize=args.anonymize, exercise=exercise, exercises=exercises, gait=gait),
            "--pdf")
    else:
        patient = store.patient(args.patient)
        if patient is None:
            raise UserError(f"no patient {args.patient}: list them with posture-monitor "
                            "patients")
        check_output_file(args.pdf, args.overwrite, "--pdf", "report.pdf")
        sessions = list(reversed(store.sessions(args.patient)))
        # gait goals share the goals table: they get the gait pages, not exercise pages
        exercises = [h for h in histories(store, args.patient) if h.preset != GAIT]
        gait = gait_history(store, args.patient)
        _writing(args.pdf, lambda: patient_report(patient, sessions, args.pdf,
                                                  anonymize=args.anonymize,
                                                  exercises=exercises, gait=gait), "--pdf")
    print(f"wrote {args.pdf}")
    return 0

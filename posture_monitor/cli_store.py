"""Command line over the session store: `sessions list|show|export|import`, `report`,
and `analyze --patient ID --save` (the same SQLite file the app uses)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from posture_monitor.core.errors import UserError


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
    imp = ssub.add_parser("import", help="a session CSV (from export, or analyze + .json)")
    imp.add_argument("csv", type=Path)
    imp.add_argument("--patient", default=None, metavar="ID")
    patients = sub.add_parser("patients", help="list patients or add one")
    patients.add_argument("--add", default=None, metavar="ID", help="pseudonymous ID")
    patients.add_argument("--name", default=None, help="display name (optional)")
    report = sub.add_parser("report", help="PDF report of a session or a patient")
    which = report.add_mutually_exclusive_group(required=True)
    which.add_argument("--session", type=int, metavar="ID")
    which.add_argument("--patient", metavar="ID")
    report.add_argument("--pdf", type=Path, required=True, metavar="FILE")
    report.add_argument("--anonymize", action="store_true", help="leave names out")


def _open():
    from posture_monitor.core.store import Store

    return Store()


def run(args: argparse.Namespace) -> int:
    with _open() as store:
        if args.command == "patients":
            if args.add:
                store.add_patient(args.add, args.name)
            for p in store.patients():
                print(f"{p['id']}\t{p.get('display_name') or ''}")
            return 0
        if args.command == "report":
            return _report(store, args)
        if args.action == "list":
            for s in store.sessions(args.patient):
                summary = s.get("summary") or {}
                cva = summary.get("cva_deg")
                print(f"{s['id']}\t{s['patient_id']}\t{s['started'][:16]}\t"
                      f"{(summary.get('duration_s') or 0) / 60:.1f} min\t"
                      f"CVA {'-' if cva is None else f'{cva:.1f}'}\t{s.get('status') or ''}")
            return 0
        if args.action == "show":
            print(json.dumps(store.session(args.id), indent=2, default=str))
            return 0
        if args.action == "export":
            _export(store, args.id, args.out, args.anonymize)
            print(f"wrote {args.out} and {args.out.with_suffix('.json')}")
            return 0
        if args.action == "import":
            if not args.csv.is_file():
                raise UserError(f"not found: {args.csv}")
            sid = store.import_session(args.csv, args.patient)
            print(f"imported as session {sid}")
            return 0
    return 2


def _export(store, session_id: int, path: Path, anonymize: bool) -> None:
    store.export_session(session_id, path, anonymize=anonymize)


def _report(store, args) -> int:
    from posture_monitor.core.report import patient_report, session_report

    if args.session is not None:
        session = store.session(args.session)
        history = list(reversed(store.sessions(session["patient_id"])))
        session_report(session, store.samples(args.session), args.pdf, history=history,
                       anonymize=args.anonymize)
    else:
        patient = store.patient(args.patient)
        if patient is None:
            raise UserError(f"no patient {args.patient}: list them with posture-monitor "
                            "patients")
        sessions = list(reversed(store.sessions(args.patient)))
        patient_report(patient, sessions, args.pdf, anonymize=args.anonymize)
    print(f"wrote {args.pdf}")
    return 0

"""Who was in view and who was measured, as a result sink: the sidecar's `people` object
(every person's number, seconds and frames, and the frames each was measured in), and
with --all-people every person's own rows in `<stem>_p<ID>.csv` (+ its `.json`), each
measured with that person's own smoothing, scores and alerts (PosePipeline).

A person seen for less than MIN_TRACK_S gets no file (a detection that flickers for a
few frames is listed, not written): their rows wait until the track is that long.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from posture_monitor.core.records.recorder import SessionRecorder
from posture_monitor.core.run.sinks import Analysed

MIN_TRACK_S = 0.5


def person_stem(stem: str, person_id: int) -> str:
    return f"{stem}_p{person_id}"


def person_files(out_dir: Path, stem: str) -> list[Path]:
    """Per-person results of an earlier --all-people run of `stem` in out_dir."""
    pattern = re.compile(re.escape(stem) + r"_p\d+\.(csv|json)")
    return sorted(p for p in Path(out_dir).glob(f"{stem}_p*") if pattern.fullmatch(p.name))


class PeopleSink:
    def __init__(self, recorder: SessionRecorder | None, sought: int, rule: str | int,
                 open_person: Callable[[int], SessionRecorder] | None = None) -> None:
        self.recorder, self.sought, self.rule = recorder, sought, rule
        self.open_person = open_person  # --all-people: a recorder for a person's rows
        self.seen: dict[int, dict] = {}
        self.measured: dict[int, int] = {}
        self._writers: dict[int, SessionRecorder] = {}
        self._waiting: dict[int, list] = {}
        self.files: dict[int, str] = {}
        self.summary: dict | None = None

    def write(self, item: Analysed) -> None:
        r = item.result
        t = r.frame.time_s
        for p in r.people:
            s = self.seen.setdefault(p.id, {"id": p.id, "first_s": t, "last_s": t,
                                            "frames": 0})
            s["last_s"], s["frames"] = t, s["frames"] + 1
        if r.person_id is not None:
            self.measured[r.person_id] = self.measured.get(r.person_id, 0) + 1
        if self.open_person is None:
            return
        for one in r.everyone:
            pid = one.person_id
            writer = self._writers.get(pid)
            if writer is not None:
                writer.write(one)
                continue
            waiting = self._waiting.setdefault(pid, [])
            waiting.append(one)
            if t - self.seen[pid]["first_s"] >= MIN_TRACK_S:
                writer = self._writers[pid] = self.open_person(pid)
                self.files[pid] = str(writer.csv_path)
                for row in self._waiting.pop(pid):
                    writer.write(row)

    def close(self, status: str) -> None:
        for writer in self._writers.values():
            writer.close(status)
        people = []
        for pid, s in sorted(self.seen.items()):
            entry = {**s, "measured_frames": self.measured.get(pid, 0)}
            if self.open_person is not None:
                entry["csv"] = self.files.get(pid)  # None: seen too briefly for a file
            people.append(entry)
        self.summary = {
            "sought": self.sought,
            "rule": self.rule,
            "rule_definition": _RULES.get(self.rule, f"person number {self.rule} only"),
            "seen": people,
            "measured": sorted(self.measured),
        }
        if self.open_person is not None:
            self.summary["per_person_files_from_s"] = MIN_TRACK_S
        if self.recorder is not None:
            self.recorder.add_meta({"people": self.summary})


_RULES = {
    "auto": "with a baseline the person nearest where the calibrated person was; else "
            "the person measured so far while in view, then the one most in view",
    "largest": "the person most in view in each frame",
}

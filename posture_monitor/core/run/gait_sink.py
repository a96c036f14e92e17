"""Gait analysis as a result sink: every person's landmarks kept as they are tracked
(numbered by core/vision/people.py), the walker chosen among them and analysed
(core/movement/gait.py). At close: `<stem>_gait.csv`, `<stem>_gait_cycles.csv`, with
--mot `<stem>_gait.mot`, and the `gait` object in the sidecar (who was analysed, which
seconds, the figures). In the window the analysis is redone as the walk goes on and
published as GaitUpdated events; the cost is watched, so a long session is re-analysed
less often (never more than 5 % of the analysis thread's time).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from posture_monitor.core.common.settings import GaitSettings
from posture_monitor.core.movement.gait import GaitResult, analyse_gait, choose_walker
from posture_monitor.core.movement.gait_signals import WalkerTrack
from posture_monitor.core.records.gait_files import (
    CYCLES_SUFFIX,
    GAIT_MOT_SUFFIX,
    GAIT_SUFFIX,
    write_cycles_csv,
    write_gait_mot,
    write_steps_csv,
)
from posture_monitor.core.run.events import GaitUpdated
from posture_monitor.core.run.sinks import Analysed

_FILES = (("steps_csv", GAIT_SUFFIX, False), ("cycles_csv", CYCLES_SUFFIX, False),
          ("gait_mot", GAIT_MOT_SUFFIX, True))


def gait_suffixes(gait: bool, mot: bool) -> tuple[str, ...]:
    return tuple(s for _, s, needs_mot in _FILES if gait and (mot or not needs_mot))


def gait_files(out_dir: Path, stem: str, gait: bool, mot: bool) -> dict[str, Path]:
    on = set(gait_suffixes(gait, mot))
    return {key: out_dir / f"{stem}{s}" for key, s, _ in _FILES if s in on}


class _Series:
    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.t: list[float] = []
        self.px: list[np.ndarray] = []
        self.vis: list[np.ndarray] = []

    def track(self) -> WalkerTrack:
        return WalkerTrack(np.array(self.t), np.array(self.px), np.array(self.vis),
                           self.width, self.height)


class GaitSink:
    def __init__(self, settings: GaitSettings, recorder=None,
                 files: dict[str, Path] | None = None,
                 on_event: Callable[[object], None] | None = None, session=None,
                 update_every_s: float = 1.0) -> None:
        self.settings = settings
        self.recorder, self.files, self.on_event, self.session = recorder, files or {}, \
            on_event, session
        self.people: dict[int, _Series] = {}
        self.result: GaitResult | None = None
        self.summary: dict | None = None
        self._update_every_s = update_every_s
        self._next_update: float | None = None
        self._cost_s = 0.0
        self._closed = False

    def write(self, item: Analysed) -> None:
        r = item.result
        if r.frame.image is None:
            return
        h, w = r.frame.image.shape[:2]
        for person in r.people:
            s = self.people.setdefault(person.id, _Series(w, h))
            s.t.append(r.frame.time_s)
            s.px.append(person.pose.image[:, :2] * (w, h))
            s.vis.append(np.minimum(person.pose.visibility, person.pose.presence))
        if self.on_event is not None:
            now = r.frame.time_s
            if self._next_update is None:
                self._next_update = now + self._update_every_s
            elif now >= self._next_update:
                t0 = time.perf_counter()
                self.on_event(GaitUpdated(now, *self.analyse()))
                self._cost_s = time.perf_counter() - t0
                self._next_update = now + max(self._update_every_s, 20 * self._cost_s)

    def analyse(self) -> tuple[GaitResult | None, dict]:
        """The walker's analysis so far and the `gait` summary with who was analysed."""
        tracks = {pid: s.track() for pid, s in self.people.items() if len(s.t) >= 2}
        walker, seen = choose_walker(tracks)
        person = {"analysed": walker, "people_seen": seen,
                  "rule": "the person whose hips travel furthest across the frame"}
        if walker is None:
            return None, {"person": person, "steps": 0, "cadence_steps_per_min": None,
                          "withheld": "no_person: nobody was found in the video"}
        result = analyse_gait(tracks[walker], self.settings.height_cm)
        return result, {"person": person, **result.summary}

    def close(self, status: str) -> None:
        if self._closed:
            return
        self._closed = True
        self.result, self.summary = self.analyse()
        written = {}
        steps = self.result.steps if self.result else []
        curves = self.result.curves if self.result else {}
        if "steps_csv" in self.files:
            written["steps_csv"] = str(write_steps_csv(self.files["steps_csv"], steps))
        if "cycles_csv" in self.files:
            written["cycles_csv"] = str(write_cycles_csv(self.files["cycles_csv"], curves))
        if "gait_mot" in self.files:
            times = self.result.t if self.result else []
            angles = self.result.angles if self.result else {}
            written["gait_mot"] = str(write_gait_mot(self.files["gait_mot"], times, angles))
        if self.session is not None:
            self.session.gait = self.summary
        if self.on_event is not None:
            self.on_event(GaitUpdated(None, self.result, self.summary))
        if self.recorder is not None:
            self.recorder.add_meta({"gait": {**self.summary, "files": written}})

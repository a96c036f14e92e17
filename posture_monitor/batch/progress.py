"""The batch's terminal: the Dask dashboard's address, then videos done, frames per
second and time left across the whole batch (one line redrawn on a terminal, a line every
10 s in a log), and one line per video that fails."""

from __future__ import annotations

import threading
import time
from typing import TextIO

LOG_EVERY_S = 10.0  # a progress line this often when stderr is a file (a cluster job log)


class BatchProgress:
    def __init__(self, total: int, skipped: int, stream: TextIO, quiet: bool = False) -> None:
        self.stream, self.quiet = stream, quiet
        self.total, self.skipped = total, skipped
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.done = self.failed = self.stopped = 0
        self.frames_done = 0  # of finished videos
        self._live: dict[str, tuple[int, int | None]] = {}  # stem -> (frames, total)
        self._new: list[str] = []  # stems whose first progress arrived since take_started
        self._known_totals: list[int] = []
        self._lock = threading.Lock()  # frames() runs on Dask's event loop thread
        self._t0 = time.monotonic()
        self._last = 0.0
        self.to_run = 0

    def _say(self, text: str) -> None:
        if self.tty:
            self.stream.write("\r\033[K")
        self.stream.write(text + "\n")
        self.stream.flush()

    def started(self, client, to_run: int) -> None:
        self.to_run = to_run
        self._t0 = time.monotonic()
        if self.quiet:
            return
        info = client.scheduler_info(n_workers=-1)
        workers = len(info.get("workers", {}))
        # dashboard_link is a template even when the scheduler serves none
        link = client.dashboard_link if "dashboard" in info.get("services", {}) else None
        skipped = f", {self.skipped} done before (skipped)" if self.skipped else ""
        self._say(f"batch: {to_run} of {self.total} videos to analyse{skipped}, on "
                  f"{workers} Dask worker{'s' if workers != 1 else ''}")
        self._say(f"batch: Dask dashboard: {link}" if link else
                  "batch: no Dask dashboard (the scheduler serves none; it needs bokeh)")

    def frames(self, stem: str, frames: int, total: int | None) -> None:
        with self._lock:
            if stem not in self._live:
                self._new.append(stem)
                if total:
                    self._known_totals.append(total)
            self._live[stem] = (frames, total)

    def running(self) -> set[str]:
        with self._lock:
            return set(self._live)

    def take_started(self) -> list[str]:
        with self._lock:
            new, self._new = self._new, []
        return new

    def finished(self, stem: str, result: dict) -> None:
        with self._lock:
            self._live.pop(stem, None)
            self._new = [s for s in self._new if s != stem]
        frames = int(result.get("frames") or 0)
        self.frames_done += frames
        if result.get("status") == "done":
            self.done += 1
        elif result.get("status") == "interrupted":  # Ctrl+C: said once, by interrupted()
            self.stopped += 1
        else:
            self.failed += 1
            if not self.quiet:
                self._say(f"batch: {stem} failed: {result.get('error', '')}")
        self.draw()

    def line(self) -> str:
        with self._lock:
            live = list(self._live.values())
            totals = list(self._known_totals)
        elapsed = max(time.monotonic() - self._t0, 1e-9)
        frames = self.frames_done + sum(f for f, _ in live)
        rate = frames / elapsed
        finished = self.done + self.failed
        left_videos = self.to_run - finished - len(live)
        mean_total = sum(totals) / len(totals) if totals else None
        eta = "?"
        if rate > 0 and mean_total is not None:
            remaining = sum(max((t or mean_total) - f, 0) for f, t in live)
            remaining += max(left_videos, 0) * mean_total
            eta = _duration(remaining / rate)
        failed = f", {self.failed} failed" if self.failed else ""
        return (f"batch: {finished}/{self.to_run} videos{failed}, {len(live)} in progress, "
                f"{rate:.1f} frames/s, about {eta} left")

    def draw(self, force: bool = False) -> None:
        if self.quiet:
            return
        now = time.monotonic()
        if not force and now - self._last < (0.5 if self.tty else LOG_EVERY_S):
            return
        self._last = now
        if self.tty:
            self.stream.write("\r\033[K" + self.line()[:150])
            self.stream.flush()
        else:
            self._say(self.line())

    def interrupted(self) -> None:
        self._say(f"batch: interrupted: {self.done} videos done, the others marked "
                  "interrupted in the manifest: run the same command again to finish them")

    def close(self, manifest, summary) -> None:
        if self.quiet:
            return
        elapsed = time.monotonic() - self._t0
        failed = f", {self.failed} failed" if self.failed else ""
        failed += f", {self.stopped} stopped" if self.stopped else ""
        skipped = f", {self.skipped} skipped (done before)" if self.skipped else ""
        self._say(f"batch: {self.done} analysed{failed}{skipped} of {self.total} videos in "
                  f"{elapsed:.1f} s ({self.frames_done} frames) -> {manifest}, {summary}")


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"

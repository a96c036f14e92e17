"""A one-line progress bar on a terminal; silent when stderr is piped or redirected."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    def __init__(self, label: str, stream: TextIO | None = None, enabled: bool | None = None,
                 interval_s: float = 0.2) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.label = label
        self.interval_s = interval_s
        self._t0 = time.monotonic()
        self._last = 0.0
        self._done = 0

    def __call__(self, done: int, total: int | None) -> None:
        self._done = done
        now = time.monotonic()
        if not self.enabled or (now - self._last < self.interval_s and done != total):
            return
        self._last = now
        fps = done / max(now - self._t0, 1e-9)
        if total:
            share = min(done / total, 1.0)
            bar = "#" * int(share * 30)
            text = f"{self.label} [{bar:<30}] {done}/{total} frames {fps:5.1f} fps"
        else:
            text = f"{self.label} {done} frames {fps:5.1f} fps (Ctrl+C to stop)"
        self.stream.write("\r" + text[:120])
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self._done:
            self.stream.write("\n")
            self.stream.flush()

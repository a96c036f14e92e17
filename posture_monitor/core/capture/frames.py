"""Decouple reading frames from analysing them.

Files: a bounded prefetch queue, so decoding the next frame overlaps with pose
estimation of this one and no frame is skipped. Cameras: a one-slot mailbox where the
newest frame wins and stale ones are dropped and counted, so latency cannot grow.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator

from posture_monitor.core.capture.sources import Frame, FrameSource

PREFETCH_DEPTH = 4
_END = object()


class LatestFrameMailbox:
    """One slot; `put` overwrites (counting the frame it drops), `get` waits for one."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._item: object | None = None
        self.dropped = 0

    def put(self, item: object) -> None:
        with self._cond:
            if self._item is not None and self._item is not _END:
                self.dropped += 1
            self._item = item
            self._cond.notify()

    def get(self, timeout: float | None = None) -> object | None:
        with self._cond:
            if not self._cond.wait_for(lambda: self._item is not None, timeout):
                return None
            item, self._item = self._item, None
            return item


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def iter_frames(source: FrameSource, stop: threading.Event | None = None,
                timings: dict[str, float] | None = None) -> Iterator[Frame]:
    """Frames of `source` read on a background thread; re-raises the reader's errors here.

    `timings["decode_ms"]` accumulates the reader's time (for the benchmark).
    """
    # Our own event ends the reader thread; the caller's `stop` only asks us to end early.
    outer_stop = stop or threading.Event()
    stop = threading.Event()
    live = source.is_live
    box: LatestFrameMailbox | queue.Queue = LatestFrameMailbox() if live else queue.Queue(
        PREFETCH_DEPTH)
    stats = timings if timings is not None else {}
    stats.setdefault("decode_ms", 0.0)

    def put(item: object) -> None:
        if live:
            box.put(item)
            return
        while not stop.is_set():
            try:
                box.put(item, timeout=0.1)  # type: ignore[call-arg]
                return
            except queue.Full:
                continue

    def reader() -> None:
        try:
            while not stop.is_set():
                t0 = time.perf_counter()
                frame = source.read()
                stats["decode_ms"] += (time.perf_counter() - t0) * 1000.0
                if frame is None:
                    break
                put(frame)
        except BaseException as exc:  # handed to the consumer, which raises it
            put(_Failure(exc))
            return
        put(_END)

    thread = threading.Thread(target=reader, name="frame-reader", daemon=True)
    thread.start()
    try:
        while True:
            if outer_stop.is_set():
                return
            item = box.get(timeout=0.1) if live else _get(box, stop)  # type: ignore[arg-type]
            if item is None:
                continue
            if item is _END:
                return
            if isinstance(item, _Failure):
                raise item.exc
            if live:
                stats["dropped"] = box.dropped
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        thread.join(timeout=5.0)


def _get(q: queue.Queue, stop: threading.Event) -> object | None:
    try:
        return q.get(timeout=0.1)
    except queue.Empty:
        return None

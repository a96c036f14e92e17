"""The one capture worker: a thread that reads a source for `analyze`, the headless main
job and the window alike.

Files: a bounded prefetch queue, so decoding the next frame overlaps with pose estimation
of this one and no frame is skipped. Cameras (and files played at their own rate in the
window): a one-slot mailbox where the newest frame wins and stale ones are dropped and
counted, so latency cannot grow.

A live source that fails (read errors, or blank frames from a privacy shutter) is
reported once through `on_status`, re-opened every `RETRY_S` seconds, and its recovery
reported; frames after a reconnect continue the stream's numbering and clock, so the
consumer (pipeline, recorder) never sees time go backwards. The worker is in the capture
layer: it says what happened through `CaptureStatus`, and its user decides what that
means (an event for the window, a line on stderr for `analyze`).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from posture_monitor.core.capture.sources import MIN_FRAME_STEP_S, Frame, FrameSource
from posture_monitor.core.common.errors import SourceError

RETRY_S = 2.0  # re-open a lost camera this often (postured's choice, which users praised)
BLANK_STD = 20.0  # a frame this flat is a closed privacy shutter or a dead feed
BLANK_FRAMES = 15  # ...for this many frames in a row (0.5 s at 30 fps)
PREFETCH_DEPTH = 4
JOIN_TIMEOUT_S = 5.0
_END = object()


@dataclass
class Captured:
    frame: Frame
    t_capture: float  # the worker's clock (monotonic seconds) when the frame was read


@dataclass(frozen=True)
class CaptureStatus:
    """What happened to the source: lost, recovered, ended, error, or seek (a file was
    moved to another frame: what was captured before is no longer what comes next)."""
    kind: str
    message: str = ""


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


class LatestFrameMailbox:
    """One slot; `put` overwrites (counting the frame it drops), `get` waits for one."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._item: object | None = None
        self.dropped = 0

    def put(self, item: object) -> None:
        with self._cond:
            if self._item is not None and self._item is not _END and not isinstance(
                    self._item, _Failure):
                self.dropped += 1
            self._item = item
            self._cond.notify_all()

    def get(self, timeout: float | None = None) -> object | None:
        with self._cond:
            if not self._cond.wait_for(lambda: self._item is not None, timeout):
                return None
            item, self._item = self._item, None
            self._cond.notify_all()  # a lossless put waits for this
            return item

    def wait_taken(self, timeout: float) -> bool:
        """True once the slot is empty (its frame taken), False after `timeout`."""
        with self._cond:
            return self._cond.wait_for(lambda: self._item is None, timeout)


class CaptureWorker:
    """Reads `source` on a thread named "capture".

    `source` is the caller's (it closes it); sources the worker opens itself through
    `reopen` (after a loss, or after `pause(release=True)`) are closed by the worker. With
    no `source`, `reopen` opens the first one (errors go to the caller).
    `pace`: play a file at its own frame rate (None: a file yes, a camera has its own).
    `newest_wins`: default for a live or paced
    source. `hold_at_end`: at the end (or an error) of a file, wait for a `seek` instead of
    ending (the window's scrubber). `on_frame` sees every captured frame on the capture
    thread (the display); `on_status` every `CaptureStatus`.
    """

    def __init__(self, source: FrameSource | None = None,
                 reopen: Callable[[], FrameSource] | None = None, *,
                 pace: bool | None = False,
                 newest_wins: bool | None = None, hold_at_end: bool = False,
                 on_status: Callable[[CaptureStatus], None] | None = None,
                 on_frame: Callable[[Captured], None] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._reopen = reopen
        self._owned: FrameSource | None = None
        if source is None:
            if reopen is None:
                raise ValueError("CaptureWorker needs a source or a way to open one")
            source = self._owned = reopen()
        self.source: FrameSource | None = source
        self.last_source: FrameSource = source  # its description and size stay readable
        self.is_live = source.is_live
        self.pace = (not source.is_live) if pace is None else pace
        self.newest_wins = (source.is_live or self.pace) if newest_wins is None \
            else newest_wins
        self._box: LatestFrameMailbox | queue.Queue = (
            LatestFrameMailbox() if self.newest_wins else queue.Queue(PREFETCH_DEPTH))
        self.hold_at_end = hold_at_end
        # Newest-wins, but lossless (the window's gait mode on a file): a frame waits for
        # the consumer to take the one before, so the file plays as fast as analysis goes
        # and none is skipped. Switched at any time.
        self.lossless = False
        self._on_status = on_status
        self._on_frame = on_frame
        self._clock = clock
        self.decode_ms = 0.0  # time spent reading frames (the benchmark's decode stage)
        self._rate_hz: float | None = None
        self._seek_to: int | None = None
        self._release = False
        self._paused = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()  # guards `source` between the thread and its callers
        self._lost = False
        # Live re-timing after a reconnect: added to the new source's index and time.
        self._rebase = False
        self._index_offset = 0
        self._time_offset = 0.0
        self._last_out: tuple[int, float, float] | None = None  # index, time_s, clock
        self._thread = threading.Thread(target=self._run, name="capture", daemon=True)

    # --- control (any thread) ------------------------------------------------------
    def start(self) -> None:
        self._thread.start()

    def stop(self) -> bool:
        """End the thread and close the sources the worker opened; True if it ended."""
        self._stop.set()
        self._paused.clear()
        if self._thread.is_alive():
            self._thread.join(JOIN_TIMEOUT_S)
        with self._lock:
            if self._owned is not None:
                self._owned.close()
                self._owned = None
        return not self._thread.is_alive()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def set_rate(self, hz: float | None) -> None:
        """Decode about `hz` frames a second and only grab the ones between (a camera stays
        real-time at a fraction of the cost); None reads every frame."""
        self._rate_hz = hz

    @property
    def rate_hz(self) -> float | None:
        return self._rate_hz

    def seek(self, index: int) -> None:
        """Continue a file at frame `index` (applied by the capture thread)."""
        self._seek_to = max(0, int(index))

    def pause(self, paused: bool = True, release: bool = False) -> None:
        """Pause reading; `release` closes a live source until resumed (the camera light
        goes off and other programs can use it)."""
        self._release = release
        if paused:
            self._paused.set()
        else:
            self._paused.clear()

    @property
    def paused(self) -> bool:
        return self._paused.is_set()

    @property
    def dropped(self) -> int:
        """Frames the consumer never saw (newest wins); 0 for a prefetch queue."""
        return self._box.dropped if isinstance(self._box, LatestFrameMailbox) else 0

    # --- consuming -----------------------------------------------------------------
    def get(self, timeout: float = 0.2) -> Captured | None:
        """The next frame for a consumer that learns of ends and errors from `on_status`
        (the window); None when nothing came within `timeout`."""
        item = self._take(timeout)
        return item if isinstance(item, Captured) else None

    def frames(self) -> Iterator[Frame]:
        """Every frame (newest only, for a camera) until the end; re-raises the source's
        error here. Starts the thread and stops it when the loop ends or breaks off."""
        if not self._thread.is_alive() and not self._stop.is_set():
            self.start()
        try:
            while True:
                item = self._take(0.1)
                if item is None:
                    if not self._thread.is_alive() and self._empty():
                        return  # stopped from outside
                    continue
                if item is _END:
                    return
                if isinstance(item, _Failure):
                    raise item.exc
                yield item.frame  # type: ignore[union-attr]
        finally:
            self.stop()

    def _empty(self) -> bool:
        if isinstance(self._box, queue.Queue):
            return self._box.empty()
        return self._box._item is None

    def _take(self, timeout: float) -> object | None:
        if isinstance(self._box, LatestFrameMailbox):
            return self._box.get(timeout)
        try:
            return self._box.get(timeout=timeout)
        except queue.Empty:
            return None

    def _put(self, item: object) -> None:
        if isinstance(self._box, LatestFrameMailbox):
            while (self.lossless and isinstance(item, Captured) and not self._stop.is_set()
                   and not self._box.wait_taken(0.1)):
                pass
            self._box.put(item)
            return
        while not self._stop.is_set():  # lossless: wait for room, but never past stop()
            try:
                self._box.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    # --- the thread ----------------------------------------------------------------
    def _report(self, kind: str, message: str = "") -> None:
        if self._on_status is not None:
            self._on_status(CaptureStatus(kind, message))

    def _run(self) -> None:
        try:
            self._loop()
        except BaseException as exc:  # handed to the consumer, which raises it
            self._report("error", str(exc))
            self._put(_Failure(exc))

    def _loop(self) -> None:
        t_start = first_time = None  # the pacing anchor: re-set after a pause or a seek
        next_due = 0.0
        blank_run, blank = 0, False
        while not self._stop.is_set():
            if self._paused.is_set():
                if self._release and self.is_live and self.source is not None:
                    self._drop_source()
                self._stop.wait(0.02)
                t_start = first_time = None
                continue
            if self.source is None:
                self._open_again()
                continue
            if self._seek_to is not None and hasattr(self.source, "seek"):
                with self._lock:
                    self.source.seek(self._seek_to)
                self._seek_to, t_start, first_time = None, None, None
                self._report("seek")
            rate = self._rate_hz
            if rate is not None and self._clock() < next_due:
                with self._lock:
                    self.source.grab()  # keep the camera real-time, skip decoding
                continue
            if rate is not None:
                next_due = self._clock() + 1.0 / rate
            t0 = time.perf_counter()
            try:
                with self._lock:
                    frame = self.source.read()
            except SourceError as exc:
                if self.is_live and self._reopen is not None:
                    self._report("lost", f"{exc}; retrying every {RETRY_S:.0f} s")
                    self._lost = True
                    self._drop_source()
                    continue
                self._report("error", str(exc))
                if self._end(_Failure(exc)):
                    continue
                return
            finally:
                self.decode_ms += (time.perf_counter() - t0) * 1000.0
            if frame is None:
                self._report("ended", "end of the video")
                if self._end(_END):
                    continue
                return
            now = self._clock()
            if self.pace:  # play a file at its own frame rate
                if t_start is None or first_time is None:
                    t_start, first_time = now, frame.time_s
                wait = t_start + (frame.time_s - first_time) - now
                if wait > 0:
                    self._stop.wait(wait)
                    now = self._clock()
            if self.is_live:
                if frame.image is not None and frame.image.std() < BLANK_STD:
                    blank_run += 1
                    if blank_run == BLANK_FRAMES:
                        blank = True
                        self._report("lost", "the camera shows a blank picture (privacy "
                                     "shutter or lens covered?)")
                    continue
                blank_run = 0
                if blank:
                    blank = False
                    self._report("recovered", "the picture is back")
                self._retime(frame, now)
            captured = Captured(frame, now)
            if self._on_frame is not None:
                self._on_frame(captured)
            self._put(captured)

    def _end(self, item: object) -> bool:
        """At the end of a file or on its error: True when a seek asks to go on."""
        if not self.hold_at_end:
            self._put(item)
            return False
        while not self._stop.wait(0.05):
            if self._seek_to is not None:
                if hasattr(self.source, "seek"):
                    return True
                self._seek_to = None  # photos cannot be sought: stay at the end
        return False

    def _retime(self, frame: Frame, now: float) -> None:
        """A reconnected camera counts from 0 again: continue the stream's frame numbers
        and clock instead (the gap in time is the outage)."""
        if self._rebase and self._last_out is not None:
            index, t, t_clock = self._last_out
            self._index_offset = index + 1 - frame.index
            self._time_offset = max(t + (now - t_clock), t + MIN_FRAME_STEP_S) - frame.time_s
        self._rebase = False
        if self._index_offset or self._time_offset:
            frame.index += self._index_offset
            frame.time_s += self._time_offset
        self._last_out = (frame.index, frame.time_s, now)

    def _drop_source(self) -> None:
        with self._lock:
            if self.source is not None:
                self.source.close()
            if self.source is self._owned:
                self._owned = None
            self.source = None

    def _open_again(self) -> None:
        """Open the source again: at once after a pause, every RETRY_S after a loss. A
        failure is reported once; recovery only when a loss was reported."""
        if self._reopen is None:
            self._stop.wait(0.05)
            return
        wait = RETRY_S if self._lost else 0.0
        while not self._stop.wait(wait):
            try:
                source = self._reopen()
            except SourceError as exc:
                if not self._lost:
                    self._report("lost", f"{exc}; retrying every {RETRY_S:.0f} s")
                    self._lost = True
                wait = RETRY_S
                continue
            with self._lock:
                self.source = self._owned = self.last_source = source
            self._rebase = True
            if self._lost:
                self._lost = False
                self._report("recovered", "camera reconnected")
            return

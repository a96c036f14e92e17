"""What the engine tells its views: typed events on one queue.

The engine's threads publish; the window, the tray and desk mode subscribe. Nothing a
view needs is read from the engine on a timer, so nothing is missed when analysis runs
faster than a view looks (an alert that starts and ends between two looks still raises
exactly one notification). Delivery happens on the thread that calls `dispatch()` (the
GUI thread in the window, the main thread headless); a view can ask to be woken when
something is waiting (`set_waker`), so it need not poll the queue either.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Event:
    """Base of every event; `t` is the stream time in seconds where there is one."""


@dataclass(frozen=True)
class AlertStarted(Event):
    t: float
    reason: str  # plain words, e.g. "Head forward for 12 s: 4 cm ahead of your usual"
    rules: tuple[str, ...]


@dataclass(frozen=True)
class AlertEnded(Event):
    t: float


@dataclass(frozen=True)
class AlertStateChanged(Event):
    """ok / warning / alert / away: every change, for the tray colour and the tallies."""
    t: float
    state: str
    previous: str | None


@dataclass(frozen=True)
class PersonAway(Event):
    t: float


@dataclass(frozen=True)
class PersonBack(Event):
    t: float


@dataclass(frozen=True)
class SetupChanged(Event):
    """The camera set-up no longer matches the baseline: its alerts are paused."""
    t: float
    reason: str


@dataclass(frozen=True)
class CalibrationProgress(Event):
    fraction: float  # 0..1 of the capture


@dataclass(frozen=True)
class CalibrationFinished(Event):
    baseline: object | None  # posture.baseline.Baseline; None when it failed
    error: str | None = None
    slouch: bool = False


@dataclass(frozen=True)
class CameraLost(Event):
    message: str


@dataclass(frozen=True)
class CameraRecovered(Event):
    message: str


@dataclass(frozen=True)
class SourceEnded(Event):
    message: str = "end of the video"


@dataclass(frozen=True)
class EngineError(Event):
    message: str


@dataclass(frozen=True)
class EngineWarning(Event):
    message: str


@dataclass(frozen=True)
class RecordingStarted(Event):
    csv_path: Path


@dataclass(frozen=True)
class RecordingFinished(Event):
    csv_path: Path
    status: str  # "complete", "interrupted", "error"


@dataclass(frozen=True)
class ExerciseStarted(Event):
    preset: str
    title: str
    side: str


@dataclass(frozen=True)
class RepCompleted(Event):
    """A repetition ended (complete or not): its row of <stem>_reps.csv, the count of
    complete ones so far, and its left/right range for the bar chart."""
    t: float
    row: dict
    complete_count: int


@dataclass(frozen=True)
class FormCueRaised(Event):
    """A form check fired during a repetition (once per repetition and side)."""
    t: float
    check: str
    title: str
    cue: str
    side: str | None


@dataclass(frozen=True)
class ExerciseStopped(Event):
    summary: dict  # the tracker's summary (the sidecar's `exercise` object)


@dataclass(frozen=True)
class GaitUpdated(Event):
    """The gait analysis redone on the walk so far (t = stream time), or the final one
    when the source ended or gait mode stopped (t = None). `result` holds the events,
    steps and stride curves (core/movement/gait.GaitResult), None when nobody walked."""
    t: float | None
    result: object
    summary: dict


Handler = Callable[[Event], None]


class EventBus:
    """One queue of events; `publish` from any thread, `dispatch` delivers them in order
    to the subscribers of their type (or of `Event`: all of them)."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[Event] = queue.SimpleQueue()
        self._subscribers: list[tuple[type[Event], Handler]] = []
        self._lock = threading.Lock()
        self._waker: Callable[[], None] | None = None

    def subscribe(self, kind: type[Event], handler: Handler) -> None:
        with self._lock:
            self._subscribers.append((kind, handler))

    def unsubscribe(self, handler: Handler) -> None:
        with self._lock:
            self._subscribers = [(k, h) for k, h in self._subscribers if h != handler]

    def set_waker(self, waker: Callable[[], None] | None) -> None:
        """Called (on the publishing thread) after each publish: the window turns it into
        a queued call of `dispatch` on the GUI thread."""
        self._waker = waker

    def publish(self, event: Event) -> None:
        self._queue.put(event)
        waker = self._waker
        if waker is not None:
            waker()

    def dispatch(self) -> int:
        """Deliver everything waiting; returns how many events were delivered."""
        n = 0
        while True:
            try:
                event = self._queue.get_nowait()
            except queue.Empty:
                return n
            with self._lock:
                handlers = [h for k, h in self._subscribers if isinstance(event, k)]
            for handler in handlers:
                handler(event)
            n += 1

    def pending(self) -> list[Event]:
        """Take everything waiting without delivering it (headless callers and tests)."""
        out = []
        while True:
            try:
                out.append(self._queue.get_nowait())
            except queue.Empty:
                return out

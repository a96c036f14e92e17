"""The engine's events on the GUI thread: the engine's threads publish on its EventBus;
the bus's waker emits a Qt signal, which crosses to the GUI thread as a queued call, and
there the bus delivers every waiting event to the window, tray and calibration in order.

Views subscribe here once; the subscriptions move with the window from engine to engine
(each engine has its own bus), so opening another source needs no re-wiring."""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Qt, Signal

from posture_monitor.core.run.events import Event, EventBus, Handler


class EventBridge(QObject):
    # Emitted on the publishing thread; the receiver lives on the GUI thread, so Qt
    # queues the call there.
    _wake = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._subscriptions: list[tuple[type[Event], Handler]] = []
        self._bus: EventBus | None = None
        # One queued wake-up at a time: at 30 analysed frames/s several events can come
        # between two turns of the GUI's event loop, and one dispatch delivers them all.
        self._woken = threading.Event()
        self._wake.connect(self._dispatch, Qt.ConnectionType.QueuedConnection)

    def subscribe(self, kind: type[Event], handler: Handler) -> None:
        """`handler(event)` on the GUI thread for every event of `kind`, from this engine
        and every later one."""
        self._subscriptions.append((kind, handler))
        if self._bus is not None:
            self._bus.subscribe(kind, handler)

    def attach(self, bus: EventBus) -> None:
        """Follow a new engine's bus (and drop the previous one)."""
        self.detach()
        self._bus = bus
        for kind, handler in self._subscriptions:
            bus.subscribe(kind, handler)
        bus.set_waker(self._wake_up)
        self._wake_up()  # whatever it published before it had a waker

    def detach(self) -> None:
        """Stop following the current bus; what it still holds is not delivered (its
        engine is gone and so is what the window showed of it)."""
        bus, self._bus = self._bus, None
        if bus is None:
            return
        bus.set_waker(None)
        for _, handler in self._subscriptions:
            bus.unsubscribe(handler)

    def dispatch(self) -> int:
        """Deliver what is waiting now (tests and shutdown call this directly)."""
        self._woken.clear()  # before delivering: a publish from now on wakes us again
        bus = self._bus
        return bus.dispatch() if bus is not None else 0

    def _wake_up(self) -> None:
        if not self._woken.is_set():
            self._woken.set()
            self._wake.emit()

    def _dispatch(self) -> None:
        try:
            self.dispatch()
        except Exception:
            # A handler that fails must not strand the events behind it until the next
            # publish: deliver them on the next turn of the event loop, then report.
            self._wake_up()
            raise

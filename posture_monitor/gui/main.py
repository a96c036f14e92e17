"""Start the desktop app: `posture-monitor` (with a display) or `posture-monitor gui`."""

from __future__ import annotations

import gc
import signal
import sys

from posture_monitor.core.records.app_settings import (
    keep_settings_copy,
    load_settings,
    settings_path,
)


def gait_line(summary: dict) -> str:
    """The walk in one line, as `analyze --gait` tells it."""
    if summary.get("withheld"):
        return f"Gait: nothing measured ({summary['withheld']})"
    cadence = summary.get("cadence_steps_per_min")
    person = (summary.get("person") or {}).get("analysed")
    spans = ", ".join(f"{a:.1f}-{b:.1f} s" for a, b in summary.get("analysed_s") or [])
    return (f"Gait: {summary.get('steps', 0)} steps, cadence "
            + (f"{cadence:.0f} steps/min" if cadence is not None else "-")
            + f" (person {person}, {spans})")


def run_gui(source: str | None = None, model: str | None = None, loop: bool = False,
            exercise: tuple[str, str, tuple[str, ...]] | None = None,
            gait: bool = False, side_source: str | None = None) -> int:
    """Open the window on `source` (camera index or file; default: the saved camera).

    `model` is for this run only: the saved settings keep theirs (the Settings dialog is
    what changes them). `loop` plays a file in a camera's role, endlessly: the bundled
    sample is only 1.7 s. `exercise` (name, side, joints) opens in exercise mode; the
    count is printed at exit, as `analyze --exercise` prints its own. `gait` opens in
    gait mode; the walk's steps and cadence are printed at exit. `side_source` (camera
    index or file) opens a side camera beside the first one (gui/second_camera.py)."""
    from posture_monitor.gui.platform_check import check_qt_platform

    check_qt_platform()  # before Qt: a missing X11 library is one line, not Qt's abort

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from posture_monitor.gui.main_window import MainWindow

    created = QApplication.instance() is None
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Posture Monitor")
    settings, warning = load_settings()
    factory = None
    if loop and source is not None:
        from pathlib import Path

        from posture_monitor.core.capture.sources import VideoAsCameraSource

        def factory():
            sample = VideoAsCameraSource(Path(source))
            sample.description = f"{Path(source).name} (bundled sample, looping)"
            return sample

    window = MainWindow(settings, source, settings_path=settings_path(),
                        source_factory=factory, run_only={"model": model} if model else None)
    if warning:
        # Kept now, before the save at exit replaces it, so the banner can name the copy.
        try:
            copy = keep_settings_copy(settings_path())
        except OSError as exc:
            copy, warning = None, f"{warning}; no copy of it could be kept ({exc.strerror})"
        window.show_file_problem("warn", warning if copy is None else
                                 f"{warning}; the file as it was is kept as {copy}")
    # Ctrl+C in the terminal and SIGTERM at logout close the window the normal way, so
    # threads stop, the camera is released and a recording is finished. Python only runs
    # signal handlers between bytecodes, so a timer lets the interpreter run regularly.
    def close_window(*_):
        if window is not None:
            window.close()

    previous = {sig: signal.signal(sig, close_window) for sig in (signal.SIGINT, signal.SIGTERM)}
    ticker = QTimer(window, interval=200, timeout=lambda: None)
    ticker.start()
    if side_source is not None:
        window.second.open(side_source)
    if exercise is not None:
        window.exercise.start(*exercise)
    if gait:
        window.gait.start()
    window.show()
    app.exec()
    summary = window.exercise.summary  # the window closed: its exercise has stopped
    if exercise is not None and summary is not None:
        print(f"{summary['title']}: {summary['reps']} complete repetitions, "
              f"{summary['incomplete']} incomplete", flush=True)
    walk = window.gait.summary  # ...and so has its gait analysis
    if gait and walk is not None:
        print(gait_line(walk), flush=True)
    for sig, handler in previous.items():
        signal.signal(sig, handler)
    # Tear the widgets down while Qt is still alive: left to the interpreter's final
    # garbage collection, PySide6 and pyqtgraph objects can be freed in the wrong order.
    ticker.stop()
    window.deleteLater()
    app.processEvents()
    window = None
    gc.collect()
    if created:
        app.shutdown()  # destroy the QApplication now, not during interpreter teardown
    return 0

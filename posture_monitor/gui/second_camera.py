"""A side camera beside the first one (Source > Add side camera, or `gui --source A
--side-source B`): both pictures shown side by side, each stream analysed by its own
engine (core/run/live.py: its own capture and analysis threads and pose pipeline, so
MediaPipe runs on both cores), and the side panel's values taken per metric from the
camera whose view shows its plane (`CameraPair`: the side camera's analysed frame nearest
in capture time to the front frame on show), each with its source.

The first camera is the front one: recording, calibration, alerts, exercise and gait
modes stay with it. A seek in a video file moves both files to the same time. The live
plots (the front camera's alone) give way meanwhile: the two pictures and the panel of
both cameras' values take the room.
"""

from __future__ import annotations

from pathlib import Path

import cv2
from PySide6.QtWidgets import QFileDialog

from posture_monitor.core.capture.sources import CameraSource, open_source
from posture_monitor.core.common.errors import UserError
from posture_monitor.core.run import events as ev
from posture_monitor.core.run.live import CameraPair, LiveEngine, PairedValues
from posture_monitor.gui.event_bridge import EventBridge
from posture_monitor.gui.overlay import OverlayOptions, render_overlay
from posture_monitor.gui.video_view import VideoView


class SecondCamera:
    def __init__(self, window) -> None:
        self.window = window
        self.engine: LiveEngine | None = None
        self._open_args: tuple | None = None  # (spec, factory): reopened on new settings
        self._settings = None  # the analysis settings it runs with
        self.frames_shown = 0
        self.last_item = None
        self.video = VideoView("side_video")
        self.video.hide()
        window.video_row.addWidget(self.video, 1)
        self.events = EventBridge(window)  # its own bus: lost camera, errors
        sub = self.events.subscribe
        sub(ev.CameraLost, lambda e: window.show_banner(
            "warn", f"Side camera lost: {e.message}.", tag="side_camera"))
        sub(ev.CameraRecovered, lambda e: window.hide_banner("side_camera"))
        sub(ev.EngineError, lambda e: window.show_banner(
            "error", f"Side camera: {e.message}", tag="side_camera"))

    @property
    def running(self) -> bool:
        return self.engine is not None

    def fill_menu(self, menu, cameras) -> None:
        """Source menu entries: add (or change) the side camera, or remove it."""
        sub = menu.addMenu("Change side camera" if self.running else "Add side camera")
        for index, w, h in cameras:
            sub.addAction(f"Camera {index} ({w}x{h})", lambda i=index: self.open(str(i)))
        sub.addAction("Video file…", self.open_file_dialog)
        if self.running:
            menu.addAction("Remove side camera", self.close)

    def open_file_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.window, "Side camera: open video file",
                                              str(Path.home()),
                                              "Videos (*.mp4 *.avi *.mov *.mkv *.webm);;"
                                              "All files (*)")
        if path:
            self.open(path)

    def open(self, spec: str, factory=None) -> bool:
        """A camera index or a file (or any FrameSource `factory`) as the side camera."""
        self.close()
        s = self.window.settings_in_force

        def default_factory():
            if spec.isdigit():
                return CameraSource(int(spec), s.camera_width, s.camera_height, s.camera_fps)
            return open_source(spec)

        settings = s.to_analysis_settings()
        try:
            engine = LiveEngine(factory or default_factory, settings)
        except UserError as exc:
            self.window.show_banner("warn", f"Side camera: {exc}", tag="side_camera")
            return False
        self.engine, self._open_args, self._settings = engine, (spec, factory), settings
        self.events.attach(engine.bus)
        self.window.hide_banner("side_camera")
        self.video.show()
        self.window.plots.hide()  # the front camera's alone: the panel has both
        engine.start()
        return True

    def close(self) -> bool:
        engine, self.engine = self.engine, None
        self.video.hide()
        self.video.clear()
        self.last_item = None
        if engine is None:
            return True
        w = self.window
        if not (w.gait.panel_action.isChecked() or w.exercise.panel_action.isChecked()):
            w.plots.show()  # as those modes leave them, else
        self.events.detach()
        return engine.stop()

    def engine_opened(self) -> None:
        """The front camera's engine is new: changed analysis settings (Settings > model)
        apply to the side camera too."""
        if self.engine is not None and self._open_args is not None and \
                self.window.settings_in_force.to_analysis_settings() != self._settings:
            self.open(*self._open_args)

    # --- drawing -----------------------------------------------------------------
    def render(self) -> None:
        engine = self.engine
        if engine is None:
            return
        item = engine.pick()
        if item is None:
            return
        self.last_item = item
        image = item.frame.image
        h, w = image.shape[:2]
        scale = self.video.fit_scale(w, h)
        if scale < 0.95:  # drawn at the size shown, as the front picture (MainWindow)
            image = cv2.resize(image, (max(1, int(w * scale)), max(1, int(h * scale))),
                               interpolation=cv2.INTER_AREA)
        s, r = self.window.app_settings, item.result
        options = OverlayOptions(plumb_line=s.plumb_line, min_visibility=s.min_visibility,
                                 grid=self.window.grid_action.isChecked(),
                                 others=self.window.people.others(r, r.person_id),
                                 caption="Side camera")
        self.video.set_image(render_overlay(image, item.pose, item.result.measurement,
                                            None, options))
        self.frames_shown += 1

    def values(self, item) -> PairedValues | None:
        """The front frame on show with the side camera's nearest in time, merged."""
        front, side = self.window.engine, self.engine
        if front is None or side is None:
            return None
        return CameraPair(front, side).values(item.result, item.t_capture)

    def seek(self, front_index: int, front_fps: float | None) -> None:
        """The front file moved to `front_index`: a side file goes to the same time."""
        engine = self.engine
        if engine is None or engine.source is None or engine.source.kind != "video":
            return
        fps = engine.source.fps
        if front_fps and fps:
            engine.seek(max(0, round(front_index / front_fps * fps)))

    def stats_text(self) -> str:
        if self.engine is None:
            return ""
        st = self.engine.stats()
        return (f" | side camera: capture {st.capture_fps:.1f} · analysis "
                f"{st.analysis_fps:.1f} · display {st.display_fps:.1f} fps")

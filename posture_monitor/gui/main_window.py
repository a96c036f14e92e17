"""The main window: video with overlay, side panel, live plots, recording. Thin: all
analysis happens in `core.run.live.LiveEngine`; this class draws the frames it offers on a
~30 Hz timer, shows what its events tell (banners; the tray and calibration subscribe
too), and turns user actions into engine calls."""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path

import cv2
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QImage, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QScrollArea,
    QSlider,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from posture_monitor.core.capture.sources import CameraSource, open_source
from posture_monitor.core.common.errors import UserError
from posture_monitor.core.common.paths import sessions_dir as default_sessions_dir
from posture_monitor.core.posture.baseline import ProfileStore
from posture_monitor.core.records.app_settings import AppSettings, after_dialog, save_settings
from posture_monitor.core.run.live import LiveEngine
from posture_monitor.gui.banners import Banner, FileBanner
from posture_monitor.gui.calibration import CalibrationController
from posture_monitor.gui.desk import DeskController
from posture_monitor.gui.event_bridge import EventBridge
from posture_monitor.gui.exercise import ExerciseController
from posture_monitor.gui.gait import GaitController
from posture_monitor.gui.overlay import OverlayOptions, render_overlay
from posture_monitor.gui.people import PeopleController
from posture_monitor.gui.plots import LivePlots
from posture_monitor.gui.recording import RecordingActions
from posture_monitor.gui.second_camera import SecondCamera
from posture_monitor.gui.side_panel import SidePanel
from posture_monitor.gui.video_view import VideoView, fill_source_menu

# The GUI looks for a due frame every 15 ms but draws only when there is a new one, so it
# draws at the source's rate (30 Hz for a webcam) without beating against it.
RENDER_POLL_MS = 15
PLOT_INTERVAL_MS = 100  # plots and status bar refresh at 10 Hz: enough for the eye
SIDE_PANEL_WIDTH = 440  # "no reading (out of frame: left hip)" beside the longest name


class MainWindow(RecordingActions, QMainWindow):
    def __init__(self, settings: AppSettings, source: str | None = None,
                 sessions_dir: Path | None = None, settings_path: Path | None = None,
                 source_factory=None, profiles_path: Path | None = None,
                 store_path: Path | None = None, run_only: dict | None = None) -> None:
        super().__init__()
        self.app_settings = settings  # the saved settings: written back at close
        # Command-line choices for this run only (`gui --model lite`): in force, never saved.
        self.run_only = dict(run_only or {})
        self.settings_path = settings_path
        self.sessions_dir = sessions_dir or default_sessions_dir()
        self.engine: LiveEngine | None = None
        self.profiles = ProfileStore(profiles_path)
        from posture_monitor.core.records.store import Store

        # A database that cannot be used costs the history and recording, never the
        # window: the problem is named in the file banner instead.
        self.store: Store | None = None
        store_problem = None
        try:
            self.store = Store(store_path)
            self.store.check_integrity()  # the window records into it: check it first
        except UserError as exc:
            if self.store is not None:
                self.store.close()
                self.store = None
            store_problem = str(exc)
        self.db_session = None  # (session id, SampleWriter) while recording
        self.last_csv: Path | None = None
        self.last_item = None  # the DisplayItem on screen (snapshots redraw it full size)
        self.frames_shown = 0
        self.setWindowTitle("Posture Monitor")
        self.setAcceptDrops(True)
        self.resize(1280, 800)
        self._build_ui()
        self.events = EventBridge(self)  # the engine's events, on this thread
        self.banner.follow(self.events)
        self.desk = DeskController(self)
        self.desk.sound = settings.alert_sound
        self.calibration = CalibrationController(self, self.profiles)
        self.exercise = ExerciseController(self)
        self.gait = GaitController(self)
        self.people = PeopleController(self)  # several people: click one to measure them
        self.second = SecondCamera(self)  # a side camera beside this one
        self._build_actions()
        if store_problem:
            self.show_file_problem("error", f"{store_problem}. History and recording are off.")
        elif self.store.read_only:
            self.show_file_problem("warn", f"The data folder {self.store.path.parent} is "
                                   "read-only: the history can be viewed, recording is off.")
        self.record_action.setEnabled(self.store is not None and not self.store.read_only)
        self.history_action.setEnabled(self.store is not None)
        self.calibration.check_profiles_file()
        self.render_timer = QTimer(self, interval=RENDER_POLL_MS, timeout=self._render)
        self.plot_timer = QTimer(self, interval=PLOT_INTERVAL_MS, timeout=self._refresh_slow)
        self.render_timer.start()
        self.plot_timer.start()
        self.open(source if source is not None else str(settings.camera_index), source_factory)

    # --- layout ------------------------------------------------------------------
    def _build_ui(self) -> None:
        # Lasting problems with the window's files (settings, profiles, database) have a
        # banner of their own: camera, calibration and alert banners come and go below it.
        self.file_banner = FileBanner()
        self.banner = Banner()
        self.video = VideoView()
        empty = QWidget(objectName="empty_state")
        lay = QVBoxLayout(empty)
        lay.addStretch(1)
        self.empty_text = QLabel("No camera found.\nOpen a video file, drop one here, or "
                                 "plug in a camera and choose it in the Source menu.",
                                 alignment=Qt.AlignmentFlag.AlignCenter)
        lay.addWidget(self.empty_text)
        open_button = QPushButton("Open video file…", objectName="open_file_button")
        open_button.clicked.connect(self.open_file_dialog)
        lay.addWidget(open_button, alignment=Qt.AlignmentFlag.AlignCenter)
        lay.addStretch(1)
        videos = QWidget()
        self.video_row = QHBoxLayout(videos)  # a side camera's picture goes beside it
        self.video_row.setContentsMargins(0, 0, 0, 0)
        self.video_row.addWidget(self.video, 1)
        self.stack = QStackedWidget()
        self.stack.addWidget(empty)
        self.stack.addWidget(videos)
        self.seek = QSlider(Qt.Orientation.Horizontal, objectName="seek")
        self.seek.sliderReleased.connect(lambda: self.seek_to(self.seek.value()))
        self.seek.hide()
        left = QWidget()
        v = QVBoxLayout(left)
        v.setContentsMargins(0, 0, 0, 0)
        v.addWidget(self.file_banner)
        v.addWidget(self.banner)
        v.addWidget(self.stack, 1)
        v.addWidget(self.seek)
        self.video_column = v  # gait mode puts its timeline under the video
        self.side = SidePanel()
        self.side.decimals = self.app_settings.angle_decimals
        self.side_scroll = QScrollArea(widgetResizable=True)  # rows keep their height, scroll
        self.side_scroll.setWidget(self.side)
        self.side_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.side_scroll.setMinimumWidth(SIDE_PANEL_WIDTH)
        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(left)
        top.addWidget(self.side_scroll)
        top.setStretchFactor(0, 4)
        self.plots = LivePlots(self.app_settings.plot_window_s)
        main = QSplitter(Qt.Orientation.Vertical)
        main.addWidget(top)
        main.addWidget(self.plots)
        main.setStretchFactor(0, 3)
        main.setStretchFactor(1, 2)
        self.setCentralWidget(main)
        self.status = QLabel(objectName="status")
        self.statusBar().addPermanentWidget(self.status, 1)

    def _action(self, text: str, slot, shortcut: str | None = None,
                checkable: bool = False, checked: bool = False) -> QAction:
        action = QAction(text, self, checkable=checkable)
        if checkable:
            action.setChecked(checked)
            action.toggled.connect(slot)
        else:
            action.triggered.connect(slot)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        self.addAction(action)  # shortcuts work in fullscreen too
        return action

    def _build_actions(self) -> None:
        s = self.app_settings
        self.record_action = self._action("Start recording", self.toggle_recording, "Ctrl+R")
        self.pause_action = self._action("Pause", self.toggle_pause, "Space", checkable=True)
        self.mirror_action = self._action("Mirror (self-view)", self._set_mirror, "M", True,
                                          s.mirror)
        self.grid_action = self._action("Grid", self._set_grid, "G", True, s.grid)
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(self._action("Open video file…", self.open_file_dialog, "Ctrl+O"))
        file_menu.addAction(self._action("Export CSV…", self.export_csv, "Ctrl+E"))
        file_menu.addAction(self._action("Snapshot", self.snapshot, "Ctrl+S"))
        file_menu.addSeparator()
        file_menu.addAction(self._action("Quit", self.close, "Ctrl+Q"))
        self.source_menu = self.menuBar().addMenu("&Source")
        self.source_menu.aboutToShow.connect(
            lambda: fill_source_menu(self.source_menu, self.open, self.open_file_dialog,
                                     self.second))
        session = self.menuBar().addMenu("S&ession")
        for a in (self.record_action, self.pause_action):
            session.addAction(a)
        self.people.fill_menu(session)
        self.history_action = self._action("Patients and history…", self.open_history, "Ctrl+H")
        session.addAction(self.history_action)
        self.exercise.fill_menu(self.menuBar().addMenu("E&xercise"))
        self.gait.fill_menu(self.menuBar().addMenu("&Gait"))
        view = self.menuBar().addMenu("&View")
        for a in (self.mirror_action, self.grid_action):
            view.addAction(a)
        view.addAction(self._action("Fullscreen", self.toggle_fullscreen, "F11"))
        self.desk_mode_action = self.desk.desk_action
        self.desk_mode_action.setShortcut(QKeySequence("Ctrl+D"))
        self.addAction(self.desk_mode_action)
        view.addAction(self.desk_mode_action)
        view.addAction(self._action("Settings…", self.open_settings, "Ctrl+,"))
        self.profile_menu = self.menuBar().addMenu("&Profile")
        self.profile_menu.aboutToShow.connect(
            lambda: self.calibration.fill_menu(self.profile_menu, self.calibrate_action))
        self.calibrate_action = self._action("Calibrate neutral posture", self.calibration.start,
                                             "Ctrl+K")
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction(self._action("About Posture Monitor", self.about))
        toolbar = self.addToolBar("Main")
        toolbar.addAction(self.record_action)
        toolbar.addAction(self.pause_action)
        toolbar.addAction(self.mirror_action)

    def switch_person(self, person: str) -> None:
        self.calibration.switch_person(person)

    # --- sources -----------------------------------------------------------------
    @property
    def settings_in_force(self) -> AppSettings:
        """The saved settings with this run's command-line choices over them."""
        return replace(self.app_settings, **self.run_only)

    def open(self, spec: str, factory=None) -> bool:
        """Switch to a camera index or a file (or any FrameSource `factory`); on failure
        show the empty state."""
        self.close_engine()
        s = self.settings_in_force

        def default_factory():
            if spec.isdigit():
                return CameraSource(int(spec), s.camera_width, s.camera_height, s.camera_fps)
            return open_source(spec)

        factory = factory or default_factory

        try:
            engine = LiveEngine(factory, s.to_analysis_settings())
        except UserError as exc:
            self.stack.setCurrentIndex(0)
            self.empty_text.setText(f"{exc}.\n\nOpen a video file or drop one here.")
            self.show_banner("warn", str(exc))
            return False
        self.engine = engine
        self.events.attach(engine.bus)
        self.plots.reset_data()
        self.hide_banner()
        self.stack.setCurrentIndex(1)
        src = engine.source
        if src.kind == "video" and src.frame_count:
            self.seek.setRange(0, src.frame_count - 1)
            self.seek.show()
        else:
            self.seek.hide()
        if self.desk.desk_action.isChecked():
            self.desk.set_desk_mode(True)
        engine.start()
        self.people.engine_opened()
        self.second.engine_opened()
        self.exercise.engine_opened()
        self.gait.engine_opened()
        self.calibration.load_profile()
        self.setWindowTitle(f"Posture Monitor - {src.description}")
        return True

    def seek_to(self, index: int) -> None:
        """Move a video file to frame `index` (a side camera's file to the same time)."""
        engine = self.engine
        if engine is None:
            return
        engine.seek(index)
        self.second.seek(index, getattr(engine.source, "fps", None))

    def open_file_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open video file", str(Path.home()),
                                              "Videos (*.mp4 *.avi *.mov *.mkv *.webm);;"
                                              "All files (*)")
        if path:
            self.open(path)

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt naming
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt naming
        urls = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            self.open(urls[0])

    def close_engine(self) -> bool:
        clean = True
        if self.engine is not None:
            if self.engine.recording:
                self._stop_recording()
            self.exercise.engine_closing(self.engine)
            self.gait.engine_closing(self.engine)
            self.events.detach()  # what the closing engine still says is of no use now
            clean = self.engine.stop()
            self.engine = None
            self.calibration.cancel()
        self.record_action.setText("Start recording")
        return clean

    # --- drawing -----------------------------------------------------------------
    def _render(self) -> None:
        engine = self.engine
        if engine is None:
            return
        self.second.render()
        item = engine.pick()
        if item is None:
            return
        self.last_item = item
        image = item.frame.image
        h, w = image.shape[:2]
        scale = self.video.fit_scale(w, h)
        if scale < 0.95:
            # Draw on the frame at the size it is shown: a 1768x994 frame costs the GUI
            # thread several times more to paint and scale than the view needs. The
            # landmarks are normalized, so the overlay lands on the same spots.
            image = cv2.resize(image, (max(1, int(w * scale)), max(1, int(h * scale))),
                               interpolation=cv2.INTER_AREA)
        self.video.set_image(self._overlay(image, item))
        self.frames_shown += 1
        self.exercise.show_frame(item)
        self.gait.show_frame(item)
        self.side.show_result(item.result, self.calibration.baseline,
                              self.second.values(item))
        self.side.person.setText(self.people.describe(item.result))
        self.plots.set_view(item.result.measurement.view)
        self.plots.append(item.t_capture, item.result.measurement.values | item.result.scores)
        if self.seek.isVisible() and not self.seek.isSliderDown():
            self.seek.setValue(item.frame.index)

    def _overlay(self, image, item) -> QImage:
        s = self.app_settings
        mark = self.exercise.mark(item)  # exercise mode: the counted joint, not posture
        gait = self.gait.running  # gait mode: the walker's skeleton, not posture
        plain = mark is None and not gait
        # the person drawn in full: the walker in gait mode, else the one measured
        drawn = (self.gait.walker or item.result.person_id) if gait else item.result.person_id
        options = OverlayOptions(mirror=self.mirror_action.isChecked(),
                                 grid=self.grid_action.isChecked(), plumb_line=s.plumb_line,
                                 min_visibility=s.min_visibility, posture_marks=plain,
                                 extra=mark, others=self.people.others(item.result, drawn),
                                 measured=self.people.measured(item.result, drawn),
                                 caption="Front camera" if self.second.running else None)
        return render_overlay(image, self.gait.walker_pose(item) if gait else item.pose,
                              item.result.measurement,
                              item.result.classification if plain else None, options)

    def _refresh_slow(self) -> None:
        engine = self.engine  # a local: closing may clear the attribute meanwhile
        if engine is None:
            return
        self.plots.refresh(time.monotonic())
        self.exercise.refresh()
        st = engine.stats()
        lat = ("-" if st.latency_p50_ms is None else
               f"{st.latency_p50_ms:.0f}/{st.latency_p95_ms:.0f} ms")
        rec = "  ● REC" if engine.recording else ""
        self.status.setText(f"capture {st.capture_fps:.1f} fps · analysis {st.analysis_fps:.1f} "
                            f"fps · display {st.display_fps:.1f} fps · latency p50/p95 {lat} · "
                            f"dropped {st.dropped} · model {st.model}{rec}"
                            + self.second.stats_text())

    def show_banner(self, level: str, text: str, tag: str | None = None) -> None:
        """A non-modal banner above the video ("warn", "ok" or "error"); `tag` marks it
        so that `hide_banner(tag)` takes down only that one."""
        self.banner.show_message(level, text, tag)

    def hide_banner(self, tag: str | None = None) -> None:
        self.banner.hide_message(tag)

    @property
    def banner_tag(self) -> str | None:
        return self.banner.tag

    def show_file_problem(self, level: str, text: str) -> None:
        """Add a line to the file banner (it stays: the problem does); "error" wins."""
        self.file_banner.add(level, text)

    # --- actions -----------------------------------------------------------------
    def open_history(self) -> None:
        from posture_monitor.gui.history import HistoryWindow

        if self.store is None:
            return

        self.history = HistoryWindow(self.store, self, patient=self.calibration.person)
        self.history.show()

    def toggle_pause(self, paused: bool) -> None:
        if self.engine is not None:
            self.engine.pause(paused)

    def _set_mirror(self, on: bool) -> None:
        self.app_settings = replace(self.app_settings, mirror=on)

    def _set_grid(self, on: bool) -> None:
        self.app_settings = replace(self.app_settings, grid=on)

    def toggle_fullscreen(self) -> None:
        self.showNormal() if self.isFullScreen() else self.showFullScreen()

    def open_settings(self) -> None:
        from posture_monitor.gui.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self.settings_in_force, self)
        if dialog.exec():
            old = self.settings_in_force
            self.app_settings, self.run_only = after_dialog(self.app_settings, self.run_only,
                                                            dialog.settings())
            try:
                save_settings(self.app_settings, self.settings_path)
            except UserError as exc:
                self.show_file_problem("warn", str(exc))
            self.plots.set_window(self.app_settings.plot_window_s)
            self.desk.sound = self.app_settings.alert_sound
            self.exercise.apply_settings(self.app_settings)
            self.side.decimals = self.app_settings.angle_decimals
            self.mirror_action.setChecked(self.app_settings.mirror)
            self.grid_action.setChecked(self.app_settings.grid)
            if old.to_analysis_settings() != self.settings_in_force.to_analysis_settings() \
                    and self.engine is not None:
                self.open(self.engine.source.description if self.engine.source.kind !=
                          "camera" else str(self.app_settings.camera_index))

    def about(self) -> None:
        from posture_monitor.gui.about import show_about

        show_about(self)

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt naming
        self.render_timer.stop()
        self.plot_timer.stop()
        self.close_engine()
        self.second.close()
        self.desk.tray.hide()
        if self.store is not None:
            self.store.close()
        try:
            save_settings(self.app_settings, self.settings_path)
        except UserError as exc:  # a folder at the settings path, a read-only folder
            print(f"posture-monitor: {exc}", file=sys.stderr)
        super().closeEvent(event)


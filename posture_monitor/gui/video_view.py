"""The picture: the newest rendered frame, fitted to the widget with its aspect ratio."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QLabel, QSizePolicy


class VideoView(QLabel):
    """Shows the newest rendered frame scaled to fit, keeping its aspect ratio."""

    def __init__(self) -> None:
        super().__init__()
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(320, 240)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setStyleSheet("background:#111")
        self.image: QImage | None = None

    def set_image(self, image: QImage) -> None:
        self.image = image
        self._rescale()

    def fit_scale(self, width: int, height: int) -> float:
        """Scale that fits a width x height frame into the view (never enlarges)."""
        return min(self.width() / width, self.height() / height, 1.0)

    def _rescale(self) -> None:
        if self.image is None:
            return
        pixmap = QPixmap.fromImage(self.image)
        if pixmap.width() > self.width() or pixmap.height() > self.height():
            # Frames arrive already fitted (see MainWindow._render); this is for resizes.
            pixmap = pixmap.scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                   Qt.TransformationMode.FastTransformation)
        self.setPixmap(pixmap)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt naming
        super().resizeEvent(event)
        self._rescale()


def fill_source_menu(menu, open_source, open_file_dialog) -> None:
    """The Source menu: every camera that opens (index and resolution), and files."""
    from posture_monitor.core.capture.sources import probe_cameras

    menu.clear()
    cameras = probe_cameras()
    if not cameras:
        menu.addAction("No camera found").setEnabled(False)
    for index, w, h in cameras:
        menu.addAction(f"Camera {index} ({w}x{h})", lambda i=index: open_source(str(i)))
    menu.addSeparator()
    menu.addAction("Open video file…", open_file_dialog)

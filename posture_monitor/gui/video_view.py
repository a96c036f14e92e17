"""The picture: the newest rendered frame, fitted to the widget with its aspect ratio; a
click on it is told as a point of the picture (0..1 of its width and height)."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QLabel, QSizePolicy


class VideoView(QLabel):
    """Shows the newest rendered frame scaled to fit, keeping its aspect ratio."""

    # A mouse press on the picture: x, y as a share of the picture shown (before any
    # mirroring is undone), the button, and where on the screen (for a context menu).
    clicked = Signal(float, float, object, QPoint)

    def __init__(self, name: str = "video") -> None:
        super().__init__(objectName=name)
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

    def picture_point(self, x: float, y: float) -> tuple[float, float] | None:
        """Widget coordinates as a share of the picture shown; None outside it."""
        pixmap = self.pixmap()
        if pixmap is None or pixmap.isNull() or pixmap.width() == 0:
            return None
        left = (self.width() - pixmap.width()) / 2  # centred (AlignCenter)
        top = (self.height() - pixmap.height()) / 2
        u, v = (x - left) / pixmap.width(), (y - top) / pixmap.height()
        return (u, v) if 0.0 <= u <= 1.0 and 0.0 <= v <= 1.0 else None

    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt naming
        pos = event.position()
        point = self.picture_point(pos.x(), pos.y())
        if point is not None:
            self.clicked.emit(point[0], point[1], event.button(),
                              event.globalPosition().toPoint())
        super().mousePressEvent(event)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt naming
        super().resizeEvent(event)
        self._rescale()


def fill_source_menu(menu, open_source, open_file_dialog, second=None) -> None:
    """The Source menu: every camera that opens (index and resolution), and files; with
    `second` (gui/second_camera.py), a side camera beside the first one too."""
    from posture_monitor.core.capture.sources import probe_cameras

    menu.clear()
    cameras = probe_cameras()
    if not cameras:
        menu.addAction("No camera found").setEnabled(False)
    for index, w, h in cameras:
        menu.addAction(f"Camera {index} ({w}x{h})", lambda i=index: open_source(str(i)))
    menu.addSeparator()
    menu.addAction("Open video file…", open_file_dialog)
    if second is not None:
        menu.addSeparator()
        second.fill_menu(menu, cameras)

"""Guard against Qt bindings that leak references to None (PySide6 6.12.0 did: every void
call dropped one, and a window aborted after some seconds of drawing)."""

import gc
import sys

from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor, QImage, QPainter, QPen


def test_drawing_keeps_none_refcount(qapp):
    image = QImage(64, 48, QImage.Format.Format_RGB888)
    painter = QPainter(image)
    pen = QPen(QColor(255, 0, 0))
    gc.collect()
    before = sys.getrefcount(None)
    for _ in range(2000):
        painter.setPen(pen)
        painter.drawLine(QPointF(1, 1), QPointF(5, 5))
    gc.collect()
    after = sys.getrefcount(None)
    painter.end()
    assert after - before > -100, f"None lost {before - after} references in 4000 Qt calls"

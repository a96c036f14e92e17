"""The Qt-free core: frame sources, pose, metrics, smoothing, recording, pipeline.

Nothing under this package may import PySide6 or pyqtgraph (checked by a test), so the
command line and headless batch runs work on machines without a display.
"""

"""PySide6 + pyqtgraph desktop app: thin views over the core pipeline."""

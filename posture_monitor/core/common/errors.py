"""Errors a user can fix. They carry a one-line message that names the fix.

The CLI prints them without a traceback and exits with EXIT_USAGE (2).
"""

EXIT_USAGE = 2


class UserError(Exception):
    """Bad input or setup the user can correct; message is shown as is."""


class SourceError(UserError):
    """A camera, video, image or folder that cannot be read."""


class ModelError(UserError):
    """A pose or classifier model file that is missing or unusable."""


class CalibrationError(UserError):
    """No baseline can be taken from the seconds asked for (analyze --baseline-from)."""


class OutputError(UserError):
    """A result, export, report or database location that cannot be written (a file where
    a folder is needed, a read-only place, a full disk, an existing result)."""

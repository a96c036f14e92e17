"""Thin launcher (used by packaging): the program itself lives in `posture_monitor`."""

import sys

from posture_monitor.cli import main

if __name__ == "__main__":
    sys.exit(main())

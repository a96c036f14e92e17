"""The one sha256 of a file: models (sidecar, About box, classifier) and stored CSVs."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path


def file_sha256(path: Path) -> str:
    """The file's sha256, read now in 1 MiB blocks (a CSV may have been replaced since)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@lru_cache(maxsize=8)
def _cached(path: str, mtime_ns: int, size: int) -> str:
    return file_sha256(Path(path))


def file_sha256_cached(path: Path) -> str:
    """The same, remembered per (path, mtime, size): model files are read-only assets
    hashed on every run and by the About box, tens of MB each. Never for files that a
    later run may rewrite in place (a CSV): an equal size within one mtime tick would
    return the old hash."""
    stat = path.stat()
    return _cached(str(path), stat.st_mtime_ns, stat.st_size)

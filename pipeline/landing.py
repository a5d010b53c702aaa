"""Cheap change detection for the landing folder, for the sensor.

Hashing every file on every sensor tick would be slow on a large folder, so a file is
known by its path, size and modification time; ingestion still identifies content by
SHA-256, so a false alarm costs one run that finds nothing new.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from pipeline.ingest import landing_files


def fingerprint_landing(landing_dir: Path) -> dict[str, str]:
    """Relative path -> short fingerprint of (size, mtime) for every candidate file.

    A file moved or deleted between listing the folder and reading its size is skipped:
    people and fetchers move files in and out while the sensor looks, and one vanished
    file must not fail the whole tick."""
    prints: dict[str, str] = {}
    for path in landing_files(landing_dir):
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue
        token = f"{stat.st_size}:{stat.st_mtime_ns}".encode()
        prints[str(path.relative_to(landing_dir))] = hashlib.sha1(token).hexdigest()[:12]
    return prints

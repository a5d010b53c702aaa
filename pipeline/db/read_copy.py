"""The read copy of a DuckDB file, republished after each refresh by writing only the
blocks that changed.

A whole copy of a 1M-listing warehouse (5 GB) took 10 to 15 s, while a refresh that adds
one dump changes about 50 of its 20,000 blocks. So the copy keeps a spare beside it, the
copy readers had before the last publish: the next publish brings the spare up to date
block by block, swaps it in atomically and keeps the copy it replaced as the next spare.

A reader may still hold the spare open (a notebook left connected across a refresh);
writing into it would change the file under that reader. DuckDB holds a POSIX read lock
on every file it opens, so the spare is rewritten only when a write lock on it is free;
otherwise the publish copies the whole file to a new spare and the reader keeps the file
it has. The lock is an open-file-description lock, which conflicts with DuckDB's locks
held by this process as well. A spare left half written by a killed publish needs no
repair: every block that differs is written again the next time.
"""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
import struct
from dataclasses import dataclass
from pathlib import Path

BLOCK = 1024 * 1024  # a multiple of DuckDB's 256 KiB block


@dataclass(frozen=True)
class Published:
    bytes: int
    bytes_written: int  # all of `bytes` when the spare was absent or in use


def _spare(read_copy: Path) -> Path:
    return read_copy.with_name(f".{read_copy.name}.spare")


def _retired(read_copy: Path) -> Path:
    return read_copy.with_name(f".{read_copy.name}.tmp")


_OFD_SETLK: int | None = getattr(fcntl, "F_OFD_SETLK", None)  # Linux only
# What `link` fails with where a file system has no hard links.
_NO_HARD_LINKS = frozenset({errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK})


def _unused(fd: int) -> bool:
    """Whether no process has the file open through DuckDB (nor locked at all). Without
    open-file-description locks (macOS), no spare is taken for unused: every publish
    then copies the whole file, as it is the only safe choice."""
    if _OFD_SETLK is None:
        return False
    lock = struct.pack("hhqqi4x", fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
    try:
        fcntl.fcntl(fd, _OFD_SETLK, lock)
    except OSError as exc:
        if exc.errno in (errno.EAGAIN, errno.EACCES):
            return False
        raise
    return True


def _write_changed_blocks(source: Path, target_fd: int) -> int:
    """Makes the target a byte-for-byte copy of `source`, writing only the blocks that
    differ; returns the bytes written."""
    written = 0
    with source.open("rb") as src, os.fdopen(os.dup(target_fd), "r+b") as dst:
        offset = 0
        while block := src.read(BLOCK):
            if dst.read(len(block)) != block:
                dst.seek(offset)
                dst.write(block)
                written += len(block)
            offset += len(block)
        dst.truncate(offset)
    return written


def _update_spare(source: Path, spare: Path) -> int:
    """Brings the spare up to date in place when no reader holds it, else replaces it
    with a whole copy; returns the bytes written."""
    try:
        fd = os.open(spare, os.O_RDWR)
    except FileNotFoundError:
        fd = -1
    if fd >= 0:
        try:
            if _unused(fd):
                return _write_changed_blocks(source, fd)
        finally:
            os.close(fd)  # also drops the lock, before readers may open the file
        spare.unlink()  # a reader keeps the file it has open
    shutil.copyfile(source, spare)
    return source.stat().st_size


def _retire(read_copy: Path, retired: Path) -> None:
    """Gives the copy readers have a second name, to become the next spare once the new
    copy is swapped in (a rename would leave a moment with no copy at all). Where the
    file system has no hard links, no spare is kept and each publish copies the whole
    file."""
    try:
        os.link(read_copy, retired)
    except OSError as exc:
        if exc.errno not in _NO_HARD_LINKS:
            raise


def publish(source: Path, read_copy: Path) -> Published:
    """Makes `read_copy` a copy of `source` (a checkpointed DuckDB file no one writes
    meanwhile), replacing the previous copy atomically. A full disk leaves no half copy
    behind and names the folder."""
    spare, retired = _spare(read_copy), _retired(read_copy)
    retired.unlink(missing_ok=True)  # what a publish killed between two renames left
    try:
        written = _update_spare(source, spare)
    except OSError as exc:
        spare.unlink(missing_ok=True)
        if exc.errno != errno.ENOSPC:
            raise
        size = source.stat().st_size
        raise OSError(
            exc.errno,
            f"no space left in {read_copy.parent} for the read copy ({size:,} bytes): "
            "free space there, or point PAPERS_READ_COPY elsewhere",
        ) from exc
    if read_copy.exists():
        _retire(read_copy, retired)
    os.replace(spare, read_copy)
    if retired.exists():
        os.replace(retired, spare)
    return Published(bytes=read_copy.stat().st_size, bytes_written=written)

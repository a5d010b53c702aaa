"""The landing folder: what counts as a raw file there, how the sensor notices new ones,
and how fetched bodies are saved into it, raw first.

A fetched body is written exactly as served, so ingestion reads fetched and hand-saved
files the same way and can always be re-run from the landing folder. Beside each body a
sidecar `<name>.fetch.json` records where and when it came from; scanning skips sidecars,
and ingestion takes the day a body stands for from them (`snapshot_hint`).

Names are descriptive and never reused for other content: a file already ingested keeps
its bytes, because the warehouse knows it by its SHA-256. A re-fetch with unchanged
content writes nothing (ingestion would dedupe it anyway, but the folder stays tidy).

The sensor must not hash every file on every tick, so it knows a file by its path, size
and modification time (`fingerprint_landing`); ingestion still identifies content by
SHA-256, so a false alarm costs one run that finds nothing new.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
from datetime import date, datetime
from pathlib import Path

from pipeline.huggingface.api import FetchedBody

SIDECAR_SUFFIX = ".fetch.json"
# Not raw files: fetch records, and files still being written by a fetch or a browser.
_SKIPPED_SUFFIXES = (SIDECAR_SUFFIX, ".tmp", ".part", ".crdownload")
_STAMP = "%Y%m%dT%H%M%SZ"
_SLUG_MAX = 60
_MAX_VARIANTS = 1000


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _extension(body: FetchedBody) -> str:
    kind = body.content_type.split(";")[0].strip().lower()
    if kind in ("text/html", "application/xhtml+xml") or body.body.lstrip()[:1] == b"<":
        return ".html"
    return ".json"


def _slug(query: str) -> str:
    """Readable part of a search's name, plus a short hash so that queries slugging alike
    ("C++" and "C") keep apart."""
    words = re.sub(r"[^a-z0-9]+", "-", query.lower()).strip("-")[:_SLUG_MAX].strip("-")
    return f"{words or 'query'}-{hashlib.sha1(query.encode()).hexdigest()[:8]}"


def _stem(body: FetchedBody) -> str:
    if body.kind == "search":
        return f"hf_search_{_slug(body.query or '')}"
    if body.kind == "paper":  # an old-style ID (`hep-th/9901001`) has a slash
        return f"hf_paper_{(body.arxiv_id or 'unknown').replace('/', '_')}"
    day = body.day.isoformat() if body.day else "unknown-day"
    return f"hf_daily_{day}" if body.page is None else f"hf_daily_{day}_p{body.page}"


def _candidates(body: FetchedBody) -> list[str]:
    """Names to try, in order. A day or paper takes the plain name first; a search always
    carries its fetch time, since results change over time. Later names are for content
    that changed since a body was saved under the earlier ones."""
    stem, ext = _stem(body), _extension(body)
    stamp = body.fetched_at.strftime(_STAMP)
    first = [f"{stem}{ext}"] if body.kind != "search" else []
    return [*first, f"{stem}_{stamp}{ext}"] + [
        f"{stem}_{stamp}-{n}{ext}" for n in range(2, _MAX_VARIANTS)
    ]


def _family(landing_dir: Path, body: FetchedBody) -> list[Path]:
    """Files saved earlier for the same day page or query, under any of their names."""
    stem, ext = re.escape(_stem(body)), re.escape(_extension(body))
    pattern = re.compile(rf"{stem}(?:_\d{{8}}T\d{{6}}Z(?:-\d+)?)?{ext}")
    return sorted(p for p in landing_dir.iterdir() if pattern.fullmatch(p.name) and p.is_file())


def sidecar_path(path: Path) -> Path:
    """Where the fetch record of a landed file lives (a sidecar path is its own)."""
    if path.name.endswith(SIDECAR_SUFFIX):
        return path
    return path.with_name(path.name + SIDECAR_SUFFIX)


def _sidecar(body: FetchedBody, digest: str) -> dict[str, object]:
    return {
        "url": body.url,
        "kind": body.kind,
        "day": body.day.isoformat() if body.day else None,
        "query": body.query,
        "arxiv_id": body.arxiv_id,
        "page": body.page,
        "fetched_at": body.fetched_at.isoformat(),
        "content_type": body.content_type,
        "sha256": digest,
    }


def _temp_file(landing_dir: Path, data: bytes) -> Path:
    """A fully written, hidden temp file, so no reader ever sees half a body."""
    fd, name = tempfile.mkstemp(dir=landing_dir, prefix=".", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)


def _write_new(landing_dir: Path, data: bytes, names: list[str]) -> Path:
    """Publish `data` under the first free name. A hard link creates the name atomically
    and only if it is free, so concurrent fetches never overwrite each other."""
    temp = _temp_file(landing_dir, data)
    try:
        for name in names:
            target = landing_dir / name
            try:
                os.link(temp, target)
            except FileExistsError:
                continue
            except OSError:  # no hard links on this file system: check, then rename
                if target.exists():
                    continue
                os.replace(temp, target)
            return target
        raise FileExistsError(f"no free name in {landing_dir} among {names[0]}…")
    finally:
        temp.unlink(missing_ok=True)


def _write_replace(path: Path, data: bytes) -> None:
    temp = _temp_file(path.parent, data)
    try:
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def save_fetched(body: FetchedBody, landing_dir: Path) -> Path:
    """Write `body` unchanged with its sidecar and return its path; when a file of the
    same day page or query already holds these exact bytes, return that file instead."""
    landing_dir.mkdir(parents=True, exist_ok=True)
    digest = _sha256(body.body)
    same = [p for p in _family(landing_dir, body) if _sha256(p.read_bytes()) == digest]
    path = same[0] if same else _write_new(landing_dir, body.body, _candidates(body))
    if not sidecar_path(path).exists():
        sidecar = json.dumps(_sidecar(body, digest), indent=2, ensure_ascii=False) + "\n"
        _write_replace(sidecar_path(path), sidecar.encode())
    return path


def read_sidecar(path: Path, sha256: str | None = None) -> dict[str, object] | None:
    """The fetch record beside a landed file (pass the file's path), or None when there is
    none, it is unreadable, or it describes other content than the file now holds
    (`sha256` of the content, if the caller has it; otherwise the file is hashed)."""
    try:
        record = json.loads(sidecar_path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict):
        return None
    if sidecar_path(path) != path:
        try:
            actual = sha256 or _sha256(path.read_bytes())
        except OSError:
            return None
        if record.get("sha256") != actual:
            return None
    return record


def snapshot_hint(record: dict[str, object] | None) -> date | None:
    """The day a fetched body stands for: the listing's day, else the day it was fetched
    (a search has no day of its own)."""
    if not record:
        return None
    for key, parse in (("day", date.fromisoformat), ("fetched_at", datetime.fromisoformat)):
        value = record.get(key)
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                parsed = parse(value)
                return parsed.date() if isinstance(parsed, datetime) else parsed
    return None


def outside_link(path: Path, landing_dir: Path) -> bool:
    """Whether a symbolic link (the file's own, or a folder's above it) leads out of the
    landing folder: such a file is never read, so a link cannot smuggle in `/etc/passwd`."""
    try:
        return not path.resolve(strict=True).is_relative_to(landing_dir.resolve(strict=True))
    except (OSError, RuntimeError):  # a broken link, a loop of links
        return True


def landing_files(landing_dir: Path) -> list[Path]:
    """Candidate raw files, in a stable order; hidden, partial and sidecar files skipped."""
    if not landing_dir.is_dir():
        return []
    return sorted(
        path
        for path in landing_dir.rglob("*")
        if path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(landing_dir).parts)
        and not path.name.endswith(_SKIPPED_SUFFIXES)
    )


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

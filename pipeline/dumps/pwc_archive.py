"""Papers with Code's `links-between-papers-and-code` archive, as a raw file.

Papers with Code shut down in 2025; its last dump of paper-code links survives as a
JSON array (often gzipped) and as Parquet, about 300,000 rows of `paper_url`,
`paper_title`, `paper_arxiv_id`, `paper_url_abs`, `paper_url_pdf`, `repo_url`,
`framework`, `is_official`, `mentioned_in_paper` and `mentioned_in_github`. Dropped in
the landing folder it is read like any raw file (hashed, archived, loaded once) into
`raw.pwc_links`; a row that cannot serve (no GitHub repository, no arXiv ID to join a
paper by) is rejected with its reason. Detection is by content: gzip or Parquet magic
bytes, or a JSON array whose objects carry `paper_url` and `repo_url`.
"""

from __future__ import annotations

import gzip
import io
import json
import zlib
from typing import Any

import polars as pl

from pipeline.arxiv.ids import parse_arxiv_id
from pipeline.db.schema import polars_schema
from pipeline.dumps.entries import NotADump, NotText, ParsedDump, ReadLimits, Reject
from pipeline.links.urls import github_repo

LAYOUT = "pwc_links"
_PARQUET_MAGIC = b"PAR1"
_GZIP_MAGIC = b"\x1f\x8b"
_FIELDS = ("paper_url", "repo_url")
_SCHEMA = polars_schema("raw.pwc_links")
_FLAGS = ("is_official", "mentioned_in_paper", "mentioned_in_github")


def is_gzip(data: bytes) -> bool:
    return data.startswith(_GZIP_MAGIC)


def gunzip(data: bytes, limits: ReadLimits) -> bytes:
    """The decompressed bytes, refusing more than PAPERS_MAX_FILE_MB of them (a small
    gzip can hold gigabytes)."""
    reader = gzip.GzipFile(fileobj=io.BytesIO(data))
    try:
        body = reader.read(limits.max_bytes + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise NotText(f"binary file: a broken gzip archive ({exc})") from None
    if len(body) > limits.max_bytes:
        raise NotADump(
            f"gzip file holds more than {limits.max_bytes // 1024**2} MB "
            "(PAPERS_MAX_FILE_MB): not read"
        )
    return body


def looks_like_pwc(data: bytes) -> bool:
    """Parquet, or a JSON array whose first object names `paper_url` and `repo_url`."""
    if data.startswith(_PARQUET_MAGIC):
        return True
    head = data[:4096].lstrip()
    return head.startswith(b"[") and all(f'"{name}"'.encode() in head for name in _FIELDS)


def _records(data: bytes, limits: ReadLimits) -> list[dict[str, Any]]:
    if data.startswith(_PARQUET_MAGIC):
        try:
            return pl.read_parquet(io.BytesIO(data)).to_dicts()
        except Exception as exc:  # polars raises several kinds for a broken file
            raise NotADump(f"unreadable Parquet file: {type(exc).__name__}: {exc}") from None
    try:
        records = json.loads(data)
    except RecursionError:
        raise NotADump(f"JSON nested deeper than {limits.max_json_depth} levels") from None
    except ValueError as exc:
        raise NotADump(f"not valid JSON: {exc}") from None
    if not isinstance(records, list):
        raise NotADump("a Papers with Code links file is a JSON array")
    return records


def _flag(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


def _row(position: int, record: object) -> dict[str, Any] | Reject:
    """The `raw.pwc_links` row of one record, or why it cannot be one."""
    if not isinstance(record, dict):
        return Reject(position, "not an object", str(record)[:200])
    shown = str(record.get("paper_title") or record.get("paper_url") or "")[:200]
    repo_url = record.get("repo_url")
    repo = github_repo(repo_url) if isinstance(repo_url, str) else None
    if repo is None:
        return Reject(position, "repo_url is not a GitHub repository", str(repo_url)[:200])
    raw_id = record.get("paper_arxiv_id")
    arxiv = parse_arxiv_id(raw_id) if isinstance(raw_id, str) else None
    if arxiv is None:
        return Reject(position, "no arXiv ID (paper_arxiv_id): no paper to join", shown)
    text = {name: record.get(name) for name in ("paper_url", "paper_title", "framework")}
    return {
        "position": position,
        "paper_arxiv_id": arxiv.id,
        "repo_url": repo_url,
        "repo": repo,
        **{k: v if isinstance(v, str) else None for k, v in text.items()},
        **{name: _flag(record.get(name)) for name in _FLAGS},
    }


def read_pwc_links(data: bytes, limits: ReadLimits) -> ParsedDump:
    rows: list[dict[str, Any]] = []
    rejects: list[Reject] = []
    for position, record in enumerate(_records(data, limits), start=1):
        row = _row(position, record)
        if isinstance(row, Reject):
            rejects.append(row)
        else:
            rows.append(row)
    frame = pl.DataFrame(rows, schema={k: v for k, v in _SCHEMA.items() if k != "file_sha256"})
    return ParsedDump(
        LAYOUT,
        rejects=rejects,
        snapshot_date_source="unknown: an archive, not a listing page",
        code_links=frame,
    )

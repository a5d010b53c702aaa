"""Papers with Code's links archive dropped in the landing folder: read as JSON, gzipped
JSON or Parquet, bad rows rejected with their reasons, loaded once, joined to papers by
arXiv ID, and its repositories judged with its `is_official` flag as evidence."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from pipeline import steps
from tests.builders import TempWarehouse, abstract
from tests.fakes.huggingface import api_bytes
from tests.integration.test_enrichment import hf_api_item

OURS_ID, OTHER_ID = "2501.01111", "2502.02222"


def pwc_record(arxiv_id: str | None, repo_url: str | None, official: bool) -> dict[str, Any]:
    """One row in the archive's shape (field names and types as EXTERNAL_APIS.md gives)."""
    return {
        "paper_url": f"https://paperswithcode.com/paper/{arxiv_id or 'none'}",
        "paper_title": f"Paper {arxiv_id}",
        "paper_arxiv_id": arxiv_id,
        "paper_url_abs": f"https://arxiv.org/abs/{arxiv_id}",
        "paper_url_pdf": f"https://arxiv.org/pdf/{arxiv_id}.pdf",
        "repo_url": repo_url,
        "framework": "pytorch",
        "is_official": official,
        "mentioned_in_paper": not official,
        "mentioned_in_github": official,
    }


RECORDS = [
    pwc_record(OURS_ID, "https://github.com/ours/official-code", True),
    pwc_record(OURS_ID, "https://github.com/someone/reimplementation", False),
    pwc_record(OTHER_ID, "https://github.com/Other/Code.git", True),
    pwc_record(None, "https://github.com/no/arxiv", True),  # rejected: nothing to join
    pwc_record(OURS_ID, "https://gitlab.com/not/github", True),  # rejected: not GitHub
    pwc_record("2503.99999", "https://github.com/unknown/paper", True),  # no such paper here
]


def as_json(records: list[dict[str, Any]]) -> bytes:
    return json.dumps(records).encode()


def as_parquet(records: list[dict[str, Any]]) -> bytes:
    buffer = io.BytesIO()
    pl.DataFrame(records).write_parquet(buffer)
    return buffer.getvalue()


def _papers_file() -> bytes:
    items = [
        hf_api_item(OURS_ID, "Our Paper With Its Own Code Release", abstract("our code")),
        hf_api_item(OTHER_ID, "Another Paper Whose Code Lives Elsewhere", abstract("theirs")),
    ]
    return api_bytes(items)


@pytest.mark.parametrize(
    ("name", "encode"),
    [
        ("links-between-papers-and-code.json", as_json),
        ("links-between-papers-and-code.json.gz", lambda r: gzip.compress(as_json(r))),
        ("links-between-papers-and-code.parquet", as_parquet),
    ],
    ids=["json", "json.gz", "parquet"],
)
def test_the_archive_is_read_joined_and_judged(tmp_path: Path, name: str, encode) -> None:
    warehouse = TempWarehouse(tmp_path)
    (tmp_path / "landing").mkdir()
    (tmp_path / "landing" / "hf.json").write_bytes(_papers_file())
    (tmp_path / "landing" / name).write_bytes(encode(RECORDS))
    settings = warehouse.settings
    report = steps.refresh(settings)
    files = {f.file_name: f for f in report.ingest.files}
    assert files[name].status == "loaded" and files[name].layout == "pwc_links"
    assert warehouse.rows("SELECT count(*) FROM raw.pwc_links") == [(4,)]
    rejects = warehouse.rows(
        "SELECT position, reason FROM raw.rejects r JOIN raw.file_names n USING (file_sha256) "
        "WHERE n.file_name = ? ORDER BY position",
        [name],
    )
    assert rejects == [
        (4, "no arXiv ID (paper_arxiv_id): no paper to join"),
        (5, "repo_url is not a GitHub repository"),
    ]
    links = warehouse.rows(
        "SELECT repo, source, role, signals FROM core.paper_repos WHERE 'pwc_archive' IN sources "
        "ORDER BY repo"
    )
    assert [(repo, source, role) for repo, source, role, _ in links] == [
        ("Other/Code", "pwc_archive", "official"),
        ("ours/official-code", "pwc_archive", "official"),
        ("someone/reimplementation", "pwc_archive", "mentioned"),
    ]
    assert "pwc_official" in links[1][3] and "pwc_not_official" in links[2][3]
    # The paper not in the warehouse gets no link; the archive is archived like any file.
    assert not warehouse.rows("SELECT 1 FROM core.paper_repos WHERE repo = 'unknown/paper'")
    assert len(list((tmp_path / "archive").rglob("*"))) >= 2
    # Loaded once: a re-run reads nothing and changes nothing.
    before = warehouse.rows("SELECT * FROM core.paper_repos ORDER BY ALL")
    again = steps.refresh(settings)
    assert again.ingest.files == [] and again.ingest.already_ingested == 2
    assert warehouse.rows("SELECT * FROM core.paper_repos ORDER BY ALL") == before


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b'[{"paper_url": "x", "repo_url": "y"', "not valid JSON"),
        (gzip.compress(b"[" * 5000 + b"]" * 5000)[:40], "broken gzip"),
        (b"PAR1 this is not parquet PAR1", "unreadable Parquet file"),
    ],
    ids=["cut-json", "cut-gzip", "fake-parquet"],
)
def test_a_broken_archive_is_quarantined_with_its_reason(
    tmp_path: Path, data: bytes, reason: str
) -> None:
    warehouse = TempWarehouse(tmp_path)
    (tmp_path / "landing").mkdir()
    (tmp_path / "landing" / "links.json").write_bytes(data)
    report = steps.refresh(warehouse.settings)
    (outcome,) = report.ingest.files
    assert outcome.status == "quarantined" and reason in str(outcome.error)

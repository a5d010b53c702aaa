"""The Hugging Face lookup step: what Hugging Face knows about papers that came from
elsewhere (text dumps, captures), asked by arXiv ID with `GET /api/papers/<id>`.

A paper with an arXiv ID (stated or resolved) and no listing from a Hugging Face JSON or
page gets a `core.hf_lookups` row. When it is due, Hugging Face is asked, raw first: a
found paper's answer is saved to the landing folder like any fetched body, and the next
ingestion reads it as one more listing of the paper, bringing its repository, project
page, upvotes, AI summary and keywords. A 404 is `not_on_hf`, asked again after
HF_RECHECK_DAYS; a found paper is never asked again (its listing is the answer). As for
arXiv and GitHub, no connection is held while Hugging Face is asked, answers are written
in short transactions, and a Hugging Face that is down, throttles for too long, or the
end of HF_LOOKUP_MAX_RUN_S leaves the rest as they were with the cause in `error`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl

from pipeline.db.connection import Warehouse, registered
from pipeline.db.schema import polars_schema
from pipeline.http_session import RequestFailed, ServiceUnavailable
from pipeline.huggingface.api import HfClient, HfFetchError
from pipeline.landing import save_fetched

OFFLINE_CAUSE = "not asked: PAPERS_OFFLINE=1"
CHUNK = 20  # answers per transaction: an interrupted run keeps what it learnt
_SCHEMA = polars_schema("core.hf_lookups")

# Papers Hugging Face has not told us about: an arXiv ID, and no listing read from a
# Hugging Face API answer, listing page or paper page.
_WANTED_SQL = """
SELECT DISTINCT p.arxiv_id FROM core.papers p
WHERE p.arxiv_id IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM core.paper_listings l JOIN raw.dump_files f USING (file_sha256)
    WHERE l.paper_id = p.paper_id AND f.status = 'loaded'
      AND f.layout IN ('hf_api_json', 'hf_html', 'hf_paper_html')
)
"""

_ADD_WANTED_SQL = f"""
INSERT INTO core.hf_lookups (arxiv_id, status, error)
SELECT arxiv_id, 'pending', 'not asked yet' FROM ({_WANTED_SQL})
WHERE arxiv_id NOT IN (SELECT arxiv_id FROM core.hf_lookups)
"""

# Never asked, failed last time, or not on Hugging Face when last asked before the
# window; never-asked first, then the longest unchecked.
_DUE_SQL = f"""
SELECT arxiv_id FROM core.hf_lookups
WHERE arxiv_id IN ({_WANTED_SQL})
  AND (status IN ('pending', 'error') OR error IS NOT NULL
       OR (status = 'not_on_hf' AND checked_at < ?))
ORDER BY checked_at NULLS FIRST, arxiv_id
"""

_STORE_SQL = """
UPDATE core.hf_lookups AS h SET
    status = CASE WHEN a.status = 'error' AND h.status = 'not_on_hf' THEN h.status
                  ELSE a.status END,
    checked_at = a.checked_at, file_name = coalesce(a.file_name, h.file_name), error = a.error
FROM answers a WHERE h.arxiv_id = a.arxiv_id
"""


@dataclass
class LookupReport:
    offline: bool = False
    wanted_new: int = 0
    due: int = 0
    requests: int = 0
    stopped: str | None = None
    files_saved: list[str] = field(default_factory=list)
    answers: dict[str, int] = field(default_factory=dict)  # by status, this run
    counts: dict[str, int] = field(default_factory=dict)  # by status, whole table


@dataclass(frozen=True)
class _Answer:
    arxiv_id: str
    status: str
    checked_at: datetime
    file_name: str | None = None
    error: str | None = None


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _stops_asking(exc: RequestFailed) -> bool:
    """Failures the next paper would meet too: Hugging Face is unreachable, or it still
    throttles after the session waited (or asks for a longer wait than a run should)."""
    return isinstance(exc, ServiceUnavailable) or exc.wait_s is not None or "429" in exc.reason


def _ask(client: HfClient, arxiv_id: str, landing_dir: Path) -> _Answer:
    """One paper asked; raises `RequestFailed` when asking should stop."""
    try:
        body = client.paper(arxiv_id)
    except HfFetchError as exc:
        return _Answer(arxiv_id, "error", _now(), error=str(exc))
    except RequestFailed as exc:
        if _stops_asking(exc):
            raise
        return _Answer(arxiv_id, "error", _now(), error=exc.reason)
    if body is None:
        return _Answer(arxiv_id, "not_on_hf", _now())
    saved = save_fetched(body, landing_dir)
    return _Answer(arxiv_id, "found", _now(), file_name=saved.name)


def _store(warehouse: Warehouse, answers: Sequence[_Answer], report: LookupReport) -> None:
    """Writes answers in one short transaction and counts them."""
    if not answers:
        return
    frame = pl.DataFrame([asdict(a) for a in answers], schema=_SCHEMA)
    with warehouse.write() as con, registered(con, answers=frame):
        con.execute(_STORE_SQL)
    for answer in answers:
        report.answers[answer.status] = report.answers.get(answer.status, 0) + 1
        if answer.file_name:
            report.files_saved.append(answer.file_name)


def _leave(warehouse: Warehouse, arxiv_ids: Sequence[str], cause: str) -> None:
    """Records why `arxiv_ids` were not asked, keeping what was known of them."""
    if not arxiv_ids:
        return
    frame = pl.DataFrame({"arxiv_id": list(arxiv_ids)}, schema={"arxiv_id": pl.String()})
    with warehouse.write() as con, registered(con, left_papers=frame):
        con.execute(
            "UPDATE core.hf_lookups SET error = ? "
            "WHERE arxiv_id IN (SELECT arxiv_id FROM left_papers)",
            [cause],
        )


def _ask_all(
    warehouse: Warehouse,
    client: HfClient,
    due: list[str],
    landing_dir: Path,
    max_run_s: float,
    report: LookupReport,
) -> None:
    started, answers = time.monotonic(), []
    for position, arxiv_id in enumerate(due):
        if time.monotonic() - started > max_run_s:
            report.stopped = f"HF_LOOKUP_MAX_RUN_S ({max_run_s:g} s) reached"
        else:
            try:
                answers.append(_ask(client, arxiv_id, landing_dir))
            except RequestFailed as exc:
                report.stopped = str(exc)
        if report.stopped:
            _leave(warehouse, due[position:], f"not asked: {report.stopped}")
            break
        if len(answers) == CHUNK:
            _store(warehouse, answers, report)
            answers = []
    _store(warehouse, answers, report)


def look_up_papers(
    warehouse: Warehouse,
    client: HfClient,
    landing_dir: Path,
    recheck_days: int,
    offline: bool,
    max_run_s: float = float("inf"),
    now: datetime | None = None,
) -> LookupReport:
    """Adds the papers Hugging Face has not told us about, asks about the due ones
    (nothing when offline), saves what it finds to `landing_dir`, and reports."""
    now = now or _now()
    report = LookupReport(offline=offline)
    with warehouse.write() as con:
        report.wanted_new = con.execute(_ADD_WANTED_SQL).fetchone()[0]
        cutoff = now - timedelta(days=recheck_days)
        due = [row[0] for row in con.execute(_DUE_SQL, [cutoff]).fetchall()]
    report.due = len(due)
    if offline:
        _leave(warehouse, due, OFFLINE_CAUSE)
    else:
        before = client.session.requests_made
        _ask_all(warehouse, client, due, landing_dir, max_run_s, report)
        report.requests = client.session.requests_made - before
    with warehouse.connect(read_only=True) as con:
        rows = con.execute("SELECT status, count(*) FROM core.hf_lookups GROUP BY ALL").fetchall()
    report.counts = dict(sorted(rows))
    return report

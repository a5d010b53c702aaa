"""A service that is down costs seconds, not hours: each answer has a deadline, a host
that cannot be reached (its name does not resolve, it refuses connections, it hangs or
trickles) is given up after a few attempts, and the rest of its work is left `pending`
with the cause, named once in a warning.

Bounds are stated per test; the fakes are real HTTP servers on loopback (or a closed
port, or a name under `.invalid`, which never resolves).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from dagster import DagsterInstance

import pipeline.arxiv.outcomes
from assets.definitions import defs
from assets.resources import PipelineSettings
from pipeline.http_session import RequestFailed, ServiceUnavailable
from tests.fakes.arxiv import ATOM_TYPE, PATH, FakeArxiv
from tests.fakes.local_server import LocalServer, Reply, quick_session
from tests.integration.test_enrichment import (
    ABS_GLYPH,
    ABS_SPARSE,
    ABS_TACTILE,
    GLYPH,
    SPARSE,
    TACTILE,
    arxiv_glyph,
    arxiv_sparse,
    build,
    dump_text,
    make_client,
    resolve,
    rows,
)

ENTRIES = [(SPARSE, ABS_SPARSE), (GLYPH, ABS_GLYPH), (TACTILE, ABS_TACTILE)]


@pytest.fixture
def closed_port() -> Iterator[str]:
    """A loopback port nobody listens on: connections are refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    yield f"http://127.0.0.1:{port}/api/query"


def test_a_trickling_answer_is_cut_at_the_deadline(local_server: LocalServer) -> None:
    local_server.route("/slow", lambda _r: Reply(200, "x" * 400, trickle_s=0.05))  # 20 s
    session = quick_session(timeout_s=2.0, deadline_s=0.5, max_retries=1, unreachable_after=9)
    started = time.monotonic()
    with pytest.raises(RequestFailed, match=r"no whole answer within 0.5 s"):
        session.get(f"{local_server.url}/slow")
    assert time.monotonic() - started < 3.0  # two attempts of 0.5 s, not 2 x 20 s


@pytest.mark.parametrize(
    ("target", "cause"),
    [("refused", "it refuses connections"), ("unresolved", "its name does not resolve")],
)
def test_an_unreachable_host_is_given_up_after_a_few_attempts(
    closed_port: str, target: str, cause: str
) -> None:
    url = closed_port if target == "refused" else "http://arxiv-down.invalid/api/query"
    session = quick_session(max_retries=5, unreachable_after=3)
    started = time.monotonic()
    with pytest.raises(ServiceUnavailable, match=cause):
        session.get(url)
    assert session.requests_made == 3  # not max_retries + 1
    assert session.down and cause in session.down
    with pytest.raises(ServiceUnavailable):
        session.get(url)  # at once: no further request in this run
    assert session.requests_made == 3
    assert time.monotonic() - started < 5.0


def _hanging(local_server: LocalServer) -> str:
    local_server.route(PATH, lambda _r: Reply(200, "", content_type=ATOM_TYPE, delay_s=3.0))
    return f"{local_server.url}{PATH}"


def _trickling(local_server: LocalServer) -> str:
    body = "<feed>" + " " * 500 + "</feed>"
    local_server.route(PATH, lambda _r: Reply(200, body, content_type=ATOM_TYPE, trickle_s=0.1))
    return f"{local_server.url}{PATH}"


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["refused", "unresolved", "hanging", "trickling"])
def test_the_refresh_job_finishes_in_seconds_and_leaves_papers_pending_with_the_cause(
    kind: str,
    closed_port: str,
    local_server: LocalServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = {
        "refused": lambda: closed_port,
        "unresolved": lambda: "http://arxiv-down.invalid/api/query",
        "hanging": lambda: _hanging(local_server),
        "trickling": lambda: _trickling(local_server),
    }[kind]()
    for name, value in {
        "ARXIV_API_URL": url,
        "ARXIV_MIN_INTERVAL_S": "0.01",
        "PAPERS_HTTP_TIMEOUT_S": "0.5",
        "PAPERS_HTTP_DEADLINE_S": "1",
        "PAPERS_HTTP_MAX_RETRIES": "5",
        "HF_BASE_URL": "http://127.0.0.1:9",
        "GITHUB_API_URL": "http://127.0.0.1:9",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("PAPERS_OFFLINE", raising=False)
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "dump.txt").write_text(dump_text(ENTRIES))
    resource = PipelineSettings(landing_dir=str(landing), warehouse=str(tmp_path / "w.duckdb"))
    started = time.monotonic()
    instance = DagsterInstance.ephemeral()
    result = defs.resolve_job_def("refresh").execute_in_process(
        instance=instance,
        resources={"pipeline_settings": resource},
        raise_on_error=False,
    )
    elapsed = time.monotonic() - started
    assert result.success
    assert elapsed < 45, f"{kind}: {elapsed:.0f} s"  # the run, Dagster included
    settings = resource.resolve()
    outcomes = rows(settings, "SELECT status, error FROM core.arxiv_matches")
    assert len(outcomes) == 3 and {status for status, _ in outcomes} == {"pending"}
    host = "arxiv-down.invalid" if kind == "unresolved" else "127.0.0.1"
    assert all(f"{host} unreachable" in error for _, error in outcomes), outcomes
    assert rows(settings, "SELECT count(*) FROM core.papers") == [(3,)]  # the rest went on
    warnings = [e.user_message for e in instance.all_logs(result.run_id) if e.level >= 30]
    assert sum("unreachable" in w for w in warnings) == 1, warnings


def test_the_run_deadline_leaves_the_rest_pending(
    local_server: LocalServer, tmp_path: Path
) -> None:
    fake = FakeArxiv(local_server, [arxiv_sparse(), arxiv_glyph()])
    settings = build(tmp_path, {"dump.txt": dump_text(ENTRIES)})
    client = make_client(fake.url)
    with client.session:
        report = pipeline.arxiv.outcomes.resolve_clusters(
            settings.warehouse, client, 30, offline=False, max_run_s=1e-9
        )
    assert report.stopped and "ARXIV_MAX_RUN_S" in report.stopped
    assert report.counts == {"pending": 3} and fake.requests == []
    outcomes = rows(settings, "SELECT status, error FROM internal.arxiv_outcomes")
    assert outcomes == [("pending", report.stopped)] * 3
    again = resolve(settings, client)  # the next run asks about them
    assert again.counts.get("matched") == 2 and not again.stopped


def test_progress_is_reported_between_requests(
    local_server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeArxiv(local_server, [arxiv_sparse()])
    monkeypatch.setattr(pipeline.arxiv.outcomes, "PROGRESS_EVERY_S", 0.0)
    settings = build(tmp_path, {"dump.txt": dump_text(ENTRIES)})
    seen: list[int] = []
    client = make_client(fake.url)
    with client.session:
        pipeline.arxiv.outcomes.resolve_clusters(
            settings.warehouse,
            client,
            30,
            offline=False,
            on_progress=lambda report: seen.append(report.requests),
        )
    assert len(seen) >= 2 and len(fake.requests) >= 2  # within one chunk, batch by batch

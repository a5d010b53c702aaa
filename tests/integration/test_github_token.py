"""The GitHub token is a secret: a whole `refresh` run through Dagster's CLI with a planted
token, against a fake GitHub (and a fake arXiv) on loopback, uses it, and leaves it in
no byte of the warehouse, the read copy, the raw archive, the run's output, or Dagster's
storage (runs, event log, compute logs: everything under DAGSTER_HOME).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.builders import Listing, abstract, dump_text
from tests.fakes.arxiv import FakeArxiv
from tests.fakes.dagster_processes import CLOSED_PORT_URL, PROJECT_ROOT, cli_env, venv_executable
from tests.fakes.github import JSON, FakeGitHub, FakeRepo
from tests.fakes.local_server import LocalServer, Reply

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

TOKEN = "FAKE-TOKEN-planted-by-test-0451"


def _files_holding(root: Path, needle: bytes) -> list[str]:
    return sorted(
        str(path.relative_to(root))
        for path in root.rglob("*")
        if path.is_file() and needle in path.read_bytes()
    )


def test_the_token_is_used_and_never_kept(tmp_path: Path, local_server: LocalServer) -> None:
    landing = tmp_path / "landing"
    landing.mkdir()
    listings = [
        Listing(
            f"Token Safety Study {i}: Models That Keep Secrets",
            f"{abstract(f'secret keeping {i}')} Code: https://github.com/safe-lab/model-{i}",
        )
        for i in range(3)
    ]
    (landing / "papers.txt").write_text(dump_text(listings), encoding="utf-8")
    github = FakeGitHub(local_server, [FakeRepo(1, "safe-lab/model-0")], token=TOKEN)
    # One failing query: its error must not carry the token either.
    local_server.queue(
        "/graphql", Reply(502, json.dumps({"message": "bad gateway"}), content_type=JSON)
    )
    arxiv = FakeArxiv(local_server, [])
    env = cli_env(tmp_path) | {
        "PAPERS_OFFLINE": "0",
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_API_URL": github.url,
        "GITHUB_MIN_INTERVAL_S": "0",
        "ARXIV_API_URL": arxiv.url,
        "ARXIV_MIN_INTERVAL_S": "0",
        "HF_BASE_URL": CLOSED_PORT_URL,
        "PAPERS_HTTP_MAX_RETRIES": "0",
    }
    done = subprocess.run(
        [venv_executable("dg"), "launch", "--job", "refresh"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        timeout=240,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output.decode(errors="replace")[-4000:]

    # It was used: in the Authorization header of every request to GitHub, and nowhere else.
    assert github.requests and all(
        r.headers.get("Authorization") == f"Bearer {TOKEN}" for r in github.requests
    )
    assert all(TOKEN not in r.path and TOKEN.encode() not in r.body for r in github.requests)
    # GraphQL failed once (502), REST settled the batch.
    assert [r.path for r in github.requests][:2] == ["/graphql", "/repos/safe-lab/model-0"]

    # And kept nowhere.
    secret = TOKEN.encode()
    assert secret not in output
    assert _files_holding(tmp_path, secret) == []
    assert (tmp_path / "papers.duckdb").exists() and (tmp_path / "dagster_home").is_dir()
    assert any((tmp_path / "dagster_home").rglob("*")), "Dagster stored the run somewhere"

"""GitHub benchmark: requests and time to describe 10,000 repositories against a local fake
GitHub (interval 0), without a token and with one, and the load rate of a synthetic
300,000-row Papers with Code links archive.

    .venv/bin/python -m benchmarks.github_requests

Not a test: it prints its figures. Without a token GitHub allows 60 requests an hour,
so the fake is given an unlimited budget to count what describing everything takes;
the hours that would need at 60 an hour are printed beside it. The archive load is
timed through the pipeline's ingest and, as the floor a user would reach for, DuckDB
reading the same JSON file straight into a table.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path

import duckdb

from pipeline import steps
from pipeline.github.api import GitHubClient
from pipeline.github.repos import refresh_repos
from pipeline.http_session import PoliteSession
from pipeline.settings import Settings
from tests.builders import Listing, abstract, dump_text
from tests.fakes.github import FakeGitHub, FakeRepo
from tests.fakes.local_server import LocalServer

TOKEN = "FAKE-TOKEN-for-the-benchmark-only"


def _settings(root: Path) -> Settings:
    (root / "landing").mkdir(parents=True, exist_ok=True)
    return Settings.from_env(
        {
            "PAPERS_LANDING_DIR": str(root / "landing"),
            "PAPERS_WAREHOUSE": str(root / "papers.duckdb"),
            "PAPERS_RAW_ARCHIVE": str(root / "archive"),
            "PAPERS_OFFLINE": "1",
        }
    )


def _linking_warehouse(root: Path, repos: list[str]) -> Settings:
    settings = _settings(root)
    listings = [
        Listing(
            f"Benchmark Paper {i}: Method {i} for Task {i % 97}",
            f"{abstract(f'task {i}')} Our code is available at https://github.com/{repo}.",
        )
        for i, repo in enumerate(repos)
    ]
    (settings.landing_dir / "papers.txt").write_text(dump_text(listings), encoding="utf-8")
    steps.refresh(settings)
    return settings


def _fake_repos(count: int, rng: random.Random) -> tuple[list[str], list[FakeRepo], set[str]]:
    """Linked names, the repositories the fake holds, and the renamed names among them."""
    linked, held, renamed = [], [], set()
    for i in range(count):
        name = f"lab{i % 500}/model-{i}"
        linked.append(name)
        kind = rng.random()
        if kind < 0.05:
            continue  # 404
        repo = FakeRepo(100_000 + i, name, stars=rng.randrange(5000), empty=kind < 0.07)
        held.append(repo)
        if 0.07 <= kind < 0.09:
            renamed.add(name)
    return linked, held, renamed


def _run(
    settings: Settings, held: list[FakeRepo], renamed: set[str], token: str | None
) -> dict[str, object]:
    server = LocalServer().start()
    try:
        return _describe(settings, server, held, renamed, token)
    finally:
        server.stop()


def _describe(
    settings: Settings,
    server: LocalServer,
    held: list[FakeRepo],
    renamed: set[str],
    token: str | None,
) -> dict[str, object]:
    fake = FakeGitHub(
        server,
        [FakeRepo(r.repo_id, r.full_name, r.stars, empty=r.empty) for r in held],
        token=TOKEN,
    )
    fake.budget = {"token": 10**9, "none": 10**9}
    for name in renamed:
        fake.rename(name, name.replace("model-", "renamed-model-"))
    client = GitHubClient(
        PoliteSession("papers-warehouse-benchmark", min_interval_s=0), fake.url, token
    )
    start = time.perf_counter()
    with client.session:
        report = refresh_repos(settings.warehouse, client, 24, False)
    wall = time.perf_counter() - start
    kinds = Counter(_kind(r.path) for r in fake.requests)
    steps.judge_paper_code(settings)
    before = len(fake.requests)
    client = GitHubClient(
        PoliteSession("papers-warehouse-benchmark", min_interval_s=0), fake.url, token
    )
    with client.session:
        refresh_repos(settings.warehouse, client, 24, False)
    return {
        "requests": report.requests,
        "by kind": dict(sorted(kinds.items())),
        "wall": wall,
        "statuses": report.counts,
        "rerun requests": len(fake.requests) - before,
    }


def _kind(path: str) -> str:
    if path == "/graphql":
        return "graphql"
    if path.endswith("/readme"):
        return "readme"
    if "/contents" in path:
        return "contents"
    if path.endswith("/commits"):
        return "commits"
    return "repo"


def _archive(path: Path, rows: int, rng: random.Random) -> None:
    records = [
        {
            "paper_url": f"https://paperswithcode.com/paper/p{i}",
            "paper_title": f"Paper {i}",
            "paper_arxiv_id": f"{15 + i % 10:02d}{1 + i // 10 % 12:02d}.{i % 99999:05d}",
            "paper_url_abs": f"https://arxiv.org/abs/x{i}",
            "paper_url_pdf": f"https://arxiv.org/pdf/x{i}",
            "repo_url": f"https://github.com/owner{i % 7000}/repo-{i}",
            "framework": rng.choice(["pytorch", "tf", "jax", "none"]),
            "is_official": rng.random() < 0.4,
            "mentioned_in_paper": rng.random() < 0.5,
            "mentioned_in_github": rng.random() < 0.3,
        }
        for i in range(rows)
    ]
    path.write_text(json.dumps(records), encoding="utf-8")


def _archive_load(root: Path, rows: int, rng: random.Random) -> None:
    settings = _settings(root / "archive_run")
    archive = settings.landing_dir / "links-between-papers-and-code.json"
    _archive(archive, rows, rng)
    size_mb = archive.stat().st_size / 1024**2
    start = time.perf_counter()
    report = steps.load_raw_files(settings)
    pipeline_s = time.perf_counter() - start
    loaded = report.files[0]
    with duckdb.connect(str(root / "floor.duckdb")) as con:
        start = time.perf_counter()
        con.execute(
            "CREATE TABLE links AS SELECT * FROM read_json(?, format = 'array')", [str(archive)]
        )
        floor_s = time.perf_counter() - start
    with settings.warehouse.connect(read_only=True) as con:
        count = con.execute("SELECT count(*) FROM raw.pwc_links").fetchone()[0]
    print(f"\nPapers with Code archive: {rows:,} rows, {size_mb:.0f} MB of JSON")
    print(
        f"  pipeline ingest (validated, archived) {pipeline_s:6.1f} s  "
        f"{rows / pipeline_s:9,.0f} rows/s  ({count:,} rows, {loaded.rejects} rejects)"
    )
    print(
        f"  DuckDB read_json into a table (floor) {floor_s:6.1f} s  {rows / floor_s:9,.0f} rows/s"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repos", type=int, default=10_000)
    parser.add_argument("--archive-rows", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    root = Path(tempfile.mkdtemp(prefix="github_bench_"))
    try:
        linked, held, renamed = _fake_repos(args.repos, rng)
        base = _linking_warehouse(root / "base", linked)
        print(
            f"{args.repos:,} linked repositories ({len(held):,} on the fake, "
            f"{len(renamed)} renamed, {sum(r.empty for r in held)} empty), interval 0"
        )
        for label, token in (("without a token (REST)", None), ("with a token (GraphQL)", TOKEN)):
            copy = root / label.split()[0]
            shutil.copytree(base.warehouse_path.parent, copy)
            figures = _run(_settings(copy), held, renamed, token)
            print(f"\n{label}")
            for name, value in figures.items():
                shown = f"{value:.1f} s" if name == "wall" else value
                print(f"  {name:<16} {shown}")
            if token is None:
                hours = int(figures["requests"]) / 60  # type: ignore[arg-type]
                print(f"  at GitHub's 60 requests an hour: {hours:,.0f} hours of refreshes")
        _archive_load(root, args.archive_rows, rng)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

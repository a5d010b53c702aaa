"""arXiv enrichment benchmark: requests per paper, re-run requests and precision.

    uv run python -m benchmarks.arxiv_requests [--seeds ../shared/seeds] [--absent 0.1]

Not a test: it prints its figures beside the targets and leaves the judging to the
reader. The seed dumps are loaded into a temporary warehouse with `refresh`; a fake arXiv
on loopback (`tests.fakes.arxiv`) then holds a record for most seed papers, built from
the paper's own title and abstract as arXiv would serve them: TeX in titles and abstracts
(`\\textsc{Name}`, `$\\mathcal{Name}$`, `\\%`, `\\emph{...}`), hard line breaks (the fake
wraps every title and abstract), another hyphenation for a few titles (some of which
arXiv's phrase search then misses), homonyms and `Part II` / longer-title decoys, and a
share of papers left out altogether. `resolve_clusters` runs with no request interval,
then once more to count what a re-run asks.

Precision counts matched papers whose ID is the one planted for them; a match for a paper
left out, or to a decoy, is a wrong ID.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipeline.arxiv.api import ArxivClient
from pipeline.arxiv.outcomes import EnrichmentReport, resolve_clusters
from pipeline.http_session import PoliteSession
from pipeline.papers.build import ARXIV_MERGE
from pipeline.settings import PROJECT_ROOT, Settings
from pipeline.steps import build_link_tables, build_paper_tables, refresh
from tests.fakes.arxiv import FakeArxiv, FakePaper
from tests.fakes.local_server import LocalServer, Request

DEFAULT_SEEDS = PROJECT_ROOT.parent / "shared" / "seeds"
TARGET_REQUESTS_PER_RESOLVED = 0.3
TARGET_RERUN_REQUESTS = 0
ARXIV_INTERVAL_S = 3.0  # the terms of use: one request every three seconds
STATUSES = ("matched", "not_found", "ambiguous", "error", "pending")

# Spellings arXiv may use where the listing uses the other one.
_HYPHENATIONS = [
    (re.compile(r"\bPre-[Tt]raining\b"), "Pretraining"),
    (re.compile(r"\bPretraining\b"), "Pre-Training"),
    (re.compile(r"\bFine-[Tt]uning\b"), "Finetuning"),
    (re.compile(r"\bMultimodal\b"), "Multi-Modal"),
    (re.compile(r"\bMulti-[Mm]odal\b"), "Multimodal"),
    (re.compile(r"\bLong-[Cc]ontext\b"), "Long Context"),
    (re.compile(r"\bReal-[Tt]ime\b"), "Realtime"),
    (re.compile(r"\bZero-[Ss]hot\b"), "Zero Shot"),
    (re.compile(r"\bSelf-[Ss]upervised\b"), "Selfsupervised"),
    (re.compile(r"\bOpen-[Ss]ource\b"), "Open Source"),
    (re.compile(r"\bLarge-[Ss]cale\b"), "Large Scale"),
]
_NAMED = re.compile(r"^(?P<name>[A-Za-z][\w-]{1,24}):\s")
_UNRELATED = [
    "We measure the thermal conductivity of layered perovskite films grown by pulsed laser "
    "deposition and relate its anisotropy to the stacking faults seen in electron "
    "microscopy, over temperatures from four to three hundred kelvin.",
    "A survey of cooperative breeding in songbirds across three continents shows that "
    "helpers at the nest are most common where winters are harsh and territories scarce, "
    "supporting ecological constraint explanations.",
    "We prove sharp bounds for the mixing time of the Glauber dynamics on proper colourings "
    "of bounded-degree graphs and give a matching lower bound for trees.",
    "Sediment cores from a glacial lake record four centuries of flood events; we date them "
    "with varve counting and cesium peaks and compare them with historical archives.",
]


@dataclass
class Planted:
    """The fake arXiv's records, and the ID each paper should resolve to (None: absent)."""

    papers: list[FakePaper]
    truth: dict[str, str | None]
    variations: Counter[str]


def _abstract_tex(abstract: str, rng: random.Random) -> str:
    text = abstract.replace("%", r"\%")
    words = text.split(" ")
    if len(words) > 12 and rng.random() < 0.5:
        i = rng.randrange(4, len(words) - 4)
        if words[i].isalpha():
            words[i] = rf"\emph{{{words[i]}}}"
    return " ".join(words)


def _arxiv_title(title: str, rng: random.Random, variations: Counter[str]) -> tuple[str, bool]:
    """The title as arXiv might hold it, and whether arXiv's phrase search trips on it."""
    roll = rng.random()
    named = _NAMED.match(title)
    if named and roll < 0.25:
        name = named.group("name")
        command = rng.choice([r"\textsc{%s}", r"$\mathcal{%s}$", r"\texttt{%s}"]) % name
        variations["tex_title"] += 1
        return command + title[len(name) :], False
    for pattern, spelling in _HYPHENATIONS:
        if pattern.search(title) and roll < 0.6:
            variations["other_hyphenation"] += 1
            new = pattern.sub(spelling, title, count=1)
            return new, "-" in new and rng.random() < 0.5
    return title, False


def _pick_decoys(rng: random.Random, ids: list[str]) -> dict[str, str]:
    kinds = ("homonym", "part_two", "longer_title")
    return dict(zip(rng.sample(ids, min(len(kinds), len(ids))), kinds, strict=False))


def plant(papers: list[tuple[str, str, str | None]], absent_share: float, seed: int) -> Planted:
    """Records for all but `absent_share` of `papers` (paper_id, title, abstract), with
    decoys beside a few present and absent papers."""
    rng = random.Random(seed)
    records: list[FakePaper] = []
    truth: dict[str, str | None] = {}
    variations: Counter[str] = Counter()
    serial = iter(range(10_000, 99_999))

    def new_id() -> str:
        return f"25{rng.randint(1, 12):02d}.{next(serial):05d}"

    order = sorted(papers)
    ids = [p[0] for p in order]
    absent = set(rng.sample(ids, round(absent_share * len(order))))
    # One decoy of each kind beside a present paper, and one beside an absent paper.
    decoys = _pick_decoys(rng, [i for i in ids if i not in absent])
    decoys |= _pick_decoys(rng, sorted(absent))
    for paper_id, title, abstract in order:
        abstract = abstract or ""
        if paper_id in absent:
            truth[paper_id] = None
        else:
            arxiv_id = new_id()
            truth[paper_id] = arxiv_id
            arxiv_title, picky = _arxiv_title(title, rng, variations)
            records.append(
                FakePaper(
                    arxiv_id,
                    arxiv_title,
                    _abstract_tex(abstract, rng),
                    version=rng.randint(1, 3),
                    authors=[f"Author {paper_id[-4:]}-{k}" for k in range(rng.randint(1, 6))],
                    categories=rng.choice([["cs.CL", "cs.LG"], ["cs.CV"], ["cs.LG", "stat.ML"]]),
                    phrase_picky=picky,
                )
            )
            variations["phrase_picky"] += picky
        kind = decoys.get(paper_id)
        if kind is not None:
            variations[f"decoy_{kind}"] += 1
            decoy_title = {
                "homonym": title,
                "part_two": f"{title}, Part II",
                "longer_title": f"{title} for Low-Resource Languages",
            }[kind]
            records.append(FakePaper(new_id(), decoy_title, rng.choice(_UNRELATED)))
    variations["absent"] = len(absent)
    rng.shuffle(records)
    return Planted(records, truth, variations)


def _kind(request: Request) -> str:
    if request.param("id_list"):
        return "fetch_by_id"
    query = request.param("search_query") or ""
    if " OR " in query:
        return "batch_phrase"
    return "single_phrase" if query.startswith('ti:"') else "words"


def _request_kinds(requests: list[Request]) -> Counter[str]:
    kinds: Counter[str] = Counter()
    previous: tuple[str, ...] | None = None
    for request in requests:
        key = tuple(sorted((k, v[0]) for k, v in request.query.items()))
        kinds["repeated (zero-hit retry)" if key == previous else _kind(request)] += 1
        previous = key
    return kinds


def _outcomes(warehouse: Path) -> tuple[Counter[str], dict[str, str]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        found = con.execute("SELECT paper_id, status, arxiv_id FROM core.arxiv_matches").fetchall()
        aliases = dict(
            con.execute("SELECT old_paper_id, paper_id FROM core.paper_aliases").fetchall()
        )
    statuses = Counter(status for _, status, _ in found)
    matched = {paper_id: arxiv_id for paper_id, status, arxiv_id in found if status == "matched"}
    # A paper merged into another by arXiv ID answers for both.
    for old, new in aliases.items():
        if new in matched:
            matched.setdefault(old, matched[new])
    return statuses, matched


def _session() -> PoliteSession:
    return PoliteSession(
        user_agent="papers-warehouse-benchmark (+mailto:bench@example.org)",
        min_interval_s=0.0,
        timeout_s=10.0,
        max_retries=2,
        backoff_base_s=0.01,
    )


def run(seeds: Path, absent_share: float, seed: int) -> None:
    with tempfile.TemporaryDirectory(prefix="arxiv_bench_") as tmp:
        root = Path(tmp)
        shutil.copytree(seeds, root / "landing")
        settings = Settings.from_env(
            {
                "PAPERS_LANDING_DIR": str(root / "landing"),
                "PAPERS_WAREHOUSE": str(root / "papers.duckdb"),
                "PAPERS_RAW_ARCHIVE": str(root / "archive"),
            }
        )
        started = time.perf_counter()
        refresh(settings)
        load_s = time.perf_counter() - started
        with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
            papers = con.execute("SELECT paper_id, title, abstract FROM core.papers").fetchall()
        planted = plant(papers, absent_share, seed)

        server = LocalServer().start()
        try:
            fake = FakeArxiv(server, planted.papers)
            client = ArxivClient(_session(), fake.url)
            with client.session:
                started = time.perf_counter()
                first = resolve_clusters(settings.warehouse, client, 30, offline=False)
                merged = build_paper_tables(settings).papers_retired.get(ARXIV_MERGE, 0)
                build_link_tables(settings)
                first_s = time.perf_counter() - started
                first_requests = list(fake.requests)
                statuses, matched = _outcomes(settings.warehouse_path)
                started = time.perf_counter()
                again = resolve_clusters(settings.warehouse, client, 30, offline=False)
                again_s = time.perf_counter() - started
                rerun_requests = len(fake.requests) - len(first_requests)
        finally:
            server.stop()
        _print(
            papers=len(papers),
            planted=planted,
            statuses=statuses,
            matched=matched,
            first=first,
            merged=merged,
            first_requests=first_requests,
            again=again,
            rerun_requests=rerun_requests,
            times=(load_s, first_s, again_s),
        )


def _print(
    *,
    papers: int,
    planted: Planted,
    statuses: Counter[str],
    matched: dict[str, str],
    first: EnrichmentReport,
    merged: int,
    first_requests: list[Request],
    again: EnrichmentReport,
    rerun_requests: int,
    times: tuple[float, float, float],
) -> None:
    truth = planted.truth
    present = sum(1 for v in truth.values() if v is not None)
    correct = sum(1 for paper, arxiv_id in matched.items() if truth.get(paper) == arxiv_id)
    wrong = sorted(paper for paper, arxiv_id in matched.items() if truth.get(paper) != arxiv_id)
    resolved = statuses["matched"] + statuses["not_found"] + statuses["ambiguous"]
    requests = len(first_requests)
    per_resolved = requests / resolved if resolved else float("nan")
    load_s, first_s, again_s = times
    print(f"papers                      {papers} ({present} on the fake arXiv)")
    print(f"variations planted          {dict(sorted(planted.variations.items()))}")
    print("outcomes (first run)        " + ", ".join(f"{s} {statuses[s]}" for s in STATUSES))
    print(f"merged by arXiv ID          {merged}")
    print(f"requests made               {requests} (report says {first.requests})")
    print(f"  by kind                   {dict(sorted(_request_kinds(first_requests).items()))}")
    verdict = "ok" if per_resolved <= TARGET_REQUESTS_PER_RESOLVED else "OVER TARGET"
    print(
        f"requests per resolved paper {per_resolved:.3f} "
        f"(target <= {TARGET_REQUESTS_PER_RESOLVED}: {verdict})"
    )
    per_matched = requests / statuses["matched"] if statuses["matched"] else float("nan")
    print(f"requests per matched paper  {per_matched:.3f}")
    verdict = "ok" if rerun_requests <= TARGET_RERUN_REQUESTS else "OVER TARGET"
    print(
        f"re-run requests             {rerun_requests} (report says {again.requests}; "
        f"{again.cache_hits} cache hits; target {TARGET_RERUN_REQUESTS}: {verdict})"
    )
    precision = correct / len(matched) if matched else float("nan")
    print(
        f"precision                   {precision:.4f} ({correct}/{len(matched)} matched IDs right)"
    )
    print(f"recall                      {correct / present:.4f} ({correct}/{present} present)")
    if wrong:
        print(f"wrong IDs                   {wrong[:10]}")
    print(
        f"wall time                   load {load_s:.2f} s, first run {first_s:.2f} s, "
        f"re-run {again_s:.2f} s"
    )
    print(
        f"at arXiv's {ARXIV_INTERVAL_S:g} s interval  the first run's requests alone take "
        f"{requests * ARXIV_INTERVAL_S / 60:.1f} min"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=Path, default=DEFAULT_SEEDS, help="seed dump folder")
    parser.add_argument("--absent", type=float, default=0.1, help="share left off arXiv")
    parser.add_argument("--seed", type=int, default=7, help="random seed for the variations")
    args = parser.parse_args()
    if not args.seeds.is_dir():
        parser.error(f"no seed folder at {args.seeds}")
    run(args.seeds, args.absent, args.seed)


if __name__ == "__main__":
    main()

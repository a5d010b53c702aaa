"""Dedupe side by side with Splink: this project's rebuild, and Splink 5 deduplicating
the same parsed listings, on a corpus whose truth is known (`linkage_corpus`).

    python3 -m uv run --group bench python -m benchmarks.dedupe_vs_splink --entries 100000

Both run in a child process of their own, one after the other, sampled for peak memory
(with their own children: the ingest workers). The project runs its whole rebuild
(ingest, title clusters, papers, links, paper code, offline); Splink runs its dedupe
alone, on the listings the project parsed (`raw.listings`), so it does not pay for
reading the dumps. Both are scored against the truth by pairwise precision, recall and
F1 over listings, and by the hard negatives (siblings that share an abstract opening and
differ by a number) they merged. Two listings of one title key count as one paper in the
truth, as DUMP_FORMAT.md says they are. A third child gives the floor: DuckDB alone
loading the same dumps and splitting them into their non-empty lines, into a table of a
DuckDB file, which any rebuild pays at least.

Splink is set up as a careful user would: normalized title and abstract opening (400
characters), blocking on the abstract's first 60 characters or on both ends of the title
(so a typo anywhere is still compared), Levenshtein on the title with term-frequency
adjustment, Jaro-Winkler on the abstract opening, exact match on the numbers in the
title (siblings differ by one) and on the author count; the match probability from
deterministic rules, u by random sampling, m by expectation maximisation on two blocking
rules; clusters at 0.9.

Not a test: it prints its figures and leaves the judging to the reader.
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import multiprocessing
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import psutil

from benchmarks.bench_refresh import settings_for
from benchmarks.linkage_corpus import LinkageCorpus, generate
from pipeline import steps
from pipeline.text import title_keys

GB = 1024**3
MATCH_THRESHOLD = 0.9
ABSTRACT_OPENING = 400  # characters: enough to tell siblings that share a first sentence
_NORMALIZED = "trim(regexp_replace(lower(strip_accents({})), '[^a-z0-9]+', ' ', 'g'))"


def _peak_rss(run: Callable[[], None]) -> float:
    """Runs `run` in a child process and returns its peak RSS (with its children), GB."""
    child = multiprocessing.get_context("spawn").Process(target=run)
    child.start()
    peak, process = 0, psutil.Process(child.pid)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            with suppress(psutil.Error):
                total = process.memory_info().rss
                total += sum(c.memory_info().rss for c in process.children(recursive=True))
                peak = max(peak, total)
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    child.join()
    done.set()
    sampler.join()
    if child.exitcode != 0:
        raise RuntimeError(f"{run} failed with exit code {child.exitcode}")
    return peak / GB


def run_project(landing: Path, root: Path) -> None:
    """The whole rebuild, step by step; writes the step times and each listing's paper."""
    settings = settings_for(root, landing, "file", None)
    times: dict[str, float] = {}
    for name, step in (
        ("ingest", steps.load_raw_files),
        ("clusters", steps.cluster_titles),
        ("papers", steps.build_paper_tables),
        ("links", steps.build_link_tables),
        ("paper code", steps.judge_paper_code),
    ):
        start = time.perf_counter()
        step(settings)
        times[name] = time.perf_counter() - start
    (root / "times.json").write_text(json.dumps(times))
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        con.sql(
            """
            SELECT n.file_name, l.position, p.paper_id AS predicted, l.title, l.abstract,
                   l.authors_count
            FROM raw.listings l
            JOIN raw.file_names n USING (file_sha256)
            JOIN core.paper_listings p USING (file_sha256, position)
            """
        ).write_parquet(str(root / "listings.parquet"))


def run_floor(landing: Path, root: Path) -> None:
    """The floor: DuckDB reads every dump and stores its non-empty lines; writes the time."""
    start = time.perf_counter()
    with duckdb.connect(str(root / "floor.duckdb")) as con:
        con.execute("SET enable_progress_bar = false")
        con.execute(
            f"""
            CREATE TABLE lines AS
            SELECT filename, line FROM (
                SELECT filename, unnest(string_split(content, chr(10))) AS line
                FROM read_text('{landing}/*')
            ) WHERE trim(line) <> ''
            """
        )
    (root / "floor_time.json").write_text(json.dumps(time.perf_counter() - start))


def _splink_settings() -> object:
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    return SettingsCreator(
        link_type="dedupe_only",
        # a typo anywhere in the title leaves the abstract's opening, or the title's
        # two ends, equal
        blocking_rules_to_generate_predictions=[
            block_on("abstract_head"),
            block_on("title_head", "title_tail"),
        ],
        comparisons=[
            cl.LevenshteinAtThresholds("title_norm", [1, 2, 4]).configure(
                term_frequency_adjustments=True
            ),
            cl.JaroWinklerAtThresholds("abstract_opening", [0.98, 0.9, 0.8]),
            cl.ExactMatch("title_numbers"),  # siblings differ by a number or version
            cl.ExactMatch("authors_count"),
        ],
        retain_intermediate_calculation_columns=False,
    )


class _Phases:
    def __init__(self) -> None:
        self.last, self.times = time.perf_counter(), {}

    def done(self, name: str) -> None:
        now = time.perf_counter()
        self.times[name], self.last = now - self.last, now

    def text(self) -> str:
        return ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self.times.items())


def run_splink(root: Path) -> None:
    """Splink's dedupe of the parsed listings; writes each listing's cluster and the time."""
    from splink import DuckDBAPI, Linker, block_on

    logging.getLogger("splink").setLevel(logging.ERROR)  # its training notes
    start = time.perf_counter()
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute(
        f"""
        CREATE TABLE records AS
        SELECT row_number() OVER () AS unique_id, file_name, position,
               {_NORMALIZED.format("title")} AS title_norm,
               {_NORMALIZED.format(f"left(abstract, {ABSTRACT_OPENING})")} AS abstract_opening,
               authors_count
        FROM '{root / "listings.parquet"}'
        """
    )
    con.execute(
        """
        CREATE TABLE input AS SELECT *, left(title_norm, 24) AS title_head,
               right(title_norm, 24) AS title_tail, left(abstract_opening, 60) AS abstract_head,
               array_to_string(regexp_extract_all(title_norm, '[0-9]+'), ' ') AS title_numbers
        FROM records
        """
    )
    db_api = DuckDBAPI(connection=con)
    linker = Linker(db_api.register("input"), _splink_settings(), log_level=None)
    phases = _Phases()
    linker.training.estimate_probability_two_random_records_match(
        [block_on("title_norm", "abstract_opening")], recall=0.9
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    phases.done("u")
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("abstract_head"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("title_norm"))
    phases.done("m (EM)")
    predictions = linker.inference.predict(threshold_match_probability=0.5)
    phases.done("predict")
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, MATCH_THRESHOLD
    )
    phases.done("cluster")
    print("  Splink phases: " + phases.text())
    con.sql(
        f"""
        SELECT r.file_name, r.position, c.cluster_id::VARCHAR AS predicted
        FROM {clusters.physical_name} c JOIN records r USING (unique_id)
        """
    ).write_parquet(str(root / "splink.parquet"))
    (root / "splink_time.json").write_text(json.dumps(time.perf_counter() - start))


def _truth(corpus: LinkageCorpus, listings: pl.DataFrame) -> pl.DataFrame:
    """Each listing's true paper: its generated paper, with papers that share a title key
    taken as one (the smallest paper index of the key's papers)."""
    rows = [
        (name, position, paper, kind)
        for name, papers in corpus.truth.items()
        for position, (paper, kind) in enumerate(
            zip(papers, corpus.kinds[name], strict=True), start=1
        )
    ]
    schema = ["file_name", "position", "paper", "kind"]
    truth = pl.DataFrame(rows, schema=schema, orient="row")
    keyed = listings.select("file_name", "position", key=title_keys(listings["title"]))
    joined = truth.join(keyed, on=["file_name", "position"])
    # a paper and every paper sharing one of its keys: connected components, by passing
    # the smallest paper index along keys and papers until nothing moves
    frame = joined.with_columns(entity=pl.col("paper"))
    while True:
        moved = frame.with_columns(entity=pl.col("entity").min().over("key")).with_columns(
            entity=pl.col("entity").min().over("paper")
        )
        if moved["entity"].equals(frame["entity"]):
            return moved
        frame = moved


def _pairs(frame: pl.DataFrame, *columns: str) -> int:
    counts = frame.group_by(columns).len()["len"]
    return int((counts * (counts - 1) // 2).sum())


def score(truth: pl.DataFrame, predicted: pl.DataFrame, corpus: LinkageCorpus) -> dict[str, Any]:
    """Pairwise precision, recall and F1 over listings, and hard negatives merged."""
    both = truth.join(predicted, on=["file_name", "position"])
    true_pairs, found = _pairs(both, "entity"), _pairs(both, "predicted")
    right = _pairs(both, "entity", "predicted")
    precision = right / found if found else 1.0
    recall = right / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    clusters = both.group_by("paper").agg(pl.col("predicted").unique())
    cluster_of = {row[0]: set(row[1]) for row in clusters.iter_rows()}
    merged = sum(
        bool(cluster_of.get(a, set()) & cluster_of.get(b, set())) for a, b in corpus.hard_negatives
    )
    # a variant is found when it is in the cluster of another listing of its paper
    others = both.group_by("paper", "predicted").len()
    variants = both.filter(~pl.col("kind").is_in(["new", "exact", "sibling"]))
    found_by_kind = (
        variants.join(others, on=["paper", "predicted"])
        .group_by("kind")
        .agg(found=(pl.col("len") > 1).sum(), listed=pl.len())
        .sort("kind")
    )
    return {
        "found_by_kind": {k: f"{f}/{n}" for k, f, n in found_by_kind.iter_rows()},
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "true_pairs": true_pairs,
        "hard_negatives_merged": merged,
    }


def _print(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print(
            "  "
            + "   ".join(
                cell.ljust(w) if i == 0 else cell.rjust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            )
        )


def run(entries: int, seed: int, small: bool, root: Path) -> None:
    landing = root / "landing"
    start = time.perf_counter()
    corpus = generate(landing, entries, seed, small)
    vocabulary = "small vocabulary" if small else "the project's vocabulary"
    print(
        f"corpus ({vocabulary}), generated in {time.perf_counter() - start:.1f} s: {entries:,} "
        f"listings, {corpus.papers:,} papers, {corpus.exact_repeats:,} exact repeats, "
        f"variants {corpus.variants}, {len(corpus.hard_negatives):,} hard negatives"
    )
    project_rss = _peak_rss(functools.partial(run_project, landing, root / "project"))
    project_times = json.loads((root / "project" / "times.json").read_text())
    listings = pl.read_parquet(root / "project" / "listings.parquet")
    splink_rss = _peak_rss(functools.partial(run_splink, root / "project"))
    splink_time = json.loads((root / "project" / "splink_time.json").read_text())
    floor_rss = _peak_rss(functools.partial(run_floor, landing, root / "project"))
    floor_time = json.loads((root / "project" / "floor_time.json").read_text())
    truth = _truth(corpus, listings)
    ours = score(truth, listings.select("file_name", "position", "predicted"), corpus)
    theirs = score(truth, pl.read_parquet(root / "project" / "splink.parquet"), corpus)
    print(f"\n{entries:,} listings, {ours['true_pairs']:,} same-paper pairs in the truth")
    rows = [("", "wall", "dedupe steps", "peak RSS", "P", "R", "F1", "hard negatives merged")]
    dedupe = project_times["clusters"] + project_times["papers"]
    for name, wall, steps_s, rss, figures in (
        ("this project (whole rebuild)", sum(project_times.values()), dedupe, project_rss, ours),
        ("Splink 5 (dedupe only)", splink_time, splink_time, splink_rss, theirs),
    ):
        rows.append(
            (
                name,
                f"{wall:.1f} s",
                f"{steps_s:.1f} s",
                f"{rss:.2f} GB",
                f"{figures['precision']:.4f}",
                f"{figures['recall']:.4f}",
                f"{figures['f1']:.4f}",
                f"{figures['hard_negatives_merged']:,} of {len(corpus.hard_negatives):,}",
            )
        )
    floor = ("floor (DuckDB: load + split)", f"{floor_time:.1f} s", "", f"{floor_rss:.2f} GB")
    rows.append(floor + ("",) * 4)  # nothing to score
    _print(rows)
    print("  project steps: " + ", ".join(f"{k} {v:.1f} s" for k, v in project_times.items()))
    for name, figures in (("this project", ours), ("Splink", theirs)):
        print(f"  variants found by {name}: {figures['found_by_kind']}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=100_000, help="listings to generate")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--vocabulary",
        choices=("project", "small"),
        default="project",
        help="titles from the project's generator, or from a small vocabulary",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="dedupe_vs_splink_") as work:
        run(args.entries, args.seed, args.vocabulary == "small", Path(work))


if __name__ == "__main__":
    main()

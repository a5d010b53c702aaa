"""Tests for pipeline.links.urls: URL extraction, GitHub repository parsing, link kinds."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from pipeline.links.urls import (
    LINK_KINDS,
    clean_url,
    extract_urls,
    find_urls,
    github_repo,
    link_kind,
    repos_and_links,
)

SEEDS_DIR = Path(__file__).resolve().parents[3] / "shared" / "seeds"


def repos_in(text: str) -> list[str | None]:
    return [github_repo(url) for url in extract_urls(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Code: https://github.com/owner/repo.", "owner/repo"),
        ("at https://github.com/EmpathYang/TinyHelen.git.", "EmpathYang/TinyHelen"),
        ("released at https://github.com/wangqinsi1/GAINRL/tree/main.", "wangqinsi1/GAINRL"),
        ("see https://github.com/o/r/blob/main/src/x.py for details", "o/r"),
        ("Code is available at https://github.com/kleinzcy/Cr-KD-NCD{here}.", "kleinzcy/Cr-KD-NCD"),
        ("in https://github.com/Facico/Dynamic-Logit-Fusion.)", "Facico/Dynamic-Logit-Fusion"),
        ("graphs (https://github.com/facebookresearch/mowst-gnn).", "facebookresearch/mowst-gnn"),
        ("Our codebase is at http://github.com/castorini/meanmax.", "castorini/meanmax"),
        ("mirror: www.github.com/Owner-1/Repo_2;", "Owner-1/Repo_2"),
        ("code at github.com/owner/repo, and more", "owner/repo"),
        ("CODE AT GITHUB.COM/BigCo/BigRepo:", "BigCo/BigRepo"),
        ("{https://github.com/a/b}{https://github.com/a/b}", "a/b"),
        (
            "https://github.com/kaist-silab/bootgen{https://github.com/kaist-silab/bootgen}.",
            "kaist-silab/bootgen",
        ),
        ("docs https://github.com/o/r#readme.", "o/r"),
        ("stars https://github.com/o/r?tab=readme-ov-file]", "o/r"),
        ('"https://github.com/o/r"', "o/r"),
        ("'https://github.com/o/r'", "o/r"),
        ("<https://github.com/o/r>", "o/r"),
        ("named https://github.com/x/a.b_c-d.", "x/a.b_c-d"),
        ("two hyphens https://github.com/old--user-/repo", "old--user-/repo"),
        ("https://raw.githubusercontent.com/o/r/main/data.json", "o/r"),
        (
            "case https://github.com/ML-GSAI/Revisiting-Dis-vs-Gen-Classifiers.",
            "ML-GSAI/Revisiting-Dis-vs-Gen-Classifiers",
        ),
        ("a gist https://gist.github.com/user/0123abcd.", None),
        ("bare gist.github.com/user/0123abcd", None),
        ("https://github.com/orgs/huggingface/repositories", None),
        ("https://github.com/features/copilot.", None),
        ("https://github.com/topics/llm", None),
        ("https://github.com/sponsors/someone", None),
        ("just an owner https://github.com/openai.", None),
        ("owner with slash https://github.com/openai/", None),
        ("project page https://owner.github.io/repo/", None),
        ("dots only https://github.com/o/...", None),
        ("dots and git https://github.com/o/.git", None),
        ("underscore owner https://github.com/bad_owner/repo", None),
        ("too long owner https://github.com/" + "a" * 40 + "/repo", None),
        ("too long name https://github.com/o/" + "r" * 101, None),
        ("lookalike https://github.com.evil.example/o/r", None),
        ("lookalike xgithub.com/o/r", None),
        ("https://huggingface.co/datasets/Writer/FailSafeQA", None),
    ],
)
def test_first_url_repo(text: str, expected: str | None) -> None:
    urls = extract_urls(text)
    assert urls, f"no URL found in {text!r}"
    assert github_repo(urls[0]) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://github.com/o/r.git", "o/r"),
        ("github.com/o/r.", "o/r"),
        ("https://github.com/o/r.git.", "o/r"),
        ("https://GitHub.com/O/R/issues/3", "O/R"),
        ("https://github.com/o", None),
        ("https://github.com/", None),
        ("https://gitlab.com/o/r", None),
        ("https://github.com/Login/x", None),
    ],
)
def test_github_repo_on_urls(url: str, expected: str | None) -> None:
    assert github_repo(url) == expected


def test_extract_urls_order_dedupe_and_forms() -> None:
    text = (
        "Code: https://github.com/a/b. Demo at www.demo.org/x, paper page "
        "https://huggingface.co/papers/2401.00001; again https://github.com/a/b! "
        "and github.com/c/d) plus https://x.org/p?q=1&r=2: done."
    )
    assert extract_urls(text) == [
        "https://github.com/a/b",
        "www.demo.org/x",
        "https://huggingface.co/papers/2401.00001",
        "github.com/c/d",
        "https://x.org/p?q=1&r=2",
    ]


def test_extract_urls_keeps_balanced_parentheses() -> None:
    text = "see (https://en.wikipedia.org/wiki/Foo_(bar))."
    assert extract_urls(text) == ["https://en.wikipedia.org/wiki/Foo_(bar)"]


@pytest.mark.parametrize("text", [None, "", "no links here. Just github and e.g. www. nothing"])
def test_extract_urls_none(text: str | None) -> None:
    assert extract_urls(text) == []


def test_find_urls_keeps_duplicates() -> None:
    text = "https://github.com/a/b{https://github.com/a/b}."
    assert find_urls(text) == ["https://github.com/a/b", "https://github.com/a/b"]
    assert extract_urls(text) == ["https://github.com/a/b"]


@pytest.mark.parametrize(
    ("candidate", "expected"),
    [
        ("www.Example.COM/Path.", "https://www.example.com/Path"),
        ("HTTP://Example.com?q=A", "http://example.com?q=A"),
        ("https://depictqa.github.io/deqa-score/.", "https://depictqa.github.io/deqa-score/"),
        ("https://.", None),
    ],
)
def test_clean_url(candidate: str, expected: str | None) -> None:
    assert clean_url(candidate) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://cvir.github.io/projects/comix", "project_page"),
        ("https://depictqa.github.io/deqa-score/", "project_page"),
        ("https://huangtiansheng.github.io/Antidote_gh_page/", "project_page"),
        ("https://owner.gitlab.io/thing", "project_page"),
        ("https://my-demo.pages.dev", "project_page"),
        ("https://demo.netlify.app/", "project_page"),
        ("https://demo.vercel.app/", "project_page"),
        ("https://sites.google.com/view/mything", "project_page"),
        ("https://project.example.org/", "project_page"),
        ("https://www.cs.example.edu/projects/foo/", "project_page"),
        ("www.lab.example/project-page/", "project_page"),
        ("https://huggingface.co/collections/McGill-DMaS/dmas-llama-lite-6761d97b", "huggingface"),
        ("https://huggingface.co/datasets/Writer/FailSafeQA", "huggingface"),
        ("https://huggingface.co/spaces/a/b", "huggingface"),
        ("https://hf.co/papers/2401.00001", "huggingface"),
        ("huggingface.co/models", "huggingface"),
        ("https://gist.github.com/user/abc", "other"),
        ("https://github.com/orgs/x", "other"),
        ("https://github.com/features/projects", "other"),
        ("https://labelerrors.com", "other"),
        ("https://anonymous.4open.science/r/DV4LLM-D761/", "other"),
        ("https://ibm.biz/BdKhLa", "other"),
        ("http://dspy.ai", "other"),
        ("https://nothuggingface.co/x", "other"),
        ("https://evilgithub.io/x", "other"),
    ],
)
def test_link_kind(url: str, expected: str) -> None:
    assert expected in LINK_KINDS
    assert link_kind(url) == expected


def test_repos_and_links_small_frame() -> None:
    texts = pl.DataFrame(
        {
            "paper": ["p1", "p1", "p2", "p3", "p4"],
            "abstract": [
                "Code https://github.com/Foo/Bar. Mirror github.com/foo/bar.git and "
                "https://github.com/foo/baz{here}. Page https://foo.github.io/bar/.",
                "Again https://github.com/FOO/BAR/tree/main, www.example.org/x.",
                "Data https://huggingface.co/datasets/x/y; orgs https://github.com/orgs/foo "
                "and https://gist.github.com/u/1 and https://huggingface.co/datasets/x/y.",
                "No links in this one.",
                None,
            ],
        }
    )
    repos, links = repos_and_links(texts, "abstract", ["paper"])
    assert repos.schema == pl.Schema({"paper": pl.String, "repo": pl.String, "url": pl.String})
    assert repos.rows() == [
        ("p1", "Foo/Bar", "https://github.com/Foo/Bar"),
        ("p1", "foo/baz", "https://github.com/foo/baz"),
    ]
    assert links.schema == pl.Schema({"paper": pl.String, "url": pl.String, "kind": pl.String})
    assert links.rows() == [
        ("p1", "https://foo.github.io/bar/", "project_page"),
        ("p1", "https://www.example.org/x", "other"),
        ("p2", "https://huggingface.co/datasets/x/y", "huggingface"),
        ("p2", "https://github.com/orgs/foo", "other"),
        ("p2", "https://gist.github.com/u/1", "other"),
    ]


def test_repos_and_links_keeps_key_dtypes_and_multiple_keys() -> None:
    texts = pl.DataFrame(
        {"src": ["a", "a", "b"], "line": [1, 2, 1], "text": ["github.com/x/y"] * 3}
    )
    repos, links = repos_and_links(texts, "text", ["src", "line"])
    assert repos.columns == ["src", "line", "repo", "url"]
    assert repos.schema["line"] == pl.Int64
    assert repos.height == 3
    assert links.is_empty()


@pytest.mark.parametrize(
    "texts",
    [
        pl.DataFrame(schema={"k": pl.String, "t": pl.String}),
        pl.DataFrame({"k": ["a", "b"], "t": ["nothing here", None]}),
        pl.DataFrame({"k": ["a"], "t": [None]}, schema={"k": pl.String, "t": pl.String}),
    ],
    ids=["empty-frame", "no-links", "all-null"],
)
def test_repos_and_links_empty_schema(texts: pl.DataFrame) -> None:
    repos, links = repos_and_links(texts, "t", ["k"])
    assert repos.is_empty() and links.is_empty()
    assert repos.schema == pl.Schema({"k": pl.String, "repo": pl.String, "url": pl.String})
    assert links.schema == pl.Schema({"k": pl.String, "url": pl.String, "kind": pl.String})


def test_repos_and_links_matches_line_by_line() -> None:
    lines = [
        "x https://github.com/A/B. y github.com/a/b.git z https://github.com/c/d.",
        "https://github.com/kaist-silab/bootgen{https://github.com/kaist-silab/bootgen}.",
        "www.github.com/e/f) and https://github.com/e/F/tree/dev",
    ]
    repos, _ = repos_and_links(pl.DataFrame({"i": [0, 1, 2], "t": lines}), "t", ["i"])
    expected = []
    for i, line in enumerate(lines):
        seen: dict[str, str] = {}
        for repo in filter(None, repos_in(line)):
            seen.setdefault(repo.lower(), repo)
        expected += [(i, repo) for repo in seen.values()]
    assert repos.select("i", "repo").rows() == expected
    assert expected == [(0, "A/B"), (0, "c/d"), (1, "kaist-silab/bootgen"), (2, "e/f")]


# Real seed dumps: one abstract per line; titles and boilerplate carry no GitHub links.
REAL_REPO_LINKS = 78  # every occurrence, the doubled bootgen link counted twice
REAL_REPOS_PER_LINE = 77  # distinct repos within each line
REAL_REPOS_PER_ABSTRACT = 72  # distinct (abstract text, repo): abstracts recur across files


def seed_lines() -> list[tuple[str, int, str]]:
    if not SEEDS_DIR.is_dir():
        pytest.skip(f"real seed dumps absent: {SEEDS_DIR} does not exist (needs ../shared)")
    files = sorted(SEEDS_DIR.glob("*.txt"))
    if not files:
        pytest.skip(f"real seed dumps absent: no *.txt in {SEEDS_DIR}")
    return [
        (path.name, number, line)
        for path in files
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
    ]


def test_seeds_line_by_line() -> None:
    lines = seed_lines()
    occurrences = 0
    per_line = 0
    per_abstract: set[tuple[str, str]] = set()
    for _, _, line in lines:
        occurrences += sum(github_repo(url) is not None for url in find_urls(line))
        repos = {repo.lower() for repo in repos_in(line) if repo is not None}
        per_line += len(repos)
        per_abstract |= {(line, repo) for repo in repos}
    assert occurrences == REAL_REPO_LINKS
    assert per_line == REAL_REPOS_PER_LINE
    assert len(per_abstract) == REAL_REPOS_PER_ABSTRACT


def test_seeds_vectorized() -> None:
    frame = pl.DataFrame(
        seed_lines(),
        schema={"file": pl.String, "line": pl.Int64, "text": pl.String},
        orient="row",
    )
    by_line, links_by_line = repos_and_links(frame, "text", ["file", "line"])
    assert by_line.height == REAL_REPOS_PER_LINE
    assert (
        by_line.select("file", "line", pl.col("repo").str.to_lowercase()).is_duplicated().sum() == 0
    )
    assert by_line["url"].str.starts_with("https://github.com/").all()

    by_text, _ = repos_and_links(frame, "text", ["text"])
    assert by_text.height == REAL_REPOS_PER_ABSTRACT

    # Spot checks of the awkward forms present in the dumps.
    repos = set(by_line["repo"])
    assert {
        "kaist-silab/bootgen",
        "kleinzcy/Cr-KD-NCD",
        "Facico/Dynamic-Logit-Fusion",
        "EmpathYang/TinyHelen",
        "wangqinsi1/GAINRL",
        "castorini/meanmax",
    } <= repos
    assert not any(repo.endswith((".", ".git")) for repo in repos)
    kinds = dict(links_by_line.select("url", "kind").unique().iter_rows())
    assert kinds["https://depictqa.github.io/deqa-score/"] == "project_page"
    assert kinds["https://huggingface.co/datasets/Writer/FailSafeQA"] == "huggingface"
    assert kinds["https://labelerrors.com"] == "other"
    assert not any("github.com/" in url for url in kinds)

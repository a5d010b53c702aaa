"""Find URLs in paper abstracts, turn GitHub links into repositories, classify the rest.

Abstracts are plain text copied from web pages, so URLs come glued to sentence
punctuation, wrapped in braces left over from LaTeX (``{here}``, a URL written twice),
with or without a scheme. One regex (valid for both Python ``re`` and polars' Rust
engine) finds candidates; everything after that works on single candidate strings, so
the vectorized path only has to canonicalize each distinct candidate once.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import urlsplit

import polars as pl

LINK_KINDS = ("project_page", "huggingface", "other")

# Characters a URL may contain in running text. ASCII only and without quotes, braces,
# brackets and angle brackets: those end a URL in prose ("...repo{here}", "<url>"), and
# the first non-ASCII character (a middle dot, a curly quote) ends it too.
_URL_CHAR = r"[A-Za-z0-9\-._~:/?#@!$&*+,;=%()]"

# A candidate starts at a scheme, at "www.", or at a bare host ending in "github.com/".
# The host run is matched whole (matching is leftmost), so "gist.github.com/..." and
# "xgithub.com/..." keep their full host and are not mistaken for github.com. No
# lookbehind or Unicode \b: polars' engine lacks the first and is slow with the second.
URL_PATTERN = r"(?:(?i:https?://|www\.)|[A-Za-z0-9.-]*(?i:github\.com)/)" + _URL_CHAR + "+"
_URL_RE = re.compile(URL_PATTERN)

# Sentence punctuation that is legal inside a URL but, at its end, belongs to the prose.
_TRAILING_PUNCT = frozenset(".,;:!?*")

# First path segments of github.com that are GitHub's own pages, not user accounts
# (GitHub reserves these names, so no owner can be called that).
GITHUB_RESERVED = frozenset(
    {
        "about",
        "account",
        "apps",
        "blog",
        "careers",
        "codespaces",
        "collections",
        "contact",
        "copilot",
        "customer-stories",
        "dashboard",
        "education",
        "enterprise",
        "events",
        "explore",
        "features",
        "git-guides",
        "github-copilot",
        "home",
        "issues",
        "join",
        "login",
        "logout",
        "marketplace",
        "mobile",
        "new",
        "nonprofit",
        "notifications",
        "organizations",
        "orgs",
        "partners",
        "premium-support",
        "press",
        "pricing",
        "pulls",
        "readme",
        "resources",
        "search",
        "security",
        "sessions",
        "settings",
        "signup",
        "site",
        "sitemap",
        "solutions",
        "sponsors",
        "stars",
        "team",
        "topics",
        "trending",
        "users",
        "watching",
        "webhooks",
    }
)

# Hosts whose first two path segments are owner/repo. gist.github.com is absent on
# purpose: a gist is not a repository.
_GITHUB_REPO_RE = re.compile(
    r"(?:https?://)?(?:www\.)?(?:github\.com|raw\.githubusercontent\.com)"
    r"/(?P<owner>[A-Za-z0-9-]+)/(?P<name>[A-Za-z0-9._-]+)",
    re.IGNORECASE,
)
_OWNER_MAX = 39
_NAME_MAX = 100

_HUGGINGFACE_HOSTS = ("huggingface.co", "hf.co")
_GITHUB_HOSTS = ("github.com", "githubusercontent.com")
# Static-site hosts: a link there is a project's or a person's page, not a code host.
_PROJECT_HOST_SUFFIXES = ("github.io", "gitlab.io", "pages.dev", "netlify.app", "vercel.app")
_PROJECT_HOSTS = frozenset({"sites.google.com"})
# Cheap hint that a site on an arbitrary domain is a project page: "project.example.org"
# or "example.org/projects/foo". Anything subtler is not worth guessing.
_PROJECT_WORDS = frozenset({"project", "projects", "project-page", "project_page"})


_HOST_RE = re.compile(r"([^/?#]*)(.*)", re.DOTALL)


def _strip_trailing(url: str) -> str:
    """Drop sentence punctuation and an unbalanced ')' that prose glued to the URL."""
    while url:
        last = url[-1]
        if last in _TRAILING_PUNCT or (last == ")" and url.count(")") > url.count("(")):
            url = url[:-1]
        else:
            break
    return url


def _has_scheme(url: str) -> bool:
    return url[:8].lower().startswith(("http://", "https://"))


@lru_cache(maxsize=1 << 16)
def clean_url(candidate: str) -> str | None:
    """Canonical form of a raw candidate: punctuation stripped, scheme added, host lowered.

    None when nothing host-like is left (e.g. "https://." at the end of a sentence).
    """
    url = _strip_trailing(candidate)
    if not _has_scheme(url):
        url = "https://" + url
    scheme, _, rest = url.partition("://")
    host, tail = _HOST_RE.match(rest).group(1, 2)  # always matches
    if "." not in host.strip("."):
        return None
    return f"{scheme.lower()}://{host.lower()}{tail}"


def find_urls(text: str | None) -> list[str]:
    """Every URL occurrence in order, punctuation stripped, duplicates kept (for counting)."""
    if not text:
        return []
    found = (_strip_trailing(match) for match in _URL_RE.findall(text))
    return [url for url in found if clean_url(url) is not None]


def extract_urls(text: str | None) -> list[str]:
    """URLs in order of appearance, de-duplicated, as written minus trailing punctuation.

    Kept as written (no scheme added) so callers can show what the author typed;
    ``clean_url`` and ``github_repo`` do the canonicalization.
    """
    return list(dict.fromkeys(find_urls(text)))


def _repo_name(raw: str) -> str | None:
    """The repository name inside a path segment, or None if it cannot be one."""
    name = raw.rstrip(".")
    if name.lower().endswith(".git"):
        name = name[: -len(".git")].rstrip(".")
    if not name or len(name) > _NAME_MAX:  # only dots, or too long
        return None
    return name


@lru_cache(maxsize=1 << 16)
def github_repo(url: str) -> str | None:
    """'owner/name' as spelled in the URL, or None when the URL names no GitHub repository.

    Only the first two path segments matter: ``/tree/...``, ``/blob/...``, ``#readme``,
    ``?tab=...`` and ``{here}`` after them are ignored.
    """
    match = _GITHUB_REPO_RE.match(_strip_trailing(url.strip()))
    if match is None:
        return None
    owner = match["owner"]
    # Owners are checked leniently (any run of letters, digits, hyphens): accounts older
    # than the single-hyphen rule exist.
    if len(owner) > _OWNER_MAX or owner.lower() in GITHUB_RESERVED:
        return None
    name = _repo_name(match["name"])
    return None if name is None else f"{owner}/{name}"


def _host_and_path(url: str) -> tuple[str, str]:
    try:
        parts = urlsplit(url if _has_scheme(url) else "https://" + url)
        return (parts.hostname or "").lower(), parts.path
    except ValueError:  # malformed port and the like: classify as a plain link
        return "", ""


def _on_host(host: str, domains: tuple[str, ...]) -> bool:
    return any(host == domain or host.endswith("." + domain) for domain in domains)


@lru_cache(maxsize=1 << 16)
def link_kind(url: str) -> str:
    """One of LINK_KINDS for a URL that is not a GitHub repository.

    GitHub's own pages and gists are "other" (code hosting, not a project site).
    """
    host, path = _host_and_path(_strip_trailing(url.strip()))
    if _on_host(host, _HUGGINGFACE_HOSTS):
        return "huggingface"
    if _on_host(host, _GITHUB_HOSTS):
        return "other"
    if _on_host(host, _PROJECT_HOST_SUFFIXES) or host in _PROJECT_HOSTS:
        return "project_page"
    first_label = host.split(".", 1)[0]
    first_segment = path.strip("/").split("/", 1)[0].lower()
    if first_label in _PROJECT_WORDS or first_segment in _PROJECT_WORDS:
        return "project_page"
    return "other"


class _Canonical(NamedTuple):
    url: str | None
    repo: str | None
    kind: str | None


def _canonicalize(candidate: str) -> _Canonical:
    """Canonical url/repo/kind of one distinct candidate.

    Calls the uncached functions: candidates arrive distinct, so the caches would only
    churn.
    """
    url = clean_url.__wrapped__(candidate)
    if url is None:
        return _Canonical(None, None, None)
    repo = github_repo.__wrapped__(url)
    if repo is not None:
        return _Canonical(f"https://github.com/{repo}", repo, None)
    return _Canonical(url, None, link_kind.__wrapped__(url))


_CANDIDATE = "__link_candidate"
_LOWER_REPO = "__lower_repo"


def _candidates(texts: pl.DataFrame, text_col: str, key_cols: list[str]) -> pl.DataFrame:
    """One row per URL occurrence (key columns + canonical url/repo/kind), in text order."""
    exploded = (
        texts.lazy()
        .select(*key_cols, pl.col(text_col).str.extract_all(URL_PATTERN).alias(_CANDIDATE))
        .explode(_CANDIDATE)
        .drop_nulls(_CANDIDATE)
        .collect()
    )
    # Python only sees distinct candidate strings: far fewer than occurrences.
    unique = exploded.get_column(_CANDIDATE).unique().to_list()
    canonical = [_canonicalize(candidate) for candidate in unique]
    lookup = pl.DataFrame(
        {
            _CANDIDATE: unique,
            "url": [c.url for c in canonical],
            "repo": [c.repo for c in canonical],
            "kind": [c.kind for c in canonical],
        },
        schema={_CANDIDATE: pl.String, "url": pl.String, "repo": pl.String, "kind": pl.String},
    )
    return (
        exploded.join(lookup, on=_CANDIDATE, how="left", maintain_order="left")
        .drop(_CANDIDATE)
        .drop_nulls("url")
    )


def repos_and_links(
    texts: pl.DataFrame, text_col: str, key_cols: list[str]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(repos, links) found in ``texts[text_col]``, one row per key and repo / key and url.

    repos: key_cols + repo (owner/name, first spelling in text order wins; repos are
    compared case-insensitively) + url (https://github.com/owner/name).
    links: key_cols + url (cleaned) + kind, for every URL that is not a repository.
    key_cols keep their input dtypes; repo, url and kind are String even when empty.
    """
    found = _candidates(texts, text_col, key_cols)
    repos = (
        found.filter(pl.col("repo").is_not_null())
        .with_columns(pl.col("repo").str.to_lowercase().alias(_LOWER_REPO))
        .unique(subset=[*key_cols, _LOWER_REPO], keep="first", maintain_order=True)
        .select(*key_cols, "repo", "url")
    )
    links = (
        found.filter(pl.col("repo").is_null())
        .unique(subset=[*key_cols, "url"], keep="first", maintain_order=True)
        .select(*key_cols, "url", "kind")
    )
    return repos, links

"""A fake arXiv query API on `LocalServer`, answering in arXiv's shapes.

It holds a list of papers and answers `/api/query` with real-shaped Atom: namespaces,
`opensearch:totalResults`, versioned `<id>` URLs, titles wrapped over lines with
indentation and TeX. It parses `search_query` (`ti:"phrase"`, `ti:word`, `AND`, `OR`,
`ANDNOT`, parentheses), `id_list`, `start` and `max_results`, and refuses what arXiv
refuses with an HTTP 400 error feed. Matching is loose like arXiv's (case, accents and
punctuation do not matter), and a paper marked `phrase_picky` reproduces arXiv's
weakness with hyphens: phrase search misses it, word search finds it.

It deliberately does not import the pipeline's ID or TeX code, so that it checks rather
than mirrors the client. Failures are scripted with `LocalServer.queue(PATH, Reply(...))`.
"""

from __future__ import annotations

import re
import textwrap
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

from tests.fakes.local_server import LocalServer, Reply, Request

PATH = "/api/query"
ATOM_TYPE = "application/atom+xml; charset=utf-8"
_ID_FORMAT = re.compile(r"^(?:\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?$")
_FIELDS = frozenset({"ti", "abs", "au", "all", "cat", "id", "co", "jr", "rn"})
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<lparen>\()
      | (?P<rparen>\))
      | (?P<op>ANDNOT|AND|OR)(?=[\s()]|$)
      | (?:(?P<field>[a-z]+):)?(?:"(?P<phrase>[^"]*)"|(?P<word>[^\s()"]+))
    )""",
    re.VERBOSE,
)


class QueryError(ValueError):
    """A query arXiv would refuse with 400."""


@dataclass
class FakePaper:
    """A paper as the fake arXiv holds it; `version` is the current version."""

    arxiv_id: str
    title: str
    abstract: str
    version: int = 1
    authors: list[str] = field(default_factory=lambda: ["Ada Lovelace", "Alan Turing"])
    categories: list[str] = field(default_factory=lambda: ["cs.CL", "cs.LG"])
    published: str = "2024-01-02T18:00:00Z"
    updated: str | None = None
    comment: str | None = None
    journal_ref: str | None = None
    doi: str | None = None
    phrase_picky: bool = False


# --- arXiv-like text matching ---------------------------------------------------------


def _detex(text: str) -> str:
    text = re.sub(r"\\[`'^\"~=.]\s*\{?(\w)\}?", r"\1", text)
    text = re.sub(r"\\(?:emph|textbf|textit|texttt|textsc|text|mathrm|mathbf|mathcal)\b", " ", text)
    text = re.sub(r"\\([a-zA-Z]+)", r" \1 ", text)
    return re.sub(r"\\.|[${}]", " ", text)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", _detex(text))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def tokens(text: str) -> list[str]:
    """Index terms: punctuation and hyphens separate words."""
    return [t for t in re.split(r"[\W_]+", _fold(text)) if t]


def picky_tokens(text: str) -> list[str]:
    """Index terms as arXiv's phrase search sometimes sees them: hyphenated words whole."""
    return [t.strip("-") for t in re.split(r"[^\w-]+", _fold(text)) if t.strip("-")]


def _contains(haystack: list[str], needle: list[str]) -> bool:
    n = len(needle)
    return n > 0 and any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


def _field_text(paper: FakePaper, name: str) -> str:
    if name == "ti":
        return paper.title
    if name == "abs":
        return paper.abstract
    if name == "au":
        return " ".join(paper.authors)
    if name == "cat":
        return " ".join(paper.categories)
    if name == "id":
        return paper.arxiv_id
    if name == "all":
        return " ".join([paper.title, paper.abstract, *paper.authors])
    return ""


def _term_matches(paper: FakePaper, name: str, text: str, phrase: bool) -> bool:
    source = _field_text(paper, name)
    wanted = tokens(text)
    if phrase:
        indexed = picky_tokens(source) if paper.phrase_picky and name in ("ti", "all") else None
        return _contains(indexed if indexed is not None else tokens(source), wanted)
    terms = set(tokens(source)) | set(picky_tokens(source))
    return bool(wanted) and all(w in terms for w in wanted)


# --- search_query parsing -------------------------------------------------------------

Predicate = Callable[[FakePaper], bool]


def _lex(query: str) -> list[tuple[str, str, str | None]]:
    """(kind, text, field) tokens; anything unreadable is a QueryError."""
    if "\\" in query or query.count('"') % 2:
        raise QueryError("Invalid query string")
    out: list[tuple[str, str, str | None]] = []
    pos = 0
    while pos < len(query):
        if query[pos:].strip() == "":
            break
        match = _TOKEN.match(query, pos)
        if match is None or match.end() == pos:
            raise QueryError("Invalid query string")
        pos = match.end()
        if match.group("lparen"):
            out.append(("(", "(", None))
        elif match.group("rparen"):
            out.append((")", ")", None))
        elif match.group("op"):
            out.append(("op", match.group("op"), None))
        else:
            name = match.group("field") or "all"
            if name not in _FIELDS:
                raise QueryError(f"Invalid query string: unknown field {name}")
            if match.group("phrase") is not None:
                out.append(("phrase", match.group("phrase"), name))
            else:
                out.append(("word", match.group("word"), name))
    if not out:
        raise QueryError("Invalid query string: empty")
    return out


class _Parser:
    """OR of AND/ANDNOT chains; terms side by side are OR'ed, as in Lucene."""

    def __init__(self, query: str) -> None:
        self.items = _lex(query)
        self.pos = 0

    def parse(self) -> Predicate:
        predicate = self._or()
        if self.pos != len(self.items):
            raise QueryError("Invalid query string")
        return predicate

    def _peek(self) -> tuple[str, str, str | None] | None:
        return self.items[self.pos] if self.pos < len(self.items) else None

    def _or(self) -> Predicate:
        parts = [self._and()]
        while (item := self._peek()) is not None and item[0] != ")":
            if item == ("op", "OR", None):
                self.pos += 1
            elif item[0] == "op":
                raise QueryError("Invalid query string")
            parts.append(self._and())
        return lambda p: any(part(p) for part in parts)

    def _and(self) -> Predicate:
        predicate = self._unary()
        while (item := self._peek()) is not None and item[0] == "op" and item[1] != "OR":
            self.pos += 1
            right = self._unary()
            left = predicate
            if item[1] == "AND":
                predicate = lambda p, a=left, b=right: a(p) and b(p)  # noqa: E731
            else:
                predicate = lambda p, a=left, b=right: a(p) and not b(p)  # noqa: E731
        return predicate

    def _unary(self) -> Predicate:
        item = self._peek()
        if item is None or item[0] in ("op", ")"):
            raise QueryError("Invalid query string")
        self.pos += 1
        if item[0] == "(":
            inner = self._or()
            if self._peek() is None or self._peek()[0] != ")":  # type: ignore[index]
                raise QueryError("Invalid query string: unbalanced parenthesis")
            self.pos += 1
            return inner
        kind, text, name = item
        assert name is not None
        return lambda p: _term_matches(p, name, text, phrase=kind == "phrase")


def parse_query(query: str) -> Predicate:
    return _Parser(query).parse()


# --- Atom rendering -------------------------------------------------------------------

_FEED_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <link href="http://arxiv.org/api/query" rel="self" type="application/atom+xml"/>
  <title type="html">ArXiv Query: {query}</title>
  <id>http://arxiv.org/api/fake{feed_id}</id>
  <updated>2024-06-01T00:00:00-04:00</updated>
  <opensearch:totalResults xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">{total}</opensearch:totalResults>
  <opensearch:startIndex xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">{start}</opensearch:startIndex>
  <opensearch:itemsPerPage xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">{per_page}</opensearch:itemsPerPage>
"""
_ARXIV = 'xmlns:arxiv="http://arxiv.org/schemas/atom"'


def _wrapped(text: str, width: int, indent: str) -> str:
    """Text broken over lines and indented, as arXiv serves titles and abstracts."""
    return ("\n" + indent).join(textwrap.wrap(text, width)) or text


def render_entry(paper: FakePaper, version: int | None = None, brief: bool = False) -> str:
    vid = f"{paper.arxiv_id}v{version or paper.version}"
    lines = [
        "  <entry>",
        f"    <id>http://arxiv.org/abs/{vid}</id>",
        f"    <updated>{paper.updated or paper.published}</updated>",
        f"    <published>{paper.published}</published>",
        f"    <title>{escape(_wrapped(paper.title, 50, '  '))}</title>",
    ]
    if not brief:
        lines.append(f"    <summary>  {escape(_wrapped(paper.abstract, 78, ''))}\n</summary>")
        for author in paper.authors:
            lines.append(f"    <author>\n      <name>{escape(author)}</name>\n    </author>")
    if paper.doi:
        lines.append(f"    <arxiv:doi {_ARXIV}>{escape(paper.doi)}</arxiv:doi>")
        lines.append(f'    <link title="doi" href="http://dx.doi.org/{paper.doi}" rel="related"/>')
    if paper.comment:
        lines.append(f"    <arxiv:comment {_ARXIV}>{escape(paper.comment)}</arxiv:comment>")
    if paper.journal_ref:
        ref = escape(paper.journal_ref)
        lines.append(f"    <arxiv:journal_ref {_ARXIV}>{ref}</arxiv:journal_ref>")
    lines += [
        f'    <link href="http://arxiv.org/abs/{vid}" rel="alternate" type="text/html"/>',
        f'    <link title="pdf" href="http://arxiv.org/pdf/{vid}" rel="related"'
        ' type="application/pdf"/>',
        f"    <arxiv:primary_category {_ARXIV} term={quoteattr(paper.categories[0])}"
        ' scheme="http://arxiv.org/schemas/atom"/>',
        *(
            f'    <category term={quoteattr(c)} scheme="http://arxiv.org/schemas/atom"/>'
            for c in paper.categories
        ),
        "  </entry>",
    ]
    return "\n".join(lines)


def render_feed(
    entries: list[str], total: int, start: int = 0, per_page: int = 10, query: str = ""
) -> str:
    head = _FEED_HEAD.format(
        query=escape(query),
        feed_id=abs(hash(query)) % 10**8,
        total=total,
        start=start,
        per_page=per_page,
    )
    return head + "\n".join(entries) + "\n</feed>\n"


def empty_feed(query: str = "") -> str:
    """A zero-hit page, as arXiv occasionally serves for a query that has hits."""
    return render_feed([], total=0, query=query)


def error_feed(message: str) -> str:
    """arXiv's error answer: one entry titled `Error` with the message as summary."""
    anchor = re.sub(r"\W+", "_", message)
    entry = f"""  <entry>
    <id>http://arxiv.org/api/errors#{escape(anchor)}</id>
    <title>Error</title>
    <summary>{escape(message)}</summary>
    <updated>2024-06-01T00:00:00-04:00</updated>
    <link href="http://arxiv.org/api/errors#{escape(anchor)}" rel="alternate" type="text/html"/>
    <author>
      <name>arXiv api core</name>
    </author>
  </entry>"""
    return render_feed([entry], total=1, per_page=1, query="error")


def error_reply(message: str, status: int = 400) -> Reply:
    return Reply(status, error_feed(message), content_type=ATOM_TYPE)


# --- The service ----------------------------------------------------------------------


class FakeArxiv:
    """Answers `PATH` on `server` from `papers`. `id_list` results come back in reverse
    order of the request (arXiv guarantees no order); `brief_search` leaves abstracts and
    authors out of search answers, to make the client fetch full records by ID."""

    def __init__(
        self,
        server: LocalServer,
        papers: list[FakePaper],
        *,
        brief_search: bool = False,
        reverse_id_list: bool = True,
    ) -> None:
        self.server = server
        self.papers = list(papers)
        self.brief_search = brief_search
        self.reverse_id_list = reverse_id_list
        server.route(PATH, self.handle)

    @property
    def url(self) -> str:
        return self.server.url + PATH

    @property
    def requests(self) -> list[Request]:
        return self.server.requests_to(PATH)

    def handle(self, request: Request) -> Reply:
        try:
            start = int(request.param("start") or 0)
            max_results = int(request.param("max_results") or 10)
        except ValueError:
            return error_reply("start and max_results must be integers")
        if max_results > 30000 or start < 0 or max_results < 0:
            return error_reply("max_results must not exceed 30000")
        search_query = request.param("search_query") or ""
        id_list = request.param("id_list") or ""
        try:
            hits = self._hits(search_query, id_list)
        except QueryError as exc:
            return error_reply(str(exc))
        page = hits[start : start + max_results]
        brief = self.brief_search and not id_list
        entries = [render_entry(p, version, brief=brief) for p, version in page]
        body = render_feed(entries, len(hits), start, max_results, search_query or id_list)
        return Reply(200, body, content_type=ATOM_TYPE)

    def _hits(self, search_query: str, id_list: str) -> list[tuple[FakePaper, int | None]]:
        if not search_query and not id_list:
            raise QueryError("Invalid query string: nothing to search for")
        predicate = parse_query(search_query) if search_query else None
        if id_list:
            hits = self._by_ids(id_list)
            if self.reverse_id_list:
                hits.reverse()
        else:
            hits = [(p, None) for p in self.papers]
        return [(p, v) for p, v in hits if predicate is None or predicate(p)]

    def _by_ids(self, id_list: str) -> list[tuple[FakePaper, int | None]]:
        ids = [part.strip() for part in id_list.split(",")]
        for raw in ids:
            if not _ID_FORMAT.match(raw):
                raise QueryError(f"incorrect id format for {raw}")
        by_id = {p.arxiv_id: p for p in self.papers}
        hits: list[tuple[FakePaper, int | None]] = []
        for raw in ids:
            match = re.fullmatch(r"(?P<base>.+?)(?:v(?P<version>\d+))?", raw)
            assert match is not None
            base, version = match.group("base"), match.group("version")
            paper = by_id.get(base)
            if paper is None or (version and int(version) > paper.version):
                continue  # a well-formed ID that does not exist is silently left out
            hits.append((paper, int(version) if version else None))
        return hits

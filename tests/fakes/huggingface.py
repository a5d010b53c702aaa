"""A fake Hugging Face on a `LocalServer`: the daily papers and search APIs and the
`/papers/date/YYYY-MM-DD` listing pages, all built from the same items in the real shape.

Pages embed their items as the real site does: JSON in the `data-props` attribute of
`<div class="SVELTE_HYDRATER contents" data-target="DailyPapers">`, HTML-escaped. Switches
make the API refuse a day (`api_unavailable`), redirect a day's page to another day
(`redirect`), and serve pages whose structure changed (`changed_structure`).
"""

from __future__ import annotations

import copy
import hashlib
import html
import json
from datetime import date, timedelta
from typing import Any

from tests.fakes.local_server import LocalServer, Reply, Request

TODAY = date(2026, 11, 24)
DAY = date(2026, 11, 20)
OTHER_DAY = date(2026, 11, 19)
JSON_TYPE = "application/json; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"

AK = {
    "_id": "60f1abe7544c2adfd699860c",
    "avatarUrl": "https://cdn-avatars.huggingface.co/v1/production/uploads/1674929746905-60f1abe7544c2adfd699860c.jpeg",
    "isPro": False,
    "fullname": "AK",
    "user": "akhaliq",
    "type": "user",
}


def _author(n: int, name: str, hidden: bool = False, user: str | None = None) -> dict[str, Any]:
    author: dict[str, Any] = {"_id": f"6920c1f3a8b4e5d{n:09x}", "name": name, "hidden": hidden}
    if user:
        author["user"] = {"_id": f"64b7{n:020x}", "user": user, "fullname": name, "type": "user"}
    return author


def _org(name: str, fullname: str) -> dict[str, str]:
    return {
        "_id": "61e8" + hashlib.sha1(name.encode()).hexdigest()[:20],
        "name": name,
        "fullname": fullname,
        "avatarUrl": f"https://cdn-avatars.huggingface.co/v1/production/uploads/{name}.png",
    }


def _item(
    arxiv_id: str,
    title: str,
    summary: str,
    authors: list[dict[str, Any]],
    published: str,
    listed: str,
    upvotes: int,
    comments: int,
    organization: dict[str, str] | None = None,
    **paper_extra: Any,
) -> dict[str, Any]:
    """One daily-list item: the outer object wrapping `paper`, as the API serves it."""
    paper = {
        "id": arxiv_id,
        "authors": authors,
        "publishedAt": published,
        "submittedOnDailyAt": listed,
        "title": title,
        "submittedOnDailyBy": AK,
        "summary": summary,
        "upvotes": upvotes,
        "discussionId": f"6921{arxiv_id.replace('.', '')}a1b2c3d4",
        "ai_summary": "A short machine-written summary of " + " ".join(title.split()[:4]) + ".",
        "ai_keywords": ["benchmark", "large language models"],
        **paper_extra,
    }
    item: dict[str, Any] = {
        "paper": paper,
        "publishedAt": listed,
        "title": title,
        "summary": summary,
        "thumbnail": f"https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/{arxiv_id}.png",
        "numComments": comments,
        "submittedBy": AK,
        "isAuthorParticipating": False,
    }
    if organization is not None:
        item["organization"] = organization
    return item


def day_items() -> list[dict[str, Any]]:
    """The list for `DAY`: every optional field present somewhere and absent somewhere,
    characters that need escaping in HTML, hidden and non-ASCII authors, a title with a
    hard line break as arXiv writes them."""
    return [
        _item(
            "2611.14207",
            'Seeing & Saying: "Grounded" Video Captions at <1 s Latency',
            "We present a streaming captioner that grounds each phrase in the frame it\n"
            "describes. Latency stays < 1 s on a single GPU & quality matches offline models.",
            [
                _author(1, "Mei Tanaka", user="meitanaka"),
                _author(2, "Jonas Weber"),
                _author(3, "Priya Raman", hidden=True),
            ],
            "2026-11-18T17:59:52.000Z",
            "2026-11-20T01:04:11.000Z",
            upvotes=87,
            comments=4,
            organization=_org("nvidia", "NVIDIA"),
            githubRepo="https://github.com/NVlabs/SeeingSaying",
            githubStars=412,
            projectPage="https://nvlabs.github.io/SeeingSaying/",
        ),
        _item(
            "2611.13880",
            "Scaling Laws for Sparse Mixture-of-Experts\n  under a Fixed Memory Budget",
            "How should a fixed memory budget be split between experts and depth? We fit\n"
            "scaling laws over 312 training runs and find a simple rule.",
            [_author(4, "Ana Souza"), _author(5, "Tom Lindqvist"), _author(6, "Kai Chen")],
            "2026-11-17T12:30:00.000Z",
            "2026-11-20T03:22:40.000Z",
            upvotes=41,
            comments=0,
        ),
        _item(
            "2611.15022",
            "Zoë: A Multilingual Speech Benchmark for Low-Resource Languages",
            "Zoë covers 94 languages; word error rates vary by a factor of 7 (\u03c3 = 2.1).",
            [_author(7, "Zoë Müller"), _author(8, "李明", user="liming")],
            "2026-11-19T09:15:01.000Z",
            "2026-11-20T05:00:03.000Z",
            upvotes=12,
            comments=2,
            organization=_org("ethz", "ETH Zürich"),
            projectPage="https://zoe-bench.github.io",
        ),
        _item(
            "2611.09876",
            "Verifier-Guided Decoding Without a Reward Model",
            "Decoding guided by a learned verifier improves pass@1 by 9 points on math.",
            [_author(9, "R. Okafor")],
            "2026-11-12T00:00:00.000Z",
            "2026-11-20T07:45:19.000Z",
            upvotes=0,
            comments=1,
            githubRepo="https://github.com/okafor-lab/vgd",
        ),
        _item(
            "2611.15230",
            "Agents That Ask: Clarification Policies for Web Tasks",
            "Agents that ask a clarifying question when unsure finish 23% more web tasks.",
            [_author(10, "Lena Fischer"), _author(11, "Omar Haddad")],
            "2026-11-19T16:40:12.000Z",
            "2026-11-20T09:10:55.000Z",
            upvotes=33,
            comments=7,
            organization=_org("allenai", "Ai2"),
        ),
    ]


def other_day_items() -> list[dict[str, Any]]:
    return [
        _item(
            "2611.12001",
            "Retrieval Heads in Long-Context Transformers",
            "A handful of attention heads retrieve facts from long contexts.",
            [_author(12, "Sara Ibrahim"), _author(13, "Paul Martin")],
            "2026-11-16T10:00:00.000Z",
            "2026-11-19T02:00:00.000Z",
            upvotes=58,
            comments=3,
        ),
    ]


def generated_items(day: date, count: int) -> list[dict[str, Any]]:
    """`count` distinct items in the real shape, for days longer than one API page."""
    return [
        _item(
            f"{day:%y%m}.{20000 + n:05d}",
            f"Generated Paper Number {n}",
            f"Abstract of generated paper number {n}.",
            [_author(100 + n, f"Author {n}")],
            f"{day - timedelta(days=2)}T12:00:00.000Z",
            f"{day}T08:00:00.000Z",
            upvotes=n,
            comments=n % 5,
        )
        for n in range(1, count + 1)
    ]


def api_bytes(items: list[dict[str, Any]]) -> bytes:
    """A JSON API body as the fake serves it (compact, UTF-8)."""
    return json.dumps(items, ensure_ascii=False, separators=(",", ":")).encode()


def _props_attr(props: dict[str, Any]) -> str:
    return html.escape(json.dumps(props, ensure_ascii=False, separators=(",", ":")), quote=True)


def _cards(items: list[dict[str, Any]]) -> str:
    """Card markup of the kind that changes often; readers must not depend on it."""
    return "\n".join(
        f'<article class="relative flex flex-col"><h3 class="mb-1 text-lg font-semibold">'
        f'<a href="/papers/{html.escape(i["paper"]["id"])}">{html.escape(i["title"])}</a></h3>'
        f'<div class="leading-none">{i["paper"]["upvotes"]}</div></article>'
        for i in items
    )


def listing_page_html(
    props: dict[str, Any], items: list[dict[str, Any]], changed_structure: bool = False
) -> str:
    """A listing page around `props`; with `changed_structure` the DailyPapers element is
    renamed, as a site redesign would."""
    target = "PapersFeed" if changed_structure else "DailyPapers"
    canonical = f"https://huggingface.co/papers/date/{props.get('dateString', '')}"
    header = _props_attr({"classNames": "", "isWide": False, "isZh": False})
    return f"""<!doctype html>
<html class="">
<head>
<meta charset="utf-8" />
<meta name="viewport" content="width=device-width, initial-scale=1.0, user-scalable=no" />
<meta property="og:title" content="Daily Papers - Hugging Face" />
<meta property="og:type" content="website" />
<meta property="og:url" content="{canonical}" />
<link rel="canonical" href="{canonical}" />
<link rel="stylesheet" href="/front/build/kube-4b1c2a3/style.css" />
<title>Daily Papers - Hugging Face</title>
</head>
<body class="flex flex-col min-h-dvh bg-white dark:bg-gray-950 text-black DailyPapersPage">
<div class="flex min-h-dvh flex-col">
<div class="SVELTE_HYDRATER contents" data-target="MainHeader" data-props="{header}">
<header class="border-b border-gray-100"><a href="/">Hugging Face</a></header></div>
<main class="flex flex-1 flex-col">
<div class="SVELTE_HYDRATER contents" data-target="{target}" data-props="{_props_attr(props)}">
<section class="container">
{_cards(items)}
</section></div>
</main></div>
<script type="module" src="/front/build/kube-4b1c2a3/index.js"></script>
</body>
</html>
"""


def daily_page_html(day: date, items: list[dict[str, Any]], changed_structure: bool = False) -> str:
    props = {
        "periodType": "day",
        "dateString": day.isoformat(),
        "dailyPapers": items,
        "prevDate": (day - timedelta(days=1)).isoformat(),
        "nextDate": (day + timedelta(days=1)).isoformat(),
        "lastUpdate": f"{day}T12:00:00.000Z",
    }
    return listing_page_html(props, items, changed_structure)


def period_page_html(period: str, stated: str, items: list[dict[str, Any]]) -> str:
    """A week (`2026-W47`) or month (`2026-11`) listing page."""
    props = {"periodType": period, "dateString": stated, "dailyPapers": items}
    return listing_page_html(props, items)


def paper_page_html(item: dict[str, Any]) -> str:
    """A paper's own page (`/papers/<arXiv id>`): its data in a component of its own,
    beside others whose props hold no paper; no DailyPapers element."""
    props = {
        "paper": item["paper"],
        "numComments": item["numComments"],
        "isAuthorParticipating": item["isAuthorParticipating"],
        "canonical": f"https://huggingface.co/papers/{item['paper']['id']}",
    }
    header, content = _props_attr({"classNames": "", "isWide": False}), _props_attr(props)
    return f"""<!doctype html>
<html class="">
<head><meta charset="utf-8" /><title>{html.escape(item["title"])} - Hugging Face</title></head>
<body>
<div class="SVELTE_HYDRATER contents" data-target="MainHeader" data-props="{header}"></div>
<main><div class="SVELTE_HYDRATER contents" data-target="PaperContent" data-props="{content}">
<h1>{html.escape(item["title"])}</h1></div></main>
</body>
</html>
"""


def search_page_html(
    day: date, query: str, results: list[dict[str, Any]], daily: list[dict[str, Any]]
) -> str:
    """A `?q=` page: the search results beside the day's unfiltered list."""
    props = {
        "periodType": "day",
        "dateString": day.isoformat(),
        "dailyPapers": daily,
        "searchResults": results,
        "query": {"q": query},
        "prevDate": (day - timedelta(days=1)).isoformat(),
    }
    return listing_page_html(props, results)


def _int_param(request: Request, name: str, default: int, low: int, high: int) -> int | None:
    raw = request.param(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        return None
    return value if low <= value <= high else None


def _bad_request(message: str) -> Reply:
    return Reply(400, json.dumps({"error": message}), content_type=JSON_TYPE)


class FakeHuggingFace:
    """Routes for `server`, answering from `days` (day -> items in list order)."""

    def __init__(
        self,
        server: LocalServer,
        days: dict[date, list[dict[str, Any]]] | None = None,
        today: date = TODAY,
    ) -> None:
        self.server = server
        self.today = today
        self.days = days if days is not None else {DAY: day_items(), OTHER_DAY: other_day_items()}
        self.api_unavailable: set[date] = set()
        self.changed_structure = False
        self._redirects: dict[date, date] = {}
        # `/api/papers/<id>`: the listed papers, and any a test adds.
        self.papers = {
            item["paper"]["id"]: copy.deepcopy(item["paper"])
            for items in self.days.values()
            for item in items
        }
        server.route("/api/daily_papers", self._daily_api)
        server.route("/api/papers/search", self._search_api)
        server.route_prefix("/api/papers/", self._paper_api)
        server.route("/papers", self._papers_root)
        for day in self.days:
            self._route_page(day)

    @property
    def url(self) -> str:
        return self.server.url

    def set_day(self, day: date, items: list[dict[str, Any]]) -> None:
        self.days[day] = items
        self._route_page(day)

    def redirect(self, day: date, to: date) -> None:
        """Make `day`'s page redirect to `to`'s, as the site does for days it has no list for."""
        self._redirects[day] = to
        self._route_page(day)

    def page_items(self, day: date, page: int, limit: int) -> list[dict[str, Any]]:
        return copy.deepcopy(self.days.get(day, [])[page * limit : (page + 1) * limit])

    def _route_page(self, day: date) -> None:
        self.server.route(f"/papers/date/{day.isoformat()}", lambda _r: self._page(day))

    def _page(self, day: date) -> Reply:
        if day in self._redirects:
            target = f"/papers/date/{self._redirects[day].isoformat()}"
            return Reply(302, "", headers={"Location": target}, content_type=HTML_TYPE)
        body = daily_page_html(day, self.days.get(day, []), self.changed_structure)
        return Reply(200, body, content_type=HTML_TYPE)

    def _daily_api(self, request: Request) -> Reply:
        raw_day = request.param("date")
        try:
            day = date.fromisoformat(raw_day) if raw_day else max(self.days)
        except ValueError:
            return _bad_request(f"Invalid date: {raw_day}")
        if day > self.today or day in self.api_unavailable:
            return _bad_request(f"Invalid date: {raw_day}")
        limit = _int_param(request, "limit", 50, 1, 100)
        page = _int_param(request, "p", 0, 0, 10_000)
        if limit is None or page is None:
            return _bad_request("Invalid limit or page")
        return Reply(200, api_bytes(self.page_items(day, page, limit)), content_type=JSON_TYPE)

    def search_items(self, query: str, limit: int = 120) -> list[dict[str, Any]]:
        words = query.lower().split()
        found = [
            item
            for items in self.days.values()
            for item in items
            if all(w in f"{item['title']} {item['summary']}".lower() for w in words)
        ]
        return copy.deepcopy(found[:limit])

    def _search_api(self, request: Request) -> Reply:
        query = request.param("q")
        limit = _int_param(request, "limit", 120, 1, 120)
        if not query or len(query) > 250 or limit is None:
            return _bad_request("q is required (up to 250 characters); limit is 1..120")
        return Reply(200, api_bytes(self.search_items(query, limit)), content_type=JSON_TYPE)

    def _paper_api(self, request: Request) -> Reply:
        """The paper object with its linked models, datasets and Spaces, as the API has it."""
        paper = self.papers.get(request.path.removeprefix("/api/papers/"))
        if paper is None:
            return Reply(404, json.dumps({"error": "Paper not found"}), content_type=JSON_TYPE)
        answer = paper | {"models": [], "datasets": [], "spaces": []}
        return Reply(200, json.dumps(answer), content_type=JSON_TYPE)

    def _papers_root(self, request: Request) -> Reply:
        latest = max(self.days)
        query = request.param("q")
        if not query:
            return Reply(302, "", headers={"Location": f"/papers/date/{latest}"})
        page = search_page_html(latest, query, self.search_items(query), self.days[latest])
        return Reply(200, page, content_type=HTML_TYPE)

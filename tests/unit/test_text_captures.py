"""Text captures of listing pages by text-mode browsers and crawlers: reference-style
links, bracketed author and upvote blocks, and the reference list that gives each
title's arXiv ID. The captures are our own writing, in the shapes EXTERNAL_APIS.md
describes."""

from __future__ import annotations

from datetime import date

import pytest

from pipeline.dumps.entries import NotADump
from pipeline.dumps.read import read_raw_file
from pipeline.dumps.text_captures import read_text_capture

BODY = """\
[Hugging Face][1]

* [Models][2]
* [Datasets][3]

Daily Papers

by [AK][10] and the research community

Nov 20

### [Quiet Gradients: Training Without Loud Updates][32]

[
* 3 authors
][34]

Submitted by [akhaliq][35]

[87][36]

We train networks whose updates stay small, and show that quiet gradients
generalize better on every benchmark we tried.

### [A Benchmark of Small Things][40]

[
* 1 author
][41]

[-][42]

Oct 3, 2025 2

### [Maps Without Borders][44]

[
* 12 authors
][45]

[5][46]
"""

REFERENCES = """
References

1. https://huggingface.co/
2. https://huggingface.co/models
3. https://huggingface.co/datasets
10. https://huggingface.co/akhaliq
32. https://huggingface.co/papers/2611.14207
34. https://huggingface.co/papers/2611.14207#authors
35. https://huggingface.co/akhaliq
36. https://huggingface.co/login?next=%2Fpapers%2F2611.14207
40. https://huggingface.co/papers/2611.09001
41. https://huggingface.co/papers/2611.09001#authors
42. https://huggingface.co/login
44. https://huggingface.co/papers/2610.00042v2
45. https://huggingface.co/papers/2610.00042v2#authors
46. https://huggingface.co/login
"""

TODAY = date(2026, 12, 1)


def test_a_complete_capture_gives_every_field_and_the_arxiv_ids() -> None:
    dump = read_raw_file((BODY + REFERENCES).encode(), today=TODAY)
    assert dump.layout == "text_capture" and dump.rejects == []
    first, second, third = dump.entries
    assert first.title == "Quiet Gradients: Training Without Loud Updates"
    assert (first.authors_count, first.upvotes, first.submitter) == (3, 87, "akhaliq")
    assert first.abstract == (
        "We train networks whose updates stay small, and show that quiet gradients "
        "generalize better on every benchmark we tried."
    )
    assert (second.upvotes, second.authors_count, second.abstract) == (0, 1, None)  # `-`
    assert (second.published_text, second.comments) == ("Oct 3, 2025", 2)
    assert [e.arxiv_id for e in dump.entries] == ["2611.14207", "2611.09001", "2610.00042"]
    assert (third.authors_count, third.upvotes) == (12, 5)
    # the page's day, its year the one after the latest year written (2025)
    assert dump.snapshot_date == date(2026, 11, 20)


def test_references_in_markdown_form_work_the_same() -> None:
    markdown = REFERENCES.replace("References\n", "")
    markdown = "\n".join(
        f"[{n}]: {url}"
        for n, url in (line.split(". ", 1) for line in markdown.strip().splitlines())
    )
    dump = read_text_capture(BODY + "\n" + markdown, today=TODAY)
    assert [e.arxiv_id for e in dump.entries] == ["2611.14207", "2611.09001", "2610.00042"]


def test_a_capture_cut_before_its_references_still_loads_its_entries() -> None:
    cut = BODY[: BODY.index("[5][46]")]
    dump = read_raw_file(cut.encode(), today=TODAY)
    assert [e.title for e in dump.entries][-1] == "Maps Without Borders"
    assert [e.arxiv_id for e in dump.entries] == [None, None, None]
    assert dump.entries[-1].upvotes is None  # cut before its upvote block


def test_an_empty_heading_is_rejected_and_the_rest_load() -> None:
    text = BODY.replace("[A Benchmark of Small Things][40]", "[][40]")
    dump = read_text_capture(text + REFERENCES, today=TODAY)
    assert [e.position for e in dump.entries] == [1, 3]
    (reject,) = dump.rejects
    assert reject.position == 2 and "empty title" in reject.reason


def test_a_browser_copy_is_not_taken_for_a_capture() -> None:
    copy = "Daily Papers\n\nNov 20\n\nQuiet Gradients\n\nWe train networks quietly.\n"
    assert read_raw_file(copy.encode(), today=TODAY).layout != "text_capture"
    with pytest.raises(NotADump, match="no `### \\[Title\\]\\[n\\]` heading"):
        read_text_capture(copy)

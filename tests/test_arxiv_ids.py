"""arXiv identifiers: both schemes, their date rules, versions, and where they are written."""

from __future__ import annotations

import pytest

from pipeline.arxiv_ids import ArxivId, find_arxiv_ids, is_valid_arxiv_id, parse_arxiv_id


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2401.01234", ("2401.01234", None)),
        ("2401.01234v2", ("2401.01234", 2)),
        ("  arXiv:2401.01234v12 ", ("2401.01234", 12)),
        ("0704.0001", ("0704.0001", None)),
        ("1412.9999v1", ("1412.9999", 1)),
        ("1501.00001", ("1501.00001", None)),
        ("hep-th/9901001", ("hep-th/9901001", None)),
        ("hep-th/9901001v3", ("hep-th/9901001", 3)),
        ("math.GT/0309136", ("math/0309136", None)),  # subject class dropped
        ("cs/0703001v1", ("cs/0703001", 1)),
        ("solv-int/9107001", ("solv-int/9107001", None)),
    ],
)
def test_valid_ids_parse_to_id_and_version(text: str, expected: tuple[str, int | None]) -> None:
    assert parse_arxiv_id(text) == expected
    assert is_valid_arxiv_id(text)


@pytest.mark.parametrize(
    "text",
    [
        "0703.0001",  # new scheme began in April 2007
        "1501.1234",  # four digits only until 2014
        "1412.01234",  # five digits only from 2015
        "2413.01234",  # month 13
        "2401.00000",  # no paper zero
        "2401.01234v0",  # versions start at 1
        "2401.0123",  # too short for 2024
        "2401.012345",  # too long
        "hep-th/0704001",  # old scheme ended in March 2007
        "hep-th/9013001",  # month 13
        "foo-bar/9901001",  # not an archive
        "hep-th/990100",  # six digits
        "2401.01234 v2",
        "see 2401.01234",
        "",
    ],
)
def test_malformed_ids_are_rejected(text: str) -> None:
    assert parse_arxiv_id(text) is None
    assert not is_valid_arxiv_id(text)


def test_ids_are_found_in_urls_citations_and_dois() -> None:
    text = (
        "Paper: https://arxiv.org/abs/2401.01234v2, PDF at arxiv.org/pdf/2402.00001v1.pdf and "
        "https://arxiv.org/html/2403.05678. Cite as arXiv:hep-th/9901001v1 or arXiv: 2404.11111. "
        "HF: https://huggingface.co/papers/2405.22222 DOI https://doi.org/10.48550/arXiv.2406.33333"
    )
    assert find_arxiv_ids(text) == [
        ArxivId("2401.01234", 2),
        ArxivId("2402.00001", 1),
        ArxivId("2403.05678", None),
        ArxivId("hep-th/9901001", 1),
        ArxivId("2404.11111", None),
        ArxivId("2405.22222", None),
        ArxivId("2406.33333", None),
    ]


def test_bare_numbers_and_impossible_ids_are_not_found() -> None:
    text = "version 2401.01234 of the code; arxiv.org/abs/1412.01234; arXiv:2401.012345"
    assert find_arxiv_ids(text) == []


def test_repeated_ids_are_listed_once_and_gain_a_later_version() -> None:
    text = "arxiv.org/abs/2401.01234 then arXiv:2401.01234v3 and ARXIV.ORG/PDF/2401.01234v1"
    assert find_arxiv_ids(text) == [ArxivId("2401.01234", 3)]
    assert str(find_arxiv_ids(text)[0]) == "2401.01234v3"

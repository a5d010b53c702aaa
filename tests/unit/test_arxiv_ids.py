"""arXiv identifiers: both schemes, their date rules and versions."""

from __future__ import annotations

import pytest

from pipeline.arxiv.ids import parse_arxiv_id


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


def test_an_id_prints_as_arxiv_writes_it() -> None:
    assert str(parse_arxiv_id("arXiv:2401.01234v3")) == "2401.01234v3"
    assert str(parse_arxiv_id("math.GT/0309136")) == "math/0309136"

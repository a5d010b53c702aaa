"""Builders shared by the warehouse tests: text dumps in the layout of DUMP_FORMAT.md,
written by the tests themselves, and a warehouse in a temporary folder fed with them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pipeline import steps
from pipeline.settings import Settings
from pipeline.steps import RefreshReport, refresh

TODAY = date(2026, 6, 1)
HEADER = (
    "new",
    "Get trending papers in your email inbox!",
    "Subscribe",
    "Daily Papers",
    "byAK and the research community",
)


@dataclass(frozen=True)
class Listing:
    """One entry of a text dump; `published` is the metadata date line, e.g.
    `Oct 3, 2024 2` (the trailing number is the comment count)."""

    title: str
    abstract: str
    authors: int | None = None
    published: str | None = None


def dump_text(listings: list[Listing], page_date: str = "Nov 25") -> str:
    """A text dump: page header, the viewing day, then title/abstract[/metadata] blocks."""
    blocks = [*HEADER, page_date]
    for listing in listings:
        blocks += [listing.title, listing.abstract]
        if listing.published is not None:
            blocks.append(f"  • {listing.authors or 1} authors\n·\n{listing.published}")
    return "\n\n".join(blocks) + "\n"


def abstract(topic: str) -> str:
    """A distinct, plausible abstract per topic (our own wording)."""
    return (
        f"We study {topic}. Our method combines a simple training recipe with a careful "
        f"evaluation protocol on {topic}, and improves over strong baselines on every "
        "benchmark we consider while using fewer resources."
    )


@dataclass
class TempWarehouse:
    """A warehouse in a temporary folder, fed by writing dumps into its landing folder:
    a DuckDB file, or a DuckLake when `lake` names its catalog (`postgres:<dsn>` or
    `sqlite:<path>`), with its data in the folder."""

    root: Path
    files: list[str] = field(default_factory=list)
    lake: str | None = None

    @property
    def env(self) -> dict[str, str]:
        """The environment of its settings (for a subprocess, say)."""
        warehouse = f"ducklake:{self.lake}" if self.lake else str(self.root / "papers.duckdb")
        return {
            "PAPERS_LANDING_DIR": str(self.root / "landing"),
            "PAPERS_WAREHOUSE": warehouse,
            "PAPERS_LAKE_DATA_PATH": str(self.root / "lake_data"),
            "PAPERS_RAW_ARCHIVE": str(self.root / "archive"),
            "PAPERS_OFFLINE": "1",
        }

    @property
    def settings(self) -> Settings:
        # from an environment of our own, so that new settings keep their defaults
        return Settings.from_env(self.env)

    def land(self, name: str, text: str) -> Path:
        path = self.root / "landing" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        self.files.append(name)
        return path

    def refresh(self) -> RefreshReport:
        return refresh(self.settings, today=TODAY)

    def rows(self, sql: str, params: list[object] | None = None) -> list[tuple[object, ...]]:
        with self.settings.warehouse.connect(read_only=True) as con:
            return con.execute(sql, params or []).fetchall()

    def paper_of(self, file_name: str, position: int) -> str:
        """The paper id of one listing, found through the lineage table."""
        rows = self.rows(
            """
            SELECT pl.paper_id FROM core.paper_listings pl
            JOIN raw.file_names n USING (file_sha256)
            WHERE n.file_name = ? AND pl.position = ?
            """,
            [file_name, position],
        )
        assert len(rows) == 1, f"{file_name}#{position} maps to {len(rows)} papers"
        return str(rows[0][0])

    def paper(self, paper_id: str) -> dict[str, object]:
        with self.settings.warehouse.connect(read_only=True) as con:
            frame = con.sql(f"SELECT * FROM core.papers WHERE paper_id = '{paper_id}'").pl()
        assert frame.height == 1
        return frame.row(0, named=True)

    def table(self, name: str, order: str) -> list[tuple[object, ...]]:
        return self.rows(f"SELECT * FROM {name} ORDER BY {order}")


def every_step(settings: Settings, today: date | None = None) -> None:
    """The refresh job's steps in its order, without Dagster (offline settings make the
    arXiv, Hugging Face and GitHub steps leave their work pending)."""
    steps.load_raw_files(settings, today)
    steps.cluster_titles(settings)
    steps.resolve_arxiv(settings)
    steps.build_paper_tables(settings)
    steps.look_up_on_hf(settings)
    steps.build_link_tables(settings)
    steps.describe_repos(settings)
    steps.judge_paper_code(settings)
    steps.build_mart_tables(settings)

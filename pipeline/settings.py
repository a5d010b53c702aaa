"""Settings read from the environment (see CONTRACT.md), resolved once per run. Every
environment variable the pipeline uses is read here and nowhere else.

Every external service is reached only through the URLs here, so that tests can point
them at local servers. Relative paths are taken from the project root, not the current
directory, so the CLI, the UI and the tests agree on where the warehouse is.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.db.connection import Warehouse

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _path(env: Mapping[str, str], name: str, default: str) -> Path:
    path = Path(env.get(name) or default).expanduser()
    return path if path.is_absolute() else PROJECT_ROOT / path


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a number of seconds, got {raw!r}") from exc


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a whole number, got {raw!r}") from exc


def _list(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """A `;`-separated list; `;` because search queries may contain commas."""
    return tuple(part.strip() for part in env.get(name, "").split(";") if part.strip())


@dataclass(frozen=True)
class Settings:
    landing_dir: Path
    warehouse_path: Path
    raw_archive_dir: Path
    read_copy_path: Path
    arxiv_api_url: str = "https://export.arxiv.org/api/query"
    arxiv_min_interval_s: float = 3.0
    arxiv_recheck_days: int = 30
    hf_base_url: str = "https://huggingface.co"
    hf_min_interval_s: float = 1.0
    hf_start_date: str = "2026-01-01"
    hf_search_queries: tuple[str, ...] = field(default_factory=tuple)
    github_api_url: str = "https://api.github.com"
    github_token: str | None = field(default=None, repr=False)
    offline: bool = False
    contact: str = "papers-warehouse@example.org"
    http_timeout_s: float = 30.0
    http_max_retries: int = 5
    sensor_interval_s: int = 30
    ingest_workers: int = 0  # 0: one per CPU
    duckdb_memory_limit: str = "3GB"

    @property
    def warehouse(self) -> Warehouse:
        return Warehouse(self.warehouse_path, self.duckdb_memory_limit)

    @property
    def user_agent(self) -> str:
        """Identifies us to the services we call, with a way to reach the operator."""
        return f"papers-warehouse/0.1 (+mailto:{self.contact})"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        warehouse = _path(env, "PAPERS_WAREHOUSE", "warehouse/papers.duckdb")
        return cls(
            landing_dir=_path(env, "PAPERS_LANDING_DIR", "warehouse/landing"),
            warehouse_path=warehouse,
            raw_archive_dir=_path(env, "PAPERS_RAW_ARCHIVE", str(warehouse.parent / "raw_archive")),
            read_copy_path=_path(
                env, "PAPERS_READ_COPY", str(warehouse.with_name(f"{warehouse.stem}_read.duckdb"))
            ),
            arxiv_api_url=env.get("ARXIV_API_URL") or cls.arxiv_api_url,
            arxiv_min_interval_s=_float(env, "ARXIV_MIN_INTERVAL_S", cls.arxiv_min_interval_s),
            arxiv_recheck_days=_int(env, "ARXIV_RECHECK_DAYS", cls.arxiv_recheck_days),
            hf_base_url=(env.get("HF_BASE_URL") or cls.hf_base_url).rstrip("/"),
            hf_min_interval_s=_float(env, "HF_MIN_INTERVAL_S", cls.hf_min_interval_s),
            hf_start_date=env.get("HF_START_DATE") or cls.hf_start_date,
            hf_search_queries=_list(env, "HF_SEARCH_QUERIES"),
            github_api_url=(env.get("GITHUB_API_URL") or cls.github_api_url).rstrip("/"),
            github_token=env.get("GITHUB_TOKEN") or None,
            offline=env.get("PAPERS_OFFLINE", "").strip().lower() in {"1", "true", "yes"},
            contact=env.get("PAPERS_CONTACT") or cls.contact,
            http_timeout_s=_float(env, "PAPERS_HTTP_TIMEOUT_S", cls.http_timeout_s),
            http_max_retries=_int(env, "PAPERS_HTTP_MAX_RETRIES", cls.http_max_retries),
            sensor_interval_s=max(1, _int(env, "PAPERS_SENSOR_INTERVAL_S", cls.sensor_interval_s)),
            ingest_workers=max(0, _int(env, "PAPERS_INGEST_WORKERS", cls.ingest_workers)),
            duckdb_memory_limit=env.get("PAPERS_DUCKDB_MEMORY_LIMIT") or cls.duckdb_memory_limit,
        )

"""Settings read from the environment (see CONTRACT.md), resolved once per run. Every
environment variable the pipeline uses is read here and nowhere else.

Every external service is reached only through the URLs here, so that tests can point
them at local servers. Relative paths are taken from the project root, not the current
directory, so the CLI, the UI and the tests agree on where the warehouse is.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from pathlib import Path
from typing import Any

from pipeline.db.connection import DuckDBFile, Warehouse
from pipeline.db.lake import KINDS, PREFIX, DuckLake, ObjectStore
from pipeline.dumps.entries import ReadLimits

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(ValueError):
    """A setting that cannot be used; the message names the variable."""


def _from_root(text: str) -> Path:
    path = Path(text).expanduser()
    return path if path.is_absolute() else PROJECT_ROOT / path


def _path(env: Mapping[str, str], name: str, default: str) -> Path:
    return _from_root(env.get(name) or default)


def _number(
    env: Mapping[str, str],
    name: str,
    default: float,
    kind: type[int] | type[float] = float,
    minimum: float = 0,
    above_minimum: bool = False,
) -> Any:
    """A number no smaller than `minimum` (strictly above it with `above_minimum`)."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise SettingsError(f"{name} must be {what}, got {raw!r}") from None
    if value < minimum or (above_minimum and value == minimum):
        bound = f"more than {minimum:g}" if above_minimum else f"at least {minimum:g}"
        raise SettingsError(f"{name} must be {bound}, got {raw!r}")
    return value


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise SettingsError(f"{name} must be 1 or 0 (or true/false, yes/no, on/off), got {raw!r}")


def _url(env: Mapping[str, str], name: str, default: str) -> str:
    url = (env.get(name) or default).strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise SettingsError(f"{name} must be an http:// or https:// URL, got {url!r}")
    return url


def _token(env: Mapping[str, str], name: str) -> str | None:
    """A secret: checked without ever being echoed (a token pasted with its line break or
    quotes would be refused by the service with a confusing 401)."""
    token = (env.get(name) or "").strip()
    if not token:
        return None
    if any(c.isspace() or c in "\"'" or not c.isprintable() for c in token):
        raise SettingsError(
            f"{name} holds spaces, quotes or control characters; it is not shown here "
            "(it is a secret): set it to the bare token"
        )
    return token


def _lake_catalog(env: Mapping[str, str]) -> str | None:
    """The lake's catalog when PAPERS_WAREHOUSE is `ducklake:<kind>:<target>` (a SQLite
    path taken from the project root like every path), else None."""
    raw = (env.get("PAPERS_WAREHOUSE") or "").strip()
    if not raw.startswith(PREFIX):
        return None
    kind, _, target = raw.removeprefix(PREFIX).partition(":")
    if kind not in KINDS or not target.strip():
        raise SettingsError(
            "PAPERS_WAREHOUSE: a lake is ducklake:postgres:<libpq connection string> or "
            f"ducklake:sqlite:<path>, got {PREFIX}{kind}:…"
        )
    if kind == "sqlite":
        target = str(_from_root(target.strip()))
    return f"{kind}:{target.strip()}"


def _object_store(env: Mapping[str, str]) -> ObjectStore | None:
    """Credentials for an s3:// PAPERS_LAKE_DATA_PATH, from the usual AWS variables."""
    key_id, secret = env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SECRET_ACCESS_KEY")
    if not (key_id and secret):
        return None
    return ObjectStore(
        key_id.strip(),
        secret.strip(),
        (env.get("AWS_REGION") or "").strip(),
        (env.get("AWS_ENDPOINT_URL") or "").strip().removeprefix("https://"),
    )


def _lake_data_path(env: Mapping[str, str]) -> str:
    """A folder (from the project root) or an object-store URL such as s3://bucket/lake/."""
    raw = (env.get("PAPERS_LAKE_DATA_PATH") or "").strip()
    if "://" in raw:
        if not raw.startswith("s3://"):
            raise SettingsError(f"PAPERS_LAKE_DATA_PATH: only s3:// URLs are read, got {raw!r}")
        return raw
    return str(_path(env, "PAPERS_LAKE_DATA_PATH", "warehouse/lake_data"))


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
    hf_refetch_days: int = 14
    hf_recheck_days: int = 30
    hf_lookup_max_run_s: float = 300.0
    github_api_url: str = "https://api.github.com"
    github_token: str | None = field(default=None, repr=False)
    github_min_interval_s: float = 1.0
    github_refresh_hours: float = 24.0
    offline: bool = False
    contact: str = "papers-warehouse@example.org"
    http_timeout_s: float = 30.0
    http_max_retries: int = 5
    sensor_interval_s: int = 30
    http_deadline_s: float = 30.0
    service_failures: int = 3
    arxiv_max_run_s: float = 1800.0
    ingest_workers: int = 0  # 0: one per CPU
    duckdb_memory_limit: str = "3GB"
    max_file_mb: float = ReadLimits.max_bytes / 1024**2
    max_json_depth: int = ReadLimits.max_json_depth
    # A DuckLake instead of the file (PAPERS_WAREHOUSE=ducklake:…): its catalog, which
    # may hold a password, and where its Parquet files go.
    lake_catalog: str | None = field(default=None, repr=False)
    lake_data_path: str = ""
    object_store: ObjectStore | None = field(default=None, repr=False)

    @property
    def warehouse(self) -> Warehouse:
        if self.lake_catalog:
            return DuckLake(
                self.lake_catalog,
                self.lake_data_path,
                self.duckdb_memory_limit,
                object_store=self.object_store,
            )
        return DuckDBFile(self.warehouse_path, self.duckdb_memory_limit)

    def shown(self) -> dict[str, str]:
        """Every setting as a person reads it, for the UI and logs: secrets only as set
        or unset, never their values, and a lake's catalog without its password."""
        shown = {f.name: str(getattr(self, f.name)) for f in fields(self) if f.repr}
        secrets = {
            "github_token": "set" if self.github_token else "unset",
            "object_store": "set" if self.object_store else "unset",
        }
        return shown | secrets | {"warehouse": self.warehouse.location}

    @property
    def read_limits(self) -> ReadLimits:
        return ReadLimits(int(self.max_file_mb * 1024**2), self.max_json_depth)

    @property
    def user_agent(self) -> str:
        """Identifies us to the services we call, with a way to reach the operator."""
        return f"papers-warehouse/0.1 (+mailto:{self.contact})"

    @property
    def hf_start(self) -> date:
        """The first daily partition; checked where it is used, so that a bad value stops
        the Hugging Face fetch, not a refresh that never reads it."""
        try:
            return date.fromisoformat(self.hf_start_date)
        except ValueError:
            raise SettingsError(
                f"HF_START_DATE must be a day like 2026-01-01, got {self.hf_start_date!r}"
            ) from None

    def check_paths(self) -> None:
        """The folders a refresh reads and writes must exist: a missing landing folder
        would load nothing, green, and a warehouse in a folder that is not there would
        be a new, empty one."""
        if not self.landing_dir.is_dir():
            raise SettingsError(
                f"PAPERS_LANDING_DIR: {self.landing_dir} is not a folder; create it or point "
                "the variable at the folder raw dumps land in"
            )
        problem = self.warehouse.problem()
        if problem:
            raise SettingsError(problem)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Every setting, checked: a bad value raises `SettingsError` naming its variable."""
        env = os.environ if env is None else env
        lake_catalog = _lake_catalog(env)
        # On a lake, the file's default place still anchors what is derived from it (the
        # raw archive's folder).
        warehouse = _path(
            {} if lake_catalog else env, "PAPERS_WAREHOUSE", "warehouse/papers.duckdb"
        )
        return cls(
            landing_dir=_path(env, "PAPERS_LANDING_DIR", "warehouse/landing"),
            warehouse_path=warehouse,
            raw_archive_dir=_path(env, "PAPERS_RAW_ARCHIVE", str(warehouse.parent / "raw_archive")),
            read_copy_path=_path(
                env, "PAPERS_READ_COPY", str(warehouse.with_name(f"{warehouse.stem}_read.duckdb"))
            ),
            arxiv_api_url=_url(env, "ARXIV_API_URL", cls.arxiv_api_url),
            arxiv_min_interval_s=_number(env, "ARXIV_MIN_INTERVAL_S", cls.arxiv_min_interval_s),
            arxiv_recheck_days=_number(env, "ARXIV_RECHECK_DAYS", cls.arxiv_recheck_days, int),
            hf_base_url=_url(env, "HF_BASE_URL", cls.hf_base_url),
            hf_min_interval_s=_number(env, "HF_MIN_INTERVAL_S", cls.hf_min_interval_s),
            hf_start_date=(env.get("HF_START_DATE") or cls.hf_start_date).strip(),
            hf_search_queries=_list(env, "HF_SEARCH_QUERIES"),
            hf_refetch_days=_number(env, "HF_REFETCH_DAYS", cls.hf_refetch_days, int),
            hf_recheck_days=_number(env, "HF_RECHECK_DAYS", cls.hf_recheck_days, int),
            hf_lookup_max_run_s=_number(
                env, "HF_LOOKUP_MAX_RUN_S", cls.hf_lookup_max_run_s, above_minimum=True
            ),
            github_api_url=_url(env, "GITHUB_API_URL", cls.github_api_url),
            github_token=_token(env, "GITHUB_TOKEN"),
            github_min_interval_s=_number(env, "GITHUB_MIN_INTERVAL_S", cls.github_min_interval_s),
            github_refresh_hours=_number(
                env, "GITHUB_REFRESH_HOURS", cls.github_refresh_hours, above_minimum=True
            ),
            offline=_flag(env, "PAPERS_OFFLINE"),
            contact=env.get("PAPERS_CONTACT") or cls.contact,
            http_timeout_s=_number(
                env, "PAPERS_HTTP_TIMEOUT_S", cls.http_timeout_s, above_minimum=True
            ),
            http_max_retries=_number(env, "PAPERS_HTTP_MAX_RETRIES", cls.http_max_retries, int),
            http_deadline_s=_number(
                env, "PAPERS_HTTP_DEADLINE_S", cls.http_deadline_s, above_minimum=True
            ),
            service_failures=_number(
                env, "PAPERS_SERVICE_FAILURES", cls.service_failures, int, minimum=1
            ),
            arxiv_max_run_s=_number(
                env, "ARXIV_MAX_RUN_S", cls.arxiv_max_run_s, above_minimum=True
            ),
            sensor_interval_s=_number(
                env, "PAPERS_SENSOR_INTERVAL_S", cls.sensor_interval_s, int, minimum=1
            ),
            ingest_workers=_number(env, "PAPERS_INGEST_WORKERS", cls.ingest_workers, int),
            duckdb_memory_limit=env.get("PAPERS_DUCKDB_MEMORY_LIMIT") or cls.duckdb_memory_limit,
            max_file_mb=_number(env, "PAPERS_MAX_FILE_MB", cls.max_file_mb, above_minimum=True),
            max_json_depth=_number(
                env, "PAPERS_MAX_JSON_DEPTH", cls.max_json_depth, int, minimum=2
            ),
            lake_catalog=lake_catalog,
            lake_data_path=_lake_data_path(env),
            object_store=_object_store(env),
        )

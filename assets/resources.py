"""The one resource: the pipeline's settings, where the warehouse, landing folder and
services are.

Values default to the environment (CONTRACT.md), so the CLI, the UI and the schedule
all agree; a test or a launchpad run can override the paths as resource config.
"""

import os

from dagster import ConfigurableResource
from pydantic import Field

from pipeline.settings import Settings

# Resource field -> the environment variable it stands in for.
_ENV_OF_FIELD = {
    "landing_dir": "PAPERS_LANDING_DIR",
    "warehouse": "PAPERS_WAREHOUSE",
    "raw_archive": "PAPERS_RAW_ARCHIVE",
    "read_copy": "PAPERS_READ_COPY",
}


class PipelineSettings(ConfigurableResource):
    """Paths that may be set here; every other setting, and unset paths, come from the
    environment. The values in effect are shown on each `raw/*` materialization."""

    landing_dir: str | None = Field(
        default=None, description="Folder scanned for raw files. Unset: PAPERS_LANDING_DIR."
    )
    warehouse: str | None = Field(
        default=None,
        description="The DuckDB warehouse file, or ducklake:postgres:… / ducklake:sqlite:…. "
        "Unset: PAPERS_WAREHOUSE.",
    )
    raw_archive: str | None = Field(
        default=None, description="Archive of every raw file. Unset: PAPERS_RAW_ARCHIVE."
    )
    read_copy: str | None = Field(
        default=None, description="The copy readers open. Unset: PAPERS_READ_COPY."
    )

    def resolve(self) -> Settings:
        """The environment's settings with this resource's paths standing in for their
        variables. Resolving them together (rather than patching the finished settings)
        keeps derived defaults beside an overridden warehouse: the read copy of a test's
        warehouse must not replace the project's own `warehouse/papers_read.duckdb`."""
        env = dict(os.environ)
        for field, variable in _ENV_OF_FIELD.items():
            value = getattr(self, field)
            if value is not None:
                env[variable] = value
        return Settings.from_env(env)


# What Dagster needs when it loads the code location (the first daily partition, the
# sensor's interval), read once from the environment, here.
LOAD_SETTINGS = Settings.from_env()

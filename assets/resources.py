"""The one resource: where the warehouse, landing folder and services are.

Values default to the environment (CONTRACT.md), so the CLI, the UI and the schedule
all agree; a test or a launchpad run can override the paths as resource config.
"""

from dataclasses import replace
from pathlib import Path

from dagster import ConfigurableResource

from pipeline.settings import Settings


class PapersResource(ConfigurableResource):
    """Settings for the papers warehouse; unset fields come from the environment."""

    landing_dir: str | None = None
    warehouse: str | None = None
    raw_archive: str | None = None

    def settings(self) -> Settings:
        settings = Settings.from_env()
        overrides = {
            "landing_dir": self.landing_dir,
            "warehouse_path": self.warehouse,
            "raw_archive_dir": self.raw_archive,
        }
        return replace(settings, **{k: Path(v) for k, v in overrides.items() if v is not None})

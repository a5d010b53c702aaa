"""A real PostgreSQL server for the tests: `initdb` and `pg_ctl` from the Debian
`postgresql` package, on a temporary folder and a free loopback port, stopped at the
end. Each test gets a database of its own (`new_database`).

PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user
the package creates.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from itertools import count
from pathlib import Path

import psycopg2

USER = "papers"


def server_bin_dir() -> Path | None:
    """The newest installed server's bin folder, or None when no server is installed."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: p.parts[-3])
    if found:
        return found[-1].parent
    on_path = shutil.which("pg_ctl")
    return Path(on_path).parent if on_path else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class PostgresServer:
    root: Path
    bin_dir: Path
    port: int = 0
    _names = count(1)

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def dsn(self, database: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user={USER} dbname={database}"

    def _run(self, *args: str) -> None:
        as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run(
            [*as_postgres, *args], check=True, capture_output=True, text=True, timeout=120
        )

    def start(self) -> PostgresServer:
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
        self._run(
            str(self.bin_dir / "initdb"), "-D", str(self.data_dir), "-A", "trust", "-U", USER,
            "-E", "UTF8", "--no-sync",
        )  # fmt: skip
        self.port = _free_port()
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c max_connections=200"
        )
        self._run(
            str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-o", options,
            "-l", str(self.root / "server.log"), "-w", "start",
        )  # fmt: skip
        return self

    def restart(self) -> None:
        """Drops every client connection, as a failover or a server upgrade would."""
        self._run(
            str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast",
            "-l", str(self.root / "server.log"), "-w", "restart",
        )  # fmt: skip

    def stop(self) -> None:
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "stop")

    def new_database(self) -> str:
        """A fresh, empty database; its connection string."""
        name = f"lake_{next(self._names)}"
        pg = psycopg2.connect(self.dsn())
        try:
            pg.autocommit = True
            with pg.cursor() as cursor:
                cursor.execute(f"CREATE DATABASE {name}")
        finally:
            pg.close()
        return self.dsn(name)


def start_server() -> PostgresServer | None:
    bin_dir = server_bin_dir()
    if bin_dir is None:
        return None
    root = Path(tempfile.mkdtemp(prefix="papers-pg-"))
    return PostgresServer(root, bin_dir).start()

"""A throw-away PostgreSQL cluster for the tests: initdb into a temp dir, serve on loopback.

PostgreSQL refuses to run as root, so as root the cluster belongs to the ``postgres`` user
(Debian's package makes it) or ``nobody``. Debian keeps ``initdb`` off PATH, under
``/usr/lib/postgresql/<version>/bin``; both places are searched.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg

from usagemock.testing import free_port

USER = "usagemock"


def find_bin() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl`` (the newest version), or None."""
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    return Path(found[-1]).parent if found else None


class Cluster:
    """One PostgreSQL server on 127.0.0.1, its data in a temp dir; databases made on demand."""

    def __init__(self, bin_dir: Path) -> None:
        self._bin = bin_dir
        self._owner = _owner()
        self.root = Path(tempfile.mkdtemp(prefix="usagemock-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self._names = itertools.count(1)
        if self._owner is not None:
            record = pwd.getpwnam(self._owner)
            os.chown(self.root, record.pw_uid, record.pw_gid)
        self._run(
            "initdb", "-D", str(self.data), "-A", "trust", "-U", USER, "-E", "UTF8",
            "--locale=C", "--no-sync", "--no-instructions",
        )  # fmt: skip
        self.start()

    def _run(self, program: str, *args: str) -> None:
        done = subprocess.run(
            [str(self._bin / program), *args],
            user=self._owner,
            cwd=self.root,  # the server's user may not enter the directory the tests run in
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{program} failed: {done.stdout}{done.stderr}")

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = (
            f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c full_page_writes=off -c max_connections=200"
        )
        log = str(self.root / "server.log")
        self._run("pg_ctl", "-D", str(self.data), "-l", log, "-o", options, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``fast``: clients are cut off, committed work is kept)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def running(self) -> bool:
        """Whether the server is up."""
        status = subprocess.run(
            [str(self._bin / "pg_ctl"), "-D", str(self.data), "status"],
            user=self._owner,
            cwd=self.root,
            capture_output=True,
            check=False,
        )
        return status.returncode == 0

    def url(self, database: str = "postgres") -> str:
        """The URL of one database of this server."""
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """The URL of a new, empty database."""
        name = f"state_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def remove(self) -> None:
        """Stop the server at once and delete its files."""
        try:
            self.stop("immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def _owner() -> str | None:
    """Who runs the server: None (this user) unless we are root, whom PostgreSQL refuses."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    raise RuntimeError("running as root with neither a postgres nor a nobody user to run as")

"""A throwaway PostgreSQL cluster for the test suite and the benchmarks.

    with TemporaryPostgres() as pg:
        pg.create_database("timeline_template")
        migrate(pg.url("timeline_template"))
        pg.create_database("t1", template="timeline_template")   # a cheap copy per test
        engine = sqlalchemy.create_engine(pg.url("t1"))

start() runs initdb into a new directory under tempfile.gettempdir() and starts the server on a free
loopback port; stop() shuts it down and deletes the directory. Durability stays at production
defaults (fsync=on, synchronous_commit=on): the benchmarks compare durable appends.

Set TIMELINE_TEST_POSTGRES_URL to use an existing server instead, as a SQLAlchemy URL without the
database name, e.g. `postgresql+psycopg://user:secret@db.internal:5432` (its user needs CREATEDB).
Then start() starts nothing, and stop() drops the databases this object created.
"""

from __future__ import annotations

import atexit
import json
import os
import pwd
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo
from sqlalchemy.engine import URL, make_url

ENV_URL = "TIMELINE_TEST_POSTGRES_URL"
SERVER_USER = "postgres"
DEBIAN_BINARIES = Path("/usr/lib/postgresql")  # Debian and Ubuntu install each major version's under here

# Run by a watchdog process that outlives us: when our end of its stdin closes — on a normal stop,
# or because this process died in any way (SIGKILL, os._exit from a timeout) — it stops the server
# and removes the directory if they are still there.
_WATCHDOG = """
import json, os, shutil, signal, subprocess, sys
signal.signal(signal.SIGINT, signal.SIG_IGN)
stop, directory = json.loads(sys.argv[1]), sys.argv[2]
sys.stdin.buffer.read()
if os.path.exists(os.path.join(directory, "postmaster.pid")):
    subprocess.run(stop, cwd=directory, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
shutil.rmtree(directory, ignore_errors=True)
"""


def find_bindir() -> Path:
    """The directory holding initdb and pg_ctl: the newest /usr/lib/postgresql/*/bin, pg_config's, or PATH's."""

    def version(bindir: Path) -> list[int]:
        return [int(part) if part.isdigit() else -1 for part in bindir.parent.name.split(".")]

    candidates = sorted(DEBIAN_BINARIES.glob("*/bin"), key=version, reverse=True)
    if shutil.which("pg_config"):
        result = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
        if result.returncode == 0:
            candidates.append(Path(result.stdout.strip()))
    if initdb := shutil.which("initdb"):
        candidates.append(Path(initdb).parent)
    for bindir in candidates:
        if (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            return bindir
    raise RuntimeError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found in /usr/lib/postgresql/*/bin, "
        "`pg_config --bindir` or PATH: install them (`apt-get install postgresql`), "
        f"or set {ENV_URL} to use an existing server"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class TemporaryPostgres:
    def __init__(self, settings: Mapping[str, object] | None = None, bindir: str | Path | None = None):
        """`settings` adds `-c name=value` server settings (they override the defaults below)."""
        self.settings = {
            "listen_addresses": "127.0.0.1",
            "fsync": "on",
            "synchronous_commit": "on",
            "max_connections": 200,
            "shared_buffers": "128MB",
            **(settings or {}),
        }
        self.bindir = Path(bindir) if bindir else None
        self.directory: Path | None = None
        self.port: int | None = None
        self._base: URL | None = None
        self._created: list[str] = []
        self._admin: psycopg.Connection | None = None
        self._watchdog: subprocess.Popen | None = None
        self._owner_pid = os.getpid()
        if external := os.environ.get(ENV_URL):
            self._base = make_url(external).set(drivername="postgresql+psycopg")
        self.external = bool(external)
        self._maintenance_db = (self._base.database if self._base else None) or "postgres"

    def __enter__(self) -> TemporaryPostgres:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- addresses ------------------------------------------------------------------------------

    def url(self, dbname: str) -> str:
        """A SQLAlchemy URL, e.g. postgresql+psycopg://postgres@127.0.0.1:PORT/dbname."""
        return self._url(dbname).render_as_string(hide_password=False)

    def dsn(self, dbname: str) -> str:
        """A libpq conninfo string, e.g. `host=127.0.0.1 port=PORT user=postgres dbname=dbname`."""
        url = self._url(dbname)
        params = {"host": url.host, "port": url.port, "user": url.username, "password": url.password}
        return make_conninfo(**params, dbname=dbname, **url.query)

    def _url(self, dbname: str) -> URL:
        if self._base is None:
            raise RuntimeError("the PostgreSQL server is not running: call start() first")
        return self._base.set(database=dbname)

    # -- databases ------------------------------------------------------------------------------

    def create_database(self, name: str, template: str | None = None) -> None:
        """Create database `name` (replacing any of that name), as a copy of `template` if given."""
        conn = self._connection()
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if template is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        else:
            # Copying fails while anyone else is connected to the template (say a pooled connection
            # left by the migration), so close those connections first.
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [template],
            )
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template))
            )
        self._created.append(name)

    def drop_database(self, name: str) -> None:
        conn = self._connection()
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if name in self._created:
            self._created.remove(name)

    def _connection(self) -> psycopg.Connection:
        if self._admin is None or self._admin.closed:
            self._admin = psycopg.connect(self.dsn(self._maintenance_db), autocommit=True)
        return self._admin

    # -- the server -----------------------------------------------------------------------------

    def start(self) -> TemporaryPostgres:
        if self.external or self.directory is not None:
            return self
        self.bindir = self.bindir or find_bindir()
        self._owner_pid = os.getpid()
        self.directory = Path(tempfile.mkdtemp(prefix="timeline-postgres-"))
        atexit.register(self.stop)
        try:
            if os.geteuid() == 0:
                user = _server_user()
                os.chown(self.directory, user.pw_uid, user.pw_gid)  # it is still empty: no need for -R
            stop = self._as_server_user(
                [str(self.bindir / "pg_ctl"), "-D", str(self.directory), "-m", "immediate", "-w", "stop"]
            )
            self._watchdog = subprocess.Popen(
                [sys.executable, "-I", "-c", _WATCHDOG, json.dumps(stop), str(self.directory)],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # a Ctrl-C at the terminal must not kill it before it has cleaned up
            )
            self._run("initdb", "-D", self.directory, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
            self._start_server()
        except BaseException:
            self.stop()
            raise
        self._base = URL.create("postgresql+psycopg", username="postgres", host="127.0.0.1", port=self.port)
        return self

    def _start_server(self) -> None:
        log = self.directory / "server.log"
        for attempt in range(3):
            # Another process can take the port between free_port() closing it and the server binding it.
            self.port = free_port()
            settings = " ".join(f"-c {shlex.quote(f'{name}={value}')}" for name, value in self.settings.items())
            options = f"-p {self.port} -k {shlex.quote(str(self.directory))} {settings}"
            log.unlink(missing_ok=True)
            result = self._run(
                "pg_ctl", "-D", self.directory, "-l", log, "-w", "-t", "60", "start", "-o", options, check=False
            )
            if result.returncode == 0:
                return
            output = log.read_text(errors="replace") if log.exists() else ""
            if "Address already in use" not in output or attempt == 2:
                raise RuntimeError(f"pg_ctl start failed:\n{result.stdout}{result.stderr}\n{log}:\n{output}")

    def stop(self) -> None:
        """Stop the server and delete its directory; safe to call twice. Never raises for a dead server."""
        if os.getpid() != self._owner_pid:
            return  # a forked child: the cluster belongs to the parent
        if self._admin is not None:
            try:
                if self.external:
                    for name in list(self._created):
                        self.drop_database(name)
            finally:
                self._admin.close()
                self._admin = None
        directory, self.directory = self.directory, None
        if directory is None:
            return
        atexit.unregister(self.stop)
        try:
            for mode in ("fast", "immediate"):
                if not (directory / "postmaster.pid").exists():
                    break
                self._run("pg_ctl", "-D", directory, "-m", mode, "-w", "-t", "60", "stop", check=False, cwd=directory)
        finally:
            shutil.rmtree(directory, ignore_errors=True)
            self._base = None
            if self._watchdog is not None:
                self._watchdog.stdin.close()  # nothing left to clean: it just exits
                self._watchdog.wait(timeout=30)
                self._watchdog = None

    def _run(self, program: str, *args, check: bool = True, cwd: Path | None = None) -> subprocess.CompletedProcess:
        argv = self._as_server_user([str(self.bindir / program), *map(str, args)])
        # cwd: the server user may not be allowed into our working directory (/root, say).
        result = subprocess.run(
            argv,
            cwd=cwd or self.directory,
            capture_output=True,
            text=True,
            timeout=120,
            start_new_session=True,  # the server must not get the terminal's Ctrl-C before we stop it
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"{shlex.join(argv)} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
        return result

    @staticmethod
    def _as_server_user(argv: list[str]) -> list[str]:
        # PostgreSQL refuses to run as root (a compromised server would own the machine), so as root
        # run initdb and pg_ctl as the `postgres` user, which owns the data directory.
        if os.geteuid() != 0:
            return argv
        if shutil.which("runuser"):
            return ["runuser", "-u", SERVER_USER, "--", *argv]
        return ["su", SERVER_USER, "-s", "/bin/sh", "-c", shlex.join(argv)]


def _server_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(SERVER_USER)
    except KeyError:
        raise RuntimeError(
            f"running as root, and PostgreSQL refuses to run as root; there is no `{SERVER_USER}` user "
            "to run it as (`apt-get install postgresql` creates one)"
        ) from None

"""Throwaway PostgreSQL, MariaDB and Redis servers on loopback for tests (and examples' tests).

Each class starts a private instance on 127.0.0.1 on a free port, data and unix socket in its
own temp dir, and offers ``.url`` (an SQLAlchemy / redis URL), ``.stop()`` / ``.start()``
(repeatable, same port and data: "the database went away and came back") and ``.close()``
(kills the process, removes the dir; also run by atexit as a backstop). Nothing here depends
on pytest or on a server already running. PostgreSQL and MariaDB refuse to run as root, so
as root their processes run as the ``postgres`` / ``mysql`` user (``Popen(user=...)``) and
the temp dir is theirs. See docs/decisions/015-test-servers.md.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

START_TIMEOUT = 30.0
_LIVE: set[_Server] = set()


def free_port() -> int:
    """A port that was free a moment ago (the server binds it right after)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def unique_name(prefix: str = "t") -> str:
    """A database name that no other test uses (letters, digits, underscore)."""
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def _die_with_parent() -> None:  # pragma: no cover - runs in the forked child
    # Linux: the server gets SIGTERM when the test process dies, even by SIGKILL.
    with contextlib.suppress(Exception):
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@atexit.register
def _close_all() -> None:
    for server in list(_LIVE):
        server.close()


class ServerError(RuntimeError):
    """The server did not start (the message holds the tail of its log)."""


class _Server:
    """One server process with its data in a private temp dir."""

    name = "server"
    run_as: str | None = None  # the unprivileged user to run as when we are root

    def __init__(self) -> None:
        missing = self.missing()
        if missing:
            raise ServerError(missing)
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix=f"erlen-{self.name}-"))
        self._user: str | None = None
        if os.geteuid() == 0 and self.run_as:
            self._user = self.run_as
            entry = pwd.getpwnam(self.run_as)
            os.chown(self.dir, entry.pw_uid, entry.pw_gid)
        self.log_path = self.dir / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.startup_seconds = 0.0  # of the first start(), including initialization
        _LIVE.add(self)
        try:
            began = time.monotonic()
            self.initialize()
            self.start()
            self.startup_seconds = time.monotonic() - began
        except BaseException:
            self.close()
            raise

    # -- to override -----------------------------------------------------------------
    @classmethod
    def missing(cls) -> str | None:
        """Why this server cannot run here (a missing binary), or None."""
        raise NotImplementedError

    def initialize(self) -> None:
        """Create the data directory (once)."""

    def command(self) -> list[str]:
        raise NotImplementedError

    def ping(self) -> None:
        """Raise unless the server accepts connections and answers."""
        raise NotImplementedError

    @property
    def url(self) -> str:
        raise NotImplementedError

    # -- lifecycle -------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def _run(self, args: list[str]) -> None:
        """Run a setup command (as the server user), raising with its output on failure."""
        done = subprocess.run(
            args, cwd=self.dir, user=self._user, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=START_TIMEOUT,
        )  # fmt: skip
        if done.returncode:
            output = done.stdout.decode(errors="replace")[-3000:]
            raise ServerError(f"{self.name}: {args[0]} failed ({done.returncode}):\n{output}")

    def start(self) -> None:
        """Start the server (no-op when running) and wait until it answers queries."""
        if self.running:
            return
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                self.command(), cwd=self.dir, user=self._user, stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                preexec_fn=_die_with_parent,
            )  # fmt: skip
        deadline = time.monotonic() + START_TIMEOUT
        error: Exception | None = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                self.ping()
                return
            except Exception as exc:  # not up yet
                error = exc
                time.sleep(0.05)
        code = self.proc.poll()
        self._kill()
        state = f"exited with {code}" if code is not None else f"not up in {START_TIMEOUT:.0f}s"
        raise ServerError(
            f"{self.name} on 127.0.0.1:{self.port} {state} (last error: {error!r}); "
            f"log tail:\n{self.log_tail()}"
        )

    def stop(self) -> None:
        """Shut the server down cleanly (no-op when stopped); port and data stay."""
        if not self.running:
            return
        assert self.proc is not None
        self.shutdown()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self._kill()

    def shutdown(self) -> None:
        assert self.proc is not None
        self.proc.terminate()

    def _kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def close(self) -> None:
        """Kill the process, remove the temp dir. Idempotent."""
        try:
            if self.running:
                try:
                    self.stop()
                finally:
                    self._kill()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
            _LIVE.discard(self)

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> _Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<{type(self).__name__} 127.0.0.1:{self.port} {state}>"


def _pg_bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


class PostgresServer(_Server):
    """PostgreSQL with trust auth for user ``postgres``, fsync off (throwaway data)."""

    name = "postgres"
    run_as = "postgres"

    @classmethod
    def missing(cls) -> str | None:
        if not (_pg_bin("postgres") and _pg_bin("initdb")):
            return "PostgreSQL is not installed (run `make system-deps`)"
        return None

    def initialize(self) -> None:
        self._run([
            str(_pg_bin("initdb")), "-D", str(self.dir / "data"), "-A", "trust", "-U", "postgres",
            "--no-sync", "-E", "UTF8", "--locale=C", "--no-instructions",
        ])  # fmt: skip

    def command(self) -> list[str]:
        return [
            str(_pg_bin("postgres")), "-D", str(self.dir / "data"), "-p", str(self.port),
            "-k", str(self.dir), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
            "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
            "-c", "max_connections=200", "-c", "logging_collector=off",
        ]  # fmt: skip

    def shutdown(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGINT)  # "fast" shutdown: disconnects clients

    def url_for(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    @property
    def url(self) -> str:
        return self.url_for("postgres")

    def _connect(self) -> Any:
        import psycopg

        return psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres",
            autocommit=True, connect_timeout=2,
        )  # fmt: skip

    def ping(self) -> None:
        with self._connect() as conn:
            conn.execute("SELECT 1")

    def create_database(self, name: str | None = None) -> str:
        """Create an empty database (a unique name by default); returns its URL."""
        name = name or unique_name()
        with self._connect() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        """Drop it even while connections are open (they are terminated)."""
        with self._connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def list_databases(self) -> list[str]:
        with self._connect() as conn:
            rows = conn.execute("SELECT datname FROM pg_database WHERE NOT datistemplate")
            return [row[0] for row in rows]


class MariaDBServer(_Server):
    """MariaDB with ``root`` (no password) on 127.0.0.1, no binlog, small buffers."""

    name = "mariadb"
    run_as = "mysql"

    @classmethod
    def missing(cls) -> str | None:
        if not (cls._mariadbd() and cls._install_db()):
            return "MariaDB is not installed (run `make system-deps`)"
        return None

    @staticmethod
    def _mariadbd() -> str | None:
        path = "/usr/sbin/mariadbd"
        return path if os.access(path, os.X_OK) else shutil.which("mariadbd")

    @staticmethod
    def _install_db() -> str | None:
        return shutil.which("mariadb-install-db") or shutil.which("mysql_install_db")

    def initialize(self) -> None:
        self._run([
            str(self._install_db()), "--no-defaults", f"--datadir={self.dir / 'data'}",
            "--auth-root-authentication-method=normal", "--skip-test-db", "--skip-name-resolve",
        ])  # fmt: skip

    def command(self) -> list[str]:
        return [
            str(self._mariadbd()), "--no-defaults", f"--datadir={self.dir / 'data'}",
            f"--socket={self.dir / 'mysqld.sock'}", f"--pid-file={self.dir / 'mysqld.pid'}",
            f"--port={self.port}", "--bind-address=127.0.0.1", "--skip-name-resolve",
            "--skip-log-bin", "--performance-schema=OFF", "--innodb-buffer-pool-size=32M",
            "--innodb-flush-log-at-trx-commit=0", "--skip-innodb-doublewrite",
            "--character-set-server=utf8mb4", "--collation-server=utf8mb4_unicode_ci",
            "--max-connections=200",
        ]  # fmt: skip

    def url_for(self, database: str) -> str:
        return f"mysql+pymysql://root@127.0.0.1:{self.port}/{database}?charset=utf8mb4"

    @property
    def url(self) -> str:
        return self.url_for("mysql")

    def _connect(self) -> Any:
        import pymysql

        return pymysql.connect(
            host="127.0.0.1", port=self.port, user="root", autocommit=True, connect_timeout=2
        )

    def ping(self) -> None:
        conn = self._connect()
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT 1")
        finally:
            conn.close()

    def create_database(self, name: str | None = None) -> str:
        """Create an empty utf8mb4 database (a unique name by default); returns its URL."""
        name = name or unique_name()
        conn = self._connect()
        try:
            with conn.cursor() as cur:
                cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        finally:
            conn.close()
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        """Drop it; connections still using it are killed first (they would block on locks)."""
        conn = self._connect()
        try:
            with conn.cursor() as cur:
                cur.execute(
                    "SELECT id FROM information_schema.processlist WHERE db = %s AND id <> "
                    "CONNECTION_ID()", (name,)
                )  # fmt: skip
                for (thread_id,) in cur.fetchall():
                    with contextlib.suppress(Exception):
                        cur.execute(f"KILL {int(thread_id)}")
                cur.execute("SET SESSION lock_wait_timeout = 20")
                cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        finally:
            conn.close()

    def list_databases(self) -> list[str]:
        conn = self._connect()
        try:
            with conn.cursor() as cur:
                cur.execute("SHOW DATABASES")
                return [row[0] for row in cur.fetchall()]
        finally:
            conn.close()


class RedisServer(_Server):
    """redis-server without persistence except on stop() (SHUTDOWN SAVE keeps the data)."""

    name = "redis"

    @classmethod
    def missing(cls) -> str | None:
        if not shutil.which("redis-server"):
            return "redis-server is not installed (run `make system-deps`)"
        return None

    def command(self) -> list[str]:
        return [
            str(shutil.which("redis-server")), "--port", str(self.port), "--bind", "127.0.0.1",
            "--dir", str(self.dir), "--save", "", "--appendonly", "no", "--daemonize", "no",
            "--unixsocket", str(self.dir / "redis.sock"), "--protected-mode", "no",
            "--databases", "16",
        ]  # fmt: skip

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def command_reply(self, *args: str) -> bytes:
        """Send one command (RESP) and return the first reply line, e.g. b'+PONG'."""
        parts = [f"*{len(args)}\r\n".encode()]
        for arg in args:
            data = arg.encode()
            parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as sock:
            sock.sendall(b"".join(parts))
            reply = b""
            while not reply.endswith(b"\r\n"):
                chunk = sock.recv(4096)
                if not chunk:
                    break
                reply += chunk
        return reply.split(b"\r\n", 1)[0]

    def ping(self) -> None:
        reply = self.command_reply("PING")
        if reply != b"+PONG":
            raise ServerError(f"redis answered {reply!r}")

    def flushall(self) -> None:
        reply = self.command_reply("FLUSHALL")
        if reply != b"+OK":
            raise ServerError(f"FLUSHALL answered {reply!r}")

    def shutdown(self) -> None:
        # SHUTDOWN SAVE writes dump.rdb even with `--save ''`; start() loads it again
        try:
            self.command_reply("SHUTDOWN", "SAVE")
        except OSError:
            assert self.proc is not None
            self.proc.terminate()

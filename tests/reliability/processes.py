"""Services as real OS processes (`python -m services.X`), as `scripts/stack.sh` starts
them: started, waited for, killed with SIGKILL or stopped with SIGTERM, with a log file
each, plus the Kafka and PostgreSQL instance the reliability suite owns."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from tests.infra import ROOT, STATE, NativeKafka, NativePostgres
from tests.integration.alerting_support import free_port, wait_for

PORT_OFFSET = 100
"""The suite's own broker and database listen this far above the session's test ports."""


def own_kafka() -> NativeKafka:
    """The reliability suite's broker: its own ports and state folder, so restarting it
    leaves the session's broker alone."""
    base = NativeKafka()
    return NativeKafka(
        port=base.port + PORT_OFFSET,
        controller_port=base.controller_port + PORT_OFFSET,
        home=STATE / "reliability" / "kafka",
    )


def own_postgres() -> NativePostgres:
    """The reliability suite's PostgreSQL server (its own port and data folder)."""
    return NativePostgres(
        port=NativePostgres().port + PORT_OFFSET, data=STATE / "reliability" / "postgres"
    )


@dataclass
class Service:
    """One service instance: `python -m <module>` with `env` on a port of its own."""

    name: str
    module: str
    env: dict[str, str]
    logs: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0
    _log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def spawn(self) -> None:
        """Start the process (without waiting for it to answer)."""
        self.starts += 1
        self.logs.mkdir(parents=True, exist_ok=True)
        self._close_log()
        self._log = (self.logs / f"{self.name}.{self.starts}.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", self.module],
            cwd=ROOT,
            env={**os.environ, **self.env, "HTTP_PORT": str(self.port)},
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    async def start(self, within: float = 60) -> None:
        """Start the process and wait until it answers `/healthz`."""
        self.spawn()
        await self.healthy(within)

    async def healthy(self, within: float = 60) -> None:
        async def answers() -> bool:
            if not self.running:
                raise AssertionError(f"{self.name} exited; see {self.logs}/{self.name}.*.log")
            try:
                async with httpx.AsyncClient(timeout=2) as client:
                    return (await client.get(f"{self.url}/healthz")).status_code == 200
            except httpx.HTTPError:
                return False

        await wait_for(answers, within=within, every=0.2)

    def kill(self) -> None:
        """SIGKILL: no shutdown of any kind, in-flight work is simply lost."""
        if self.process is not None and self.running:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    async def stop(self, within: float = 30) -> None:
        """SIGTERM (a graceful shutdown), SIGKILL if it takes longer than `within`."""
        if self.process is not None and self.running:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(self.process.wait, within)
            except subprocess.TimeoutExpired:
                self.kill()
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


async def run_module(module: str, *args: str, env: dict[str, str]) -> str:
    """Run `python -m module args` to completion; return its standard output."""
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"{module} failed: {done.stderr.decode()[-2000:]}")
    return done.stdout.decode()

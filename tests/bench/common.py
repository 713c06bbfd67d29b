"""Benchmark plumbing: a broker of its own, services as real processes, wrk, reports."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.infra import ROOT, STATE, NativeKafka, NativePostgres

RESULTS = ROOT / "bench-results"


@contextmanager
def bench_infrastructure(*, postgres: bool = False) -> Iterator[dict[str, str]]:
    """Start a broker (and a database) on bench ports; stop them afterwards."""
    kafka = NativeKafka(port=29092, controller_port=29093, home=STATE.parent / "bench" / "kafka")
    pg = NativePostgres(port=25432, data=STATE.parent / "bench" / "postgres")
    kafka.reset()
    kafka.start()
    env = {"KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{kafka.port}"}
    if postgres:
        pg.reset()
        pg.start()
        env["DATABASE_URL"] = pg.url
    try:
        yield env
    finally:
        kafka.stop()
        if postgres:
            pg.stop()


@contextmanager
def service(module: str, port: int, env: dict[str, str]) -> Iterator[str]:
    """Run `python -m module` listening on `port`; yield its base URL once healthy."""
    log = open(RESULTS / f"{module.rsplit('.', 1)[-1]}.log", "w")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", module],
        cwd=ROOT,
        env={**os.environ, **env, "HTTP_PORT": str(port), "LOG_LEVEL": "WARNING"},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"{module} did not become ready; see {log.name}")
            time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        process.wait(30)
        log.close()


def wrk(
    url: str,
    *,
    body: bytes,
    headers: dict[str, str],
    seconds: int,
    connections: int,
    threads: int = 1,
) -> dict[str, float]:
    """Load `url` with POSTs of `body` using wrk; return requests/s and latency percentiles."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (scripts/bench.sh installs it)")
    body_file = RESULTS / "wrk-body.json"
    body_file.write_bytes(body)
    script = RESULTS / "wrk-post.lua"
    header_lines = "\n".join(f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items())
    script.write_text(
        f'wrk.method = "POST"\nlocal f = io.open("{body_file}", "rb")\n'
        f'wrk.body = f:read("*a")\nf:close()\n{header_lines}\n'
    )
    result = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    out = result.stdout
    (RESULTS / "wrk-last.txt").write_text(out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {
        "requests_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50_ms": _ms(re.search(r"\s50%\s+([\d.]+\w+)", out).group(1)),  # type: ignore[union-attr]
        "p99_ms": _ms(re.search(r"\s99%\s+([\d.]+\w+)", out).group(1)),  # type: ignore[union-attr]
        "non_2xx": float(errors.group(1)) if errors else 0.0,
        "socket_errors": socket_errors.group(1) if socket_errors else "none",  # type: ignore[dict-item]
    }


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def write_report(name: str, payload: dict[str, object]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2))
    return path

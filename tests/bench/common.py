"""Benchmark plumbing: a broker of its own, services as real processes, wrk, reports."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.infra import ROOT, STATE, NativeKafka, NativePostgres

RESULTS = ROOT / "bench-results"
SECONDS = int(os.environ.get("BENCH_SECONDS", "15"))
"""Length of each measured run."""
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
"""Requests in flight of the HTTP load runs (wrk connections, the bare clients' tasks)."""


PEAK_RSS_MIB: dict[str, float] = {}
"""Peak resident memory of each service `service()` ran in this process, by module's last
part (`garden`, `bare_http`); `write_report` adds it to the report as `peak_rss_mib`."""


def peak_rss_mib(pid: int) -> float:
    """The peak resident set (VmHWM) of a process and its children (uvicorn workers), MiB."""
    total = 0.0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            with open(f"/proc/{current}/status") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        total += int(line.split()[1]) / 1024
            for task in Path(f"/proc/{current}/task").iterdir():
                pending.extend(int(c) for c in (task / "children").read_text().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total if total else float("nan")


def bench_ports() -> tuple[int, int, int]:
    """Kafka, Kafka controller and PostgreSQL ports of the benchmarks (`BENCH_KAFKA_PORT`,
    `BENCH_KAFKA_CONTROLLER_PORT`, `BENCH_PG_PORT`; 29092, 29093, 25432 by default)."""
    return (
        int(os.environ.get("BENCH_KAFKA_PORT", "29092")),
        int(os.environ.get("BENCH_KAFKA_CONTROLLER_PORT", "29093")),
        int(os.environ.get("BENCH_PG_PORT", "25432")),
    )


@contextmanager
def bench_infrastructure(*, postgres: bool = False) -> Iterator[dict[str, str]]:
    """Start a broker (and a database) on bench ports; stop them afterwards."""
    kafka_port, controller_port, pg_port = bench_ports()
    home = STATE.parent / "bench"
    kafka = NativeKafka(port=kafka_port, controller_port=controller_port, home=home / "kafka")
    pg = NativePostgres(port=pg_port, data=home / "postgres")
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
        if process.poll() is None:
            PEAK_RSS_MIB[module.rsplit(".", 1)[-1]] = peak_rss_mib(process.pid)
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
    body_file = RESULTS / "wrk-body.json"
    body_file.write_bytes(body)
    header_lines = "\n".join(f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items())
    script = (
        f'wrk.method = "POST"\nlocal f = io.open("{body_file}", "rb")\n'
        f'wrk.body = f:read("*a")\nf:close()\n{header_lines}\n'
    )
    return wrk_lua(url, script, seconds=seconds, connections=connections, threads=threads)


def lua_string(value: str) -> str:
    """A Lua string literal of `value`."""
    return json.dumps(value)  # a JSON string of printable ASCII is a valid Lua literal


def lua_rotation(requests: Sequence[tuple[str, str, dict[str, str]]]) -> str:
    """A wrk script sending `requests` ((method, path, headers) each) in turn, again and again."""
    lines = ["local requests = {}"]
    for method, path, headers in requests:
        fields = ", ".join(f"[{lua_string(k)}] = {lua_string(v)}" for k, v in headers.items())
        lines.append(
            f"requests[#requests + 1] = wrk.format({lua_string(method)}, {lua_string(path)}, "
            f"{{{fields}}})"
        )
    lines.append(
        "local i = 0\nrequest = function()\n  i = i % #requests + 1\n  return requests[i]\nend"
    )
    return "\n".join(lines) + "\n"


def wrk_lua(
    url: str, script: str, *, seconds: int, connections: int, threads: int = 1
) -> dict[str, float]:
    """Load `url` with wrk running the Lua `script`; return requests/s, the request count,
    latency percentiles and the non-2xx answers."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (scripts/bench.sh installs it)")
    path = RESULTS / "wrk-script.lua"
    path.write_text(script)
    result = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(path),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 60,
    )
    out = result.stdout
    (RESULTS / "wrk-last.txt").write_text(out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {
        "requests_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "requests": float(re.search(r"(\d+) requests in", out).group(1)),  # type: ignore[union-attr]
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
    """Write `bench-results/<name>.json`, with the peak RSS of the services it ran."""
    RESULTS.mkdir(exist_ok=True)
    if PEAK_RSS_MIB and "peak_rss_mib" not in payload:
        payload = {**payload, "peak_rss_mib": dict(PEAK_RSS_MIB)}
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2))
    return path


def print_rates(report: dict[str, Any], names: Sequence[str], unit: str = "req/s") -> None:
    """Print a table of runs: rate, p50, p99, the ratio to the baseline and non-2xx answers."""
    print(f"  {'':26}{unit:>14}{'p50 ms':>9}{'p99 ms':>9}{'ratio':>8}{'non-2xx':>9}")
    for name in names:
        r = report[name]
        ratio = f"{r['ratio']:.2f}" if "ratio" in r else ""
        print(
            f"  {name:26}{r['requests_per_s']:>14,.0f}{r['p50_ms']:>9.1f}{r['p99_ms']:>9.1f}"
            f"{ratio:>8}{r.get('non_2xx', 0):>9.0f}"
        )

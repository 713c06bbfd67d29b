"""The stack script's Prometheus: its native config is valid and scrapes every service, and
`scripts/stack.sh prometheus-up` / `prometheus-down` start and stop it cleanly (ready on
its port, then no process left and the port free), here alone, on a free port, with its
state in a temporary folder (`STACK_LOCAL`)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest
import yaml

from tests.infra import ROOT

STACK = ROOT / "scripts" / "stack.sh"
SERVICES = {"ingest": 8001, "scoring": 8002, "alerting": 8003, "garden": 8004, "rewards": 8005}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie waiting to be reaped counts as gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


def _stack(action: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(STACK), action],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.fail("promtool is missing: `make test` installs Debian's prometheus package")
    return found


def test_the_native_config_scrapes_every_service_and_loads_the_alert_rules(
    tmp_path: Path, promtool: str
) -> None:
    result = _stack("prometheus-config", {"STACK_LOCAL": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    config = tmp_path / "prometheus.yml"
    config.write_text(result.stdout)
    checked = subprocess.run(
        [promtool, "check", "config", str(config)], capture_output=True, text=True, timeout=60
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    parsed = yaml.safe_load(result.stdout)
    assert parsed["rule_files"] == [str(ROOT / "deploy" / "prometheus" / "alerts.yml")]
    (job,) = parsed["scrape_configs"]
    assert job["job_name"] == "service-garden"  # the job the alert rules name
    scraped = {c["labels"]["service"]: c["targets"] for c in job["static_configs"]}
    assert scraped == {name: [f"127.0.0.1:{port}"] for name, port in SERVICES.items()}


def test_prometheus_starts_ready_and_stops_without_leaving_a_process(
    tmp_path: Path, promtool: str
) -> None:
    port = _free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s}\n"
        f"rule_files: [{ROOT / 'deploy' / 'prometheus' / 'alerts.yml'}]\n"
        "scrape_configs:\n"
        "  - job_name: self\n"
        f"    static_configs: [{{targets: ['127.0.0.1:{port}']}}]\n"
    )
    env = {"STACK_LOCAL": str(tmp_path), "PROMETHEUS_PORT": str(port)}
    env["PROMETHEUS_CONFIG"] = str(config)
    pidfile = tmp_path / "run" / "prometheus.pid"
    try:
        started = _stack("prometheus-up", env)
        assert started.returncode == 0, started.stdout + started.stderr
        assert f"Prometheus up: http://127.0.0.1:{port}" in started.stdout
        pid = int(pidfile.read_text())
        assert _alive(pid)
        assert httpx.get(f"http://127.0.0.1:{port}/-/ready", timeout=5).status_code == 200
        rules = httpx.get(f"http://127.0.0.1:{port}/api/v1/rules", timeout=5).json()
        loaded = {r["name"] for g in rules["data"]["groups"] for r in g["rules"]}
        assert {"ConsumerLagHigh", "ServiceDown"} <= loaded
        assert (tmp_path / "prometheus" / "data").is_dir()  # its data stays in its own folder

        again = _stack("prometheus-up", env)  # a second start finds it running
        assert again.returncode == 0 and "prometheus already running" in again.stdout
        assert int(pidfile.read_text()) == pid

        stopped = _stack("prometheus-down", env)
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr
        deadline = time.monotonic() + 5
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(pid)
        assert not pidfile.exists()
        assert _port_free(port)
        assert "TSDB" in (tmp_path / "logs" / "prometheus.log").read_text()
    finally:
        _stack("prometheus-down", env)


def test_a_port_held_by_another_prometheus_is_refused(tmp_path: Path, promtool: str) -> None:
    port = _free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text("global: {scrape_interval: 1m}\n")
    first = {"STACK_LOCAL": str(tmp_path / "a"), "PROMETHEUS_PORT": str(port)}
    second = {**first, "STACK_LOCAL": str(tmp_path / "b")}
    for env in (first, second):
        env["PROMETHEUS_CONFIG"] = str(config)
    try:
        assert _stack("prometheus-up", first).returncode == 0
        refused = _stack("prometheus-up", second)
        assert refused.returncode != 0
        assert "set PROMETHEUS_PORT" in refused.stderr
    finally:
        _stack("prometheus-down", first)
        _stack("prometheus-down", second)

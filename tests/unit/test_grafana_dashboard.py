"""The Grafana dashboard: provisioned in docker-compose with the compose Prometheus as its data
source, every query valid PromQL (`promtool check rules` on the queries as recording rules),
and a panel for each thing operators follow. That the metric names exist is
tests/integration/test_metric_names.py's check, against the services' live `/metrics`."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.infra import ROOT
from tests.promql import metric_names

DEPLOY = ROOT / "deploy"
GRAFANA = DEPLOY / "grafana"
DASHBOARDS = sorted((GRAFANA / "dashboards").glob("*.json"))
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__interval": "1m", "$__range": "1h"}

# What operators follow, and a metric each panel about it must read.
FOLLOWED = {
    "ingest rate": "ingest_events_accepted_total",
    "ingest rejections": "ingest_events_rejected_total",
    "consumer lag per group": "consumer_lag_records",
    "processing latency": "consumer_batch_seconds_bucket",
    "days settled": "scoring_days_settled_total",
    "incidents by level": "alerting_open_incidents",
    "SMS by outcome": "alerting_sms_total",
    "plants by state": "garden_plants",
    "harvests": "garden_fruit_harvested_total",
    "redemptions": "rewards_redemptions_total",
    "outbox backlog": "outbox_oldest_pending_age_seconds",
    "dead letters": "consumer_records_total",
}


def _panels(path: Path) -> list[dict[str, Any]]:
    return list(json.loads(path.read_text())["panels"])


def _queries(path: Path) -> list[str]:
    return [t["expr"] for p in _panels(path) for t in p["targets"]]


def _plain(expr: str) -> str:
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    assert "$" not in re.sub(r'"[^"]*"', "", expr), f"unknown Grafana variable in {expr}"
    return expr


def test_there_is_a_dashboard() -> None:
    assert [p.name for p in DASHBOARDS] == ["service-garden.json"]


def test_compose_provisions_grafana_with_the_compose_prometheus() -> None:
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    grafana = compose["services"]["grafana"]
    mounts = {m.split(":")[1]: DEPLOY / m.split(":")[0] for m in grafana["volumes"]}
    assert mounts["/etc/grafana/provisioning"] == DEPLOY / "grafana" / "provisioning"
    assert mounts["/var/lib/grafana/dashboards"] == GRAFANA / "dashboards"
    assert all(path.resolve().is_dir() for path in mounts.values())
    (source,) = yaml.safe_load(
        (GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text()
    )["datasources"]
    assert source["type"] == "prometheus" and source["url"] == "http://prometheus:9090"
    assert "prometheus" in compose["services"]
    (provider,) = yaml.safe_load(
        (GRAFANA / "provisioning" / "dashboards" / "service-garden.yml").read_text()
    )["providers"]
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards"
    for path in DASHBOARDS:
        for panel in _panels(path):
            uids = {panel["datasource"]["uid"]} | {t["datasource"]["uid"] for t in panel["targets"]}
            assert uids == {source["uid"]}, panel["title"]


def test_compose_runs_and_prometheus_scrapes_every_service() -> None:
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    scrape = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    targets = {
        c["labels"]["service"]: c["targets"][0]
        for job in scrape["scrape_configs"]
        for c in job["static_configs"]
    }
    services = sorted(p.parent.name for p in (ROOT / "services").glob("*/app.py"))
    assert sorted(targets) == services
    for name, target in targets.items():
        port = target.split(":")[1]
        assert target == f"{name}:{port}"
        assert compose["services"][name]["environment"]["HTTP_PORT"] == int(port)


def test_every_query_is_valid_promql(tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is missing: `make test` installs Debian's prometheus package")
    queries = [q for path in DASHBOARDS for q in _queries(path)]
    rules = {
        "groups": [
            {
                "name": "dashboard",
                "rules": [
                    {"record": f"dashboard:query_{n}", "expr": _plain(q)}
                    for n, q in enumerate(queries)
                ],
            }
        ]
    }
    path = tmp_path / "dashboard-queries.yml"
    path.write_text(yaml.safe_dump(rules))
    result = subprocess.run(
        [promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_panel_for_everything_operators_follow() -> None:
    (path,) = DASHBOARDS
    read = set().union(*(metric_names(q) for q in _queries(path)))
    missing = {what: name for what, name in FOLLOWED.items() if name not in read}
    assert not missing


def test_panels_do_not_overlap_and_have_unique_ids() -> None:
    for path in DASHBOARDS:
        panels = _panels(path)
        assert len({p["id"] for p in panels}) == len(panels)
        cells = [
            (p["gridPos"]["x"] + dx, p["gridPos"]["y"] + dy)
            for p in panels
            for dx in range(p["gridPos"]["w"])
            for dy in range(p["gridPos"]["h"])
        ]
        assert len(cells) == len(set(cells))
        assert all(p["gridPos"]["x"] + p["gridPos"]["w"] <= 24 for p in panels)
        assert all(p["title"] and p["description"] and p["targets"] for p in panels)

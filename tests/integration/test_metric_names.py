"""Every metric the Grafana dashboard and the Prometheus alert rules read is served by a
service: the five apps run (lifespans started) on the test Kafka and databases of their own,
get a little traffic, and their live `/metrics` texts are read. A name in a panel or a
rule that no `/metrics` serves fails the test.

Names come out of the PromQL by its tokens (`tests/promql.py`: functions, keywords,
labels and Grafana variables are not names); a family counts as served from its `# TYPE`
line, with the series Prometheus stores for it (`_bucket`, `_count`, `_sum` of a
histogram), so a labelled metric with no child yet is found too. `up` and the other
series Prometheus writes itself are served by no service and are allowed."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import httpx
import pytest
import yaml

from shared.auth.tokens import mint_token
from tests.events_factory import call
from tests.infra import ROOT
from tests.integration.conftest import ALL_KEY, own_database
from tests.integration.test_api_fuzz import APPS, SECRET
from tests.promql import SYNTHETIC, metric_names, served_names

pytestmark = pytest.mark.integration

DASHBOARDS = sorted((ROOT / "deploy" / "grafana" / "dashboards").glob("*.json"))
RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"


def dashboard_queries() -> dict[str, str]:
    """`file: panel title [refId]` → expression, for every query of every dashboard."""
    queries: dict[str, str] = {}
    for path in DASHBOARDS:
        for panel in json.loads(path.read_text())["panels"]:
            for target in panel.get("targets", []):
                where = f"{path.name}: {panel['title']} [{target['refId']}]"
                queries[where] = target["expr"]
    return queries


def rule_queries() -> dict[str, str]:
    """`alerts.yml: rule name` → expression."""
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return {
        f"alerts.yml: {rule.get('alert') or rule['record']}": rule["expr"]
        for group in groups
        for rule in group["rules"]
    }


def unserved(queries: dict[str, str], served: set[str]) -> dict[str, set[str]]:
    """The names each query reads that nothing serves."""
    missing = {where: metric_names(expr) - served - SYNTHETIC for where, expr in queries.items()}
    return {where: names for where, names in missing.items() if names}


@pytest.fixture(scope="module")
async def exposition(kafka: str, database: str) -> AsyncIterator[dict[str, str]]:
    """The `/metrics` text of each running service, after a little traffic."""
    admin = {"Authorization": "Bearer " + mint_token(secret=SECRET, subject="ops", role="admin")}
    texts: dict[str, str] = {}
    async with AsyncExitStack() as stack:
        clients: dict[str, httpx.AsyncClient] = {}
        for name, factory in sorted(APPS.items()):
            url = await stack.enter_async_context(own_database(database, f"metrics_{name}"))
            app = factory(kafka, url)
            await stack.enter_async_context(app.router.lifespan_context(app))
            clients[name] = await stack.enter_async_context(
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app), base_url=f"http://{name}", timeout=30
                )
            )
        # Some traffic, so counters with labels have children too (not needed for the check,
        # which reads the families, but it makes the texts look like a running system's).
        key = {"X-API-Key": ALL_KEY}
        ingest = clients["ingest"]
        accepted = await ingest.post("/v1/events/call.completed", json=call(), headers=key)
        assert accepted.status_code == 202, accepted.text
        refused = await ingest.post("/v1/events/call.completed", json={}, headers=key)
        assert refused.status_code == 422
        assert (await clients["scoring"].get("/v1/org", headers=admin)).status_code == 200
        for name, client in clients.items():
            response = await client.get("/metrics")
            assert response.status_code == 200, name
            texts[name] = response.text
        yield texts


def test_the_services_serve_what_operators_read(exposition: dict[str, str]) -> None:
    served = set().union(*(served_names(text) for text in exposition.values()))
    # the check has something to check against: the shared families of every consumer
    assert {"consumer_lag_records", "consumer_records_total", "outbox_published_total"} <= served
    assert "ingest_events_rejected_total" in served_names(exposition["ingest"])


def test_every_dashboard_panel_reads_a_served_metric(exposition: dict[str, str]) -> None:
    served = set().union(*(served_names(text) for text in exposition.values()))
    queries = dashboard_queries()
    assert len(queries) > 20
    assert unserved(queries, served) == {}


def test_every_alert_rule_reads_a_served_metric(exposition: dict[str, str]) -> None:
    served = set().union(*(served_names(text) for text in exposition.values()))
    queries = rule_queries()
    assert len(queries) >= 12
    assert unserved(queries, served) == {}


def test_a_name_no_service_serves_is_reported(exposition: dict[str, str]) -> None:
    served = set().union(*(served_names(text) for text in exposition.values()))
    queries = {
        "panel": "sum by (group) (consumer_lag_records) + rate(garden_fruit_lost_total[5m])",
        "rule": 'histogram_quantile(0.99, rate(alerting_detection_latency_seconds{le="1"}[5m]))',
    }
    assert unserved(queries, served) == {
        "panel": {"garden_fruit_lost_total"},
        "rule": {"alerting_detection_latency_seconds"},  # a histogram is read by its _bucket
    }

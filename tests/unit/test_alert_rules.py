"""The Prometheus alert rules are valid and each one fires on its condition only
(`promtool test rules`, one case per rule in `deploy/prometheus/alerts.test.yml`)."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml

from tests.infra import ROOT

RULES = ROOT / "deploy" / "prometheus"


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is missing: `make test` installs Debian's prometheus package")
    return subprocess.run([promtool, *args], cwd=RULES, capture_output=True, text=True, timeout=120)


def test_the_rules_are_valid() -> None:
    result = _promtool("check", "rules", "alerts.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_each_rule_fires_on_its_condition_only() -> None:
    result = _promtool("test", "rules", "alerts.test.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_rule_has_a_test_case() -> None:
    rules = yaml.safe_load((RULES / "alerts.yml").read_text())
    tests = yaml.safe_load((RULES / "alerts.test.yml").read_text())
    alerts = {r["alert"] for g in rules["groups"] for r in g["rules"]}
    tested = {c["alertname"] for t in tests["tests"] for c in t["alert_rule_test"]}
    firing = {
        c["alertname"] for t in tests["tests"] for c in t["alert_rule_test"] if c["exp_alerts"]
    }
    assert alerts == tested == firing, alerts ^ firing

"""The rules document (validation with reasons, defaults) and the local SMS sink."""

from __future__ import annotations

import httpx
import pytest
from pydantic import ValidationError

from services.alerting.rules import RuleSetSpec, default_rules
from tools.sms_sink import create_sink


def _rule(**changes: object) -> dict[str, object]:
    rule: dict[str, object] = {
        "category": "network",
        "department": "网络运维部",
        "ladder": [
            {"level": 1, "recipients": [{"name": "王", "phone": "+8613800000001"}]},
            {
                "level": 2,
                "recipients": [{"name": "刘", "phone": "+8613800000011"}],
                "min_count": 30,
            },
        ],
    }
    rule.update(changes)
    return rule


def _reasons(document: dict[str, object]) -> list[str]:
    with pytest.raises(ValidationError) as error:
        RuleSetSpec.model_validate(document)
    return [e["msg"] for e in error.value.errors()]


def test_defaults_cover_every_category_with_a_four_level_ladder() -> None:
    rules = default_rules().to_domain()
    assert {r.category for r in rules} == {"network", "billing", "product", "service", "other"}
    network = next(r for r in rules if r.category == "network")
    assert network.per_region and network.department.startswith("网络运维部")
    assert network.ladder.top == 4 and network.window_minutes == 30
    assert network.ladder.level(1).recipients[0].phone == "+8613800000001"
    billing = next(r for r in rules if r.category == "billing")
    assert billing.department.startswith("计费支撑部") and not billing.per_region


def test_invalid_rules_say_why() -> None:
    assert any(
        "E.164" in r or "pattern" in r
        for r in _reasons(
            {
                "rules": [
                    _rule(
                        ladder=[{"level": 1, "recipients": [{"name": "x", "phone": "13800000001"}]}]
                    )
                ]
            }
        )
    )
    assert any(
        "numbered" in r
        for r in _reasons(
            {
                "rules": [
                    _rule(
                        ladder=[
                            {"level": 2, "recipients": [{"name": "x", "phone": "+8613800000001"}]}
                        ]
                    )
                ]
            }
        )
    )
    decreasing = _rule()
    decreasing["ladder"] = [
        {"level": 1, "recipients": [{"name": "a", "phone": "+8613800000001"}]},
        {"level": 2, "recipients": [{"name": "b", "phone": "+8613800000002"}], "min_count": 50},
        {"level": 3, "recipients": [{"name": "c", "phone": "+8613800000003"}], "min_count": 40},
    ]
    assert any("must not decrease" in r for r in _reasons({"rules": [decreasing]}))
    assert any("two rules" in r for r in _reasons({"rules": [_rule(), _rule()]}))
    assert any(
        "per_region" in r for r in _reasons({"rules": [_rule(region="foshan", per_region=True)]})
    )
    assert any(
        "greater than or equal to 1" in r for r in _reasons({"rules": [_rule(surge_factor=0.5)]})
    )
    no_trigger = _rule()
    no_trigger["ladder"] = [
        {"level": 1, "recipients": [{"name": "a", "phone": "+8613800000001"}]},
        {"level": 2, "recipients": [{"name": "b", "phone": "+8613800000002"}]},
    ]
    assert any("needs min_count or after_minutes" in r for r in _reasons({"rules": [no_trigger]}))


async def test_sink_stores_once_per_id_and_plays_outages() -> None:
    app = create_sink()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://sink"
    ) as sink:
        sms = {"id": "sms-1", "to": "+8613800000001", "text": "【投诉预警】测试"}
        assert (await sink.post("/messages", json=sms)).status_code == 202
        again = await sink.post("/messages", json=sms)
        assert again.json()["duplicate"] is True
        [stored] = (await sink.get("/messages")).json()["messages"]
        assert stored["deliveries"] == 2 and stored["text"] == "【投诉预警】测试"
        await sink.put("/control", json={"mode": "down"})
        assert (await sink.post("/messages", json={**sms, "id": "sms-2"})).status_code == 503
        assert "【投诉预警】测试" in (await sink.get("/")).text

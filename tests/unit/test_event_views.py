"""The fast event views agree with the contract: same verdict, same values.

The views (msgspec) may refuse what the contract (pydantic) accepts, since
`parse_event_view` then asks the contract, but they must never accept what the
contract refuses, nor read a field differently.
"""

from __future__ import annotations

from typing import Any

import msgspec
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.contracts.events import EventBase, EventRejected, parse_event_json
from shared.contracts.views import (
    _SUB_MICROSECOND,
    EventView,
    _decoder,
    parse_event_view,
    view_of,
)
from tests.unit.test_events import calls, others

TROUBLE: list[Any] = [
    None,
    "",
    " padded",
    "padded ",
    "line\nbreak",
    "x" * 65,
    "x" * 129,
    "x" * 33,
    "x" * 128,
    "\x00",
    "nul\x00inside",
    "trailing\x00",
    0,
    -1,
    6,
    1.5,
    3.0,
    -0.0,
    86_400,
    86_400.5,
    1e308,
    2**70,
    True,
    "true",
    "3",
    [],
    {},
    "2026-03-02T10:00:00",
    "2026-03-02 10:00:00+08:00",
    "2026-03-02t10:00:00+08:00",
    "2026-03-02T10:00:00Z",
    "2026-03-02T10:00:00+0800",
    "2026-03-02T10:00:00.123+08:00",
    "2026-03-02T10:00:00.1234567+08:00",
    "2026-03-02T23:59:60+08:00",
    "2026-02-30T10:00:00+08:00",
    "2026-03-02T10:00+08:00",
    "2026-03-02",
    "20260302",
    "ready",
    "withdrawn",
    "qa_score",
    "Bad-Code",
]


def _fields(event: EventBase | EventView, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(event, name) for name in names}


def _verdicts(raw: bytes) -> None:
    try:
        contract: EventBase | None = parse_event_json(raw)
    except (EventRejected, orjson.JSONDecodeError):
        contract = None
    try:
        fast: EventView | None = None if _SUB_MICROSECOND.search(raw) else _decoder.decode(raw)
    except (msgspec.ValidationError, msgspec.DecodeError):
        fast = None
    if fast is not None:
        assert contract is not None, f"the view accepts what the contract refuses: {raw!r}"
        assert fast.type == contract.type  # type: ignore[attr-defined]
        names = type(fast).__struct_fields__
        assert _fields(fast, names) == _fields(contract, names)
    if contract is None:
        with pytest.raises((EventRejected, orjson.JSONDecodeError)):
            parse_event_view(raw)
    else:
        view = parse_event_view(raw)
        names = type(view).__struct_fields__
        assert _fields(view, names) == _fields(contract, names)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(calls(), others()))
def test_valid_events_read_the_same(data: dict[str, Any]) -> None:
    _verdicts(orjson.dumps(data))


@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(calls(), others()), st.data())
def test_damaged_events_get_the_contracts_verdict(
    data: dict[str, Any], draw: st.DataObject
) -> None:
    field = draw.draw(st.sampled_from(sorted(data)))
    damage = draw.draw(st.sampled_from(["drop", "replace", "replace", "replace"]))
    damaged = dict(data)
    if damage == "drop":
        del damaged[field]
    else:
        damaged[field] = draw.draw(st.sampled_from(TROUBLE))
    try:
        raw = orjson.dumps(damaged)
    except TypeError:  # an integer beyond 64 bits
        raw = orjson.dumps({**damaged, field: 0}).replace(b":0", f":{2**70}".encode(), 1)
    _verdicts(raw)


@pytest.mark.parametrize(
    "raw",
    [b"", b"not json", b"[]", b"{}", b'{"type": "agent.state"}', b'{"type": "unknown"}', b"\xff"],
)
def test_garbage_is_refused_alike(raw: bytes) -> None:
    _verdicts(raw)


def test_a_view_built_from_a_contract_event_equals_the_decoded_one() -> None:
    """The fallback path (`view_of`) builds the same view as decoding does."""
    raw = orjson.dumps(
        {
            "type": "agent.state",
            "event_id": "e-1",
            "source": "switch-1",
            "occurred_at": "2026-03-02T10:00:00+08:00",
            "agent_id": "A1",
            "state": "ready",
        }
    )
    view = parse_event_view(raw)
    assert view == view_of(parse_event_json(raw))
    assert view.type == "agent.state"

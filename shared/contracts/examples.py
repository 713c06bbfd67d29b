"""One example payload per event type, kept as data in `examples.json` beside the contracts.

Every contract's JSON Schema carries its example (`examples`), so the OpenAPI of
ingest and the events catalog show them; tests check that each one is valid.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel

_FILE = Path(__file__).with_name("examples.json")


@cache
def examples() -> dict[str, dict[str, Any]]:
    """Example payloads by event type."""
    data: dict[str, dict[str, Any]] = json.loads(_FILE.read_text(encoding="utf-8"))
    return data


def add_example(schema: dict[str, Any], model: type[BaseModel]) -> None:
    """`json_schema_extra` hook: put the example of the model's event type in its schema."""
    field = model.model_fields.get("type")
    found = examples().get(field.default) if field is not None else None
    if found is not None:
        schema["examples"] = [found]

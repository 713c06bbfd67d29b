"""Schemathesis hooks for the API fuzz test (`SCHEMATHESIS_HOOKS=tests.integration.fuzz_hooks`):
NDJSON bodies (ingest's `POST /v1/events`) go out as the generated text."""

from __future__ import annotations

import json
from typing import Any

import schemathesis


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx: schemathesis.SerializationContext, value: Any) -> dict[str, Any]:
    if isinstance(value, bytes):
        return {"data": value}
    text = value if isinstance(value, str) else json.dumps(value)
    return {"data": text.encode("utf-8", errors="surrogatepass")}

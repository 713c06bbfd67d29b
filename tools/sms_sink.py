"""A small local SMS gateway that keeps what it receives (for `make run` and the tests).

    python -m tools.sms_sink [--host 127.0.0.1] [--port 8010]

It speaks the HTTP gateway contract of `services.alerting.providers`:
- `POST /messages` {"id", "to", "text", "callback": {"url", "token"}} stores the
  SMS once per id (a repeated id is counted in `deliveries`, not stored again)
  and, with a callback, posts a delivery receipt there shortly after (again for a
  repeated id: a receipt may have been lost with its caller);
- `GET /messages` lists them as JSON (`?to=` filters), `GET /` as a page;
- `PUT /control` {"mode": "up" | "down" | "hold", "hold_seconds": n}: `down`
  answers 503 (a gateway outage), `hold` stores the SMS and answers only after
  `hold_seconds` (a gateway that took an SMS while its caller died).
"""

from __future__ import annotations

import argparse
import asyncio
import html
import os
import time
from typing import Any, Literal

import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field


class Callback(BaseModel):
    url: str
    token: str = ""


class MessageIn(BaseModel):
    id: str = Field(min_length=1, max_length=128)
    to: str = Field(min_length=1, max_length=32)
    text: str = Field(min_length=1, max_length=2000)
    callback: Callback | None = None


class Control(BaseModel):
    mode: Literal["up", "down", "hold"] = "up"
    hold_seconds: float = Field(default=0.0, ge=0, le=600)
    receipt_delay_seconds: float | None = Field(default=None, ge=0, le=600)


def create_sink(*, token: str | None = None, receipt_delay: float = 0.2) -> FastAPI:
    """Build the sink application."""
    app = FastAPI(title="local SMS sink", version="1.0.0")
    messages: dict[str, dict[str, Any]] = {}
    control: dict[str, Any] = {"mode": "up", "hold_seconds": 0.0, "receipt_delay": receipt_delay}
    tasks: set[asyncio.Task[None]] = set()

    async def send_receipt(message_id: str, callback: Callback) -> None:
        await asyncio.sleep(float(control["receipt_delay"]))
        headers = {"Authorization": f"Bearer {callback.token}"} if callback.token else {}
        for _ in range(5):
            try:
                async with httpx.AsyncClient(timeout=5) as client:
                    response = await client.post(
                        callback.url,
                        json={"id": message_id, "status": "delivered"},
                        headers=headers,
                    )
                if response.status_code < 500:
                    messages[message_id]["receipt"] = response.status_code
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(1)

    @app.post("/messages")
    async def receive(message: MessageIn, request: Request) -> JSONResponse:
        if token and request.headers.get("authorization") != f"Bearer {token}":
            return JSONResponse({"error": "unauthorised"}, status_code=401)
        if control["mode"] == "down":
            return JSONResponse({"error": "gateway unavailable"}, status_code=503)
        known = messages.get(message.id)
        if known is None:
            messages[message.id] = known = {
                "id": message.id,
                "to": message.to,
                "text": message.text,
                "received_at": time.time(),
                "deliveries": 1,
                "seq": len(messages) + 1,
            }
        else:
            known["deliveries"] += 1
        if message.callback is not None:
            task = asyncio.create_task(send_receipt(message.id, message.callback))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if control["mode"] == "hold":
            await asyncio.sleep(float(control["hold_seconds"]))
        duplicate = known["deliveries"] > 1
        return JSONResponse(
            {"id": message.id, "status": "accepted", "duplicate": duplicate}, status_code=202
        )

    @app.get("/messages")
    async def listing(to: str | None = None) -> dict[str, Any]:
        found = [m for m in messages.values() if to is None or m["to"] == to]
        return {"messages": sorted(found, key=lambda m: m["seq"])}

    @app.put("/control")
    async def set_control(body: Control) -> dict[str, Any]:
        control["mode"] = body.mode
        control["hold_seconds"] = body.hold_seconds
        if body.receipt_delay_seconds is not None:
            control["receipt_delay"] = body.receipt_delay_seconds
        return dict(control)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/", response_class=HTMLResponse)
    async def page() -> str:
        rows = "".join(
            f"<tr><td>{m['seq']}</td><td>{time.strftime('%H:%M:%S', time.localtime(m['received_at']))}"
            f"</td><td>{html.escape(m['to'])}</td><td>{html.escape(m['text'])}</td>"
            f"<td>{html.escape(m['id'])}</td><td>{m['deliveries']}</td></tr>"
            for m in sorted(messages.values(), key=lambda m: -m["seq"])
        )
        return (
            "<!doctype html><meta charset=utf-8><meta http-equiv=refresh content=2>"
            "<title>SMS sink</title><style>body{font-family:sans-serif}td,th{padding:4px 8px;"
            "border-bottom:1px solid #ddd;text-align:left}</style>"
            f"<h1>SMS received ({len(messages)}) — gateway {control['mode']}</h1>"
            "<table><tr><th>#</th><th>at</th><th>to</th><th>text</th><th>id</th>"
            f"<th>deliveries</th></tr>{rows}</table>"
        )

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="sms-sink", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default=os.environ.get("SMS_SINK_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("SMS_SINK_PORT", "8010")))
    parser.add_argument("--token", default=os.environ.get("SMS_SINK_TOKEN"))
    parser.add_argument("--receipt-delay", type=float, default=0.2)
    args = parser.parse_args(argv)
    app = create_sink(token=args.token, receipt_delay=args.receipt_delay)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()

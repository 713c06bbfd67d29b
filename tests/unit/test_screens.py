"""The screens' wiring without a browser: static files and their configuration served without
credentials and with a strict policy, the data still behind the token, rewards answering
the screens' origin, the two dictionaries in step, and the links `make run` prints."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import httpx
import pytest

from services.garden.app import create_app as garden_app
from services.garden.config import GardenSettings
from services.garden.reading import stored_day
from services.garden.screens import WEB, page_document, security_headers
from services.rewards.app import create_app as rewards_app
from services.rewards.config import RewardsSettings
from shared.auth.tokens import TokenVerifier
from tools.ui_links import links

SECRET = "screens-unit-test-secret-of-32-bytes"
GARDEN = GardenSettings(jwt_secret=SECRET, rewards_public_url="https://rewards.example/")


def _client(app: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://garden")  # type: ignore[arg-type]


async def test_pages_and_config_need_no_token_the_data_does() -> None:
    async with _client(garden_app(GARDEN)) as client:
        config = await client.get("/ui/config.json")
        page = await client.get("/ui/agent.html")
        script = await client.get("/ui/js/agent.js")
        front = await client.get("/ui/")
        data = await client.get("/v1/agents/A1/garden")
        missing = await client.get("/ui/no-such-page.html")
    assert config.status_code == 200
    assert config.json() == {"rewards_url": "https://rewards.example", "campaigns": True}
    assert page.status_code == 200 and "<main" in page.text
    assert script.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    assert front.status_code == 200 and "js/index.js" in front.text
    assert data.status_code == 401
    assert missing.status_code == 404
    for answer in (config, page, script):
        policy = answer.headers["content-security-policy"]
        assert (
            "script-src 'self'" in policy and "connect-src 'self' https://rewards.example" in policy
        )
        assert answer.headers["referrer-policy"] == "no-referrer"


def test_the_policy_allows_no_inline_script_and_no_other_host() -> None:
    policy = security_headers("http://127.0.0.1:8005")["Content-Security-Policy"]
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    assert "default-src 'none'" in policy
    assert "connect-src 'self' http://127.0.0.1:8005;" in policy


def test_the_rewards_url_must_be_an_http_url() -> None:
    with pytest.raises(ValueError, match="rewards_public_url"):
        GardenSettings(jwt_secret=SECRET, rewards_public_url="javascript:alert(1)")


async def test_rewards_answers_the_screens_origin_only() -> None:
    settings = RewardsSettings(jwt_secret=SECRET, ui_origins="http://garden.example:8004")
    async with _client(rewards_app(settings)) as client:
        asked = {"Access-Control-Request-Method": "POST"}
        allowed = await client.options(
            "/v1/redemptions",
            headers={
                **asked,
                "Origin": "http://garden.example:8004",
                "Access-Control-Request-Headers": "authorization,content-type,idempotency-key",
            },
        )
        other = await client.options(
            "/v1/redemptions", headers={**asked, "Origin": "http://elsewhere.example"}
        )
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "http://garden.example:8004"
    assert "access-control-allow-credentials" not in allowed.headers
    assert "idempotency-key" in allowed.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-origin" not in other.headers


def test_by_default_rewards_answers_the_garden_of_a_local_run() -> None:
    assert "http://127.0.0.1:8004" in RewardsSettings(jwt_secret=SECRET).ui_origins


def test_a_version_for_every_day_reads_back_from_json() -> None:
    assert stored_day("-infinity") == date.min
    assert stored_day("2026-03-02") == date(2026, 3, 2)


def _dictionary(name: str) -> dict[str, str]:
    text = (WEB / "js" / "lang" / f"{name}.js").read_text()
    body = text[text.index("export default") + len("export default") :].strip().rstrip(";")
    return dict(json.loads(body))


def test_both_languages_have_every_text_the_pages_use() -> None:
    zh, en = _dictionary("zh"), _dictionary("en")
    assert list(zh) == list(en)
    assert all(v.strip() for v in [*zh.values(), *en.values()])
    used: set[str] = set()
    scripts = [source.read_text() for source in (WEB / "js").glob("*.js")]
    for text in [*scripts, *(page_document(page) for page in WEB.glob("*.html"))]:
        used |= set(re.findall(r"\bt\(\"([a-zA-Z0-9_.]+)\"", text))
        used |= set(re.findall(r"data-i18n(?:-label)?=\"([a-zA-Z0-9_.]+)\"", text))
        used |= set(re.findall(r"data-title=\"([a-zA-Z0-9_.]+)\"", text))
    assert used and used <= set(zh), sorted(used - set(zh))


def test_every_page_declares_its_language_and_phone_viewport() -> None:
    for page in WEB.glob("*.html"):
        text = page_document(page)
        assert text.startswith('<!doctype html>\n<html lang="zh-CN">'), page.name
        assert 'name="viewport" content="width=device-width' in text, page.name
        assert f'<script type="module" src="js/{page.stem}.js">' in text, page.name
        assert (WEB / "js" / f"{page.stem}.js").is_file(), page.name
        assert text.count("<head>") == 1 and text.count("<body") == 1, page.name
        assert text.rstrip().endswith("</body>\n</html>"), page.name
        assert "<!-- part:" not in text, page.name  # every shared part put in
        assert "<script>" not in text and "style=" not in text, page.name  # the policy forbids them


async def test_a_page_is_served_with_the_shared_head_and_its_own_module() -> None:
    async with _client(garden_app(GARDEN)) as client:
        pages = {
            name: await client.get(f"/ui/{name}") for name in ("", "agent.html", "leader.html")
        }
        etag = pages["agent.html"].headers["etag"]
        again = await client.get("/ui/agent.html", headers={"If-None-Match": etag})
    assert pages[""].text == page_document(WEB / "index.html")
    assert pages["agent.html"].text == page_document(WEB / "agent.html")
    assert '<script type="module" src="js/leader.js">' in pages["leader.html"].text
    for name in ("agent.html", "leader.html"):  # the shared toolbar, at its place in the header
        assert '\n    <div class="functions" role="toolbar"' in pages[name].text
        assert '\n      <button type="button" id="signout"' in pages[name].text
    assert again.status_code == 304 and again.headers["etag"] == etag  # unchanged: not sent again
    assert pages["leader.html"].headers["etag"] != etag
    for answer in pages.values():
        assert answer.headers["content-type"].startswith("text/html")
        assert "default-src 'none'" in answer.headers["content-security-policy"]


def test_the_links_sign_in_the_demo_agent_and_their_leader() -> None:
    org = {
        "centers": [{"departments": [{"teams": [{"id": "C1-D1-T01", "agents": [{"id": "A7"}]}]}]}]
    }
    lines = links(org, garden_url="http://127.0.0.1:8004/", secret=SECRET)
    found = dict(re.findall(r"(/ui/\w+\.html)#token=(\S+)", "\n".join(lines)))
    verifier = TokenVerifier(SECRET, ("HS256",), "service-garden")
    agent = verifier.verify(found["/ui/agent.html"])
    leader = verifier.verify(found["/ui/leader.html"])
    assert (agent.subject, agent.role.value, agent.unit) == ("A7", "agent", "C1-D1-T01")
    assert (leader.role.value, leader.unit) == ("team_leader", "C1-D1-T01")
    assert all(line.startswith("  ") for line in lines)
    assert Path(WEB / "agent.html").exists() and Path(WEB / "leader.html").exists()

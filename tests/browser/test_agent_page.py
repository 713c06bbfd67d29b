"""The agent's page in a real browser: every plant with its state, the 30-day charts, a
harvest that reaches the wallet through Kafka and rewards, a redemption, two languages."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.async_api import expect

from tests.browser.conftest import INDICATORS, PHONE, PLAN, Stack, shot

pytestmark = pytest.mark.browser

ZH_STATES = {"healthy": "健康", "pests": "生虫", "withered": "枯萎"}


async def test_the_page_shows_every_plant_with_its_state(stack: Stack, open_page) -> None:
    watched = await open_page(stack.agent_link("a1"))
    page = watched.page
    await expect(page.locator("article.plant")).to_have_count(len(INDICATORS))
    # the sign-in left the address bar for this tab's storage
    assert "token" not in page.url
    stored = await page.evaluate("sessionStorage.getItem('garden.token')")
    assert stored and stored.count(".") == 2
    assert await page.evaluate("document.documentElement.lang") == "zh-CN"
    _, plan = PLAN["a1"]
    for indicator, result in plan.items():
        assert result is not None
        card = page.locator(f"article.plant[data-indicator={indicator}]")
        # shape and word, not colour alone
        await expect(card.locator(".state-word")).to_have_text(ZH_STATES[result[0]])
        await expect(card.locator(".state-shape")).not_to_be_empty()
        await expect(card.locator("progress")).to_have_count(1)
        picture = card.locator("img.plant-picture")
        await expect(picture).to_have_attribute("src", re.compile("^blob:"))
        assert await picture.evaluate("img => img.complete && img.naturalWidth > 0")
    satisfaction = page.locator("article.plant[data-indicator=satisfaction]")
    await expect(satisfaction).to_contain_text("今日实时:7 分")
    await expect(satisfaction).to_contain_text("12 个西瓜已成熟")
    # the data: one chart per indicator with a mark per settled day
    for indicator in INDICATORS:
        chart = page.locator(f"figure.chart-box[data-indicator={indicator}] svg.chart")
        await expect(chart.locator(".mark")).to_have_count(6)
    # the harvest: ripe fruit with buttons, stars, the wallet, the prizes
    ripe = page.locator(".ripe-list li")
    await expect(ripe).to_have_count(len(INDICATORS) - 1)  # a withered aht grew too little
    await expect(ripe.locator("[data-indicator=aht]")).to_have_count(0)
    await expect(page.locator(".star-level")).to_contain_text("星")
    await expect(page.locator("li.prize[data-prize=card-holder]")).to_be_visible()
    await expect(page.locator("#board-body tbody tr").first).to_contain_text("韩梅梅")
    await page.screenshot(path=shot("agent-desktop"), full_page=True)
    watched.assert_quiet()


async def test_the_page_fits_a_phone(stack: Stack, open_page) -> None:
    watched = await open_page(stack.agent_link("a1"), viewport=PHONE)
    page = watched.page
    await expect(page.locator("article.plant")).to_have_count(len(INDICATORS))
    await expect(page.locator("li.prize").first).to_be_visible()
    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page is {overflow}px wider than a phone"
    await page.screenshot(path=shot("agent-phone"), full_page=True)
    watched.assert_quiet()


async def test_a_harvest_reaches_the_wallet_and_a_redemption_the_list(
    stack: Stack, open_page
) -> None:
    agent = stack.agent("a1")
    watched = await open_page(stack.agent_link("a1"))
    page = watched.page
    await expect(page.locator("#wallet-body")).to_contain_text("钱包还是空的")
    redeem = page.locator("button.redeem-button[data-prize=card-holder]")
    await expect(redeem).to_be_disabled()  # 10 watermelons needed, none in the wallet yet

    await page.locator("button.harvest-button[data-indicator=satisfaction]").click()
    # garden → cc.garden.v1 → the rewards consumer → the wallet, shown on the page
    await expect(page.locator("#notices")).to_contain_text("已存入钱包:12 个西瓜", timeout=30000)
    await expect(page.locator("#wallet-body li[data-fruit=watermelon] .balance")).to_have_text("12")
    await expect(page.locator("article.plant[data-indicator=satisfaction]")).to_contain_text(
        "暂无成熟果实"
    )
    await expect(page.locator(".fruit-list")).to_contain_text("西瓜 ×12")

    await expect(redeem).to_be_enabled()
    await redeem.click()
    row = page.locator("table.redemptions tr[data-prize=card-holder]")
    await expect(row).to_have_count(1)
    await expect(row).to_contain_text("已申请")
    await expect(page.locator("#wallet-body li[data-fruit=watermelon] .balance")).to_have_text("2")
    watched.assert_quiet()

    headers = stack.headers(agent, "agent", stack.team)
    async with httpx.AsyncClient(base_url=stack.rewards_url) as rewards:
        wallet = (await rewards.get(f"/v1/wallets/agent/{agent}", headers=headers)).json()
        listed = (await rewards.get("/v1/redemptions", headers=headers)).json()
    assert wallet["balances"]["watermelon"] == 2
    assert [r["prize_id"] for r in listed["redemptions"]] == ["card-holder"]


async def test_english_is_one_click_away_and_stays(stack: Stack, open_page) -> None:
    watched = await open_page(stack.agent_link("a2"))
    page = watched.page
    await expect(page.locator("article.plant")).to_have_count(len(INDICATORS))
    await page.get_by_role("button", name="English").click()
    assert await page.evaluate("document.documentElement.lang") == "en"
    await expect(page.locator("h1")).to_have_text("My service garden")
    card = page.locator("article.plant[data-indicator=complaint_rate]")
    await expect(card.locator(".state-word")).to_have_text("withered")
    await page.reload()  # the sign-in stays in the tab, the language in the browser
    await expect(page.locator("article.plant")).to_have_count(len(INDICATORS))
    await expect(page.locator("h2#garden-title")).to_have_text("Garden: my plants")
    await page.screenshot(path=shot("agent-desktop-en"), full_page=True)
    await page.get_by_role("button", name="中文").click()
    await expect(page.locator("h1")).to_have_text("我的服务花园")
    watched.assert_quiet()


async def test_without_a_valid_sign_in_the_page_says_what_to_do(stack: Stack, open_page) -> None:
    watched = await open_page(f"{stack.garden_url}/ui/agent.html")
    await expect(watched.page.locator(".fatal")).to_contain_text("需要登录")
    assert watched.errors == []  # nothing was called without a token

    forged = stack.agent_link("a1").rsplit(".", 1)[0] + ".bm90LXRoZS1zaWduYXR1cmU"
    watched = await open_page(forged)
    await expect(watched.page.locator("#garden-body [role=alert]")).to_contain_text("登录无效")
    await expect(watched.page.locator("#wallet-body [role=alert]")).to_contain_text("登录无效")
    await expect(watched.page.locator("#garden-body button")).to_have_text("重试")

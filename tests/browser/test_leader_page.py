"""The leader's page in a real browser: the team's own plants, every member's state per
indicator, the A/B/C split, the leaderboards with a leader's visibility."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.async_api import expect

from tests.browser.conftest import DAYS, INDICATORS, PHONE, PLAN, Stack, shot

pytestmark = pytest.mark.browser

ZH_STATES = {"healthy": "健康", "pests": "生虫", "withered": "枯萎", None: "未评级"}
CLASS_OF = {"healthy": "a", "pests": "b", "withered": "c", None: "unrated"}


async def test_the_page_shows_the_grid_the_split_and_the_boards(stack: Stack, open_page) -> None:
    watched = await open_page(stack.leader_link())
    page = watched.page
    assert "token" not in page.url
    await expect(page.locator("#unit-body article.plant")).to_have_count(len(INDICATORS))
    # every member's state per indicator: a word and a shape in each cell
    rows = page.locator("table.grid-table tbody tr")
    await expect(rows).to_have_count(len(PLAN))
    for key, (name, plan) in PLAN.items():
        row = page.locator(f"table.grid-table tr[data-member='{stack.agent(key)}']")
        await expect(row.locator("th")).to_have_text(name)
        for indicator, result in plan.items():
            state = result[0] if result else None
            cell = row.locator(f"td[data-indicator={indicator}]")
            await expect(cell.locator(".state-word")).to_have_text(ZH_STATES[state])
    # the A/B/C split: counts per indicator, and the chosen indicator's names
    for indicator in INDICATORS:
        counts = {"a": 0, "b": 0, "c": 0, "unrated": 0}
        for _, plan in PLAN.values():
            result = plan[indicator]
            counts[CLASS_OF[result[0] if result else None]] += 1
        row = page.locator(f"table.split-table tr[data-indicator={indicator}]")
        for cls, n in counts.items():
            await expect(row.locator(f"td[data-class={cls}]")).to_have_text(f"{n} 人")
    await page.locator("#split-indicator").select_option("satisfaction")
    lists = page.locator(".split-lists")
    await expect(lists.locator("[data-class=a] .split-names")).to_have_text("李雷")
    await expect(lists.locator("[data-class=b] .split-names")).to_have_text("韩梅梅")
    await expect(lists.locator("[data-class=c] .split-names")).to_have_text("王芳")
    await expect(lists.locator("[data-class=unrated] .split-names")).to_have_text("张伟")
    await expect(page.locator("table.grid-table td.chosen")).to_have_count(len(PLAN))
    # leaderboards: a leader sees every row, by day, week and month
    board = page.locator("#board-body")
    for period in ("week", "day", "month"):  # every harvest of the tests is today's
        await board.locator(f"button[data-period={period}]").click()
        await expect(board.locator(f"button[data-period={period}]")).to_have_attribute(
            "aria-pressed", "true"
        )
        await expect(board.locator("tbody tr", has_text="韩梅梅")).to_contain_text("11")
        await expect(board.locator("tbody tr", has_text="王芳")).to_contain_text("3")
    await expect(board).to_contain_text("组长可见本单位全部排名")
    await page.screenshot(path=shot("leader-desktop"), full_page=True)
    await page.get_by_role("button", name="English").click()
    await expect(page.locator("h2#split-title")).to_contain_text("A/B/C split")
    await page.screenshot(path=shot("leader-desktop-en"), full_page=True)
    watched.assert_quiet()


async def test_the_page_fits_a_phone(stack: Stack, open_page) -> None:
    watched = await open_page(stack.leader_link(), viewport=PHONE)
    page = watched.page
    await expect(page.locator("table.grid-table tbody tr")).to_have_count(len(PLAN))
    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page is {overflow}px wider than a phone"
    await page.screenshot(path=shot("leader-phone"), full_page=True)
    watched.assert_quiet()


async def test_a_campaign_started_from_the_form_shows_its_progress(stack: Stack, open_page) -> None:
    watched = await open_page(stack.leader_link())
    page = watched.page
    panel = page.locator("#campaigns-body")
    form = panel.locator("form.new-campaign")
    await expect(form).to_be_visible()
    starts = stack.today - timedelta(days=DAYS - 2)  # the classes come from the day before
    await form.locator("input[name=name]").fill("关注健康,快乐成长")
    await form.locator("select[name=indicator]").select_option("satisfaction")
    await form.locator("input[name=starts_on]").fill(starts.isoformat())
    await form.locator("input[name=ends_on]").fill((stack.today + timedelta(days=10)).isoformat())
    await form.locator("input[name=unit_value]").fill("95")
    await form.locator("input[name=healthy_share]").fill("50")
    await form.locator("button[type=submit]").click()

    card = panel.locator("article.campaign")
    await expect(card).to_have_count(1)
    await expect(card.locator("h3")).to_contain_text("关注健康,快乐成长")
    await expect(card).to_contain_text("进行中")
    await expect(page.locator("#notices")).to_contain_text("已发起活动")
    # the A/B/C snapshot at the start and on the latest settled day (yesterday)
    for when in ("start", "latest"):
        box = card.locator(f"[data-when={when}]")
        for cls, n in {"A": 1, "B": 1, "C": 1, "unrated": 1}.items():
            await expect(box.locator(f"[data-class={cls}]")).to_contain_text(str(n))
    yesterday = stack.today - timedelta(days=1)
    await expect(card.locator("[data-when=latest] h4")).to_contain_text(
        f"{yesterday.month}月{yesterday.day}日"
    )
    # the unit's value per recorded day, and every member's class
    await expect(card.locator("svg.chart .mark")).to_have_count(DAYS - 2)
    await card.locator("details.campaign-members summary").click()
    await expect(card.locator("details.campaign-members tbody tr")).to_have_count(len(PLAN))
    row = card.locator(f"details.campaign-members tr[data-member='{stack.agent('a3')}']")
    await expect(row.locator("td").nth(0)).to_have_text("C")
    await page.screenshot(path=shot("leader-campaign"), full_page=True)
    watched.assert_quiet()


async def test_the_front_door_opens_the_page_of_the_role(stack: Stack, open_page) -> None:
    leader = stack.leader_link().replace("/ui/leader.html#", "/ui/#")
    watched = await open_page(leader)
    await expect(watched.page).to_have_url(f"{stack.garden_url}/ui/leader.html")
    await expect(watched.page.locator("table.grid-table tbody tr")).to_have_count(len(PLAN))
    agent = stack.agent_link("a4").replace("/ui/agent.html#", "/ui/#")
    watched = await open_page(agent)
    await expect(watched.page).to_have_url(f"{stack.garden_url}/ui/agent.html")
    await expect(watched.page.locator("article.plant[data-indicator=fcr]")).to_be_visible()
    watched.assert_quiet()

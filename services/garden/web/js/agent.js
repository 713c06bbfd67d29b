// The agent's page (domain.md §11): functions, navigation, the growing garden, the data
// (30 days of points) and the harvest (ripe fruit, stars, wallet, prizes, redemptions).
import { ApiError, client, GARDEN_BASE, newKey, screensConfig, seg } from "./api.js";
import { boardPath, boardTable, periodTabs } from "./board.js";
import { chartTable, lineChart, shift } from "./chart.js";
import { byId, h } from "./dom.js";
import { fruitName, indicatorName, instant, number, t } from "./i18n.js";
import { notify, section, startPage } from "./page.js";
import { plantCard } from "./plants.js";
import { empty, stars } from "./states.js";

const CREDIT_WAIT_MS = 30000;
let garden, rewards, agentId, team, gardenRead, gardenPath, period = "week";
const sections = {};

const session = startPage({ onRefresh: () => refreshAll(), rerender: () => { showWho(); Object.values(sections).forEach((s) => s.render()); } });
if (session) start().catch((error) => notify(error.message, "error"));

async function start() {
  agentId = new URLSearchParams(location.search).get("agent") || session.claims.sub;
  team = session.claims.role === "agent" ? session.claims.unit : null;
  showWho();
  garden = client(GARDEN_BASE, session.token);
  const base = `v1/agents/${seg(agentId)}`;
  sections.garden = section("garden-body", { load: () => gardenRead, draw: drawGarden });
  sections.data = section("data-body", { load: () => gardenRead, draw: drawData });
  sections.harvest = section("harvest-body", { load: () => gardenRead, draw: drawHarvest });
  sections.board = section("board-body", { load: loadBoard, draw: drawBoard });
  gardenPath = base;
  let config;
  try {
    config = await screensConfig();
  } catch (error) {
    config = { rewards_url: null };
    console.warn("config:", error.message);
  }
  rewards = config.rewards_url ? client(config.rewards_url, session.token) : null;
  sections.wallet = section("wallet-body", { load: () => need(rewards).get(`v1/wallets/agent/${seg(agentId)}?limit=50`), draw: drawWallet });
  sections.prizes = section("prizes-body", { load: () => need(rewards).get("v1/prizes"), draw: drawPrizes });
  sections.redemptions = section("redemptions-body", {
    load: () => need(rewards).get(`v1/redemptions?owner=${seg(`agent:${agentId}`)}&limit=20`), draw: drawRedemptions,
  });
  await refreshAll();
}

function showWho() {
  if (agentId) byId("who").textContent = t("who.agent", { id: agentId });
}

function need(api) {
  if (!api) throw new ApiError(0, "network", "rewards");
  return api;
}

async function refreshGarden() {
  gardenRead = garden.get(gardenPath + "/garden");
  gardenRead.catch(() => {}); // each section shows the error
  await Promise.all([sections.garden.refresh(), sections.data.refresh(), sections.harvest.refresh()]);
}

async function refreshAll() {
  await Promise.all([refreshGarden(), sections.wallet.refresh(), sections.prizes.refresh(),
    sections.redemptions.refresh(), sections.board.refresh()]);
}

// --- the growing garden ---

function drawGarden(doc) {
  if (!doc.plants.length) return empty("garden.empty");
  return h("div", { class: "plants" }, doc.plants.map((plant) => plantCard(plant, {
    api: garden, fruitAt: doc.fruit_at,
    picturePath: `${gardenPath}/plants/${seg(plant.indicator)}.svg`,
  })));
}

// --- the data: 30 days of points per indicator ---

function drawData(doc) {
  const from = shift(doc.today, -30), to = shift(doc.today, -1);
  const codes = [...new Set([...doc.plants.map((p) => p.indicator), ...Object.keys(doc.days)])];
  if (!codes.length) return empty("chart.empty");
  return h("div", { class: "charts" }, codes.map((code) => {
    const points = (doc.days[code] || []).filter((d) => d.state !== "not_rated")
      .map((d) => ({ date: d.date, value: d.points, state: d.state }));
    const label = t("chart.label", { indicator: indicatorName(code) });
    return h("figure", { class: "chart-box", dataset: { indicator: code } },
      h("figcaption", {}, indicatorName(code)),
      points.length ? [lineChart(points, { from, to, max: 10, label }), chartTable(points)] : empty("chart.empty"));
  }));
}

// --- the harvest ---

function drawHarvest(doc) {
  const ripe = doc.plants.filter((p) => p.ripe_fruit > 0);
  const collected = new Map();
  for (const p of doc.plants) if (p.fruit && p.fruit_harvested) collected.set(p.fruit, (collected.get(p.fruit) || 0) + p.fruit_harvested);
  return h("div", { class: "harvest-grid" },
    h("section", { class: "panel", "aria-labelledby": "stars-title" },
      h("h3", { id: "stars-title" }, t("stars.title")),
      h("p", { class: "star-level" }, stars(doc.star_level)),
      h("p", { class: "hint" }, doc.average_points === null ? t("stars.average.none") : t("stars.average", { points: number(doc.average_points) }))),
    h("section", { class: "panel", "aria-labelledby": "ripe-title" },
      h("h3", { id: "ripe-title" }, t("harvest.ripe")),
      ripe.length
        ? h("ul", { class: "ripe-list" }, ripe.map((p) => h("li", { dataset: { indicator: p.indicator } },
            h("span", {}, `${indicatorName(p.indicator)} · ${fruitName(p.fruit)} ×${p.ripe_fruit}`), " ",
            h("button", { type: "button", class: "primary harvest-button", dataset: { indicator: p.indicator },
              "aria-label": t("harvest.buttonOf", { indicator: indicatorName(p.indicator), count: p.ripe_fruit, fruit: fruitName(p.fruit) }),
              onclick: (event) => harvest(p, event.currentTarget) }, t("harvest.button")))))
        : empty("plant.ripe.none")),
    h("section", { class: "panel", "aria-labelledby": "collected-title" },
      h("h3", { id: "collected-title" }, t("harvest.collected")),
      collected.size
        ? h("ul", { class: "fruit-list" }, [...collected].map(([fruit, n]) => h("li", {}, `${fruitName(fruit)} ×${n}`)))
        : empty("harvest.collected.none")));
}

async function harvest(plant, button) {
  button.disabled = true;
  button.textContent = t("harvest.working");
  let outcome;
  try {
    outcome = await garden.post(`${gardenPath}/plants/${seg(plant.indicator)}/harvest`, undefined, newKey());
  } catch (error) {
    notify(error.code === "nothing_ripe" ? t("harvest.nothing") : describeRefusal(error), "error");
    await refreshGarden();
    return;
  }
  const pending = notify(t("harvest.done", { count: outcome.count, fruit: fruitName(outcome.fruit) }));
  await refreshGarden();
  const credited = await waitForCredit(outcome.harvest_ids);
  pending.textContent = credited
    ? t("harvest.credited", { count: outcome.count, fruit: fruitName(outcome.fruit) })
    : t("harvest.slow");
  await Promise.all([sections.prizes.refresh(), sections.board.refresh()]);
}

/** The harvest travels garden → cc.garden.v1 → rewards: watch the wallet until its ledger
 * holds every lot (or give up after a while; the next refresh shows it). */
async function waitForCredit(harvestIds) {
  const wanted = harvestIds.map((id) => `harvest:${id}`);
  const deadline = Date.now() + CREDIT_WAIT_MS;
  for (let wait = 300; Date.now() < deadline; wait = Math.min(wait * 1.5, 2000)) {
    const wallet = await sections.wallet.refresh();
    const seen = new Set((wallet?.ledger || []).map((entry) => entry.reference));
    if (wanted.every((ref) => seen.has(ref))) return true;
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
  return false;
}

// --- wallet, prizes, redemptions ---

function drawWallet(wallet) {
  const kinds = Object.entries(wallet.balances).filter(([, n]) => n > 0);
  if (!kinds.length) return empty("wallet.empty");
  return h("ul", { class: "balances" }, kinds.map(([fruit, n]) =>
    h("li", { dataset: { fruit } }, h("span", { class: "balance-fruit" }, fruitName(fruit)), " ", h("strong", { class: "balance" }, n))));
}

function affordable(prize) {
  const balances = sections.wallet.data?.balances || {};
  if (prize.fruit === "any") return Math.max(0, ...Object.values(balances)) >= prize.price;
  return (balances[prize.fruit] || 0) >= prize.price;
}

function drawPrizes(doc) {
  if (!doc.prizes.length) return empty("prizes.empty");
  return h("ul", { class: "prizes" }, doc.prizes.map((prize) => {
    const enough = affordable(prize);
    return h("li", { class: "prize", dataset: { prize: prize.id } },
      h("h4", {}, prize.name),
      prize.description ? h("p", { class: "hint" }, prize.description) : null,
      h("p", { class: "price" }, t("prizes.price", { price: prize.price, fruit: fruitName(prize.fruit) })),
      h("p", { class: "hint" }, prize.stock === null ? t("prizes.unlimited") : t("prizes.stock", { stock: prize.stock }),
        prize.needs_approval ? ` · ${t("prizes.approval")}` : ""),
      h("button", { type: "button", class: "primary redeem-button", dataset: { prize: prize.id },
        "aria-label": t("prizes.redeemOf", { name: prize.name }), disabled: !enough,
        onclick: (event) => redeem(prize, event.currentTarget) }, t("prizes.redeem")),
      enough ? null : h("span", { class: "hint short" }, ` ${t("prizes.short")}`));
  }));
}

function describeRefusal(error) {
  const key = `refusal.${error.code}`;
  const text = t(key);
  return text === key ? error.message : text;
}

async function redeem(prize, button) {
  button.disabled = true;
  button.textContent = t("prizes.working");
  try {
    await need(rewards).post("v1/redemptions", { prize_id: prize.id }, newKey());
    notify(t("prizes.done", { name: prize.name }));
  } catch (error) {
    notify(describeRefusal(error), "error");
  }
  await Promise.all([sections.wallet.refresh(), sections.redemptions.refresh()]);
  await sections.prizes.refresh();
}

async function cancel(redemption, button) {
  button.disabled = true;
  try {
    await need(rewards).post(`v1/redemptions/${seg(redemption.id)}/cancel`, {});
    notify(t("redemptions.cancelled"));
  } catch (error) {
    notify(describeRefusal(error), "error");
  }
  await Promise.all([sections.wallet.refresh(), sections.redemptions.refresh()]);
  await sections.prizes.refresh();
}

function prizeName(id) {
  return sections.prizes.data?.prizes.find((p) => p.id === id)?.name || id;
}

function drawRedemptions(doc) {
  if (!doc.redemptions.length) return empty("redemptions.empty");
  return h("div", { class: "scroll" }, h("table", { class: "redemptions" },
    h("thead", {}, h("tr", {}, ["redemptions.prize", "redemptions.price", "redemptions.status", "redemptions.when"]
      .map((key) => h("th", { scope: "col" }, t(key))), h("th", { scope: "col" }, h("span", { class: "sr-only" }, t("redemptions.cancel"))))),
    h("tbody", {}, doc.redemptions.map((r) => h("tr", { dataset: { redemption: r.id, prize: r.prize_id, status: r.status } },
      h("td", {}, prizeName(r.prize_id)),
      h("td", {}, t("prizes.price", { price: r.price, fruit: fruitName(r.fruit) })),
      h("td", {}, h("span", { class: `status-tag status-${r.status}` }, t(`redemption.${r.status}`))),
      h("td", {}, instant(r.requested_at)),
      h("td", {}, ["requested", "approved"].includes(r.status)
        ? h("button", { type: "button", class: "link", onclick: (event) => cancel(r, event.currentTarget) }, t("redemptions.cancel"))
        : ""))))));
}

// --- the team's leaderboard, as the agent may see it ---

async function loadBoard() {
  if (!team) return null;
  const doc = await gardenRead;
  return garden.get(boardPath(`team:${team}`, period, doc.today));
}

function drawBoard(board) {
  if (!board) return empty("board.empty");
  return h("div", {}, periodTabs(period, (chosen) => { period = chosen; sections.board.refresh(); }),
    boardTable(board, { me: agentId, leader: false }));
}

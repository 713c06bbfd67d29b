// A leader's page (domain.md §11): the unit's own plants, every member's state per
// indicator, the A/B/C split, the leaderboards and the unit's improvement campaigns.
import { client, GARDEN_BASE, newKey, screensConfig, seg } from "./api.js";
import { boardPath, boardTable, periodTabs } from "./board.js";
import { campaignsPanel } from "./campaigns.js";
import { byId, h } from "./dom.js";
import { fruitName, indicatorName, t } from "./i18n.js";
import { fatal, notify, section, startPage } from "./page.js";
import { plantCard } from "./plants.js";
import { empty, stateBadge } from "./states.js";

const KIND_OF_ROLE = { team_leader: "team", manager: "department" };
const CLASSES = [["a", "healthy"], ["b", "pests"], ["c", "withered"], ["unrated", "not_rated"]];
let garden, rewards, unitRead, kind, unitId, chosen = null, period = "week";
const sections = {};

const session = startPage({ onRefresh: () => refreshAll(), rerender: () => { showWho(); Object.values(sections).forEach((s) => s.render()); } });
if (session) start().catch((error) => notify(error.message, "error"));

function unitFromSession() {
  const asked = new URLSearchParams(location.search).get("unit");
  if (asked && asked.includes(":")) {
    const [k, ...rest] = asked.split(":");
    return [k, rest.join(":")];
  }
  const k = KIND_OF_ROLE[session.claims.role];
  return k && session.claims.unit ? [k, session.claims.unit] : [null, null];
}

async function start() {
  [kind, unitId] = unitFromSession();
  if (!kind) return fatal("error.unit");
  showWho();
  garden = client(GARDEN_BASE, session.token);
  const base = `v1/units/${seg(kind)}/${seg(unitId)}`;
  sections.unit = section("unit-body", { load: () => unitRead, draw: (doc) => drawUnit(doc, base) });
  sections.grid = section("grid-body", { load: () => unitRead, draw: drawGrid });
  sections.split = section("split-body", { load: () => unitRead, draw: drawSplit });
  sections.board = section("board-body", { load: loadBoard, draw: drawBoard });
  let config = { rewards_url: null, campaigns: false };
  try {
    config = await screensConfig();
  } catch (error) {
    console.warn("config:", error.message);
  }
  rewards = config.rewards_url && kind === "team" && session.claims.role === "team_leader"
    ? client(config.rewards_url, session.token) : null;
  if (rewards) sections.wallet = section("wallet-body", { load: () => rewards.get(`v1/wallets/team/${seg(unitId)}?limit=1`), draw: drawWallet });
  else byId("wallet").hidden = true;
  sections.campaigns = campaignsPanel("campaigns-body", {
    garden, enabled: Boolean(config.campaigns), unit: { kind, id: unitId }, indicators: () => indicatorsOf(),
    today: async () => (await unitRead).today,
  });
  await refreshAll();
}

function showWho() {
  if (unitId) byId("who").textContent = t("who.leader", { role: t(`role.${session.claims.role}`), id: session.claims.sub, unit: unitId });
}

async function refreshUnit() {
  unitRead = garden.get(`v1/units/${seg(kind)}/${seg(unitId)}/garden`);
  unitRead.catch(() => {});
  await Promise.all([sections.unit.refresh(), sections.grid.refresh(), sections.split.refresh()]);
}

async function refreshAll() {
  await Promise.all([refreshUnit(), sections.board.refresh(), sections.wallet?.refresh(), sections.campaigns.refresh()]);
}

function indicatorsOf() {
  const doc = sections.split.data;
  return doc ? doc.split.map((s) => s.indicator) : [];
}

// --- the unit's own plants (a leader harvests them into the team's wallet) ---

function drawUnit(doc, base) {
  if (!doc.plants.length) return empty("garden.empty");
  return h("div", { class: "plants" }, doc.plants.map((plant) => {
    const card = plantCard(plant, { api: garden, fruitAt: doc.fruit_at, picturePath: `${base}/plants/${seg(plant.indicator)}.svg` });
    if (plant.ripe_fruit > 0) {
      card.querySelector(".plant-facts").append(h("button", {
        type: "button", class: "primary harvest-button", dataset: { indicator: plant.indicator },
        "aria-label": t("harvest.buttonOf", { indicator: indicatorName(plant.indicator), count: plant.ripe_fruit, fruit: fruitName(plant.fruit) }),
        onclick: (event) => harvest(base, plant, event.currentTarget),
      }, t("harvest.button")));
    }
    return card;
  }));
}

async function harvest(base, plant, button) {
  button.disabled = true;
  try {
    const outcome = await garden.post(`${base}/plants/${seg(plant.indicator)}/harvest`, undefined, newKey());
    notify(t("harvest.done", { count: outcome.count, fruit: fruitName(outcome.fruit) }));
  } catch (error) {
    notify(error.code === "nothing_ripe" ? t("harvest.nothing") : error.message, "error");
  }
  await refreshUnit();
  setTimeout(() => sections.wallet?.refresh(), 1500);
}

function drawWallet(wallet) {
  const kinds = Object.entries(wallet.balances).filter(([, n]) => n > 0);
  if (!kinds.length) return empty("wallet.empty");
  return h("ul", { class: "balances" }, kinds.map(([fruit, n]) =>
    h("li", { dataset: { fruit } }, h("span", {}, fruitName(fruit)), " ", h("strong", { class: "balance" }, n))));
}

// --- every member's state per indicator ---

function drawGrid(doc) {
  if (!doc.members.length) return empty("grid.empty");
  const codes = doc.split.map((s) => s.indicator);
  const mark = (code) => (code === chosen ? "chosen" : null);
  return h("div", { class: "scroll" }, h("table", { class: "grid-table" },
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("grid.member")),
      codes.map((code) => h("th", { scope: "col", class: mark(code) }, indicatorName(code))))),
    h("tbody", {}, doc.members.map((m) => h("tr", { dataset: { member: m.owner_id } },
      h("th", { scope: "row" }, m.name),
      codes.map((code) => h("td", { class: mark(code), dataset: { indicator: code, state: m.states[code] || "not_rated" } },
        stateBadge(m.states[code], { short: true }))))))));
}

// --- the A/B/C split ---

function drawSplit(doc) {
  if (!doc.split.length) return empty("grid.empty");
  const names = new Map(doc.members.map((m) => [m.owner_id, m.name]));
  const codes = doc.split.map((s) => s.indicator);
  if (!codes.includes(chosen)) chosen = codes[0];
  const picked = doc.split.find((s) => s.indicator === chosen);
  const select = h("select", { id: "split-indicator", onchange: (event) => { chosen = event.target.value; sections.grid.render(); sections.split.render(); } },
    codes.map((code) => h("option", { value: code, selected: code === chosen }, indicatorName(code))));
  return h("div", {},
    h("div", { class: "scroll" }, h("table", { class: "split-table" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("split.indicator")),
        CLASSES.map(([cls]) => h("th", { scope: "col", class: "num" }, t(`class.${cls}`))))),
      h("tbody", {}, doc.split.map((s) => h("tr", { dataset: { indicator: s.indicator } },
        h("th", { scope: "row" }, indicatorName(s.indicator)),
        CLASSES.map(([cls]) => h("td", { class: "num", dataset: { class: cls } }, t("split.count", { count: s[cls].length })))))))),
    h("label", { class: "split-choose" }, `${t("split.indicator")} `, select),
    h("div", { class: "harvest-grid split-lists" }, CLASSES.map(([cls, state]) => h("section", { class: "panel", dataset: { class: cls } },
      h("h3", {}, stateBadge(state === "not_rated" ? null : state), " ", cls === "unrated" ? "" : `${cls.toUpperCase()} · `,
        t("split.count", { count: picked[cls].length })),
      picked[cls].length
        ? h("p", { class: "split-names" }, picked[cls].map((id) => names.get(id) || id).join("、"))
        : h("p", { class: "split-names" }, "—")))));
}

// --- leaderboards (a leader sees every row of the unit) ---

async function loadBoard() {
  const doc = await unitRead;
  return garden.get(boardPath(`${kind}:${unitId}`, period, doc.today));
}

function drawBoard(board) {
  return h("div", {}, periodTabs(period, (picked) => { period = picked; sections.board.refresh(); }),
    boardTable(board, { me: session.claims.sub, leader: true }));
}

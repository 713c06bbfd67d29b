// Improvement campaigns (专项提升, domain.md §10) of a unit: each one's A/B/C classes at the
// start and on its latest settled day, the unit's value day by day, every member's class
// and moves, and a form to start one.
import { newKey, seg } from "./api.js";
import { lineChart, shift } from "./chart.js";
import { byId, h, put } from "./dom.js";
import { day, indicatorName, number, t } from "./i18n.js";
import { notify } from "./page.js";
import { describe, empty, failed, loading, stateBadge } from "./states.js";

const CLASS_STATE = { A: "healthy", B: "pests", C: "withered", unrated: null };
const SHOWN = 5;

const count = (value) => (Array.isArray(value) ? value.length : Number(value) || 0);
const className = (cls) => (!cls ? "—" : cls === "unrated" ? t("class.unrated") : cls);

function classes(split) {
  return h("p", { class: "classes" }, Object.entries(CLASS_STATE).map(([cls, state]) =>
    h("span", { dataset: { class: cls } }, stateBadge(state, { short: true }), ` ${cls === "unrated" ? t("class.unrated") : cls} ${count(split?.[cls])}`)));
}

function campaignCard(c) {
  const days = c.progress?.days || [];
  const latest = days.length ? days[days.length - 1] : null;
  const points = days.filter((d) => d.unit_value !== null && d.unit_value !== undefined).map((d) => ({ date: d.date, value: d.unit_value }));
  const members = c.progress?.members || [];
  const goal = c.goal || {};
  return h("article", { class: "campaign", dataset: { campaign: c.id, status: c.status } },
    h("h3", {}, c.name, " ", h("span", { class: "hint" }, `· ${indicatorName(c.indicator)} · ${t(`campaigns.status.${c.status}`)}`)),
    h("p", { class: "hint" }, t("campaigns.period", { start: day(c.starts_on), end: day(c.ends_on) }),
      goal.unit_value !== undefined || goal.healthy_share !== undefined
        ? ` · ${t("campaigns.goal", { value: goal.unit_value ?? "—", share: goal.healthy_share === null || goal.healthy_share === undefined ? "—" : number(goal.healthy_share * 100, 0) })}`
        : ""),
    h("div", { class: "harvest-grid" },
      h("section", { class: "panel", dataset: { when: "start" } }, h("h4", {}, t("campaigns.start")), classes(c.start?.classes),
        h("p", {}, `${t("campaigns.unitValue")}: ${c.start?.unit_value === null || c.start?.unit_value === undefined ? "—" : number(c.start.unit_value)}`)),
      h("section", { class: "panel", dataset: { when: "latest" } }, latest
        ? [h("h4", {}, t("campaigns.latest", { date: day(latest.date) })), classes(latest.classes),
            h("p", {}, `${t("campaigns.unitValue")}: ${latest.unit_value === null || latest.unit_value === undefined ? "—" : number(latest.unit_value)}`)]
        : [h("h4", {}, t("campaigns.latest", { date: "—" })), empty("campaigns.noDays")])),
    c.result ? resultPanel(c.result) : null,
    points.length ? lineChart(points, {
      from: c.starts_on, to: c.ends_on, max: Math.max(...points.map((p) => p.value)) || 1,
      label: t("campaigns.chart", { name: c.name }),
    }) : null,
    members.length ? h("details", { class: "campaign-members" }, h("summary", {}, `${t("campaigns.members")} (${members.length})`),
      h("div", { class: "scroll" }, h("table", {},
        h("thead", {}, h("tr", {}, ["grid.member", "campaigns.startClass", "campaigns.nowClass", "campaigns.value", "campaigns.moves"]
          .map((key) => h("th", { scope: "col" }, t(key))))),
        h("tbody", {}, members.map((m) => h("tr", { dataset: { member: m.agent_id } },
          h("th", { scope: "row" }, m.name || m.agent_id),
          h("td", {}, className(m.start_class)), h("td", {}, className(m.class)),
          h("td", { class: "num" }, m.value === null || m.value === undefined ? "—" : number(m.value)),
          h("td", {}, (m.moves || []).map((mv) => `${day(mv.date)} ${className(mv.from)}→${className(mv.to)}`).join(", ") || "—"))))))) : null,
    c.countermeasures?.length ? h("details", {}, h("summary", {}, `${t("campaigns.countermeasures")} (${c.countermeasures.length})`),
      h("ul", {}, c.countermeasures.map((m) => h("li", {}, `${m.what} · ${m.who} · ${day(m.check_on)}`, m.done ? ` ✔ ${t("campaigns.done")}` : "")))) : null);
}

function resultPanel(result) {
  const value = (v) => (v === null || v === undefined ? "—" : number(v));
  return h("section", { class: "panel result", dataset: { goalMet: String(result.goal_met) } },
    h("h4", {}, t("campaigns.result"), " · ", t(result.goal_met ? "campaigns.goalMet" : "campaigns.goalMissed")),
    h("p", {}, t("campaigns.beforeAfter", { before: value(result.unit_value_before), after: value(result.unit_value_after) })),
    h("div", { class: "scroll" }, h("table", {},
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("campaigns.startClass")),
        ["improved", "stayed", "fell"].map((k) => h("th", { scope: "col", class: "num" }, t(`campaigns.${k}`))))),
      h("tbody", {}, Object.entries(result.classes).map(([cls, o]) => h("tr", { dataset: { class: cls } },
        h("th", { scope: "row" }, cls === "unrated" ? t("class.unrated") : cls),
        h("td", { class: "num" }, o.improved), h("td", { class: "num" }, o.stayed), h("td", { class: "num" }, o.fell)))))));
}

const optional = (text, scale = 1) => (text === null || text === "" ? null : Number(text) / scale);

function form(indicators, today, submit) {
  const field = (key, input) => h("label", {}, t(key), input);
  const codes = indicators();
  return h("form", { class: "new-campaign", onsubmit: (event) => { event.preventDefault(); submit(event.currentTarget); } },
    field("campaigns.name", h("input", { name: "name", required: true, maxlength: 100 })),
    field("campaigns.indicator", h("select", { name: "indicator", required: true },
      codes.map((code) => h("option", { value: code }, indicatorName(code))))),
    field("campaigns.starts", h("input", { name: "starts_on", type: "date", required: true, value: today })),
    field("campaigns.ends", h("input", { name: "ends_on", type: "date", required: true, value: shift(today, 27) })),
    field("campaigns.goalValue", h("input", { name: "unit_value", type: "number", step: "any" })),
    field("campaigns.goalShare", h("input", { name: "healthy_share", type: "number", min: 0, max: 100, step: 1, value: 80 })),
    h("button", { type: "submit", class: "primary" }, t("campaigns.create")));
}

/** The campaigns panel in `id`; `refresh()` reloads the list and each campaign's progress. */
export function campaignsPanel(id, { garden, enabled, unit, indicators, today }) {
  const body = byId(id);
  const state = { list: undefined, error: null, today: null };
  const scope = `${unit.kind}:${unit.id}`;

  async function create(node) {
    const data = new FormData(node);
    const button = node.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const made = await garden.post("v1/campaigns", {
        name: data.get("name"), indicator: data.get("indicator"), unit: { kind: unit.kind, id: unit.id },
        starts_on: data.get("starts_on"), ends_on: data.get("ends_on"),
        goal: { unit_value: optional(data.get("unit_value")), healthy_share: optional(data.get("healthy_share"), 100) },
      }, newKey());
      notify(t("campaigns.created", { name: made.name || data.get("name") }));
      await refresh();
    } catch (error) {
      const details = (error.details || []).map((d) => `${d.field || d.loc || ""} ${d.reason || d.message || ""}`.trim()).join("; ");
      notify(details ? t("campaigns.invalid", { details }) : describe(error), "error");
      button.disabled = false;
    }
  }

  function render() {
    if (!enabled) return put(body, empty("campaigns.unavailable"));
    if (state.error) return put(body, failed(state.error, refresh));
    if (state.list === undefined) return put(body, loading());
    put(body,
      state.list.length ? h("div", { class: "campaigns" }, state.list.map(campaignCard)) : empty("campaigns.empty"),
      h("section", { class: "panel", "aria-labelledby": "new-campaign-title" },
        h("h3", { id: "new-campaign-title" }, t("campaigns.new")), form(indicators, state.today, create)));
  }

  async function refresh() {
    if (!enabled) return render();
    try {
      state.today = await today();
      const answer = await garden.get(`v1/campaigns?unit=${seg(scope)}`);
      const listed = answer.items || [];
      state.list = await Promise.all(listed.slice(0, SHOWN).map((c) => garden.get(`v1/campaigns/${seg(c.id)}`)));
      state.error = null;
    } catch (error) {
      state.error = error;
      console.warn("campaigns:", error.message);
    }
    render();
  }

  render();
  return { refresh, render };
}

// Leaderboards (成果排行榜) by day, ISO week and month; the garden applies the visibility
// rules (an agent sees the top rows and their own neighbourhood, a leader every row).
import { seg } from "./api.js";
import { h } from "./dom.js";
import { day, t } from "./i18n.js";
import { empty } from "./states.js";

export const PERIODS = ["day", "week", "month"];

export function boardPath(scope, period, today) {
  return `v1/leaderboards?scope=${seg(scope)}&period=${seg(`${period}:${today}`)}`;
}

/** The tabs choosing the period; `choose(period)` reloads. */
export function periodTabs(current, choose) {
  return h("div", { class: "tabs", role: "group", "aria-label": t("section.board") },
    PERIODS.map((period) => h("button", {
      type: "button", class: "tab", "aria-pressed": String(period === current), dataset: { period },
      onclick: () => choose(period),
    }, t(`board.${period}`))));
}

export function boardTable(board, { me, leader }) {
  const rows = board.entries.map((entry) => h("tr", { class: entry.owner === me ? "me" : null },
    h("td", { class: "num" }, entry.rank),
    h("td", {}, entry.name, entry.owner === me ? ` ${t("board.you")}` : ""),
    h("td", { class: "num" }, entry.fruit)));
  return h("div", { class: "board" },
    h("p", { class: "board-period" }, t("board.period", { start: day(board.start), end: day(board.end) })),
    rows.length
      ? h("div", { class: "scroll" }, h("table", { class: "board-table" },
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("board.rank")),
            h("th", { scope: "col" }, t("board.name")), h("th", { scope: "col", class: "num" }, t("board.fruit")))),
          h("tbody", {}, rows)))
      : empty("board.empty"),
    leader ? null : h("p", { class: "board-me" }, board.me
      ? t("board.me", { rank: board.me.rank, fruit: board.me.fruit })
      : t("board.me.none")),
    h("p", { class: "hint" }, t(leader ? "board.rule.leader" : "board.rule.agent")));
}

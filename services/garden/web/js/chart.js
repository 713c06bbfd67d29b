// A small SVG line chart of daily values (no library): dots shaped by state, a summary for
// screen readers and the same numbers as a table beside it.
import { h, s } from "./dom.js";
import { day, number, t } from "./i18n.js";

const W = 320, H = 120, PAD = { left: 26, right: 8, top: 8, bottom: 20 };
const MARKS = {
  healthy: (x, y) => s("circle", { cx: x, cy: y, r: 3.5 }),
  pests: (x, y) => s("path", { d: `M${x} ${y - 4.5}L${x + 4.5} ${y + 3.5}L${x - 4.5} ${y + 3.5}Z` }),
  withered: (x, y) => s("path", { d: `M${x - 4} ${y - 4}L${x + 4} ${y + 4}M${x + 4} ${y - 4}L${x - 4} ${y + 4}`, class: "mark-cross" }),
  not_rated: (x, y) => s("circle", { cx: x, cy: y, r: 3, class: "mark-open" }),
};

const dayNumber = (iso) => Date.UTC(...iso.split("-").map((v, i) => Number(v) - (i === 1 ? 1 : 0))) / 86400000;

/** points: [{date, value, state?}] (ISO dates); from/to: ISO dates of the x axis. */
export function lineChart(points, { from, to, max = 10, label }) {
  const x0 = dayNumber(from), x1 = Math.max(dayNumber(to), x0 + 1);
  const top = Math.max(max, ...points.map((p) => p.value));
  const x = (iso) => PAD.left + ((dayNumber(iso) - x0) / (x1 - x0)) * (W - PAD.left - PAD.right);
  const y = (v) => H - PAD.bottom - (v / top) * (H - PAD.top - PAD.bottom);
  const sorted = [...points].sort((a, b) => a.date.localeCompare(b.date));
  const grid = [0, top / 2, top].map((v) => [
    s("line", { x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v), class: "grid" }),
    s("text", { x: PAD.left - 4, y: y(v) + 3, class: "axis", "text-anchor": "end" }, number(v, 0)),
  ]);
  const line = sorted.length > 1
    ? s("polyline", { points: sorted.map((p) => `${x(p.date).toFixed(1)},${y(p.value).toFixed(1)}`).join(" "), class: "line" })
    : null;
  const marks = sorted.map((p) => {
    const mark = (MARKS[p.state] || MARKS.healthy)(x(p.date), y(p.value));
    mark.setAttribute("class", `${mark.getAttribute("class") || ""} mark mark-${p.state || "healthy"}`.trim());
    mark.append(s("title", {}, `${day(p.date)}: ${number(p.value)}${p.state ? ` · ${t(`state.${p.state}`)}` : ""}`));
    return mark;
  });
  const axis = [
    s("text", { x: PAD.left, y: H - 4, class: "axis" }, day(from)),
    s("text", { x: W - PAD.right, y: H - 4, class: "axis", "text-anchor": "end" }, day(to)),
  ];
  const summary = sorted.length
    ? `${label}: ${sorted.map((p) => `${p.date} ${number(p.value)}`).join(", ")}`
    : label;
  return s("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": summary },
    s("title", {}, label), grid, axis, line, marks);
}

/** The numbers of a chart as a table, folded away. */
export function chartTable(points) {
  const rows = [...points].sort((a, b) => b.date.localeCompare(a.date)).map((p) =>
    h("tr", {}, h("td", {}, day(p.date)), h("td", {}, number(p.value)),
      h("td", {}, p.state ? t(`state.${p.state}`) : "")));
  return h("details", { class: "chart-table" }, h("summary", {}, t("chart.table")),
    h("div", { class: "scroll" }, h("table", {},
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("chart.date")),
        h("th", { scope: "col" }, t("chart.value")), h("th", { scope: "col" }, t("chart.state")))),
      h("tbody", {}, rows))));
}

/** An ISO date `n` days from `iso`. */
export function shift(iso, n) {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

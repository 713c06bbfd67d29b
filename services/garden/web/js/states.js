// A plant's state is never told by colour alone: each has a shape and a word too.
import { h } from "./dom.js";
import { t } from "./i18n.js";

const SHAPES = { healthy: "●", pests: "▲", withered: "✖", not_rated: "○" };

/** A badge: shape, word and colour of a state (`null`: not rated yet). */
export function stateBadge(state, { short = false } = {}) {
  const name = state || "not_rated";
  return h("span", { class: `state state-${name}${short ? " state-short" : ""}`, dataset: { state: name } },
    h("span", { class: "state-shape", "aria-hidden": "true" }, SHAPES[name] || "?"),
    h("span", { class: "state-word" }, t(`state.${name}`)));
}

export function stars(level) {
  const full = Math.max(0, Math.min(5, level));
  return h("span", { class: "stars", "aria-label": t("stars.value", { stars: full }) },
    h("span", { "aria-hidden": "true" }, "★".repeat(full) + "☆".repeat(5 - full)),
    " ", h("span", { class: "stars-word" }, t("stars.value", { stars: full })));
}

/** A status line: loading, an error (with a retry), or nothing. */
export function loading() {
  return h("p", { class: "status status-loading", role: "status" }, t("status.loading"));
}

export function describe(error) {
  if (error.status === 0) return t("error.network");
  if (error.status === 401) return t("error.401");
  if (error.status === 403) return t("error.403");
  return t("error.load", { message: error.message || error.code });
}

export function failed(error, retry) {
  return h("div", { class: "status status-error", role: "alert" },
    h("span", { class: "state-shape", "aria-hidden": "true" }, "⚠"), " ", describe(error), " ",
    retry ? h("button", { type: "button", class: "link", onclick: retry }, t("action.retry")) : null);
}

export function empty(key) {
  return h("p", { class: "status status-empty" }, t(key));
}

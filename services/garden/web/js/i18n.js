// Two dictionaries, Chinese by default and English; the choice is kept in this browser.
import en from "./lang/en.js";
import zh from "./lang/zh.js";

const BOOKS = { zh, en };
const STORE = "garden.lang";
const listeners = [];

function stored() {
  try {
    return localStorage.getItem(STORE);
  } catch {
    return null;
  }
}

function initial() {
  const asked = new URLSearchParams(location.search).get("lang");
  if (asked && asked in BOOKS) return asked;
  const kept = stored();
  return kept && kept in BOOKS ? kept : "zh";
}

let current = initial();

export const lang = () => current;
export const locale = () => (current === "zh" ? "zh-CN" : "en");

/** The text of `key` with `{name}` parameters filled in. */
export function t(key, params = {}) {
  const text = BOOKS[current][key] ?? BOOKS.zh[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in params ? String(params[name]) : `{${name}}`));
}

/** A name from the dictionary, or the code itself for one it does not know (a
 * department's own indicator, a configured fruit). */
export function named(prefix, code) {
  const key = `${prefix}.${code}`;
  return key in BOOKS[current] ? t(key) : code;
}

export const indicatorName = (code) => named("indicator", code);
export const fruitName = (code) => (code ? named("fruit", code) : "—");

export function number(value, digits = 1) {
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: digits }).format(value);
}

export function day(iso) {
  const [y, m, d] = iso.split("-").map(Number);
  return new Intl.DateTimeFormat(locale(), { year: "numeric", month: "short", day: "numeric", timeZone: "UTC" })
    .format(new Date(Date.UTC(y, m - 1, d)));
}

export function instant(iso) {
  return new Intl.DateTimeFormat(locale(), { dateStyle: "medium", timeStyle: "short" }).format(new Date(iso));
}

/** Put the static texts (`data-i18n`, `data-i18n-label`) of the page in the language. */
export function translatePage() {
  document.documentElement.lang = locale();
  if (document.body.dataset.title) document.title = `${t(document.body.dataset.title)} · ${t("app.name")}`;
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll("[data-i18n-label]")) node.setAttribute("aria-label", t(node.dataset.i18nLabel));
  for (const button of document.querySelectorAll("[data-lang]")) button.setAttribute("aria-pressed", String(button.dataset.lang === current));
}

export function setLang(code) {
  if (!(code in BOOKS) || code === current) return;
  current = code;
  try {
    localStorage.setItem(STORE, code);
  } catch {
    // private mode: the choice lasts for this page only
  }
  translatePage();
  for (const listener of listeners) listener();
}

export function onLangChange(listener) {
  listeners.push(listener);
}

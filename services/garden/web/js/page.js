// What both pages share: the functions bar (language, refresh, sign out), the notices,
// the sign-in check and the sections' loading and error states.
import { byId, h, put } from "./dom.js";
import { onLangChange, setLang, t, translatePage } from "./i18n.js";
import { signOut, takeSession } from "./session.js";
import { failed, loading } from "./states.js";

/** Start a page: translate it, wire the functions bar, read the sign-in. Answers the
 * session, or null after showing why there is none. */
export function startPage({ onRefresh, rerender }) {
  translatePage();
  for (const button of document.querySelectorAll("[data-lang]")) {
    button.addEventListener("click", () => setLang(button.dataset.lang));
  }
  onLangChange(rerender);
  byId("refresh").addEventListener("click", onRefresh);
  byId("signout").addEventListener("click", () => {
    signOut();
    fatal("status.signedout");
  });
  const session = takeSession();
  if (!session) {
    fatal("error.signin");
    return null;
  }
  if (session.expired) {
    fatal("error.expired");
    return null;
  }
  return session;
}

/** Replace the page's content with one message (no sign-in, signed out). */
export function fatal(key) {
  put(byId("main"), h("p", { class: "status status-error fatal", role: "alert" }, t(key)));
  for (const id of ["refresh", "signout"]) byId(id).disabled = true;
}

/** Tell something that happened (harvested, redeemed, refused), politely. */
export function notify(text, tone = "ok") {
  const box = byId("notices");
  const note = h("p", { class: `notice notice-${tone}` }, text);
  box.prepend(note);
  while (box.children.length > 3) box.lastElementChild.remove();
  return note;
}

/** A section that loads on its own: shows loading, then draws, or the error with a retry.
 * `load` fetches and keeps what it read; `draw` renders what was kept (again on a
 * language change). */
export function section(id, { load, draw }) {
  const body = byId(id);
  const state = { data: undefined, error: null };
  const render = () => {
    if (state.error) put(body, failed(state.error, refresh));
    else if (state.data === undefined) put(body, loading());
    else put(body, draw(state.data));
    body.setAttribute("aria-busy", String(state.data === undefined && !state.error));
  };
  const refresh = async () => {
    try {
      state.data = await load();
      state.error = null;
    } catch (error) {
      state.error = error;
      console.warn(`${id}:`, error.message);
    }
    render();
    return state.data;
  };
  render();
  return { refresh, render, get data() { return state.data; } };
}

// The garden's front door: `/ui/#token=…` opens the agent's page for an agent's sign-in and
// the leader's page for anyone else's (the fragment goes along, never to a server).
import { byId } from "./dom.js";
import { t, translatePage } from "./i18n.js";
import { takeSession } from "./session.js";

translatePage();
const session = takeSession();
if (session && !session.expired) {
  location.replace(session.claims.role === "agent" ? "agent.html" : "leader.html");
} else {
  byId("where").textContent = t(session ? "error.expired" : "error.signin");
}

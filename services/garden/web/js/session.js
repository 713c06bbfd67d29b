// Sign-in: the host platform hands the page a bearer token in the URL fragment
// (`agent.html#token=…`). It is read once, kept in sessionStorage for this tab only and
// removed from the address bar, so it is neither bookmarked, shared nor sent anywhere
// but in the Authorization header of the page's own API calls.

const KEY = "garden.token";

function claimsOf(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(part.padEnd(part.length + ((4 - (part.length % 4)) % 4), "=")), (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes));
    return claims && typeof claims.sub === "string" ? claims : null;
  } catch {
    return null;
  }
}

/** Take the token from the fragment (then forget the fragment) or from this tab's storage.
 * Answers {token, claims, expired} or null. The claims are only read for display: the
 * services verify every call. */
export function takeSession() {
  const params = new URLSearchParams(location.hash.slice(1));
  const handed = params.get("token");
  if (handed) {
    sessionStorage.setItem(KEY, handed);
    params.delete("token");
    const rest = params.toString();
    history.replaceState(null, "", location.pathname + location.search + (rest ? `#${rest}` : ""));
  }
  const token = sessionStorage.getItem(KEY);
  if (!token) return null;
  const claims = claimsOf(token);
  if (!claims) {
    sessionStorage.removeItem(KEY);
    return null;
  }
  const expired = typeof claims.exp === "number" && claims.exp * 1000 <= Date.now();
  return { token, claims, expired };
}

export function signOut() {
  sessionStorage.removeItem(KEY);
}

// The REST API, with the API's own tokens. The access token lives only in
// memory; the refresh token in IndexedDB ("wt-nurse" session), so a reload
// or a restart without signal keeps the nurse signed in, and the first call
// online gets a fresh access token.

export class Offline extends Error {}
export class SignInNeeded extends Error {}

let access = null;
let session = null; // {store, row}: the "wt-nurse" database and its session row
let refreshing = null;

export function useSession(store, row, accessToken = null) {
  session = store ? { store, row } : null;
  access = accessToken;
}

export function forgetAccess() {
  access = null;
}

async function send(method, path, { body, headers = {}, raw } = {}) {
  const init = { method, headers: { ...headers } };
  if (access) init.headers.Authorization = `Bearer ${access}`;
  if (raw !== undefined) {
    init.body = raw;
  } else if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    throw new Offline(error.message);
  }
  const type = response.headers.get("Content-Type") || "";
  let data = null;
  const empty = method === "HEAD" || response.status === 204;
  if (empty) data = null;
  else if (type.includes("json")) data = await response.json();
  else if (type.startsWith("image/")) data = await response.blob();
  else if (type.startsWith("text/")) data = await response.text();
  return { status: response.status, ok: response.ok, headers: response.headers, data };
}

export async function signIn(email, password) {
  const r = await send("POST", "/api/v1/auth/token", { body: { email, password } });
  if (!r.ok) return r;
  access = r.data.access_token;
  return r;
}

export async function refresh() {
  if (!session || !session.row.refresh_token) throw new SignInNeeded("not signed in");
  if (!refreshing) {
    refreshing = (async () => {
      const r = await send("POST", "/api/v1/auth/refresh", {
        body: { refresh_token: session.row.refresh_token },
      });
      if (!r.ok) {
        if (r.status >= 500 || r.status === 429) throw new Offline(`refresh answered ${r.status}`);
        throw new SignInNeeded("the sign-in ended");
      }
      access = r.data.access_token;
      session.row.refresh_token = r.data.refresh_token;
      await session.store.put("session", session.row, "current");
    })().finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

// One API call; a 401 is answered by refreshing the tokens once.
export async function call(method, path, options = {}) {
  if (!access) await refresh();
  let r = await send(method, path, options);
  if (r.status === 401) {
    await refresh();
    r = await send(method, path, options);
    if (r.status === 401) throw new SignInNeeded("the sign-in ended");
  }
  return r;
}

export async function revoke(refreshToken) {
  try {
    await send("POST", "/api/v1/auth/revoke", { body: { refresh_token: refreshToken } });
  } catch {
    // offline: the token expires on its own; the phone has forgotten it already
  }
  access = null;
}

// The page as a FieldSync client: sign-in, token refresh, REST calls, and the live sync socket.
//
// The site id is per browser (localStorage) and per user, because the server binds a site to one user forever.
// The access token lives in memory only; the refresh token in sessionStorage, so a reload of the tab stays signed in.

export class ApiError extends Error {
  constructor(status, body) {
    const err = (body && body.error) || {};
    super(err.message || `HTTP ${status}`);
    this.status = status;
    this.code = err.code || `HTTP-${status}`;
  }
}

function siteFor(login) {
  const key = `fieldsync.site.${login}`;
  let site = localStorage.getItem(key);
  if (!site) {
    const bytes = crypto.getRandomValues(new Uint8Array(8));
    site = "web-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    localStorage.setItem(key, site);
  }
  return site;
}

async function postJson(url, body, token, method = "POST") {
  const headers = { "Content-Type": "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  const resp = await fetch(url, { method, headers, body: method === "DELETE" ? undefined : JSON.stringify(body) });
  const data = await resp.json().catch(() => ({}));
  if (!resp.ok) throw new ApiError(resp.status, data);
  return data;
}

export class Session {
  constructor() {
    this.token = null;
    this.refreshToken = null;
    this.site = null;
    this.login = null;
    this.timer = null;
    this.onExpired = () => {};
  }

  static restore() {
    const saved = JSON.parse(sessionStorage.getItem("fieldsync.session") || "null");
    if (!saved) return null;
    const s = new Session();
    Object.assign(s, { refreshToken: saved.refresh, site: saved.site, login: saved.login });
    return s;
  }

  async signIn(login, password, code) {
    this.site = siteFor(login);
    this.login = login;
    const body = { login, password, site: this.site, label: "dashboard (web)" };
    if (code) body.code = code;
    const answer = await postJson("/v1/auth/login", body);
    if (answer.totp_enrolment_required) return answer;
    this.accept(answer);
    return answer;
  }

  accept(answer) {
    this.token = answer.access_token;
    this.refreshToken = answer.refresh_token;
    sessionStorage.setItem("fieldsync.session", JSON.stringify({ refresh: this.refreshToken, site: this.site, login: this.login }));
    clearTimeout(this.timer);
    const ms = Math.max(10, (answer.expires_in || 900) - 60) * 1000;
    this.timer = setTimeout(() => this.refresh().catch(() => this.onExpired()), ms);
  }

  async refresh() {
    const answer = await postJson("/v1/auth/refresh", { refresh_token: this.refreshToken, site: this.site });
    this.accept(answer);
    return this.token;
  }

  signOut() {
    clearTimeout(this.timer);
    this.token = this.refreshToken = null;
    sessionStorage.removeItem("fieldsync.session");
  }

  async get(path, params = {}, { retry = true } = {}) {
    const url = new URL(path, location.origin);
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, v);
    const resp = await fetch(url, { headers: { Authorization: `Bearer ${this.token}` } });
    if (resp.status === 401 && retry) {
      await this.refresh();
      return this.get(path, params, { retry: false });
    }
    const data = await resp.json().catch(() => ({}));
    if (!resp.ok) throw new ApiError(resp.status, data);
    return data;
  }

  async post(path, body = {}, method = "POST") {
    try {
      return await postJson(path, body, this.token, method);
    } catch (err) {
      if (err.status !== 401) throw err;
      await this.refresh();
      return postJson(path, body, this.token, method);
    }
  }

  delete(path) {
    return this.post(path, {}, "DELETE");
  }

  async download(path, params, filename) {
    const url = new URL(path, location.origin);
    for (const [k, v] of Object.entries(params)) if (v) url.searchParams.set(k, v);
    const resp = await fetch(url, { headers: { Authorization: `Bearer ${this.token}` } });
    if (!resp.ok) throw new ApiError(resp.status, await resp.json().catch(() => ({})));
    const blob = await resp.blob();
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = filename;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  }
}

// The live feed: hello at the current head (no snapshot), then scoped live frames. Calls onVisits(ids) with
// the ids of visits that changed, onEvict(ids) for visits that left the scope, onState(online).
export class LiveFeed {
  constructor(session, { onVisits, onEvict, onState, onPurge }) {
    Object.assign(this, { session, onVisits, onEvict, onState, onPurge });
    this.cursor = null;
    this.ws = null;
    this.stopped = false;
    this.backoff = 500;
  }

  async start() {
    this.stopped = false;
    if (this.cursor === null) {
      const info = await fetch("/v1/sync/info").then((r) => r.json());
      this.cursor = `c:${info.seq}`;
      this.schema = info.schema;
    }
    const proto = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${proto}://${location.host}/v1/sync`);
    this.ws = ws;
    ws.onopen = () => {
      ws.send(JSON.stringify({ type: "hello", protocol: 1, schema: this.schema || 1, token: this.session.token,
                               site: this.session.site, cursor: this.cursor, live: true }));
    };
    ws.onmessage = (event) => this.receive(JSON.parse(event.data));
    ws.onclose = () => {
      this.onState(false);
      if (!this.stopped) setTimeout(() => this.start().catch(() => {}), this.backoff);
      this.backoff = Math.min(this.backoff * 2, 15000);
    };
  }

  async receive(msg) {
    if (msg.type === "welcome") {
      this.backoff = 500;
      this.onState(true);
    } else if (msg.type === "changes") {
      const ids = new Set();
      for (const c of msg.changes || []) if (c.t === "visits") ids.add(c.r);
      for (const r of msg.rows || []) if (r.t === "visits") ids.add(r.r);
      if (msg.seq) this.cursor = msg.seq;
      if (ids.size) this.onVisits([...ids]);
    } else if (msg.type === "checkpoint") {
      this.cursor = msg.cursor;
    } else if (msg.type === "evict") {
      const ids = (msg.rows || []).filter((r) => r[0] === "visits").map((r) => r[1]);
      if (ids.length) this.onEvict(ids);
    } else if (msg.type === "purge") {
      this.stop();
      this.onPurge();
    } else if (msg.type === "error" && msg.code === "FS-3002") {
      await this.session.refresh().catch(() => {});
    }
  }

  stop() {
    this.stopped = true;
    if (this.ws) this.ws.close();
  }
}

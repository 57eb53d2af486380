// REST calls with the access token, and the desktop websocket with resume.
//
// The token lives in sessionStorage (this tab only) and is refreshed a minute before it
// expires; the socket is told the fresh token so it is not closed. The socket resumes
// after a drop with the last (epoch, seq) it saw and drops frames it already has (by id).

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.code = body && body.error;
  }
}

export class Session {
  constructor(onExpired) {
    this.onExpired = onExpired;
    this.listeners = [];
    const saved = sessionStorage.getItem("hotline.session");
    this.data = saved ? JSON.parse(saved) : null;
    this.timer = null;
    if (this.data) this.schedule();
  }
  get token() { return this.data && this.data.access_token; }
  get user() { return this.data && this.data.user; }
  onToken(fn) { this.listeners.push(fn); }

  set(data) {
    this.data = data;
    sessionStorage.setItem("hotline.session", JSON.stringify(data));
    this.schedule();
    for (const fn of this.listeners) fn(data.access_token);
  }
  clear() {
    this.data = null;
    sessionStorage.removeItem("hotline.session");
    clearTimeout(this.timer);
  }
  schedule() {
    clearTimeout(this.timer);
    const ms = this.data.expires_at * 1000 - Date.now() - 60_000;
    this.timer = setTimeout(() => this.refresh(), Math.max(ms, 1_000));
  }
  async refresh() {
    try {
      this.set(await this.call("POST", "/api/auth/refresh"));
    } catch (err) {
      if (err.status === 401) this.expire();
    }
  }
  expire() {
    this.clear();
    this.onExpired();
  }

  async login(username, password) {
    this.set(await this.call("POST", "/api/auth/login", { username, password }, false));
  }
  async logout() {
    try { await this.call("POST", "/api/auth/logout"); } finally { this.clear(); }
  }

  async call(method, path, body, auth = true) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (auth && this.token) headers.Authorization = `Bearer ${this.token}`;
    const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    if (r.status === 204) return null;
    const data = await r.json().catch(() => null);
    if (!r.ok) {
      if (r.status === 401 && auth && this.token) this.expire();
      throw new ApiError(r.status, data);
    }
    return data;
  }
}

export class DeskSocket {
  constructor(session, onFrame, onLink) {
    this.session = session;
    this.onFrame = onFrame;
    this.onLink = onLink;
    this.epoch = null;
    this.seq = null;
    this.seen = new Set();
    this.seenOrder = [];
    this.ws = null;
    this.delay = 500;
    this.stopped = true;
    session.onToken((token) => this.send({ type: "auth", token }));
  }

  start() {
    this.stopped = false;
    this.open();
  }
  stop() {
    this.stopped = true;
    clearInterval(this.pinger);
    if (this.ws) this.ws.close(1000, "signed out");
    this.ws = null;
  }
  send(message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  open() {
    if (this.stopped || !this.session.token) return;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/ws/agent`);
    this.ws = ws;
    ws.onopen = () => {
      const auth = { type: "auth", token: this.session.token };
      if (this.epoch !== null) auth.resume = { epoch: this.epoch, seq: this.seq };
      ws.send(JSON.stringify(auth));
    };
    ws.onmessage = (event) => this.receive(JSON.parse(event.data));
    ws.onclose = (event) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.onLink(false);
      if (this.stopped) return;
      if (event.code === 1008) {
        // Refused: an expired or signed-out token. Ask for a fresh one once.
        this.session.refresh().then(() => this.retry());
        return;
      }
      this.retry();
    };
    this.pinger = setInterval(() => this.send({ type: "ping" }), 25_000);
  }
  retry() {
    clearInterval(this.pinger);
    if (this.stopped || !this.session.token) return;
    setTimeout(() => this.open(), this.delay);
    this.delay = Math.min(this.delay * 2, 10_000);
  }

  receive(frame) {
    if (frame.type === "hello") {
      this.delay = 500;
      if (frame.epoch !== this.epoch) {
        // Another worker or a restart: its numbering starts before the frames it replays.
        this.epoch = frame.epoch;
        this.seq = frame.seq - (frame.replayed || 0);
      }
      this.onLink(true);
      return;
    }
    if (frame.type === "pong") return;
    if (typeof frame.seq === "number" && frame.seq > 0) {
      this.epoch = frame.epoch;
      this.seq = frame.seq;
    }
    if (frame.id) {
      if (this.seen.has(frame.id)) return;  // already shown (a replay from another worker)
      this.seen.add(frame.id);
      this.seenOrder.push(frame.id);
      if (this.seenOrder.length > 2000) this.seen.delete(this.seenOrder.shift());
    }
    this.onFrame(frame);
  }
}

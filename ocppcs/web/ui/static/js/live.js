// A WebSocket feed that reconnects with exponential backoff (1 s .. 30 s, with jitter).

export class Feed {
  /** @param path e.g. "/ws/log"; onMessage(obj) for each JSON message; onState(bool). */
  constructor(path, onMessage, onState = () => {}) {
    this.path = path;
    this.onMessage = onMessage;
    this.onState = onState;
    this.delay = 1000;
    this.closed = false;
    this.connect();
  }

  connect() {
    if (this.closed) return;
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${scheme}//${location.host}${this.path}`);
    this.ws = ws;
    ws.onopen = () => { this.delay = 1000; this.onState(true); };
    ws.onmessage = (e) => {
      let msg;
      try { msg = JSON.parse(e.data); } catch { return; }
      this.onMessage(msg);
    };
    ws.onclose = () => {
      this.onState(false);
      if (this.closed) return;
      const wait = this.delay * (0.75 + Math.random() / 2);
      this.delay = Math.min(this.delay * 2, 30000);
      this.timer = setTimeout(() => this.connect(), wait);
    };
  }

  close() {
    this.closed = true;
    clearTimeout(this.timer);
    if (this.ws) this.ws.close();
  }
}

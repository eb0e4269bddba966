// Fallback engine: the loader speaks the visitor protocol itself and the server runs the engine.
import { getJSON, set } from "./store.js";
import { CLOSE_FORBIDDEN_ORIGIN, CLOSE_UNKNOWN_SITE, CLOSE_UNSUPPORTED_VERSION, T_ACK, T_PING, T_TYPING, T_WELCOME } from "./wire.js";

const KEY = "bpract:fbq";
const FINAL = [CLOSE_UNSUPPORTED_VERSION, CLOSE_FORBIDDEN_ORIGIN, CLOSE_UNKNOWN_SITE];
const MAX = 500;

// opts: url, hello() -> hello frame, on(frame), status(state, detail); push(frame, id?) sends a frame.
// A typing frame is sent at once or never: not numbered, kept or resent.
export function fallback(opts) {
  // n: last seq; q: unacknowledged frames; w: the stream's seq base is known (a welcome was seen)
  const st = getJSON(0, KEY) || { n: 0, q: [], w: 0 };
  const save = () => set(0, KEY, st);
  let ws = null;
  let live = false;
  let delay = 500;
  let ping = 0;
  let as = ""; // the visitor id the last hello named

  const local = new Map(); // a visitor message frame -> the page's id for it, reported once stored
  const send = (f) => live && ws.send(JSON.stringify(f));
  const keep = (stored) => {
    st.q = st.q.filter((q) => {
      if (!stored(q)) return true;
      if (local.has(q)) opts.on({ type: "sent", id: local.get(q) });
      local.delete(q);
    });
    save();
  };

  function push(frame, id) {
    if (frame.t == T_TYPING) return send(frame);
    if (id) local.set(frame, id);
    frame.at = frame.at || Date.now();
    if (st.w) frame.seq = ++st.n;
    st.q.push(frame);
    if (st.q.length > MAX) st.q.splice(0, st.q.length - MAX);
    save();
    if (frame.seq) send(frame);
  }

  function welcome(f) {
    const stored = f.stored_seq || 0;
    if (f.visitor != as) st.w = st.n = 0; // a fresh visitor: nothing of it is stored yet
    opts.on({ type: "visitor", visitor: f.visitor, key: f.key });
    if (!st.w) {
      // frames made before the first welcome are numbered after whatever this stream already stored
      st.w = 1;
      st.n = Math.max(st.n, stored);
      for (const q of st.q) q.seq = ++st.n;
    }
    keep((q) => q.seq <= stored);
    live = true;
    delay = 500;
    st.q.forEach(send);
    opts.status("ready");
  }

  function receive(m) {
    let f;
    try {
      f = JSON.parse(m.data);
    } catch (e) {
      return;
    }
    if (f.t == T_WELCOME) welcome(f);
    else if (f.t == T_ACK) {
      const acked = new Set(f.seq);
      keep((q) => acked.has(q.seq));
    } else opts.on(f);
  }

  function connect() {
    ws = new WebSocket(opts.url);
    ws.onopen = () => {
      const hello = opts.hello();
      as = hello.visitor;
      ws.send(JSON.stringify(hello));
      ping = setInterval(() => send({ t: T_PING }), 25000);
    };
    ws.onmessage = receive;
    ws.onclose = (e) => {
      live = false;
      clearInterval(ping);
      opts.status("closed", e.code);
      if (FINAL.includes(e.code)) return;
      setTimeout(connect, Math.random() * delay);
      delay = Math.min(delay * 2, 30000);
    };
  }

  connect();
  return push;
}

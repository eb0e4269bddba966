// The chat shell: launcher, panel, composer and proactive messages in an open Shadow DOM;
// answers, citations, ratings and history come with the chat module, loaded on first use.
import { h, safeUrl } from "./dom.js";

const CSS = `:host{all:initial}
*{box-sizing:border-box;font:15px/1.4 system-ui,sans-serif;color:#1f2328}
button,a,textarea{min-height:44px;min-width:44px}
:focus-visible{outline:3px solid #1a56db;outline-offset:2px}
.l{position:fixed;right:16px;bottom:16px;width:56px;height:56px;border:0;border-radius:50%;background:#1a56db;color:#fff;font-size:24px;cursor:pointer;z-index:2147483000;box-shadow:0 2px 8px #0004}
.p{position:fixed;right:16px;bottom:84px;width:360px;max-height:70vh;display:flex;flex-direction:column;background:#fff;border-radius:12px;box-shadow:0 4px 24px #0004;z-index:2147483000;transition:opacity .2s,transform .2s}
.p[hidden]{display:none}
header{display:flex;align-items:center;justify-content:space-between;padding:4px 4px 4px 16px;border-bottom:1px solid #ddd}
h2{margin:0;font-weight:600;flex:1}
.hp{border:1px solid #1a56db;border-radius:8px;background:#fff;color:#1a56db;padding:0 10px;cursor:pointer;font-size:13px}
.hp:disabled{opacity:.6;cursor:default}
.x{border:0;background:none;font-size:22px;cursor:pointer}
.g{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px}
.m{padding:8px 12px;border-radius:10px;background:#f1f3f5;max-width:85%;white-space:pre-wrap;overflow-wrap:anywhere}
.me{align-self:flex-end;background:#dbe6ff}
.m a{display:inline-flex;align-items:center;margin-top:8px;padding:0 12px;border-radius:8px;background:#1a56db;color:#fff;text-decoration:none}
form{display:flex;gap:8px;padding:8px;border-top:1px solid #ddd;flex-wrap:wrap}
label{width:100%;font-size:13px}
textarea{flex:1;resize:none;padding:10px;border:1px solid #888;border-radius:8px}
form button{border:0;border-radius:8px;padding:0 14px;background:#1a56db;color:#fff;cursor:pointer}
.s::after,.f::after{display:block;font-size:12px;content:"Sending…"}
.f::after{content:"Not sent";color:#b00020}
.u::after{content:"";position:absolute;top:4px;right:4px;width:12px;height:12px;border-radius:50%;background:#d93025;border:2px solid #fff}
.l svg{width:28px;height:28px;fill:#fff;vertical-align:middle}
@media (max-width:480px){.p{left:0;right:0;bottom:0;width:100%;max-height:85vh;border-radius:12px 12px 0 0}.l[aria-expanded=true]{display:none}}
@media (prefers-reduced-motion:reduce){*{transition:none!important;animation:none!important}}`;

const ICON = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"/></svg>';

// hooks: emit(rawEvent), fire(name, payload), base (the build's URL, ends with "/")
export function chat(hooks) {
  const host = h("div", { id: "bpract-chat" });
  const root = host.attachShadow({ mode: "open" });
  let current = null; // {id, kinds: Set} of the outreach on screen
  let n = 0;
  const sending = new Map(); // the page's id of a visitor message -> its bubble, until stored
  let mod = null; // the chat module's frame handler, once loaded
  let loading = null;
  let tries = 0; // a failed module import is remembered by its URL: a retry asks for another
  const queued = [];
  const outcome = (kind) => {
    if (!current || current.kinds.has(kind)) return;
    current.kinds.add(kind);
    hooks.emit({ k: "outcome", outreach: current.id, kind });
  };

  const log = h("div", { className: "g", role: "log", "aria-live": "polite" });
  const input = h("textarea", { id: "r", rows: 1, maxLength: 2000 });
  const launcher = h("button", { className: "l", "aria-label": "Open chat", "aria-expanded": "false", "aria-controls": "p", onclick: () => (panel.hidden ? open(true) : close()) });
  // A static icon (no emoji: many systems lack a colour emoji font); never untrusted text.
  launcher.innerHTML = ICON;
  const send = (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    const id = "l_" + Date.now().toString(36) + ++n;
    sending.set(id, add(text, 1));
    hooks.emit({ k: "message", text, outreach: current && current.id, id });
    outcome("replied");
    hooks.fire("message", { text, outreach: current && current.id });
  };
  input.addEventListener("keydown", (e) => {
    if (e.key == "Enter" && !e.shiftKey) send(e);
  });
  // "Talk to a person": the server hands the conversation to the team and says so in the chat.
  const person = h("button", { className: "hp", type: "button", onclick: () => {
    person.disabled = true; // until the answer that says it is passed on (or a while)
    setTimeout(() => (person.disabled = false), 15000);
    hooks.emit({ k: "handoff" });
  } }, "Talk to a person");
  const panel = h(
    "div",
    { className: "p", id: "p", role: "dialog", "aria-modal": "false", "aria-labelledby": "t", hidden: true },
    h("header", {}, h("h2", { id: "t" }, "Chat"), person, h("button", { className: "x", "aria-label": "Close chat", onclick: () => close() }, "×")),
    log,
    h("form", { onsubmit: send }, h("label", { htmlFor: "r" }, "Your message"), input, h("button", { type: "submit" }, "Send")),
  );
  root.append(h("style", {}, CSS), panel, launcher);
  root.addEventListener("keydown", (e) => {
    if (e.key == "Escape" && !panel.hidden) close();
  });

  // Follow new content unless the visitor scrolled up to read.
  function keep(change, force) {
    const near = log.scrollHeight - log.scrollTop - log.clientHeight < 48;
    const out = change();
    if (near || force) log.scrollTop = log.scrollHeight;
    return out;
  }

  function add(text, mine, cta, id) {
    const msg = h("div", { className: mine ? "m me s" : "m" }, String(text));
    if (id) msg.dataset.id = id;
    const href = cta && safeUrl(cta.url);
    if (href) {
      msg.append(h("br", {}), h("a", { href, onclick: () => outcome("clicked") }, String(cta.label || href)));
    }
    return keep(() => log.appendChild(msg), mine);
  }

  function unread(on) {
    if (on && !panel.hidden) return;
    launcher.classList.toggle("u", on);
    if (panel.hidden) launcher.setAttribute("aria-label", on ? "Open chat, new message" : "Open chat");
  }

  function load() {
    loading =
      loading ||
      import(hooks.base + "chat.mjs" + (tries ? "?" + tries : "")).then(
        (m) => {
          mod = m.mount({ root, log, keep, unread, emit: hooks.emit, isOpen: () => !panel.hidden });
          queued.splice(0).forEach((q) => mod(...q));
        },
        () => {
          loading = null; // tried again on the next open or reply
          tries++;
          hooks.fire("status", { type: "status", state: "chat_unavailable" });
        },
      );
  }

  // Chat frames from the engine or the fallback: reply_*, history, action*, agent_*, sent,
  // unsent (of the shell's bubbles, or the chat module's ticket form); others are not ours.
  function frame(type, d) {
    const mine = sending.get(d.id);
    if (mine) {
      sending.delete(d.id);
      mine.classList.remove("s");
      if (type == "unsent") mine.classList.add("f");
    } else if (/^(reply_|history$|action|agent_|(un)?sent$)/.test(type)) {
      if (type == "reply_end") person.disabled = false;
      if (mod) return mod(type, d);
      queued.push([type, d]);
      load();
    }
  }

  function open(byVisitor) {
    if (byVisitor) outcome("opened");
    load();
    if (!panel.hidden) return;
    panel.hidden = false;
    unread(false);
    launcher.setAttribute("aria-expanded", "true");
    launcher.setAttribute("aria-label", "Close chat");
    if (byVisitor) input.focus();
    hooks.emit({ k: "ui", chat_open: true });
    hooks.fire("open", {});
  }

  function close() {
    if (panel.hidden) return;
    if (current && !["clicked", "replied"].some((k) => current.kinds.has(k))) outcome("dismissed");
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-label", "Open chat");
    if (root.activeElement) launcher.focus();
    hooks.emit({ k: "ui", chat_open: false });
    hooks.fire("close", {});
  }

  function outreach(o) {
    if (!o || !o.id || (current && current.id == o.id)) return;
    current = { id: String(o.id), kinds: new Set() };
    add(o.message, 0, o.cta, current.id);
    open(false);
    outcome("shown");
  }

  return { host, open: () => open(true), close, outreach, frame };
}

// The chat module (served as chat.mjs, loaded on first use): streamed answers, citations, ratings,
// history, action cards (docs/actions.md), the ticket form when no one can answer live
// (docs/tickets.md), and the live conversation with a person (docs/chat.md).
import { h, safeUrl } from "./dom.js";
import { T_ACTION, T_ACTION_RESULT, T_AGENT_JOINED, T_AGENT_LEFT, T_AGENT_MESSAGE, T_AGENT_TYPING, T_HISTORY, T_REPLY_DELTA, T_REPLY_DROP, T_REPLY_END, T_REPLY_RESET, T_REPLY_START, T_TYPING } from "./wire.js";

const CSS = `.m[aria-busy=true] .t:empty::before{content:"";display:inline-block;width:28px;height:10px;background:radial-gradient(circle,#666 35%,#0000 40%) 0 50%/9px 9px repeat-x;animation:k 1s infinite}
@keyframes k{50%{opacity:.3}}
.t{display:block}
.m .n{display:block;margin-top:6px;font-size:13px;color:#555}
.m h3{margin:8px 0 2px;font-size:13px;font-weight:600}
.m ol{margin:0;padding-left:20px}
.m li{margin:2px 0}
.m nav a,.m sup a{display:inline;min-height:0;min-width:0;margin:0;padding:0;background:none;color:#1a56db;text-decoration:underline}
.m li a{display:inline-block;min-height:24px}
.v{display:flex;gap:6px;margin-top:6px}
.v button{display:flex;align-items:center;justify-content:center;border:1px solid #999;border-radius:8px;background:#fff;cursor:pointer}
.v button[aria-pressed=true]{background:#dbe6ff;border-color:#1a56db}
.v svg{width:20px;height:20px;fill:#1f2328}
.down svg{transform:rotate(180deg)}
.c{align-self:stretch;max-width:100%;background:#fff;border:1px solid #bbb}
.c h3{font-size:15px;margin:0 0 4px}
.c dl{display:grid;grid-template-columns:auto 1fr;gap:2px 12px;margin:8px 0}
.c dt{color:#555}.c dd{margin:0;font-weight:600}
.c form{display:flex;flex-direction:column;gap:8px;padding:0;border:0;margin-top:8px}
.c .fd{display:flex;flex-direction:column;gap:2px}
.c input,.c select{min-height:44px;padding:8px;border:1px solid #888;border-radius:8px;font:inherit;background:#fff}
.c .b{display:flex;gap:8px}
.c .b button{flex:1;border:1px solid #1a56db;border-radius:8px;background:#1a56db;color:#fff;cursor:pointer}
.c .b .no{background:#fff;color:#1a56db}
.c button:disabled{opacity:.6;cursor:default}
.c .w{color:#8a4b00}
.c .r{display:block;margin-top:8px;font-weight:600}
.c textarea{min-height:88px;padding:8px;border:1px solid #888;border-radius:8px;font:inherit;resize:vertical}
.c[data-state=succeeded] .r{color:#0a6b2d}.c[data-state=failed] .r,.c[data-state=refused] .r{color:#b00020}
.o{align-self:center;max-width:90%;text-align:center;font-size:13px;color:#555;overflow-wrap:anywhere}
.m .who{display:block;margin-bottom:2px;font-size:13px;font-weight:600;color:#1a56db}
.m[data-role=agent]{border-left:3px solid #1a56db}
.sub{display:block;font-size:13px;font-weight:400;color:#555;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.sub:empty{display:none}
h2{min-width:0}
.ty{padding:0 12px;font-size:13px;color:#555;font-style:italic}
.ty:not(:empty){padding:0 12px 6px}`;

// A static icon, never untrusted text.
const THUMB = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M2 21h4V9H2v12zm20-11a2 2 0 0 0-2-2h-6.3l1-4.6v-.3c0-.4-.2-.8-.4-1.1L13.2 1 6.6 7.6C6.2 8 6 8.5 6 9v10a2 2 0 0 0 2 2h9c.8 0 1.5-.5 1.8-1.2l3-7.1c.1-.2.2-.5.2-.7v-2z"/></svg>';
const NOTES = {
  unknown: "Not covered by our help pages. Ask for a person and our team will answer here.",
  handoff: "A person from our team will answer here.",
  ticket: "We will answer by email.",
};
const MAX_MESSAGES = 200;
const TYPING_EVERY = 3000; // while typing, "typing on" at most this often
const TYPING_IDLE = 4000; // no key for this long: "typing off"
const TYPING_SHOWN = 6000; // the person's indicator without a refresh goes after this
const LEFT = {
  bot: " left. The assistant is back.",
  queue: " passed you to a colleague. Someone will answer here.",
  resolved: " closed this conversation.",
};
const who = (d) => String(d.name || "").slice(0, 100) || "Our team";
const STATES = { succeeded: "Done", failed: "Not done", refused: "Not done", declined: "Cancelled", expired: "Expired" };
const list = (v) => (Array.isArray(v) ? v.filter((x) => x && typeof x == "object") : []);

// One input of a card's form, from the schema's field: choices, numbers, dates, text.
function input(f, prefix) {
  const name = String(f.name);
  const value = f.value == null ? "" : String(f.value);
  let el;
  if (f.kind == "choice") {
    el = h("select", { name }, h("option", { value: "" }, "Choose…"));
    for (const c of Array.isArray(f.choices) ? f.choices : []) el.append(h("option", { value: String(c), selected: String(c) == value }, String(c)));
  } else {
    el = h("input", { type: { integer: "number", number: "number", date: "date" }[f.kind] || "text", name, value });
    if (f.kind == "integer") el.step = "1";
    if (f.kind == "number") el.step = "any";
    if (f.min != null) el.min = String(f.min);
    if (f.max != null) el.max = String(f.max);
    if (f.max_length) el.maxLength = +f.max_length;
  }
  el.required = f.required !== false;
  el.dataset.kind = f.kind;
  el.id = prefix + name;
  return h("div", { className: "fd" }, h("label", { htmlFor: el.id }, String(f.label || name) + (el.required ? "" : " (optional)")), el);
}

// The form's values as the schema wants them: numbers as numbers, empty optional fields left out.
function values(form) {
  const out = {};
  for (const el of form.querySelectorAll("input,select")) {
    if (el.value === "") continue;
    out[el.name] = el.dataset.kind == "integer" || el.dataset.kind == "number" ? +el.value : el.value;
  }
  return out;
}

// "[n]" markers become superscript links to the cited source; everything is text nodes.
function fill(el, text, cites) {
  el.textContent = "";
  String(text)
    .split(/(\[\d{1,2}\])/)
    .forEach((part, i) => {
      const c = i % 2 ? cites.find((c) => c.href && "[" + c.n + "]" == part) : null;
      el.append(c ? h("sup", {}, h("a", { href: c.href, rel: "noopener", target: "_blank", "aria-label": "Source " + c.n + ": " + c.title }, part)) : part);
    });
}

// Citations with a title; the link only when it is http(s).
function sources(list) {
  return (Array.isArray(list) ? list : [])
    .filter((c) => c && typeof c == "object")
    .map((c, i) => {
      const title = String(c.title || c.url || "");
      const section = c.section && c.section != title ? " — " + c.section : "";
      return { n: +c.n || i + 1, title: title + section, href: c.url ? safeUrl(String(c.url)) : null };
    })
    .filter((c) => c.title);
}

// shell: root, log, keep(change, force), unread(on), emit(event), isOpen()
export function mount(shell) {
  const { log, keep, root } = shell;
  root.append(h("style", {}, CSS));
  const find = (id) => [...log.children].find((el) => el.dataset.id == id);
  const dropped = new Set(); // replies a person's arrival cut off: never shown again
  // The shell's parts this module changes while a person has the conversation.
  const person = root.querySelector(".hp");
  const box = root.querySelector("textarea");
  const sub = h("span", { className: "sub" });
  root.getElementById("t").append(sub);
  // "<name> is typing…": a live region of its own under the log, empty when no one types.
  const typing = h("div", { className: "ty", "aria-live": "polite" });
  log.after(typing);
  let typingTimer = 0;
  const notTyping = () => {
    clearTimeout(typingTimer);
    typing.textContent = "";
  };

  function add(el, id, role) {
    el.dataset.id = id;
    el.dataset.role = role;
    keep(() => log.append(el));
    while (log.children.length > MAX_MESSAGES) log.firstChild.remove();
    return el;
  }

  function bubble(id, role) {
    return add(h("div", { className: role == "visitor" ? "m me" : "m" }), id, role);
  }

  // A centred line about the conversation itself ("Ana joined the conversation"), once per event.
  function note(d, text) {
    const id = d.t + ":" + d.conversation + ":" + d.at;
    if (find(id)) return;
    add(h("div", { className: "o" }, text), id, "note");
    if (!shell.isOpen()) shell.unread(true);
  }

  function owner(name) {
    sub.textContent = name ? "You're chatting with " + name : "";
    person.hidden = !!name; // no "Talk to a person" while one has it
    person.disabled = false;
  }

  // The visitor's typing, told to the server: "on" at most every few seconds while typing,
  // "off" once after a pause, on send or when the box loses focus.
  let typedAt = 0;
  let idle = 0;
  const stop = () => {
    clearTimeout(idle);
    if (typedAt) shell.emit({ k: T_TYPING, on: false });
    typedAt = 0;
  };
  box.addEventListener("input", () => {
    clearTimeout(idle);
    if (!box.value.trim()) return stop();
    if (Date.now() - typedAt >= TYPING_EVERY) {
      typedAt = Date.now();
      shell.emit({ k: T_TYPING, on: true });
    }
    idle = setTimeout(stop, TYPING_IDLE);
  });
  box.addEventListener("blur", stop);
  box.addEventListener("keydown", (e) => e.key == "Enter" && !e.shiftKey && stop());
  box.form.addEventListener("submit", stop);

  // The bubble of reply `id`, made when missing; its text lives in a .t child while streaming.
  function reply(id) {
    let el = find(id);
    if (!el) {
      el = bubble(id, "bot");
      el.setAttribute("aria-busy", "true");
      el.append(h("span", { className: "t" }));
    }
    return el;
  }

  function rating(id) {
    const group = h("div", { className: "v", role: "group", "aria-label": "Rate this answer" });
    for (const [value, label] of [["up", "Helpful"], ["down", "Not helpful"]]) {
      const b = h("button", { type: "button", className: value, "aria-label": label, "aria-pressed": "false" });
      b.innerHTML = THUMB;
      b.onclick = () => {
        if (b.getAttribute("aria-pressed") == "true") return;
        for (const other of group.children) other.setAttribute("aria-pressed", String(other == b));
        shell.emit({ k: "rate", reply: id, rating: value });
      };
      group.append(b);
    }
    return group;
  }

  // The final form of a bot, agent or outreach message; the bubble announces once, now.
  function finish(el, d) {
    const text = String(d.text || "");
    if (el.dataset.done == text) return;
    el.dataset.done = text;
    const cites = sources(d.citations);
    const body = h("span", { className: "t" });
    fill(body, text, cites);
    const parts = [body];
    if (d.offline && d.kind != "action") parts.push(h("span", { className: "n" }, "Automatic answer, quoted from our help pages."));
    if (NOTES[d.kind]) parts.push(h("span", { className: "n" }, NOTES[d.kind]));
    if (cites.length) {
      const items = cites.map((c) => h("li", { value: c.n }, c.href ? h("a", { href: c.href, rel: "noopener", target: "_blank" }, c.title) : c.title));
      parts.push(h("nav", { "aria-label": "Sources" }, h("h3", {}, "Sources"), h("ol", {}, ...items)));
    }
    if (el.dataset.role == "bot" && d.kind != "action") parts.push(rating(el.dataset.id));
    if (el.dataset.role == "agent") parts.unshift(h("span", { className: "who" }, who(d)));
    keep(() => el.replaceChildren(...parts));
    el.removeAttribute("aria-busy");
  }

  function restore(m, after) {
    const role = ["visitor", "agent", "outreach"].includes(m.role) ? m.role : "bot";
    const id = String(m.id || "");
    let el = id && find(id);
    if (!el && role == "visitor") {
      // the visitor's own bubble, shown before the server stored it
      el = [...log.querySelectorAll(".me:not([data-id])")].find((b) => b.textContent == m.text);
      if (el) {
        el.dataset.id = id;
        el.classList.remove("s", "f");
      }
    }
    if (!el) {
      el = bubble(id, role);
      if (role == "visitor") el.textContent = String(m.text || "");
    }
    if (el.classList.contains("c")) {
      if (el.dataset.state == "open" || el.dataset.state == "sent") settle(el, "", m.text); // settled while away
    } else if (role != "visitor" && el.dataset.role) finish(el, m); // not the shell's outreach bubble: it has the CTA
    let at = after ? after.nextSibling : log.firstChild;
    while (at && at != el && at.dataset.role == "note") at = at.nextSibling; // notes stay after their message
    if (at != el) keep(() => log.insertBefore(el, at));
    return el;
  }

  // A proposed action: what will happen, its form, Confirm / Cancel. Nothing runs until the
  // visitor clicks Confirm; a click is sent once (the buttons lock) and the server's
  // action_result settles the card. Its id is the stored result's ("ar_" + the pending id),
  // so a history after a reconnect places the card instead of repeating its result.
  function card(d) {
    const id = "ar_" + d.id;
    if (find(id)) return; // a card comes again after every welcome while it is open
    const title = h("h3", {}, String(d.title || ""));
    const sentence = h("span", { className: "t" }, String(d.text || ""));
    const parts = [title, sentence];
    const rows = list(d.details).map((x) => [x.label, x.value]);
    if (d.before) rows.push(["Now", d.before]);
    if (d.after) rows.push(["After", d.after]);
    if (rows.length) parts.push(h("dl", {}, ...rows.flatMap(([k, v]) => [h("dt", {}, String(k)), h("dd", {}, String(v))])));
    const yes = h("button", { type: "submit" }, "Confirm");
    const no = h("button", { type: "button", className: "no" }, "Cancel");
    const form = h("form", {}, ...list(d.fields).map((f) => input(f, id + "-")), h("div", { className: "b" }, yes, no));
    if (d.template) {
      // The sentence follows the form: "to the {plan} plan" reads "to the premium plan".
      const fillIn = () =>
        (sentence.textContent = String(d.template).replace(/\{\{|\}\}|\{(\w+)(?::(cents))?\}/g, (m, name, c) => {
          if (!name) return m[0];
          const v = form.elements[name] ? form.elements[name].value : "";
          return v === "" ? "…" : c ? (+v / 100).toFixed(2) : v;
        }));
      form.addEventListener("input", fillIn);
      fillIn();
    }
    if (d.irreversible) parts.push(h("span", { className: "n w" }, "This cannot be undone."));
    const until = +d.expires_at;
    if (until) parts.push(h("span", { className: "n" }, "Valid until " + new Date(until).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) + "."));
    parts.push(form);
    const el = h("div", { className: "m c", role: "group" }, ...parts);
    el.dataset.id = id;
    el.dataset.state = "open";
    title.id = "h" + id;
    el.setAttribute("aria-labelledby", title.id);
    const send = (k, extra) => {
      if (el.dataset.state != "open") return;
      el.dataset.state = "sent";
      for (const c of form.elements) c.disabled = true;
      el.setAttribute("aria-busy", "true");
      shell.emit(Object.assign({ k, token: String(d.token) }, extra));
    };
    form.onsubmit = (e) => {
      e.preventDefault();
      if (form.reportValidity()) send("confirm", { values: values(form) });
    };
    no.onclick = () => send("decline");
    const left = until - Date.now();
    if (left < 2 ** 31) setTimeout(() => el.dataset.state == "open" && settle(el, "expired", "This request has expired; ask again if you still want it."), Math.max(0, left));
    keep(() => log.append(el));
    if (!shell.isOpen()) shell.unread(true);
  }

  function settle(el, state, text) {
    el.dataset.state = state || "done";
    el.removeAttribute("aria-busy");
    const form = el.querySelector("form");
    const label = STATES[state];
    for (const note of el.querySelectorAll(".n")) note.remove(); // "cannot be undone", "valid until"
    keep(() => form && form.replaceWith(h("span", { className: "r", role: "status" }, (label ? label + ": " : "") + String(text || ""))));
  }

  // No one can answer live: a form under the answer for an email address and the question
  // (prefilled with the visitor's last message). Send emits one ticket, the controls lock, and
  // the engine's "sent" (the server's ack) replaces the form with the thanks.
  const tickets = new Map(); // the form's id -> its card, until stored
  function ticketForm(replyId) {
    const id = "tk_" + replyId;
    if (find(id)) return;
    const mine = log.querySelectorAll(".me");
    const email = h("input", { type: "email", name: "email", required: true, autocomplete: "email", maxLength: 254, id: id + "-e" });
    const text = h("textarea", { name: "text", required: true, maxLength: 2000, rows: 3, id: id + "-q" });
    text.value = mine.length ? mine[mine.length - 1].textContent : "";
    const send = h("button", { type: "submit" }, "Send");
    const form = h(
      "form", {},
      h("div", { className: "fd" }, h("label", { htmlFor: email.id }, "Your email address"), email),
      h("div", { className: "fd" }, h("label", { htmlFor: text.id }, "Your question"), text),
      h("div", { className: "b" }, send),
    );
    const title = h("h3", { id: "h" + id }, "Leave us a message");
    const el = h("div", { className: "m c", role: "group", "aria-labelledby": title.id }, title, form);
    el.dataset.id = id;
    el.dataset.state = "open";
    form.onsubmit = (e) => {
      e.preventDefault();
      if (el.dataset.state != "open" || !form.reportValidity() || !text.value.trim()) return;
      el.dataset.state = "sent";
      for (const c of form.elements) c.disabled = true;
      el.setAttribute("aria-busy", "true");
      const local = "lt_" + Date.now().toString(36) + tickets.size;
      tickets.set(local, [el, email.value.trim()]);
      shell.emit({ k: "ticket", email: email.value.trim(), text: text.value, id: local });
    };
    const after = find(replyId);
    keep(() => (after ? after.after(el) : log.append(el)));
  }

  // The server stored the ticket (or refused it: the form opens again to be corrected).
  function ticketStored(d, ok) {
    const found = tickets.get(d.id);
    if (!found) return;
    tickets.delete(d.id);
    const [el, email] = found;
    el.removeAttribute("aria-busy");
    const form = el.querySelector("form");
    if (!ok) {
      el.dataset.state = "open";
      for (const c of form.elements) c.disabled = false;
      return;
    }
    el.dataset.state = "done";
    keep(() => form.replaceWith(h("span", { className: "r", role: "status" }, "Thanks — we will write to you at " + email + ".")));
  }

  const handlers = {
    sent: (d) => ticketStored(d, 1),
    unsent: (d) => ticketStored(d, 0),
    [T_ACTION]: card,
    [T_ACTION_RESULT]: (d) => {
      const id = "ar_" + d.id;
      const el = find(id);
      if (el && el.classList.contains("c")) settle(el, d.state, d.text);
      else if (!el) finish(bubble(id, "bot"), d); // the card was on another page
    },
    [T_REPLY_START]: (d) => dropped.has(d.id) || reply(d.id),
    [T_REPLY_DELTA]: (d) => {
      if (dropped.has(d.id)) return;
      const el = reply(d.id);
      if (el.dataset.done == null) keep(() => el.firstChild.append(String(d.text || "")));
    },
    [T_REPLY_RESET]: (d) => {
      if (dropped.has(d.id)) return;
      const el = reply(d.id);
      if (el.dataset.done == null) el.firstChild.textContent = "";
    },
    [T_REPLY_END]: (d) => {
      if (dropped.has(d.id)) return;
      finish(reply(d.id), d);
      if (d.kind == "ticket") ticketForm(d.id);
      if (!shell.isOpen()) shell.unread(true);
    },
    // A reply being written when a person took over: what was shown of it goes, busy state and all.
    [T_REPLY_DROP]: (d) => {
      dropped.add(d.id);
      const el = find(d.id);
      if (el && el.dataset.role == "bot") keep(() => el.remove());
    },
    [T_AGENT_JOINED]: (d) => {
      note(d, who(d) + " joined the conversation");
      owner(who(d));
    },
    [T_AGENT_LEFT]: (d) => {
      notTyping();
      note(d, who(d) + LEFT[LEFT.hasOwnProperty(d.to) ? d.to : "bot"]);
      owner("");
    },
    [T_AGENT_TYPING]: (d) => {
      notTyping();
      if (d.on !== true) return;
      typing.textContent = who(d) + " is typing…";
      typingTimer = setTimeout(notTyping, TYPING_SHOWN);
    },
    [T_AGENT_MESSAGE]: (d) => {
      notTyping();
      if (find(d.id)) return; // several tabs, or a history first
      finish(bubble(d.id, "agent"), d);
      if (!shell.isOpen()) shell.unread(true);
    },
    // The whole conversation after a welcome: known ids are updated in place, never added twice.
    [T_HISTORY]: (d) => {
      let after = null;
      for (const m of (Array.isArray(d.messages) ? d.messages : []).slice(-MAX_MESSAGES)) {
        if (m && typeof m == "object") after = restore(m, after);
      }
    },
  };

  // Frames about the person carry a name (and no id); the others name their message by id.
  const named = [T_HISTORY, T_AGENT_JOINED, T_AGENT_LEFT, T_AGENT_TYPING];
  return (type, d) => {
    const handle = handlers.hasOwnProperty(type) && handlers[type];
    if (handle && d && (named.includes(type) || (typeof d.id == "string" && d.id))) handle(Object.assign({ t: type }, d));
  };
}

// The inbox, live: one socket to /inbox/live keeps the queue, the conversation on screen and
// the agent's presence current.  Every page works without this script; it only makes them
// live.  Text from visitors is only ever set as textContent.
"use strict";
(() => {
  const body = document.body;
  const page = body.dataset.page;
  const conversation = body.dataset.conversation || null;
  const title = document.title.replace(/^\(\d+\) /, "");
  const $ = (id) => document.getElementById(id);
  let socket = null;
  let retry = 1000;
  let beat = null;
  let state = sessionStorage.getItem("bpract-presence") || "online";

  function send(frame) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  // -- presence ------------------------------------------------------------------------
  const presence = $("presence");
  function showPresence() {
    if (!presence) return;
    presence.hidden = false;
    presence.textContent = state === "online" ? "● Online" : "○ Away";
    presence.className = "presence " + state;
    presence.title = state === "online" ? "Click to go away" : "Click to come back online";
  }
  if (presence) {
    presence.setAttribute("role", "button");
    presence.tabIndex = 0;
    const toggle = () => {
      state = state === "online" ? "away" : "online";
      sessionStorage.setItem("bpract-presence", state);
      showPresence();
      send({ t: "beat", state });
    };
    presence.addEventListener("click", toggle);
    presence.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); toggle(); }
    });
  }

  // -- notifications and the title badge -------------------------------------------------
  const notify = $("notify");
  if (notify && "Notification" in window && Notification.permission === "default") {
    notify.hidden = false;
    notify.addEventListener("click", () => {
      Notification.requestPermission().then(() => { notify.hidden = true; });
    });
  }
  function badge(count) {
    document.title = count > 0 ? `(${count}) ${title}` : title;
  }
  function announce() {
    if ("Notification" in window && Notification.permission === "granted" && document.hidden) {
      new Notification("A visitor is waiting for a person", {
        body: "Open the inbox to take the conversation over.", tag: "bpract-waiting",
      });
    }
  }
  async function refreshQueue() {
    const response = await fetch("/inbox", { credentials: "same-origin", cache: "no-store" });
    if (!response.ok || response.redirected) return;
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
    const count = Number(fresh.body.dataset.waiting || "0");
    badge(count);
    if (page === "queue") {
      document.querySelector("main").replaceChildren(
        ...Array.from(fresh.querySelector("main").childNodes).map((n) => document.importNode(n, true)),
      );
      body.dataset.waiting = String(count);
    }
  }
  if (page === "queue") badge(Number(body.dataset.waiting || "0"));

  // -- the conversation on screen --------------------------------------------------------
  const turns = $("turns");
  const typing = $("typing");
  let typingTimer = null;
  const labels = { visitor: body.dataset.visitor || "Visitor", bot: "Bot" };

  function time(at) {
    const moment = new Date(at);
    const el = document.createElement("time");
    el.dateTime = moment.toISOString();
    el.textContent = moment.toUTCString().slice(5, 22) + " UTC";
    return el;
  }
  function addTurn(id, role, who, text, at) {
    if (!turns || turns.querySelector(`[data-id="${CSS.escape(id)}"]`)) return;
    const li = document.createElement("li");
    li.className = "turn by-" + role;
    li.dataset.id = id;
    const from = document.createElement("div");
    from.className = "from";
    from.append(who + " · ", time(at));
    const said = document.createElement("div");
    said.className = "text";
    said.textContent = text;
    li.append(from, said);
    turns.append(li);
    li.scrollIntoView({ block: "nearest" });
  }
  function showTyping(on) {
    if (!typing) return;
    clearTimeout(typingTimer);
    typing.hidden = !on;
    typing.textContent = on ? `${labels.visitor} is typing…` : "";
    if (on) typingTimer = setTimeout(() => showTyping(false), 6000);
  }

  function onEvent(event) {
    switch (event.t) {
      case "hello":
        retry = 1000;
        body.dataset.live = "on";
        clearInterval(beat);
        send({ t: "beat", state });
        beat = setInterval(() => send({ t: "beat", state }), (event.beat_s || 15) * 1000);
        showPresence();
        if (conversation) send({ t: "watch", conversation });
        refreshQueue();
        break;
      case "queue":
        refreshQueue();
        if (event.change === "waiting") announce();
        break;
      case "visitor_message":
        showTyping(false);
        addTurn(event.id, "visitor", labels.visitor, event.text, event.at);
        break;
      case "bot_message":
        addTurn(event.id, "bot", labels.bot, event.text, event.at);
        break;
      case "agent_message":
        addTurn(event.id, "agent", event.name, event.text, event.at);
        break;
      case "visitor_typing":
        showTyping(event.on);
        break;
      case "visitor_page": {
        const line = $("visitor-page");
        if (line) {
          line.hidden = false;
          line.textContent = `Now on: ${event.title || event.url} (${event.url})`;
        }
        break;
      }
      case "owner": {
        const owner = event.agent == null ? "none" : event.name === body.dataset.me ? "me" : "other";
        if (owner !== body.dataset.owner || event.status !== body.dataset.status) location.reload();
        break;
      }
      case "said":
      case "refused":
        composed(event);
        break;
    }
  }

  // -- writing to the visitor --------------------------------------------------------------
  const composer = $("composer");
  const reply = $("reply");
  let pending = null;
  let typingSent = 0;
  let idle = null;
  function stopTyping() {
    clearTimeout(idle);
    if (typingSent) send({ t: "typing", conversation, on: false });
    typingSent = 0;
  }
  function composed(event) {
    if (!pending || event.id !== pending) {
      if (event.t === "refused" && event.reason) showError(event.reason);
      return;
    }
    pending = null;
    composer.querySelector("button").disabled = false;
    if (event.t === "said") { reply.value = ""; showError(""); }
    else showError(event.reason);
    reply.focus();
  }
  function showError(text) {
    let line = $("composer-error");
    if (!line) {
      line = document.createElement("p");
      line.id = "composer-error";
      line.className = "notice";
      line.setAttribute("role", "alert");
      composer.prepend(line);
    }
    line.hidden = !text;
    line.textContent = text;
  }
  if (composer && reply) {
    composer.addEventListener("submit", (e) => {
      const text = reply.value.trim();
      if (!text || pending) { e.preventDefault(); return; }
      const id = crypto.randomUUID();
      if (!send({ t: "say", conversation, text, id })) return; // no socket: the form posts
      e.preventDefault();
      pending = id;
      composer.querySelector("button").disabled = true;
      stopTyping();
    });
    reply.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); composer.requestSubmit(); }
    });
    reply.addEventListener("input", () => {
      const now = Date.now();
      if (now - typingSent > 3000 && send({ t: "typing", conversation, on: true })) typingSent = now;
      clearTimeout(idle);
      idle = setTimeout(stopTyping, 4000);
    });
    reply.addEventListener("blur", stopTyping);
  }

  // -- the socket ----------------------------------------------------------------------------
  function connect() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    socket = new WebSocket(`${scheme}//${location.host}/inbox/live`);
    socket.addEventListener("message", (m) => {
      try { onEvent(JSON.parse(m.data)); } catch (err) { console.error(err); }
    });
    socket.addEventListener("close", (e) => {
      clearInterval(beat);
      socket = null;
      body.dataset.live = "off";
      if (e.code === 4401) { location.assign("/inbox/sign-in?ended=1"); return; }
      if (e.code === 4403) return;
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 30000);
    });
  }
  body.dataset.live = "connecting";
  connect();
  window.addEventListener("pagehide", () => socket && socket.close(1000));
})();

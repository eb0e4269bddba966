// The loader served as /widget.js: queue, identities, sensors, chat, and the engine or its fallback.
import { chat } from "./chat.js";
import { datalayer } from "./datalayer.js";
import { engine } from "./engine.js";
import { fallback } from "./fallback.js";
import { sensors } from "./sensors.js";
import { allow, get, getJSON, rid, set } from "./store.js";
import { T_CONFIRM, T_DECLINE, T_EVENT, T_HANDOFF, T_HELLO, T_IDENTIFY, T_MESSAGE, T_OUTCOME, T_OUTREACH, T_RATE, T_TICKET, T_TYPING, VERSION } from "./wire.js";

(() => {
  const script = document.currentScript;
  if (!script || window.bpract && window.bpract.live) return;
  const ds = script.dataset;
  const origin = new URL(script.src).origin;
  const site = ds.site;
  const needConsent = ds.consent == "required";
  const BASE = origin + "/w/" + __BUILD__ + "/";

  let consent = needConsent ? "pending" : "granted";
  let started = false;
  let loaded = false;
  let sink = null; // forwards raw events once the engine (or the fallback) is live
  let batch = [];
  let flushing = 0;
  let identity = null;
  const listeners = {};
  const fired = {};
  const ids = { visitor: rid("v_"), stream: rid("s_"), key: null };
  allow(!needConsent);

  const fire = (name, payload) => {
    fired[name] = payload;
    for (const cb of listeners[name] || []) {
      try {
        cb(payload);
      } catch (e) {
        // a site's listener must not break the widget
      }
    }
  };

  let pending = []; // events not yet forwarded
  const restore = () => {
    const saved = getJSON(0, "bpract:pending");
    set(0, "bpract:pending", null);
    if (Array.isArray(saved)) pending = saved.concat(pending);
  };

  const flush = () => {
    flushing = 0;
    if (!batch.length || !sink) return;
    const events = batch;
    batch = [];
    sink(events);
  };

  function emit(e) {
    if (consent == "denied") return;
    e.at = e.at || Date.now();
    if (!sink) {
      if (pending.push(e) > 1000) pending.shift();
      return;
    }
    batch.push(e);
    if (!flushing) {
      flushing = 1;
      requestAnimationFrame(flush);
      setTimeout(flush, 250);
    }
  }

  function live(forward) {
    sink = forward;
    const events = pending;
    pending = [];
    events.forEach(emit);
  }

  const ui = chat({ emit, fire, base: BASE });

  function page() {
    return { url: location.href, title: document.title, referrer: document.referrer };
  }

  function device() {
    const ua = navigator.userAgent;
    if (/iPad|Tablet/i.test(ua) || (/Android/i.test(ua) && !/Mobile/i.test(ua))) return "tablet";
    return /Mobi|iPhone|Android/i.test(ua) ? "mobile" : "desktop";
  }

  function timeZone() {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  }

  function context() {
    return {
      site,
      visitor: ids.visitor,
      key: ids.key,
      stream: ids.stream,
      page: page(),
      device: device(),
      lang: navigator.language || "",
      identity,
    };
  }

  // From the worker ({type}) or the fallback's socket ({t}).
  function onMessage(d) {
    const type = d.type || d.t;
    if (type == T_OUTREACH) {
      ui.outreach(d);
      fire("outreach", d);
    } else if (type == "visitor") {
      // the server's visitor key (and, for a hello it could not prove, a fresh visitor id)
      set(1, "bpract:v", (ids.visitor = d.visitor));
      set(1, "bpract:k", (ids.key = d.key));
    } else if (type == "persist") {
      if (d.key == "state") set(1, "bpract:state", d.value);
      else if (d.key == "outbox") set(0, "bpract:outbox", d.value);
    } else if (type == "status" || type == "error") {
      fire("status", d);
    } else if (type) {
      ui.frame(type, d);
    }
  }

  function startFallback() {
    fire("status", { type: "status", state: "fallback" });
    const push = fallback({
      url: origin.replace(/^http/, "ws") + "/v1/visitor",
      // The time zone is read only here: the first Intl.DateTimeFormat costs ~30 ms of main
      // thread, so the engine path reads it in the worker instead.
      hello: () => Object.assign({ t: T_HELLO, v: VERSION, engine: "server", tz: timeZone() }, context()),
      on: onMessage,
      status: (state, code) => {
        fire("status", { type: "status", state, code });
        if (state == "ready" && !fired.ready) fire("ready", { engine: "server" });
      },
    });
    live((events) => {
      for (const e of events) {
        if (e.k == "outcome") push({ t: T_OUTCOME, at: e.at, outreach: e.outreach, kind: e.kind });
        else if (e.k == "message") push({ t: T_MESSAGE, at: e.at, text: e.text, outreach: e.outreach || null }, e.id);
        else if (e.k == "rate") push({ t: T_RATE, at: e.at, reply: e.reply, rating: e.rating, comment: null });
        else if (e.k == "confirm") push({ t: T_CONFIRM, at: e.at, token: e.token, values: e.values || {} });
        else if (e.k == "decline") push({ t: T_DECLINE, at: e.at, token: e.token });
        else if (e.k == "handoff") push({ t: T_HANDOFF, at: e.at });
        else if (e.k == "ticket") push({ t: T_TICKET, at: e.at, email: e.email, text: e.text }, e.id);
        else if (e.k == "typing") push({ t: T_TYPING, on: !!e.on });
        else if (e.k == "identify") push({ t: T_IDENTIFY, at: e.at, user_id: e.user_id, user_hash: e.user_hash, traits: e.traits });
        else push({ t: T_EVENT, at: e.at, event: e });
      }
    });
  }

  function start() {
    if (started || !loaded || consent != "granted") return;
    started = true;
    ids.visitor = get(1, "bpract:v") || ids.visitor;
    ids.stream = get(0, "bpract:s") || ids.stream;
    ids.key = get(1, "bpract:k");
    set(1, "bpract:v", ids.visitor);
    set(0, "bpract:s", ids.stream);
    restore();
    if (ds.engine == "server" || typeof WebAssembly != "object") return startFallback();
    const config = Object.assign(context(), {
      server: origin.replace(/^http/, "ws") + "/v1/visitor",
      state: getJSON(1, "bpract:state"),
      outbox: getJSON(0, "bpract:outbox"),
    });
    const forward = engine({
      url: BASE + "worker.mjs",
      config,
      timeout: +ds.engineTimeout || 20000,
      fail: () => {
        sink = null;
        startFallback();
      },
      on: (d) => {
        if (d.type == "status" && d.state == "ready" && !sink) {
          live(forward);
          fire("ready", { engine: "pyodide", ms: d.ms });
        }
        onMessage(d);
      },
    });
  }

  const commands = {
    track: (name, props) => emit({ k: "track", name: String(name), props: props || {} }),
    identify: (userId, traits, userHash) => {
      identity = { user_id: String(userId), traits: traits || {}, user_hash: userHash || "" };
      if (started) emit({ k: "identify", user_id: identity.user_id, traits: identity.traits, user_hash: identity.user_hash });
    },
    page: () => emit(Object.assign({ k: "page", nav: "push" }, page())),
    open: () => ui.open(),
    close: () => ui.close(),
    on: (name, cb) => {
      (listeners[name] = listeners[name] || []).push(cb);
      if (name == "ready" && fired.ready) cb(fired.ready);
    },
    consent: (answer) => {
      consent = answer == "granted" ? "granted" : "denied";
      allow(consent == "granted");
      if (consent == "denied") pending = [];
      start();
    },
  };

  function api(name, ...args) {
    const cmd = commands[name];
    if (cmd) cmd(...args);
  }
  api.live = 1;

  const queued = (window.bpract && window.bpract.q) || [];
  window.bpract = api;

  const mount = () => document.body.append(ui.host);
  if (document.body) mount();
  else addEventListener("DOMContentLoaded", mount);
  sensors(emit, ui.host);
  datalayer(emit);
  for (const args of queued) api(...args);

  addEventListener("pagehide", () => {
    const unsent = sink ? batch : pending;
    if (unsent.length && consent == "granted") set(0, "bpract:pending", unsent);
    if (sink) batch = [];
  });
  const boot = () => {
    loaded = true;
    (window.requestIdleCallback || setTimeout)(start, { timeout: 2000 });
  };
  if (document.readyState == "complete") boot();
  else addEventListener("load", boot);
})();

// Behaviour sensors on the host page: each one emits raw events (docs/protocol.md).
const FIELD = /^(INPUT|TEXTAREA|SELECT)$/;

// At most one call per `ms`; a call inside the window is replayed at its end.
export function throttle(fn, ms) {
  let last = 0;
  let timer = 0;
  return () => {
    const wait = last + ms - Date.now();
    if (wait <= 0) {
      last = Date.now();
      fn();
    } else if (!timer) {
      timer = setTimeout(() => {
        timer = 0;
        last = Date.now();
        fn();
      }, wait);
    }
  };
}

export function path(el) {
  const out = [];
  for (let i = 0; el && el.tagName && i < 3; i++, el = el.parentElement) {
    let s = el.tagName.toLowerCase();
    if (el.id) {
      out.unshift(s + "#" + el.id);
      break;
    }
    const cls = typeof el.className == "string" ? el.className.trim() : "";
    if (cls) s += "." + cls.split(/\s+/).slice(0, 2).join(".");
    out.unshift(s);
  }
  return out.join(">").slice(0, 120);
}

function isField(el) {
  return !!el && (FIELD.test(el.tagName) || el.isContentEditable);
}

export function sensors(emit, host) {
  const on = (target, type, fn, capture) =>
    target.addEventListener(type, fn, { passive: true, capture: !!capture });
  let depth = 0;

  const page = (nav) => {
    depth = 0;
    emit({ k: "page", url: location.href, title: document.title, referrer: document.referrer, nav });
  };
  for (const name of ["pushState", "replaceState"]) {
    const orig = history[name];
    history[name] = function () {
      const result = orig.apply(this, arguments);
      // after the call, so location.href is the new address
      page(name == "pushState" ? "push" : "replace");
      return result;
    };
  }
  on(window, "popstate", () => page("pop"));
  page("load");

  const vis = () => emit({ k: "vis", visible: document.visibilityState == "visible" });
  const focus = (focused) => () => emit({ k: "focus", focused });
  vis();
  focus(document.hasFocus())();
  on(document, "visibilitychange", vis);
  on(window, "focus", focus(true));
  on(window, "blur", focus(false));

  const act = throttle(() => emit({ k: "act" }), 1000);
  for (const type of ["mousemove", "keydown", "touchstart", "scroll", "pointerdown"]) on(window, type, act, 1);

  const scroll = throttle(() => {
    const el = document.documentElement;
    const room = el.scrollHeight - innerHeight;
    const pct = room > 0 ? Math.min(100, Math.round((scrollY / room) * 100)) : 100;
    if (pct > depth) emit({ k: "scroll", pct: (depth = pct) });
  }, 500);
  on(window, "scroll", scroll);

  on(document, "click", (e) => {
    if (e.target != host) emit({ k: "click", x: e.clientX, y: e.clientY, target: path(e.target) });
  }, 1);

  const fine = matchMedia("(pointer:fine)").matches;
  let exited = 0;
  on(document, "mouseout", (e) => {
    // leading edge only: a late replay would report an exit after the pointer came back
    if (fine && e.clientY <= 0 && !e.relatedTarget && Date.now() - exited > 5000) {
      exited = Date.now();
      emit({ k: "exit" });
    }
  });

  const field = (focused) => (e) => {
    if (isField(e.target)) emit({ k: "ui", field_focus: focused });
  };
  on(document, "focusin", field(true));
  on(document, "focusout", field(false));
}

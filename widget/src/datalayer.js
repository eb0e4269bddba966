// GA4 ecommerce from window.dataLayer: replays what is there, then wraps push transparently.
const ECOM =
  /^(view_item(_list)?|select_item|add_to_(cart|wishlist)|remove_from_cart|view_cart|begin_checkout|add_(shipping|payment)_info|purchase|refund|(view|select)_promotion)$/;

const num = (v) => (isFinite(+v) ? +v : 0);

function item(i) {
  return { id: String(i.item_id ?? i.id ?? ""), name: String(i.item_name ?? i.name ?? ""), price: num(i.price), qty: num(i.quantity ?? i.qty ?? 1) };
}

// {event, ecommerce} object form, or gtag("event", name, params) arguments form.
function decode(x) {
  if (!x || typeof x != "object") return null;
  if (x[0] === "event" && typeof x[1] == "string") return [x[1], x[2] || {}];
  if (typeof x.event == "string") return [x.event, x.ecommerce || {}];
  return null;
}

export function datalayer(emit) {
  const read = (x) => {
    try {
      const d = decode(x);
      if (!d || !ECOM.test(d[0])) return;
      const p = d[1];
      const items = Array.isArray(p.items) ? p.items.slice(0, 50).map(item) : [];
      emit({ k: "ecom", name: d[0], items, value: num(p.value), currency: String(p.currency || "") });
    } catch (e) {
      // a malformed push never disturbs the site
    }
  };
  const dl = (window.dataLayer = window.dataLayer || []);
  if (!Array.isArray(dl)) return;
  dl.forEach(read);

  let depth = 0;
  const wrap = (orig) => {
    const push = function () {
      // a push that calls an older wrapped push is read once, by the outermost wrapper
      if (!depth) for (const a of arguments) read(a);
      depth++;
      try {
        return orig.apply(this, arguments);
      } finally {
        depth--;
      }
    };
    push.bp = 1;
    return push;
  };
  let current = wrap(dl.push);
  Object.defineProperty(dl, "push", {
    configurable: true,
    get: () => current,
    set: (fn) => {
      current = typeof fn == "function" && !fn.bp ? wrap(fn) : fn;
    },
  });
}

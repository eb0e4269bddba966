// DOM building shared by the chat shell and the chat module: elements from props, and safe links.

// Children are appended as nodes or text: never parsed as HTML.
export function h(tag, props, ...kids) {
  const el = document.createElement(tag);
  for (const k in props) {
    if (k.startsWith("on")) el.addEventListener(k.slice(2), props[k]);
    else if (k in el && k != "role") el[k] = props[k];
    else el.setAttribute(k, props[k]);
  }
  el.append(...kids);
  return el;
}

// Only http(s) links, resolved against the page: no javascript: or data: from a message.
export function safeUrl(url) {
  try {
    const u = new URL(url, location.href);
    return /^https?:$/.test(u.protocol) ? u.href : null;
  } catch (e) {
    return null;
  }
}

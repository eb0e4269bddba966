// Storage that never throws (blocked storage reads as empty) and stays untouched until allowed.
const ABC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
let allowed = true;

export const allow = (yes) => {
  allowed = yes;
};

const area = (local) => (local ? localStorage : sessionStorage);

export function get(local, key) {
  if (!allowed) return null;
  try {
    return area(local).getItem(key);
  } catch (e) {
    return null;
  }
}

export function getJSON(local, key) {
  try {
    return JSON.parse(get(local, key));
  } catch (e) {
    return null;
  }
}

export function set(local, key, value) {
  if (!allowed) return;
  try {
    if (value == null) area(local).removeItem(key);
    else area(local).setItem(key, typeof value == "string" ? value : JSON.stringify(value));
  } catch (e) {
    // quota or privacy mode: the widget keeps working from memory
  }
}

export function rid(prefix) {
  let s = prefix;
  for (const b of crypto.getRandomValues(new Uint8Array(22))) s += ABC[b & 63];
  return s;
}

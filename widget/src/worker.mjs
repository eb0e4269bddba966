// Engine worker: loads Pyodide and the bpract_client wheel from beside itself, then runs bpract_client.browser.
import { loadPyodide } from "./pyodide/pyodide.mjs";

const t0 = performance.now();
const inbox = [];
let handler = null;
let config = null;
let gotConfig;
const configReady = new Promise((resolve) => (gotConfig = resolve));

const post = (message) => self.postMessage(JSON.stringify(message));
const ms = (t) => Math.round(t - t0);

function feed(data) {
  try {
    handler(data);
  } catch (err) {
    post({ type: "error", detail: String(err) });
  }
}

self.onmessage = (e) => {
  if (config === null) {
    try {
      const m = JSON.parse(e.data);
      if (m.type == "start") {
        // Read in the worker: the first Intl.DateTimeFormat is ~30 ms of CPU.
        m.config.tz = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
        config = JSON.stringify(m.config);
        gotConfig();
        return;
      }
    } catch (err) {
      // not a start message: kept for the handler
    }
  }
  if (handler) feed(e.data);
  else inbox.push(e.data);
};

async function boot() {
  const wheel = fetch(new URL(__WHEEL__, import.meta.url)).then((r) => {
    if (!r.ok) throw new Error("wheel: HTTP " + r.status);
    return r.arrayBuffer();
  });
  const py = await loadPyodide({ indexURL: new URL("./pyodide/", import.meta.url).href });
  const python = ms(performance.now());
  const sitePackages = py.runPython("import sys\nnext(p for p in sys.path if p.endswith('site-packages'))");
  py.unpackArchive(await wheel, "wheel", { extractDir: sitePackages });
  const installed = ms(performance.now());
  await configReady;
  handler = py.pyimport("bpract_client.browser").start(config);
  post({ type: "status", state: "ready", ms: ms(performance.now()), python, wheel: installed });
  inbox.splice(0).forEach(feed);
}

boot().catch((err) => post({ type: "status", state: "failed", detail: String((err && err.message) || err) }));

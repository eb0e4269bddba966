"""The engine package imported and run by Pyodide's own Python (3.14) under Node."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PYODIDE = ROOT / "widget" / "node_modules" / "pyodide" / "pyodide.mjs"
PACKAGE = ROOT / "client_py" / "bpract_client"

SCRIPT = r"""
import { loadPyodide } from %(pyodide)s;
import { readFileSync, readdirSync } from "fs";
const py = await loadPyodide();
py.FS.mkdirTree("/engine/bpract_client");
for (const name of readdirSync(%(package)s)) {
  if (!name.endsWith(".py")) continue;
  py.FS.writeFile("/engine/bpract_client/" + name, readFileSync(%(package)s + "/" + name));
}
// stand-ins for the worker globals the adapter uses (Node 20 has no WebSocket)
const sockets = [], posts = [];
globalThis.WebSocket = class {
  constructor(url) { this.url = url; this.readyState = 0; this.sent = []; sockets.push(this); }
  send(text) { this.sent.push(JSON.parse(text)); }
  close() {}
};
globalThis.postMessage = (text) => posts.push(JSON.parse(text));
py.runPython("import sys; sys.path.insert(0, '/engine')");
const version = py.runPython("import sys; sys.version.split()[0]");
const receive = py.pyimport("bpract_client.browser").start(JSON.stringify({
  server: "ws://127.0.0.1:9/v1/visitor", site: "pk", visitor: "v_1", stream: "s_1",
}));
const ws = sockets[0];
ws.readyState = 1;
ws.onopen({});
ws.onmessage({ data: JSON.stringify({ t: "welcome", stored_seq: 0, config: { time_scale: 60 },
  ruleset: { version: 1, rules: [{ id: "r", when: { page: ["/pricing*"], attentive_seconds: 30 },
                                   message: { text: "hi" } }] } }) });
const now = Date.now();
receive(JSON.stringify({ type: "events", events: [
  { k: "page", at: now, url: "https://a.example/pricing", title: "P", referrer: "", nav: "load" },
]}));
await new Promise((r) => setTimeout(r, 1600));  // the 1 s tick: 60x time scale
ws.onclose({ code: 1006, reason: "" });
await new Promise((r) => setTimeout(r, 600));  // backoff is at most 0.5 s at first
const statuses = posts.filter((p) => p.type == "status").map((p) => p.state);
const sent = ws.sent.map((f) => f.name || f.t);
console.log(JSON.stringify({ version, sent, statuses, sockets: sockets.length }));
process.exit(0);
"""


@pytest.mark.skipif(
    shutil.which("node") is None or not PYODIDE.exists(),
    reason="needs node and widget/node_modules (npm ci in widget/)",
)
def test_engine_runs_in_pyodide(tmp_path: Path) -> None:
    script = tmp_path / "run.mjs"
    script.write_text(
        SCRIPT % {"pyodide": json.dumps(str(PYODIDE)), "package": json.dumps(str(PACKAGE))}
    )
    done = subprocess.run(
        ["node", str(script)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["version"].startswith("3.14")
    assert result["sent"][:3] == ["hello", "page_view", "dwell"]
    assert "fire" in result["sent"]
    assert result["statuses"] == ["connected", "disconnected"]
    assert result["sockets"] == 2  # reconnected through setTimeout

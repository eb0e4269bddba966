// The in-browser engine: a module worker running Pyodide and bpract_client, started from a blob: shim.
// opts: url (worker.mjs), config, timeout, on(message), fail()
export function engine(opts) {
  let worker;
  let state = "starting";
  const fail = () => {
    if (state == "failed") return;
    state = "failed";
    clearTimeout(timer);
    worker && worker.terminate();
    opts.fail();
  };
  const timer = setTimeout(fail, opts.timeout);
  try {
    // a cross-origin page may only start a worker from its own origin: the blob imports ours
    const shim = new Blob(["import " + JSON.stringify(opts.url) + ";"], { type: "text/javascript" });
    worker = new Worker(URL.createObjectURL(shim), { type: "module" });
  } catch (e) {
    fail();
    return null;
  }
  worker.onerror = fail;
  worker.onmessage = (m) => {
    let d;
    try {
      d = JSON.parse(m.data);
    } catch (e) {
      return;
    }
    if (d.type == "status" && d.state == "failed") {
      if (state != "failed") opts.on(d);
      return fail();
    }
    if (d.type == "status" && d.state == "ready" && state == "starting") {
      state = "ready";
      clearTimeout(timer);
    }
    if (state != "failed") opts.on(d);
  };
  worker.postMessage(JSON.stringify({ type: "start", config: opts.config }));
  return (events) => state != "failed" && worker.postMessage(JSON.stringify({ type: "events", events }));
}

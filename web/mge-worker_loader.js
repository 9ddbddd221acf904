// Starts the model worker (web/src/worker.rs, built by trunk as no-modules). Written by
// hand instead of trunk's loader shim so that a worker whose WebAssembly cannot be fetched
// or compiled tells the page, which then moves the model to the server (mge serve).
importScripts("./mge-worker.js");
wasm_bindgen("./mge-worker_bg.wasm").catch(function (e) {
  self.postMessage(JSON.stringify({ kind: "start_failed", error: String((e && e.message) || e) }));
});

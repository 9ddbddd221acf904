// Times the bare all-MiniLM-L6-v2 encoder in ONNX Runtime Web for comparison with the MGE
// demo's ?bench=1 (same sentence, same token ids: tokens.js). Writes its JSON into
// #bench-result and sets data-done="1" when finished, also on failure (with "error").
(function () {
  "use strict";
  const WARMUP = 3;
  const RUNS = 20;
  const MODELS = { int8: "models/minilm-int8.onnx", fp32: "models/minilm-fp32.onnx" };

  const out = document.getElementById("bench-result");
  const progress = document.getElementById("progress");
  const say = (s) => { progress.textContent = s; };

  function finish(result) {
    out.textContent = JSON.stringify(result, null, 2);
    out.setAttribute("data-done", "1");
    say(result.error ? "Failed: " + result.error : "Finished.");
  }

  function median(xs) {
    const s = xs.slice().sort((a, b) => a - b);
    const m = s.length >> 1;
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
  }

  const round = (x) => Math.round(x * 100) / 100;

  async function main() {
    const params = new URLSearchParams(location.search);
    const key = params.get("model") || "int8";
    const result = {
      runtime: "onnxruntime-web",
      ort_version: (typeof ort !== "undefined" && ort.env && ort.env.versions && ort.env.versions.web) || null,
      backend: "wasm",
      num_threads: 1,
      model: key,
      user_agent: navigator.userAgent,
    };
    try {
      if (!(key in MODELS)) throw new Error("unknown model " + key + " (int8 or fp32)");
      if (typeof ort === "undefined") throw new Error("onnxruntime-web did not load (npm install in bench/ort)");
      const input = window.MGE_BENCH_INPUT;
      if (!input) throw new Error("tokens.js did not load (run bench/ort/setup.sh)");

      ort.env.wasm.numThreads = 1;
      ort.env.wasm.proxy = false;
      ort.env.wasm.wasmPaths = new URL("node_modules/onnxruntime-web/dist/", location.href).href;

      say("Downloading the " + key + " model…");
      const t0 = performance.now();
      const resp = await fetch(MODELS[key], { cache: "no-store" });
      if (!resp.ok) throw new Error("model download failed: HTTP " + resp.status + " (run bench/ort/setup.sh)");
      const bytes = new Uint8Array(await resp.arrayBuffer());
      const t1 = performance.now();

      say("Creating the session…");
      const session = await ort.InferenceSession.create(bytes, {
        executionProviders: ["wasm"],
        graphOptimizationLevel: "all",
      });
      const t2 = performance.now();

      const n = input.input_ids.length;
      const tensor = (xs) => new ort.Tensor("int64", BigInt64Array.from(xs.map(BigInt)), [1, n]);
      const feeds = {
        input_ids: tensor(input.input_ids),
        attention_mask: tensor(input.attention_mask),
        token_type_ids: tensor(input.token_type_ids),
      };
      const first = await session.run(feeds);
      const t3 = performance.now();
      const hidden = first[session.outputNames[0]];

      const times = [];
      for (let i = 0; i < WARMUP + RUNS; i++) {
        say("Run " + (i + 1) + " of " + (WARMUP + RUNS) + "…");
        const a = performance.now();
        const r = await session.run(feeds);
        const b = performance.now();
        for (const k in r) r[k].dispose && r[k].dispose();
        if (i >= WARMUP) times.push(b - a);
        // Let the page breathe between runs, as the demo's worker does between messages.
        await new Promise((res) => setTimeout(res, 0));
      }

      Object.assign(result, {
        tokens: n,
        model_bytes: bytes.length,
        // performance.now() counts from the navigation's start: page load to first output.
        cold_start_ms: round(t3),
        model_fetch_ms: round(t1 - t0),
        session_create_ms: round(t2 - t1),
        first_run_ms: round(t3 - t2),
        warm: {
          warmup: WARMUP,
          runs: RUNS,
          median_ms: round(median(times)),
          min_ms: round(Math.min(...times)),
          max_ms: round(Math.max(...times)),
        },
        output_dims: hidden.dims,
        // A few numbers of the first token's vector, to see that the two models agree.
        output_head: Array.from(hidden.data.slice(0, 4), (x) => Math.round(x * 1e4) / 1e4),
        wasm_file: "ort-wasm-simd-threaded.wasm",
        cross_origin_isolated: self.crossOriginIsolated === true,
      });
      await session.release();
      finish(result);
    } catch (e) {
      result.error = String((e && e.message) || e);
      finish(result);
    }
  }

  main();
})();

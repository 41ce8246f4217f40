// accel web-bench page. Loads the model with wllama, runs the llm pp/tg scenario, probes WebGPU and WebNN, runs
// their matmul microbenchmarks checked against a CPU result, and posts one JSON document to /api/result.
// Every figure here is measured in this browser; anything the browser does not expose is "unavailable" + reason.
const params = new URLSearchParams(location.search);
const token = params.get('token') || '';
const cfg = {
  n_prompt: parseInt(params.get('p') || '64', 10),
  n_gen: parseInt(params.get('n') || '16', 10),
  reps: parseInt(params.get('r') || '3', 10),
  n_warmup: parseInt(params.get('warmup') || '1', 10),
  n_threads: parseInt(params.get('t') || '0', 10),
  ngl: (params.get('ngl') || '0').split(',').map((x) => parseInt(x, 10)),
  greedy_prompt: params.get('greedy_prompt') || 'Once upon a time',
  greedy_n: parseInt(params.get('greedy_n') || '48', 10),
  gpu_probe: params.get('gpu') !== '0',
  nn_probe: params.get('nn') !== '0',
  // Test hooks: 'hang' never posts (the runner must kill the browser at its timeout); 'corrupt' flips one GPU
  // result element so the check must fail.
  hang: params.get('hang') === '1',
  corrupt: params.get('corrupt') === '1',
  skip_llm: params.get('llm') === '0',
  task: params.get('task') || 'llm',  // 'whisper': whisper.js instead of wllama
  max_tokens: parseInt(params.get('max_tokens') || '64', 10),
};

function status(text) {
  document.getElementById('status').textContent = text;
}

async function post(name, body) {
  const r = await fetch(`/api/${name}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Accel-Token': token },
    body: JSON.stringify(body),
  });
  return r.status;
}

function log(msg) {
  post('log', { msg: String(msg) }).catch(() => {});
}

function errText(e) {
  return e && e.message ? `${e.name || 'Error'}: ${e.message}` : String(e);
}

// Tiny modules from wasm-feature-detect: validate() tells whether the engine accepts SIMD and atomics opcodes.
const WASM_SIMD = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0,
  65, 0, 253, 15, 253, 98, 11]);
const WASM_THREADS = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 5, 4, 1, 3, 1, 1,
  10, 11, 1, 9, 0, 65, 0, 254, 16, 2, 0, 26, 11]);

function environment() {
  const ua = navigator.userAgent;
  const m = ua.match(/(Chrome|Chromium|Firefox)\/([\d.]+)/);
  const env = {
    user_agent: ua,
    browser_version: m ? `${m[1]} ${m[2]}` : 'unavailable: no version in the user agent',
    hardware_concurrency: navigator.hardwareConcurrency || null,
    cross_origin_isolated: !!self.crossOriginIsolated,
    shared_array_buffer: typeof SharedArrayBuffer !== 'undefined',
    wasm_simd: WebAssembly.validate(WASM_SIMD),
    wasm_threads: WebAssembly.validate(WASM_THREADS) && typeof SharedArrayBuffer !== 'undefined',
    wasm_jspi: typeof WebAssembly.Suspending === 'function',
    device_memory_gb: navigator.deviceMemory ?? 'unavailable: navigator.deviceMemory not exposed',
  };
  return env;
}

function memory() {
  if (performance.memory) {
    return {
      js_heap_used_bytes: performance.memory.usedJSHeapSize,
      js_heap_total_bytes: performance.memory.totalJSHeapSize,
      js_heap_limit_bytes: performance.memory.jsHeapSizeLimit,
    };
  }
  return 'unavailable: performance.memory is not exposed by this browser';
}

// ---------- llm scenario through wllama ----------
function promptOfWords(n) {
  // Plain words so that the prompt has about n tokens; both sides report the token count they actually decoded.
  const words = 'once upon a time there was a little girl who liked to play in the park with her red ball'.split(' ');
  const out = [];
  for (let i = 0; out.length < n; ++i) out.push(words[i % words.length]);
  return out.join(' ');
}

async function runLlm(Wllama, ngl) {
  const run = { backend: ngl > 0 ? 'webgpu' : 'wasm', n_gpu_layers: ngl, ok: false };
  let w = null;
  try {
    if (ngl > 0) {
      // wllama quietly stays on the CPU without an adapter: do not label such figures webgpu.
      const adapter = navigator.gpu ? await navigator.gpu.requestAdapter() : null;
      if (!adapter) {
        throw new Error(navigator.gpu ? 'n_gpu_layers > 0 needs WebGPU, but requestAdapter() returned null'
          : 'n_gpu_layers > 0 needs WebGPU, but navigator.gpu is undefined');
      }
      const info = adapter.info || {};
      if (`${info.architecture} ${info.description}`.toLowerCase().includes('swiftshader') || info.isFallbackAdapter) {
        run.backend_note = 'software adapter (SwiftShader: Vulkan on the CPU)';
      }
    }
    w = new Wllama({ default: '/wllama/esm/wasm/wllama.wasm' }, { suppressNativeLog: true });
    const loadParams = { n_ctx: 512, n_gpu_layers: ngl, useCache: false };
    if (cfg.n_threads > 0) loadParams.n_threads = cfg.n_threads;
    const t0 = performance.now();
    await w.loadModelFromUrl(`${location.origin}/model.gguf`, loadParams);
    run.load_ms = performance.now() - t0;
    run.multithread = w.isMultithread();
    run.n_threads = w.getNumThreads();
    run.webgpu_supported = w.isSupportWebGPU();
    if (ngl > 0 && !run.webgpu_supported) throw new Error('wllama reports no WebGPU support (isSupportWebGPU false)');
    run.libllama_version = Wllama.getLibllamaVersion ? Wllama.getLibllamaVersion() : 'unavailable';

    const g = await w.createCompletion({ prompt: cfg.greedy_prompt, max_tokens: cfg.greedy_n, temperature: 0 });
    run.greedy_text = g.choices[0].text;

    const prompt = promptOfWords(cfg.n_prompt);
    const opts = { prompt, max_tokens: cfg.n_gen, temperature: 0, ignore_eos: true, cache_prompt: false };
    for (let i = 0; i < cfg.n_warmup; ++i) await w.createCompletion(opts);
    run.samples = [];
    for (let i = 0; i < cfg.reps; ++i) {
      const s0 = performance.now();
      const r = await w.createCompletion(opts);
      const wall = performance.now() - s0;
      const t = r.timings || {};
      run.samples.push({ wall_ms: wall, prompt_n: t.prompt_n, prompt_ms: t.prompt_ms, predicted_n: t.predicted_n,
        predicted_ms: t.predicted_ms });
    }
    run.memory_after = memory();
    run.ok = true;
  } catch (e) {
    run.error = errText(e);
  } finally {
    if (w) {
      try { await w.exit(); } catch (e) { /* the worker may already be gone */ }
    }
  }
  return run;
}

// ---------- WebGPU ----------
const N = 128;

function randomMatrix(n, seed) {
  // Small integers: f32 sums are exact, f16 products and sums of this size stay within a known error.
  const a = new Float32Array(n * n);
  let x = seed;
  for (let i = 0; i < a.length; ++i) {
    x = (x * 1103515245 + 12345) % 2147483648;
    a[i] = ((x >> 16) % 7) - 3;
  }
  return a;
}

function cpuMatmul(a, b, n) {
  const c = new Float32Array(n * n);
  for (let i = 0; i < n; ++i) {
    for (let k = 0; k < n; ++k) {
      const aik = a[i * n + k];
      for (let j = 0; j < n; ++j) c[i * n + j] += aik * b[k * n + j];
    }
  }
  return c;
}

function compare(got, want, tol) {
  let maxErr = 0;
  let worst = -1;
  for (let i = 0; i < want.length; ++i) {
    const e = Math.abs(got[i] - want[i]);
    if (!(e <= maxErr)) { maxErr = e; worst = i; }
  }
  return { max_abs_error: maxErr, tolerance: tol, ok: maxErr <= tol, worst_index: worst };
}

function wgsl(type) {
  const enable = type === 'f16' ? 'enable f16;\n' : '';
  return `${enable}
@group(0) @binding(0) var<storage, read> a : array<${type}>;
@group(0) @binding(1) var<storage, read> b : array<${type}>;
@group(0) @binding(2) var<storage, read_write> c : array<f32>;
const n : u32 = ${N}u;
@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) id : vec3<u32>) {
  if (id.x >= n || id.y >= n) { return; }
  var acc : f32 = 0.0;
  for (var k : u32 = 0u; k < n; k = k + 1u) {
    acc = acc + f32(a[id.y * n + k] * b[k * n + id.x]);
  }
  c[id.y * n + id.x] = acc;
}`;
}

function toF16Bits(f32) {
  // Exact for the small integers randomMatrix makes.
  const out = new Uint16Array(f32.length);
  const view = new DataView(new ArrayBuffer(4));
  for (let i = 0; i < f32.length; ++i) {
    view.setFloat32(0, f32[i]);
    const x = view.getUint32(0);
    const sign = (x >>> 16) & 0x8000;
    const exp = ((x >>> 23) & 0xff) - 127 + 15;
    const mant = (x >>> 13) & 0x3ff;
    out[i] = f32[i] === 0 ? sign : sign | (exp << 10) | mant;
  }
  return out;
}

async function gpuMatmul(device, type) {
  const res = { type, n: N };
  const a = randomMatrix(N, 1), b = randomMatrix(N, 2);
  const want = cpuMatmul(a, b, N);
  const upload = (arr) => {
    const data = type === 'f16' ? toF16Bits(arr) : arr;
    const buf = device.createBuffer({ size: Math.max(16, data.byteLength), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(buf, 0, data);
    return buf;
  };
  const ba = upload(a), bb = upload(b);
  const bc = device.createBuffer({ size: N * N * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  const readback = device.createBuffer({ size: N * N * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ code: wgsl(type) });
  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  const bind = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [
    { binding: 0, resource: { buffer: ba } }, { binding: 1, resource: { buffer: bb } },
    { binding: 2, resource: { buffer: bc } }] });
  const dispatch = (count) => {
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bind);
    for (let i = 0; i < count; ++i) pass.dispatchWorkgroups(N / 8, N / 8);
    pass.end();
    device.queue.submit([enc.finish()]);
    return device.queue.onSubmittedWorkDone();
  };
  await dispatch(1);  // warm-up: pipeline compile
  const err = await device.popErrorScope();
  if (err) throw new Error(`WGSL ${type}: ${err.message}`);
  const iters = 10;
  const t0 = performance.now();
  await dispatch(iters);
  const ms = performance.now() - t0;
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(bc, 0, readback, 0, N * N * 4);
  device.queue.submit([enc.finish()]);
  await readback.mapAsync(GPUMapMode.READ);
  const got = new Float32Array(readback.getMappedRange().slice(0));
  readback.unmap();
  if (cfg.corrupt) got[N + 1] += 1;
  res.check = compare(got, want, 0);  // integer inputs: every sum is exact in f32 (and each f16 product)
  res.iterations = iters;
  res.time_ms = ms;
  res.gflops = (2 * N * N * N * iters) / (ms * 1e6);
  return res;
}

async function probeWebGPU() {
  if (!navigator.gpu) return { available: false, reason: 'navigator.gpu is undefined (WebGPU not enabled in this browser)' };
  let adapter;
  try {
    adapter = await navigator.gpu.requestAdapter();
  } catch (e) {
    return { available: false, reason: `requestAdapter threw ${errText(e)}` };
  }
  if (!adapter) return { available: false, reason: 'requestAdapter() returned null (no usable adapter)' };
  const info = adapter.info || {};
  const out = {
    available: true,
    adapter: { vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description,
      is_fallback_adapter: !!(info.isFallbackAdapter ?? adapter.isFallbackAdapter) },
    features: [...adapter.features],
    matmul: [],
  };
  // SwiftShader is a CPU implementation of Vulkan: its figures measure the CPU, not a GPU.
  const desc = `${info.vendor} ${info.architecture} ${info.device} ${info.description}`.toLowerCase();
  out.software_adapter = desc.includes('swiftshader') || out.adapter.is_fallback_adapter;
  const hasF16 = adapter.features.has('shader-f16');
  let device;
  try {
    device = await adapter.requestDevice({ requiredFeatures: hasF16 ? ['shader-f16'] : [] });
  } catch (e) {
    out.device_error = errText(e);
    return out;
  }
  for (const type of hasF16 ? ['f32', 'f16'] : ['f32']) {
    try {
      out.matmul.push(await gpuMatmul(device, type));
    } catch (e) {
      out.matmul.push({ type, error: errText(e) });
    }
  }
  if (!hasF16) out.matmul.push({ type: 'f16', skipped: 'the adapter has no shader-f16 feature' });
  device.destroy();
  return out;
}

// ---------- WebNN ----------
async function probeWebNN() {
  if (!navigator.ml) return { available: false, reason: 'navigator.ml is undefined (WebNN not enabled in this browser)' };
  const out = { available: true };
  try {
    const ctx = await navigator.ml.createContext();
    const builder = new MLGraphBuilder(ctx);
    const desc = { dataType: 'float32', shape: [N, N] };
    const a = builder.input('a', desc), b = builder.input('b', desc);
    const graph = await builder.build({ c: builder.matmul(a, b) });
    const av = randomMatrix(N, 1), bv = randomMatrix(N, 2);
    const want = cpuMatmul(av, bv, N);
    const ta = await ctx.createTensor({ ...desc, writable: true });
    const tb = await ctx.createTensor({ ...desc, writable: true });
    const tc = await ctx.createTensor({ ...desc, readable: true });
    ctx.writeTensor(ta, av);
    ctx.writeTensor(tb, bv);
    ctx.dispatch(graph, { a: ta, b: tb }, { c: tc });
    await ctx.readTensor(tc);  // warm-up
    const iters = 10;
    const t0 = performance.now();
    for (let i = 0; i < iters; ++i) ctx.dispatch(graph, { a: ta, b: tb }, { c: tc });
    const got = new Float32Array(await ctx.readTensor(tc));
    const ms = performance.now() - t0;
    if (cfg.corrupt) got[N + 1] += 1;
    out.matmul = { type: 'f32', n: N, iterations: iters, time_ms: ms, gflops: (2 * N * N * N * iters) / (ms * 1e6),
      check: compare(got, want, 0) };
  } catch (e) {
    out.error = errText(e);
  }
  return out;
}

async function main() {
  const result = { schema_version: 1, config: cfg, env: environment(), memory_start: memory(), llm: [], errors: [] };
  if (cfg.hang) {
    status('hanging on purpose (test hook)');
    return;
  }
  if (cfg.task === 'whisper') {
    try {
      const { runWhisper } = await import('/page/whisper.js');
      result.whisper = await runWhisper(cfg, status);
    } catch (e) {
      result.errors.push(`whisper: ${errText(e)}`);
    }
  } else if (!cfg.skip_llm) {
    try {
      const { Wllama } = await import('/wllama/esm/index.js');
      for (const ngl of cfg.ngl) {
        status(`running llm with n_gpu_layers=${ngl}`);
        result.llm.push(await runLlm(Wllama, ngl));
      }
    } catch (e) {
      result.errors.push(`wllama import: ${errText(e)}`);
    }
  }
  status('probing WebGPU');
  result.webgpu = cfg.gpu_probe ? await probeWebGPU() : { available: false, reason: 'not asked for' };
  status('probing WebNN');
  result.webnn = cfg.nn_probe ? await probeWebNN() : { available: false, reason: 'not asked for' };
  result.memory_end = memory();
  status('posting');
  const code = await post('result', result);
  status(`done (${code})`);
}

main().catch((e) => post('result', { schema_version: 1, fatal: errText(e) }));

// Whisper in the browser: whisper.cpp 1.9.3 compiled to WebAssembly (scripts/bootstrap-whisper-wasm.sh, served at
// /whisper/), the model at /model.gguf and 16 kHz mono float samples at /audio/audio.f32, both prepared by
// web-bench. Every browser runs the same decode (greedy, no fallback, English; whisper_entry.cpp fixes it), untimed
// warm-up first, then `reps` timed runs: wall time around whisper_full and whisper.cpp's own timings.

export async function runWhisper(cfg, status) {
  const out = { backend: 'wasm', threads: Math.max(1, cfg.n_threads), max_tokens: cfg.max_tokens, reps: [] };
  const t0 = performance.now();
  const { default: createWhisper } = await import('/whisper/whisper.mjs');
  const M = await createWhisper({ print: () => {}, printErr: () => {} });
  const [model, audio] = await Promise.all([fetch('/model.gguf'), fetch('/audio/audio.f32')]);
  if (!model.ok) throw new Error(`model fetch: HTTP ${model.status}`);
  if (!audio.ok) throw new Error(`audio fetch: HTTP ${audio.status}`);
  M.FS.writeFile('/model.bin', new Uint8Array(await model.arrayBuffer()));
  const pcm = new Float32Array(await audio.arrayBuffer());
  const load = M.cwrap('accel_whisper_load', 'number', ['string']);
  const text = M.cwrap('accel_whisper_text', 'string', []);
  const ctx = load('/model.bin');
  if (!ctx) throw new Error('whisper.cpp could not load the model (accel_whisper_load returned null)');
  out.load_ms = performance.now() - t0;
  out.audio_seconds = pcm.length / 16000;
  out.system_info = M.cwrap('accel_whisper_system_info', 'string', [])();
  const ptr = M._malloc(pcm.length * 4);
  M.HEAPF32.set(pcm, ptr >> 2);
  const timing = (which) => M._accel_whisper_timing(ctx, which);
  for (let i = 0; i < cfg.n_warmup + cfg.reps; ++i) {
    status(`whisper run ${i + 1} of ${cfg.n_warmup + cfg.reps}`);
    const start = performance.now();
    const rc = M._accel_whisper_run(ctx, ptr, pcm.length, out.threads, cfg.max_tokens);
    const wall_ms = performance.now() - start;
    if (rc !== 0) throw new Error(`whisper_full returned ${rc}`);
    if (i < cfg.n_warmup) continue;
    out.reps.push({ wall_ms, encode_ms: timing(1), decode_ms: timing(2), batchd_ms: timing(3), prompt_ms: timing(4),
      n_tokens: M._accel_whisper_n_tokens(ctx) });
    out.text = text();
  }
  M._free(ptr);
  M._accel_whisper_free(ctx);
  return out;
}

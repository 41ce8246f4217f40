// The official `openai` npm client drives a real `accel serve`: its own parsing must accept every answer.
// Models, completions (greedy text equal to `accel generate`'s), chat with streaming and include_usage,
// embeddings of a synthetic BERT (the client's default base64 and float), and its error classes for 400/401/404.
// Exit 77 (CTest: skipped) when the package or the shared model is absent; under CI=true that is a failure.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

function skip(why) {
    if (process.env.CI === 'true') {
        console.error(`${why} (CI=true: required)`);
        process.exit(1);
    }
    console.log(`SKIP: ${why}`);
    process.exit(77);
}

const bin = process.env.ACCEL_BIN;
const openaiDir = process.env.ACCEL_OPENAI_DIR;
const data = process.env.ACCEL_TEST_DATA || join(process.env.ACCEL_SOURCE_DIR ?? '.', '..', 'shared');
const stories = join(data, 'models', 'stories260K.gguf');
if (!openaiDir || !existsSync(join(openaiDir, 'index.mjs'))) skip(`the openai package is not at ${openaiDir} (scripts/bootstrap.sh)`);
if (!existsSync(stories)) skip(`${stories} is absent (set ACCEL_TEST_DATA)`);
const { default: OpenAI } = await import(pathToFileURL(join(openaiDir, 'index.mjs')).href);

const dir = mkdtempSync(join(tmpdir(), 'accel-openai-'));
const run = (args) => {
    const r = spawnSync(bin, args, { encoding: 'utf8' });
    assert.equal(r.status, 0, `accel ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
};
const bert = join(dir, 'bert.gguf');
run(['make-model', '--arch', 'bert', '--params', '8M', '--type', 'f16', '--out', bert]);
const key = 'test-key-0123456789abcdef';
writeFileSync(join(dir, 'key'), `${key}\n`);

const server = spawn(bin, ['serve', '--port', '0', '--models', stories, '--models', bert, '--api-key-file', join(dir, 'key')],
                     { stdio: ['ignore', 'ignore', 'pipe'] });
let stderr = '';
const port = await new Promise((resolve, reject) => {
    server.stderr.on('data', (d) => {
        stderr += d;
        const m = stderr.match(/http:\/\/127\.0\.0\.1:(\d+)/);
        if (m) resolve(Number(m[1]));
    });
    server.on('exit', (code) => reject(new Error(`accel serve exited ${code}: ${stderr}`)));
});
const exited = new Promise((resolve) => server.on('exit', (code, signal) => resolve({ code, signal })));

let failed = false;
async function check(name, fn) {
    try {
        await fn();
        console.log(`ok - ${name}`);
    } catch (e) {
        failed = true;
        console.log(`not ok - ${name}: ${e.stack || e}`);
    }
}

const client = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: key, maxRetries: 0, timeout: 60000 });

await check('models.list lists the served files', async () => {
    const ids = [];
    for await (const m of client.models.list()) ids.push(m.id);
    assert.deepEqual(ids, ['stories260K', 'bert']);
});

await check('completions: greedy text equals accel generate', async () => {
    const expected = run(['generate', '--model', stories, '--prompt', 'Once upon a time', '-n', '30']).replace(/\n$/, '');
    assert.ok(expected.startsWith(', there was a little girl named Lily'), expected);
    const r = await client.completions.create({ model: 'stories260K', prompt: 'Once upon a time', max_tokens: 30, temperature: 0 });
    assert.equal(r.choices[0].text, expected);
    assert.equal(r.choices[0].finish_reason, 'length');
    assert.equal(r.usage.completion_tokens, 30);
});

await check('chat: streaming with include_usage concatenates to the non-streamed answer', async () => {
    const req = { model: 'stories260K', messages: [{ role: 'user', content: 'Once upon a time' }], max_tokens: 12, temperature: 0 };
    const whole = await client.chat.completions.create(req);
    assert.equal(whole.choices[0].message.role, 'assistant');
    const stream = await client.chat.completions.create({ ...req, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let usage = null;
    let finish = null;
    for await (const chunk of stream) {
        if (chunk.usage) usage = chunk.usage;
        for (const c of chunk.choices) {
            text += c.delta?.content ?? '';
            if (c.finish_reason) finish = c.finish_reason;
        }
    }
    assert.equal(text, whole.choices[0].message.content);
    assert.equal(finish, 'length');
    assert.deepEqual(usage, whole.usage);
    assert.equal(usage.completion_tokens, 12);
});

await check('embeddings: base64 (the client default) and float agree, unit length', async () => {
    const input = ['hello world', 'a b c'];
    const b = await client.embeddings.create({ model: 'bert', input });
    const f = await client.embeddings.create({ model: 'bert', input, encoding_format: 'float' });
    assert.equal(b.data.length, 2);
    for (let i = 0; i < 2; ++i) {
        const v = Array.from(b.data[i].embedding);
        assert.equal(v.length, f.data[i].embedding.length);
        v.forEach((x, k) => assert.ok(Math.abs(x - f.data[i].embedding[k]) < 1e-6));
        const norm = v.reduce((s, x) => s + x * x, 0);
        assert.ok(Math.abs(norm - 1) < 1e-4, `norm ${norm}`);
    }
    assert.ok(b.usage.prompt_tokens > 2);
});

await check('errors map to the client error classes', async () => {
    const bad = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'wrong-key', maxRetries: 0 });
    await assert.rejects(bad.models.list(), (e) => e instanceof OpenAI.AuthenticationError && e.status === 401);
    await assert.rejects(client.completions.create({ model: 'nope', prompt: 'x' }),
                         (e) => e instanceof OpenAI.NotFoundError && e.code === 'model_not_found');
    await assert.rejects(client.completions.create({ model: 'stories260K', prompt: 'x', max_tokens: -1 }),
                         (e) => e instanceof OpenAI.BadRequestError && e.param === 'max_tokens');
});

server.kill('SIGTERM');
const { code, signal } = await exited;
await check('SIGTERM stops accel serve with exit 0', async () => assert.equal(code, 0, `code ${code} signal ${signal}: ${stderr}`));
rmSync(dir, { recursive: true, force: true });
process.exit(failed ? 1 : 0);

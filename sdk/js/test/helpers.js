// Test helpers: the real fieldsync binary on a loopback port (and its CLI),
// signed-in devices, access tokens re-signed with the server's key, and a
// fetch that records what goes over the wire.

import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { after } from 'node:test';
import { promisify } from 'node:util';
import { FieldsyncClient, MemoryStorage, uuidv7 } from '../src/index.js';

/** The fieldsync binary the Go wrapper test built (sdk_test.go). */
export const BIN = process.env.FIELDSYNC_BIN ?? '';

/** The bytes of the JPEG sdk_test.go writes (FIELDSYNC_TEST_JPEG). */
export function testJPEG() {
  const p = process.env.FIELDSYNC_TEST_JPEG;
  assert.ok(p, 'FIELDSYNC_TEST_JPEG names a JPEG (sdk_test.go writes it)');
  return new Uint8Array(fs.readFileSync(p));
}

/** @type {string[]} */
const temps = [];
process.on('exit', () => {
  for (const d of temps) fs.rmSync(d, { recursive: true, force: true });
});

/**
 * A temporary directory removed when the process exits.
 * @param {string} prefix
 */
export function tempDir(prefix) {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `fieldsync-${prefix}-`));
  temps.push(d);
  return d;
}

/** The kill of every server startServer started, run when the test file ends. */
const running = new Set();
after(async () => {
  for (const kill of running) await kill();
});

/**
 * Starts `fieldsync serve --demo` on addr (default 127.0.0.1:0) over
 * dataDir, with more flags args, and resolves once it prints the address
 * it listens on. It is killed when the test file ends, if not before.
 * @param {{dataDir: string, addr?: string, args?: string[]}} o
 * @returns {Promise<{url: string, addr: string, proc: import('node:child_process').ChildProcess, stderr: () => string, kill: (sig?: NodeJS.Signals) => Promise<void>}>}
 */
export function startServer({ dataDir, addr = '127.0.0.1:0', args = [] }) {
  if (!BIN) throw new Error('FIELDSYNC_BIN is not set: run the tests with go test ./sdk/js (sdk_test.go builds the binary)');
  // The server's token keys live in its database; it takes the first from
  // a jwt.key it finds in the data directory (as a server from before
  // keys lived there left it), so resignToken knows the key.
  const keyFile = path.join(dataDir, 'jwt.key');
  if (!fs.existsSync(keyFile)) fs.writeFileSync(keyFile, randomBytes(32), { mode: 0o600 });
  const proc = spawn(BIN, ['serve', '--demo', '--demo-month=false', '--data', dataDir, '--addr', addr, '--log-level', 'warn', '--bcrypt-cost', '4', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let errText = '';
  proc.stderr?.on('data', (d) => {
    errText += d;
  });
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  const kill = async (/** @type {NodeJS.Signals} */ sig = 'SIGKILL') => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(sig);
    await exited;
  };
  running.add(kill);
  return new Promise((resolve, reject) => {
    const rl = readline.createInterface({ input: /** @type {import('node:stream').Readable} */ (proc.stdout) });
    rl.on('line', (line) => {
      const m = /已启动: http:\/\/(\S+)/.exec(line);
      if (m) resolve({ url: `http://${m[1]}`, addr: m[1], proc, stderr: () => errText, kill });
    });
    proc.once('exit', (code) => reject(new Error(`fieldsync exited (${code}) before listening:\n${errText}`)));
  });
}

/**
 * Runs a fieldsync subcommand (e.g. user scope) to its end and returns its
 * output; it fails the test if the command fails.
 * @param {...string} args
 */
export async function fieldsyncCLI(...args) {
  if (!BIN) throw new Error('FIELDSYNC_BIN is not set: run the tests with go test ./sdk/js (sdk_test.go builds the binary)');
  const { stdout } = await promisify(execFile)(BIN, args);
  return stdout;
}

/**
 * A signed-in device.
 * @param {string} url
 * @param {{user?: string, storage?: import('../src/storage/storage.js').Storage, fetch?: typeof fetch, now?: () => number, chunkSize?: number, pageLimit?: number,
 *   keepOriginalsFor?: number, requestTimeout?: number, sleep?: (ms: number) => Promise<void>}} [o]
 */
export async function device(url, o = {}) {
  const c = await FieldsyncClient.open({
    baseURL: url,
    storage: o.storage ?? new MemoryStorage(),
    deviceName: '测试手机',
    fetch: o.fetch,
    now: o.now,
    chunkSize: o.chunkSize,
    pageLimit: o.pageLimit,
    keepOriginalsFor: o.keepOriginalsFor,
    requestTimeout: o.requestTimeout,
    sleep: o.sleep,
  });
  if (!c.signedIn) await c.signIn(o.user ?? 'inspector', 'inspector123');
  return c;
}

/** @param {FieldsyncClient} c */
export async function syncOK(c) {
  const r = await c.sync();
  assert.equal(r.error, null, `sync failed: ${r.error?.code} ${r.error?.message}`);
  assert.deepEqual(r.rejected, []);
  return r;
}

/**
 * The county office returns (or approves) an inspection, as the console does.
 * @param {string} url
 * @param {string} id
 * @param {'return' | 'approve'} decision
 * @param {string} [comment]
 */
export async function review(url, id, decision, comment = '请补充小结') {
  const r = await asOffice(url, 'POST', `/api/v1/inspections/${id}/review`, { decision, comment });
  assert.equal(r.status, 200, await r.text());
}

/**
 * A request of the county office (signed in afresh), as the console makes.
 * @param {string} url
 * @param {string} method
 * @param {string} path
 * @param {any} [body]
 */
export async function asOffice(url, method, path, body) {
  const login = await fetch(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: 'county', password: 'county123', device_id: uuidv7(), device_name: '办公室' }),
  });
  assert.equal(login.status, 200, await login.clone().text());
  const { access_token: token } = await login.json();
  return fetch(`${url}${path}`, {
    method,
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** @param {FieldsyncClient} c @param {string} [county] */
export async function demoSite(c, county = '140902') {
  const sites = await c.list('site', (s) => s.county === county);
  assert.ok(sites.length > 0, `the demo has sites in ${county}`);
  return sites[0].id;
}

/**
 * Re-signs a server-issued access token (HS256 with the server's key,
 * imported from <dataDir>/jwt.key by startServer, as server/auth does) after edit changed its claims:
 * a token the server takes for its own.
 * @param {string} token
 * @param {string} dataDir
 * @param {(claims: Record<string, any>) => void} edit
 */
export function resignToken(token, dataDir, edit) {
  const [h, p] = token.split('.');
  assert.equal(JSON.parse(Buffer.from(h, 'base64url').toString()).alg, 'HS256');
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
  edit(claims);
  const signed = `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  const key = fs.readFileSync(path.join(dataDir, 'jwt.key'));
  return `${signed}.${createHmac('sha256', key).update(signed).digest('base64url')}`;
}

/**
 * The token made genuinely expired: exp (and iat, nbf) an hour and more
 * in the past, well beyond the server's leeway.
 * @param {string} token
 * @param {string} dataDir
 */
export function expiredToken(token, dataDir) {
  const now = Math.floor(Date.now() / 1000);
  return resignToken(token, dataDir, (c) => {
    c.exp = now - 3600;
    if ('iat' in c) c.iat = now - 3600 - 900;
    if ('nbf' in c) c.nbf = now - 3600 - 900;
  });
}

/**
 * @typedef {{method: string, path: string, status: number, code: string,
 *   token: string, body: any}} Exchange
 */

/**
 * A fetch that forwards every request to the real server and records it:
 * method, path (with query), the bearer token sent, the JSON body sent,
 * and the answer's status and error code.
 * @param {{before?: (path: string) => Promise<void>, after?: (ex: Exchange) => void}} [hooks]
 *   before is awaited before a request is sent, after called with each answer
 * @returns {{fetch: typeof fetch, log: Exchange[], count: (path: string) => number}}
 */
export function recorder(hooks = {}) {
  /** @type {Exchange[]} */
  const log = [];
  /** @type {typeof fetch} */
  const f = async (input, init) => {
    const u = new URL(String(input));
    const p = u.pathname + u.search;
    await hooks.before?.(p);
    const auth = new Headers(init?.headers).get('Authorization') ?? '';
    const resp = await globalThis.fetch(input, init);
    let code = '';
    if (resp.status >= 400) code = (await resp.clone().json().catch(() => ({}))).code ?? '';
    /** @type {Exchange} */
    const ex = {
      method: init?.method ?? 'GET',
      path: p,
      status: resp.status,
      code,
      token: auth.replace(/^Bearer /, ''),
      body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined,
    };
    log.push(ex);
    hooks.after?.(ex);
    return resp;
  };
  return { fetch: f, log, count: (path) => log.filter((e) => e.path.split('?')[0] === path).length };
}

/**
 * A recorder (above) whose next pull, once held, waits until released:
 * a sync stopped there has pushed already.
 * @returns {{rec: ReturnType<typeof recorder>, hold: () => {reached: Promise<unknown>, release: () => void}}}
 *   hold: holds the next pull; reached settles when it is held, release lets it go
 */
export function pullHolder() {
  /** @type {Promise<void> | null} */
  let held = null;
  /** @type {(v?: unknown) => void} */
  let atPull = () => {};
  const rec = recorder({
    before: async (path) => {
      if (held && path.startsWith('/api/v1/sync/pull')) {
        const h = held;
        held = null;
        atPull();
        await h;
      }
    },
  });
  return {
    rec,
    hold() {
      /** @type {() => void} */
      let release = () => {};
      held = new Promise((r) => (release = r));
      const reached = new Promise((r) => (atPull = r));
      return { reached, release };
    },
  };
}

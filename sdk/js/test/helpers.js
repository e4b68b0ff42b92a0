// Test helpers: the real fieldsync binary on a loopback port.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

/** The fieldsync binary the Go wrapper test built (sdk_test.go). */
export const BIN = process.env.FIELDSYNC_BIN ?? '';

/**
 * A temporary directory removed when the process exits.
 * @param {string} prefix
 */
export function tempDir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `fieldsync-${prefix}-`));
}

/**
 * Starts `fieldsync serve --demo` on addr (default 127.0.0.1:0) over
 * dataDir and resolves once it prints the address it listens on.
 * @param {{dataDir: string, addr?: string}} o
 * @returns {Promise<{url: string, addr: string, proc: import('node:child_process').ChildProcess, stderr: () => string, kill: (sig?: NodeJS.Signals) => Promise<void>}>}
 */
export function startServer({ dataDir, addr = '127.0.0.1:0' }) {
  if (!BIN) throw new Error('FIELDSYNC_BIN is not set: run the tests with go test ./sdk/js (sdk_test.go builds the binary)');
  const proc = spawn(BIN, ['serve', '--demo', '--demo-month=false', '--data', dataDir, '--addr', addr, '--log-level', 'warn'], {
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
  return new Promise((resolve, reject) => {
    const rl = readline.createInterface({ input: /** @type {import('node:stream').Readable} */ (proc.stdout) });
    rl.on('line', (line) => {
      const m = /已启动: http:\/\/(\S+)/.exec(line);
      if (m) resolve({ url: `http://${m[1]}`, addr: m[1], proc, stderr: () => errText, kill });
    });
    proc.once('exit', (code) => reject(new Error(`fieldsync exited (${code}) before listening:\n${errText}`)));
  });
}

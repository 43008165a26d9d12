#!/usr/bin/env node
// Runs the browser tests against a server.
//
//   node tests/run.mjs --url http://127.0.0.1:8080
//   node tests/run.mjs -- <server command ...{port}...>
//
// The second form picks a free port, substitutes it for {port} in the
// command, starts the server, waits until /api/status answers, runs the
// tests with HUOYAN_URL set and stops the server again. Examples:
//   node tests/run.mjs -- ./build/huoyan serve --port {port} trace.json
//   node tests/run.mjs -- node dev/fixture-server.mjs --port {port}   (UI development only)
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const sep = argv.indexOf('--');
const opts = sep >= 0 ? argv.slice(0, sep) : argv;
const command = sep >= 0 ? argv.slice(sep + 1) : [];
const urlIdx = opts.indexOf('--url');
let url = urlIdx >= 0 ? opts[urlIdx + 1] : process.env.HUOYAN_URL;

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

async function waitReady(base, server, timeoutMs = 60000) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (server.exitCode !== null) throw new Error(`server exited with code ${server.exitCode} before it was ready`);
    try {
      const r = await fetch(`${base}/api/status`);
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`server at ${base} not ready after ${timeoutMs / 1000} s`);
}

let server = null;
const stop = () => {
  if (server && server.exitCode === null) {
    try {
      process.kill(-server.pid, 'SIGTERM'); // its whole process group
    } catch {
      server.kill('SIGTERM');
    }
  }
};
process.on('SIGINT', () => {
  stop();
  process.exit(130);
});

let code = 1;
try {
  if (command.length) {
    const port = await freePort();
    const cmd = command.map((a) => a.replaceAll('{port}', String(port)));
    server = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'inherit', 'inherit'], detached: true });
    url = `http://127.0.0.1:${port}`;
    await waitReady(url, server);
  }
  if (!url) throw new Error('give --url URL, set HUOYAN_URL, or pass a server command after --');
  const files = fs.readdirSync(here).filter((f) => f.endsWith('.test.mjs')).sort().map((f) => path.join(here, f));
  const tests = spawn(process.execPath, ['--test', '--test-concurrency=1', ...files], { stdio: 'inherit', env: { ...process.env, HUOYAN_URL: url } });
  code = await new Promise((resolve) => tests.on('exit', (c) => resolve(c ?? 1)));
} catch (e) {
  console.error(`tests/run.mjs: ${e.message}`);
} finally {
  stop();
}
process.exit(code);

// UI development loop: start the fixture server on a free port, run the
// browser tests against it, stop it. CI runs the same tests against the real
// `huoyan serve` instead (HUOYAN_URL).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = process.env.HUOYAN_WEB_DIST || path.join(root, 'dist');
if (!fs.existsSync(path.join(dist, 'index.html'))) {
  console.error(`no built UI in ${dist}: run \`npm run build\` first`);
  process.exit(2);
}
const server = spawn(process.execPath, [path.join(root, 'dev/fixture-server.mjs'), '--port', '0', '--dist', dist], { stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise((resolve, reject) => {
  let buf = '';
  server.stdout.on('data', (d) => {
    buf += d;
    const m = buf.match(/http:\/\/127\.0\.0\.1:\d+/);
    if (m) resolve(m[0]);
  });
  server.on('exit', (code) => reject(new Error(`fixture server exited with ${code}`)));
});
const files = fs.readdirSync(path.join(root, 'tests')).filter((f) => f.endsWith('.test.mjs')).map((f) => path.join(root, 'tests', f));
const tests = spawn(process.execPath, ['--test', '--test-concurrency=1', ...files], { stdio: 'inherit', env: { ...process.env, HUOYAN_URL: url } });
const code = await new Promise((resolve) => tests.on('exit', (c) => resolve(c ?? 1)));
server.kill();
process.exit(code);

// Runs a share of the bad-input corpus inside its own namespaces (started by
// test/bad-input.test.ts as `unshare --ipc --mount --net`): System V objects,
// /dev/shm and loopback are private, so nothing here can touch other tests,
// and every object that appears can be pinned on the case that made it.
// Cases run one after another; each has a time bound.
//
//   node corpus-worker.mjs IPCCTL CASES.json RESULTS.json
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [, , IPCCTL, casesFile, resultsFile, timeoutText] = process.argv;
const TIMEOUT_MS = Number(timeoutText ?? 15000);
const cases = JSON.parse(readFileSync(casesFile, 'utf8'));
const env = { ...process.env, NO_COLOR: '1' };
delete env.IPCCTL_DEBUG;

// Loopback up in the new network namespace; a private /dev/shm (POSIX objects).
spawnSync('ip', ['link', 'set', 'lo', 'up']);
spawnSync('mount', ['-t', 'tmpfs', 'tmpfs', '/dev/shm']);

const KINDS = { msg: 'q', shm: 'm', sem: 's' };

/** Every object there is: System V ids per kind, and POSIX names under /dev/shm and /dev/mqueue. */
function snapshot() {
  const seen = new Set();
  for (const file of Object.keys(KINDS)) {
    const lines = readFileSync(`/proc/sysvipc/${file}`, 'latin1').trim().split('\n').slice(1);
    for (const l of lines) seen.add(`${file}:${l.trim().split(/\s+/)[1]}`);
  }
  for (const dir of ['/dev/shm', '/dev/mqueue']) {
    try {
      for (const n of readdirSync(dir)) seen.add(`${dir}/${n}`);
    } catch {
      /* not there */
    }
  }
  return seen;
}

function removeObject(o) {
  const [kind, id] = o.split(':');
  if (id !== undefined && KINDS[kind]) spawnSync('ipcrm', [`-${KINDS[kind]}`, id]);
  else rmSync(o, { force: true });
}

function create(args) {
  const r = spawnSync(IPCCTL, args, { env });
  if (r.status !== 0) throw new Error(`fixture ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.toString().trim();
}

const fixtures = {};
function ensureFixtures(now) {
  if (!fixtures.Q || !now.has(`msg:${fixtures.Q}`)) fixtures.Q = create(['msgq', 'create']);
  if (!fixtures.M || !now.has(`shm:${fixtures.M}`)) fixtures.M = create(['shm', 'create', '--size', '4096']);
  if (!fixtures.S || !now.has(`sem:${fixtures.S}`)) fixtures.S = create(['sem', 'create', '--count', '2']);
}
const fixtureNames = () => new Set([`msg:${fixtures.Q}`, `shm:${fixtures.M}`, `sem:${fixtures.S}`]);

const dir = mkdtempSync(join(tmpdir(), 'ipcctl-corpus-'));

function runCase(c) {
  const args = c.args.map((a) => a.replace('{Q}', fixtures.Q).replace('{M}', fixtures.M).replace('{S}', fixtures.S).replace('{DIR}', dir));
  const fds = [];
  const open = (p, flags) => {
    const fd = openSync(p, flags);
    fds.push(fd);
    return fd;
  };
  const stdin = c.stdin === 'zero' ? open('/dev/zero', 'r') : c.stdin === 'dir' ? open(dir, 'r') : 'pipe';
  const stdout = c.stdout === 'full' ? open('/dev/full', 'w') : 'pipe';
  return new Promise((resolve) => {
    const child = spawn(IPCCTL, args, { env, stdio: [stdin, stdout, 'pipe'], cwd: dir });
    // 'closed': a reader that is gone before anything is written (EPIPE).
    if (c.stdout === 'closed') child.stdout.destroy();
    let stderr = '';
    let out = 0;
    let hung = false;
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout?.on('data', (d) => (out += d.length));
    if (stdin === 'pipe') child.stdin.end();
    const timer = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      for (const fd of fds) closeSync(fd);
      resolve({ name: c.name, args, code, signal, hung, stderr, stdoutBytes: out, expected: c.code });
    });
  });
}

const results = [];
let before = snapshot();
ensureFixtures(before);
before = snapshot();
for (const c of cases) {
  const r = await runCase(c);
  const after = snapshot();
  const fixed = fixtureNames();
  const appeared = [...after].filter((o) => !before.has(o) && !fixed.has(o));
  // A failed command must leave nothing behind; what a successful one made is cleared for the next.
  r.leaked = r.code === 0 ? [] : appeared;
  for (const o of appeared) removeObject(o);
  results.push(r);
  ensureFixtures(snapshot());
  before = snapshot();
}
rmSync(dir, { recursive: true, force: true });
writeFileSync(resultsFile, JSON.stringify(results));

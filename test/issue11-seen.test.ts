// Issue 11, "What was seen": each case a user met, run as they ran it
// (items 3 to 9; the transfer cases are in the fault matrix). Objects are
// made in private IPC namespaces or tracked, so nothing is left behind.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { listeningPort } from './helpers/net.js';
import { inIpcNamespace } from './helpers/ns.js';
import { waitFor } from './helpers/wait.js';
import { IPCCTL, ipcctl, newQueue, sleep, track } from './helpers/run.js';

const dir = mkdtempSync(join(tmpdir(), 'ipcctl-seen-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Start ipcctl, let it run `ms`, then SIGINT it: it must still have been waiting. */
async function waitsThen(args: string[], ms: number): Promise<{ code: number | null; stderr: string; ranMs: number }> {
  const started = Date.now();
  const child = spawn(IPCCTL, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  let exitedAt = 0;
  const done = new Promise<number | null>((r) =>
    child.on('close', (code) => {
      exitedAt = Date.now();
      r(code);
    }),
  );
  await sleep(ms);
  const stillRunning = exitedAt === 0;
  child.kill('SIGINT');
  const code = await done;
  return { code: stillRunning ? code : -1, stderr, ranMs: (exitedAt || Date.now()) - started };
}

function newSet(): number {
  const r = ipcctl(['sem', 'create']);
  if (r.code !== 0) throw new Error(r.stderr);
  return track('s', Number(r.stdout.trim()));
}

function newSegment(): number {
  const r = ipcctl(['shm', 'create', '--size', '4096']);
  if (r.code !== 0) throw new Error(r.stderr);
  return track('m', Number(r.stdout.trim()));
}

describe('durations are honoured in full (1000h waits, no TimeoutOverflowWarning)', () => {
  it('msgq recv --timeout 1000h waits', async () => {
    const q = newQueue();
    const r = await waitsThen(['msgq', 'recv', String(q), '--timeout', '1000h'], 1500);
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).not.toMatch(/Warning|timed out/);
  });

  it('sem op --timeout 1000h waits', async () => {
    const s = newSet();
    const r = await waitsThen(['sem', 'op', String(s), '0:-1', '--timeout', '1000h'], 1500);
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).not.toMatch(/Warning|timed out/);
  });

  it('shm attach --hold 1000h holds', async () => {
    const m = newSegment();
    const r = await waitsThen(['shm', 'attach', String(m), '--hold', '1000h'], 1500);
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).not.toMatch(/Warning/);
  });

  it('ls --watch 1000h waits for its second snapshot', async () => {
    const r = await waitsThen(['ls', '--watch', '1000h', '--count', '2'], 1500);
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).not.toMatch(/Warning/);
  });

  it('lab race --max-time 1000h runs to its verdict', () => {
    const r = ipcctl(['--json', 'lab', 'race', '--lock', '--iterations', '200', '--max-time', '1000h'], { timeout: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).ok).toBe(true);
    expect(r.stderr).not.toMatch(/Warning|did not finish/);
  });

  it.each([
    [['ls', '--watch', '-1'], /--watch interval '-1': must not be negative/],
    [['msgq', 'recv', '1', '--timeout', '-5'], /must not be negative/],
    [['shm', 'attach', '1', '--hold', '99999999999h'], /too long/],
    [['lab', 'race', '--max-time', 'NaN'], /invalid duration 'NaN'/],
  ])('%j is refused with exit 2 and a clear line', (args, message) => {
    const r = ipcctl(args);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/invalid age/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('safe removal', () => {
  it('rm --all --kind "" --yes is refused and removes nothing; so are an empty owner and age', () => {
    const r = inIpcNamespace(`
      $IPCCTL msgq create >/dev/null; $IPCCTL shm create --size 1K >/dev/null
      $IPCCTL rm --all --kind "" --yes; c=$?; echo "@@kind"; echo $c
      $IPCCTL rm --all --kind shm, --yes; c=$?; echo "@@comma"; echo $c
      $IPCCTL rm --all --owner "" --yes; c=$?; echo "@@owner"; echo $c
      $IPCCTL rm --all --older-than "" --yes; c=$?; echo "@@age"; echo $c
      echo @@left; cat /proc/sysvipc/msg /proc/sysvipc/shm | grep -vc key
    `);
    for (const s of ['kind', 'comma', 'owner', 'age']) expect(r.sections[s]!.trim(), r.stderr).toBe('2');
    expect(r.sections.left!.trim()).toBe('2');
    expect(r.stderr).toMatch(/unknown kind ''/);
  });

  it('a segment just made by shm create is no orphan; --dry-run says "would remove" and counts', () => {
    const r = inIpcNamespace(`
      m=$($IPCCTL shm create --size 1K)
      echo @@dry; $IPCCTL rm --all --orphans --dry-run
      echo @@real; $IPCCTL rm --all --orphans; echo "exit $?"
      echo @@still; grep -c " $m " /proc/sysvipc/shm
      echo @@aged; $IPCCTL rm --all --orphans --older-than 0s --dry-run
      echo @@json; $IPCCTL --json rm --all --orphans --older-than 0s --dry-run
    `);
    expect(r.code, r.stderr).toBe(0);
    expect(r.sections.dry).toBe('would remove 0 objects\n');
    expect(r.sections.still!.trim()).toBe('1');
    expect(r.sections.aged).toMatch(/^would remove shm \d+ \(key private\)\nwould remove 1 object \(1 shm\)\n$/);
    const j = JSON.parse(r.sections.json!);
    expect(j).toMatchObject({ dryRun: true, counts: { wouldRemove: 1, wouldFail: 0 } });
  });

  it('--dry-run as a user who may not remove them says so per object (exit 5)', () => {
    const r = inIpcNamespace(`
      $IPCCTL msgq create >/dev/null; $IPCCTL sem create >/dev/null
      echo @@dry; setpriv --reuid 65534 --regid 65534 --clear-groups $IPCCTL rm --all --dry-run 2>&1; echo "exit $?"
    `);
    expect(r.sections.dry).toMatch(/would remove 0 objects; 2 would be refused/);
    expect(r.sections.dry!.match(/EPERM, would be refused/g)).toHaveLength(2);
    expect(r.sections.dry).toMatch(/exit 5/);
  });
});

describe('create reports or undoes', () => {
  it.each([
    ['msgq create', ''],
    ['shm create --size 1K', ''],
    ['sem create', ''],
    ['msgq create', '--json'],
    ['shm create --size 1K', '--json'],
    ['sem create', '--json'],
  ])('%s %s to /dev/full and to a reader already gone: exit 1, nothing left', (cmd, json) => {
    const r = inIpcNamespace(`
      $IPCCTL ${json} ${cmd} > /dev/full; c=$?; echo "@@full"; echo $c
      (sleep 0.5; $IPCCTL ${json} ${cmd}) | true; c="\${PIPESTATUS[0]}"; echo "@@gone"; echo $c
      echo @@left; cat /proc/sysvipc/msg /proc/sysvipc/shm /proc/sysvipc/sem | grep -vc key
    `);
    for (const s of ['full', 'gone']) expect(r.sections[s]!.trim(), `${s}: ${r.stderr}`).toBe('1');
    expect(r.sections.left!.trim()).toBe('0');
    expect(r.stderr).toMatch(/could not write the new id \d+ to stdout \(ENOSPC\); removed the new/);
    expect(r.stderr).toMatch(/\(EPIPE\); removed the new/);
    expect(r.stderr).not.toMatch(/internal error/);
  });

  it('an existing object opened by key is left as it was', () => {
    const r = inIpcNamespace(`
      $IPCCTL msgq create -k 0x4c1100aa >/dev/null
      $IPCCTL msgq create -k 0x4c1100aa > /dev/full; c=$?; echo "@@code"; echo $c
      echo @@left; grep -c . /proc/sysvipc/msg
    `);
    expect(r.sections.code!.trim()).toBe('1');
    expect(r.sections.left!.trim()).toBe('2');
    expect(r.stderr).toMatch(/existed before and is left as it was/);
  });
});

describe('every value validated before any call', () => {
  it.each([
    [['--owner', '4294967295'], /uids go from 0 to 4294967294/],
    [['--owner', '99999999999'], /uids go from 0 to 4294967294/],
    [['--owner', ':4294967295'], /gids go from 0 to 4294967294/],
    [['--owner', ''], /invalid owner ''/],
    [['--max-bytes', '4G'], /msg_qbytes holds at most 4294967295/],
  ])('msgq set Q %j: exit 2, the queue unchanged', (opt, message) => {
    const q = newQueue();
    const before = JSON.parse(ipcctl(['--json', 'msgq', 'stat', String(q)]).stdout);
    const r = ipcctl(['msgq', 'set', String(q), ...opt]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/no such queue|internal error/);
    const after = JSON.parse(ipcctl(['--json', 'msgq', 'stat', String(q)]).stdout);
    expect(after.qbytes).toBe(before.qbytes);
    expect(after.uid).toBe(before.uid);
  });

  it('msgq recv --max-size 9007199254740991: exit 2 naming msgmax', () => {
    const q = newQueue();
    const r = ipcctl(['msgq', 'recv', String(q), '--max-size', '9007199254740991', '--nowait']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/no message is larger than msgmax/);
  });

  it("sem create --value '' is refused like sem ctl ID setval 0 ''", () => {
    const s = newSet();
    const a = ipcctl(['sem', 'create', '--value', '']);
    const b = ipcctl(['sem', 'ctl', String(s), 'setval', '0', '']);
    expect(a.code, a.stderr).toBe(2);
    expect(b.code, b.stderr).toBe(2);
    expect(a.stderr).toMatch(/invalid semaphore value ''/);
    expect(a.stdout).toBe('');
  });

  it('shm write with stdin a directory: one EISDIR line, exit 1', () => {
    const m = newSegment();
    const w = withStdin(dir, ['shm', 'write', String(m)]);
    expect(w.code, w.stderr).toBe(1);
    expect(w.stderr.trim()).toMatch(/^ipcctl: shm write \d+: EISDIR, stdin is a directory/);
    expect(w.stderr.trim().split('\n')).toHaveLength(1);
  });
});

/** Run ipcctl with stdin opened from `path` (a directory, /dev/zero). */
function withStdin(path: string, args: string[]): { code: number | null; stdout: string; stderr: string } {
  const fd = openSync(path, 'r');
  try {
    const s = spawnSync(IPCCTL, args, { stdio: [fd, 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' }, timeout: 20_000 });
    return { code: s.status, stdout: s.stdout.toString(), stderr: s.stderr.toString() };
  } finally {
    closeSync(fd);
  }
}

describe('removed while attached', () => {
  it('shm write and read on a segment marked for removal work and say it goes at the last detach', async () => {
    const m = newSegment();
    const holder = spawn(IPCCTL, ['shm', 'attach', String(m), '--hold', '20s'], { stdio: 'ignore' });
    try {
      await waitFor('the holder attached (nattch 1)', () => JSON.parse(ipcctl(['--json', 'shm', 'stat', String(m)]).stdout).nattch >= 1);
      expect(ipcctl(['shm', 'rm', String(m)]).code).toBe(0);
      const w = ipcctl(['shm', 'write', String(m), 'kept until the last detach']);
      expect(w.code, w.stderr).toBe(0);
      expect(w.stderr).toMatch(/^ipcctl: shm write \d+: the segment is marked for removal: it goes away, with the data, when its other user detaches\n$/);
      const r = ipcctl(['shm', 'read', String(m), '--length', '26']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe('kept until the last detach');
      expect(r.stderr).toMatch(/marked for removal/);
    } finally {
      holder.kill('SIGINT');
      await new Promise((res) => holder.on('close', res));
    }
    // The holder was the last: the segment is gone.
    expect(ipcctl(['shm', 'stat', String(m)]).code).toBe(4);
  });
});

describe('udp listen counts what the kernel dropped', () => {
  it.each([[[] as string[]], [['--json']]])('a burst while the listener is stopped: received + dropped = sent %j', async (json) => {
    const child = spawn(IPCCTL, [...json, 'udp', 'listen', '--port', '0', '--timeout', '2s'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const done = new Promise<number | null>((r) => child.on('close', r));
    const port = String(await waitFor('udp listen to name its port', () => listeningPort(err), { detail: () => err }));
    const sent = 100_000;
    child.kill('SIGSTOP');
    const s = ipcctl(['udp', 'send', '127.0.0.1', port, '--count', String(sent), 'x'], { timeout: 60_000 });
    child.kill('SIGCONT');
    expect(s.code, s.stderr).toBe(0);
    expect(await done).toBe(124);
    if (json.length > 0) {
      const lines = out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      const end = lines.at(-1);
      expect(end.event).toBe('end');
      expect(end.received).toBe(lines.length - 1);
      expect(end.dropped).toBeGreaterThan(0);
      expect(end.received + end.dropped).toBe(sent);
    } else {
      const m = /(\d+) datagrams received, (\d+) dropped by the kernel/.exec(err);
      expect(m, err).not.toBeNull();
      expect(Number(m![1])).toBe(out.length);
      expect(Number(m![1]) + Number(m![2])).toBe(sent);
    }
  });
});

describe('messages that say what happened', () => {
  it('unix serve in a missing directory says the directory is missing', () => {
    const r = ipcctl(['unix', 'serve', '/no/such/dir/s.sock']);
    expect(r.code).toBe(4);
    expect(r.stderr).toBe('ipcctl: unix serve /no/such/dir/s.sock: ENOENT, the directory /no/such/dir does not exist\n');
  });

  it('unix connect to a directory says it is a directory, not a socket', () => {
    const r = ipcctl(['unix', 'connect', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/that path is a directory, not a socket\n$/);
    expect(r.stderr).not.toMatch(/stale/);
  });

  it('udp listen --port 0 names its port on stderr (also under --json)', async () => {
    for (const json of [[], ['--json']]) {
      const r = await waitsThen([...json, 'udp', 'listen', '--port', '0', '--timeout', '1s'], 300);
      expect(r.stderr).toMatch(/^ipcctl: udp listen: listening on 127\.0\.0\.1:[1-9][0-9]*\n/);
    }
  });

  it('help bogus is a usage error on one line; help sem is help', () => {
    const r = ipcctl(['help', 'bogus']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^ipcctl: help: unknown command 'bogus'/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toBe('');
    const h = ipcctl(['help', 'sem']);
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/Usage: ipcctl sem/);
  });
});

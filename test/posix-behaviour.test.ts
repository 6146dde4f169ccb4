// pmq, pshm and psem: limits, errors, waits and the "nothing lost" rule,
// against the real kernel. Names are unique (pid + random) and removed after
// every test; limit tests run in private namespaces with their own sysctls.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inPosixNamespace, peer, trackName, uniqueName } from './helpers/posix.js';
import { badInputCases, ipcctl, IPCCTL, runWithClosedStdout } from './helpers/run.js';
import { waitUntilIdleWith } from './helpers/proc.js';
import { waitFor } from './helpers/wait.js';

const queue = (extra: string[] = []) => {
  const name = trackName('pmq', uniqueName('q'));
  const r = ipcctl(['pmq', 'create', name, ...extra]);
  if (r.code !== 0) throw new Error(r.stderr);
  return name;
};
const curmsgs = (q: string) => JSON.parse(peer('pmq_attr', q).stdout).curmsgs as number;

describe('bad input', () => {
  badInputCases([
    ['a name with a second slash', ['pmq', 'create', '/a/b'], 2, /pmq create: invalid name '\/a\/b': only one slash/],
    ['two leading slashes', ['pshm', 'create', '//x', '--size', '1'], 2, /invalid name '\/\/x'/],
    ['an empty name', ['psem', 'create', ''], 2, /psem create: empty name/],
    ['a bare slash', ['pmq', 'stat', '/'], 2, /empty name/],
    ['a name of 256 bytes', ['pmq', 'create', '/' + 'n'.repeat(256)], 2, /name of 256 bytes is too long: at most 255/],
    ['a semaphore name of 252 bytes (sem. takes 4)', ['psem', 'create', '/' + 's'.repeat(252)], 2, /at most 251/],
    ['priority above 32767', ['pmq', 'send', '/x', '-p', '32768', 'hi'], 2, /invalid priority '32768': must be from 0 to 32767/],
    ['negative priority', ['pmq', 'send', '/x', '-p', '-1', 'hi'], 2, /invalid priority/],
    ['non-numeric --max-msgs', ['pmq', 'create', '/x', '--max-msgs', 'many'], 2, /invalid count 'many'/],
    ['a huge --size', ['pshm', 'create', '/x', '--size', '99999999999999999999'], 2, /too large/],
    ['a zero --size', ['pshm', 'create', '/x', '--size', '0'], 2, /--size must be above 0/],
    ['pshm create without --size', ['pshm', 'create', '/x'], 2, /required option/],
    ['psem --value above SEM_VALUE_MAX', ['psem', 'create', '/x', '--value', '2147483648'], 2, /invalid value/],
    ['recv --count and --all', ['pmq', 'recv', '/x', '--all', '-n', '2'], 2, /--count or --all/],
    ['a queue that does not exist', ['pmq', 'recv', '/ipcctl-no-such-queue-x'], 4, /pmq recv \/ipcctl-no-such-queue-x: ENOENT, no such queue/],
    ['a segment that does not exist', ['pshm', 'read', '/ipcctl-no-such-seg'], 4, /pshm read \/ipcctl-no-such-seg: ENOENT, no such segment/],
    ['a semaphore that does not exist', ['psem', 'post', 'ipcctl-no-such-sem'], 4, /psem post \/ipcctl-no-such-sem: ENOENT, no such semaphore/],
    ['psem lock is refused with the reason', ['psem', 'lock', '/x', '--', 'true'], 2, /psem lock: refused: a named POSIX semaphore has no undo/],
  ]);

  it('a name without its slash gets one', () => {
    const bare = uniqueName('bare').slice(1);
    trackName('pmq', '/' + bare);
    const r = ipcctl(['pmq', 'create', bare]);
    expect(r.stdout).toBe(`/${bare}\n`);
    expect(ipcctl(['pmq', 'send', '/' + bare, 'x']).code).toBe(0);
    expect(ipcctl(['pmq', 'recv', bare]).stdout).toBe('x');
  });

  it('create -x on an existing name fails with EEXIST and the hint; without -x it opens', () => {
    const q = queue();
    const r = ipcctl(['pmq', 'create', q, '-x']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/pmq create .*: EEXIST, a queue with that name already exists \(drop --exclusive to open it\)/);
    expect(ipcctl(['pmq', 'create', q]).code).toBe(0);
  });
});

describe('limits and their errors', () => {
  it('a message above msgsize is refused whole (EMSGSIZE naming msgsize); stdin from /dev/zero too', () => {
    const q = queue(['--msg-size', '16']);
    const r = ipcctl(['pmq', 'send', q, 'x'.repeat(17)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/EMSGSIZE, a message of 17 bytes is above the queue's msgsize of 16; nothing sent/);
    const z = spawn('bash', ['-c', `${IPCCTL} pmq send ${q} < /dev/zero`]);
    return new Promise<void>((resolve) => {
      let err = '';
      z.stderr.on('data', (d) => (err += d));
      z.on('close', (code) => {
        expect(code).toBe(1);
        expect(err).toMatch(/more than 16 bytes/);
        expect(curmsgs(q)).toBe(0);
        resolve();
      });
    });
  });

  it('a --lines record longer than msgsize stops there: the lines before it were sent, and it says how many', () => {
    const q = queue(['--msg-size', '8']);
    const r = ipcctl(['pmq', 'send', q, '--lines'], { input: 'one\ntwo\nmuch-too-long\nfour\n' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/EMSGSIZE.*\(after sending 2 messages\)/);
    expect(curmsgs(q)).toBe(2);
  });

  it('more queues than fs.mqueue.queues_max (ENOSPC), attributes above msg_max/msgsize_max (EINVAL), RLIMIT_MSGQUEUE (EMFILE)', () => {
    const r = inPosixNamespace(`
      echo @@rlimit; (ulimit -q 50000; $IPCCTL pmq create /e 2>&1; echo "rc=$?")
      echo 2 > /proc/sys/fs/mqueue/queues_max
      N="setpriv --reuid=65534 --regid=65534 --clear-groups"
      echo @@big; $N $IPCCTL pmq create /d --max-msgs 11 2>&1; echo "rc=$?"
      echo @@size; $N $IPCCTL pmq create /d --msg-size 9000 2>&1; echo "rc=$?"
      $N $IPCCTL pmq create /a >/dev/null && $N $IPCCTL pmq create /b >/dev/null
      echo @@third; $N $IPCCTL pmq create /c 2>&1; echo "rc=$?"
      echo @@left; ls /dev/mqueue | tr '\\n' ' '; echo
    `);
    expect(r.code, r.stderr).toBe(0);
    expect(r.sections.third).toMatch(
      /^ipcctl: pmq create \/c: ENOSPC, too many queues: the system limit fs.mqueue.queues_max \(2\) is reached \(raise it with sysctl -w fs.mqueue.queues_max=N\)\nrc=1/,
    );
    expect(r.sections.big).toMatch(/EINVAL, --max-msgs must be 1 to fs.mqueue.msg_max \(10\) and --msg-size 1 to fs.mqueue.msgsize_max \(8192\).*\nrc=1/);
    expect(r.sections.size).toMatch(/EINVAL/);
    expect(r.sections.rlimit).toMatch(/^ipcctl: pmq create \/e: EMFILE, your message queues would pass RLIMIT_MSGQUEUE \(50000 bytes\).*ulimit -q.*\nrc=1/);
    // Nothing half-made.
    expect(r.sections.left!.trim()).toBe('a b');
  });

  it('EACCES names the owner and the mode (from /dev/mqueue and /dev/shm)', () => {
    const r = inPosixNamespace(`
      N="setpriv --reuid=65534 --regid=65534 --clear-groups"
      $IPCCTL pmq create /q -m 0600 >/dev/null; $IPCCTL pshm create /m --size 1 -m 0640 >/dev/null; $IPCCTL psem create /s >/dev/null
      echo @@q; $N $IPCCTL pmq recv /q --nowait 2>&1; echo "rc=$?"
      echo @@m; $N $IPCCTL pshm write /m x 2>&1; echo "rc=$?"
      echo @@s; $N $IPCCTL psem post /s 2>&1; echo "rc=$?"
      echo @@rm; $N $IPCCTL pshm rm /m 2>&1; echo "rc=$?"
    `);
    expect(r.code, r.stderr).toBe(0);
    expect(r.sections.q).toMatch(
      /^ipcctl: pmq recv \/q: EACCES, permission denied \(queue \/q belongs to root \(uid 0\), mode 0600; you are uid 65534\)\nrc=5/,
    );
    expect(r.sections.m).toMatch(
      /^ipcctl: pshm write \/m: EACCES, permission denied \(segment \/m belongs to root \(uid 0\), mode 0640; you are uid 65534\)\nrc=5/,
    );
    expect(r.sections.s).toMatch(/^ipcctl: psem post \/s: EACCES.*semaphore \/s belongs to root.*mode 0600/);
    // /dev/shm is sticky: only the owner may unlink.
    expect(r.sections.rm).toMatch(/^ipcctl: pshm rm \/m: EACCES.*\nrc=5/);
  });
});

describe('waits', () => {
  it('--nowait exits 3 and --timeout 124, for pmq recv, pmq send on a full queue and psem wait', () => {
    const q = queue(['--max-msgs', '1']);
    expect(ipcctl(['pmq', 'recv', q, '--nowait']).code).toBe(3);
    const t = ipcctl(['pmq', 'recv', q, '--timeout', '300ms']);
    expect(t.code).toBe(124);
    expect(t.stderr).toBe(`ipcctl: pmq recv ${q}: timed out after 300ms\n`);
    expect(ipcctl(['pmq', 'send', q, 'fills']).code).toBe(0);
    const full = ipcctl(['pmq', 'send', q, '--nowait', 'more']);
    expect(full.code).toBe(3);
    expect(full.stderr).toMatch(/EAGAIN, the queue is full; sent 0 messages/);
    expect(ipcctl(['pmq', 'send', q, '--timeout', '0.3', 'more']).code).toBe(124);
    const s = trackName('psem', uniqueName('s'));
    expect(ipcctl(['psem', 'create', s]).code).toBe(0);
    expect(ipcctl(['psem', 'wait', s, '--nowait']).code).toBe(3);
    const w = ipcctl(['psem', 'wait', s, '--timeout', '400ms']);
    expect(w.code).toBe(124);
    expect(w.stderr).toBe(`ipcctl: psem wait ${s}: timed out after 400ms\n`);
    expect(peer('psem_value', s).stdout.trim()).toBe('0');
  });

  it('a receiver waits in poll: a message sent later wakes it; a queue removed under it ends it with exit 4', async () => {
    const q = queue();
    const a = spawn(IPCCTL, ['pmq', 'recv', q, '--timeout', '20s'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    a.stdout.on('data', (d) => (out += d));
    const aDone = new Promise<number | null>((r) => a.on('close', r));
    await waitUntilIdleWith(a.pid!, 'ffi-rs', /poll/); // opened, and waiting in poll(2) or epoll_wait
    expect(peer('pmq_send', q, `4:${Buffer.from('late').toString('hex')}`).code).toBe(0);
    expect(await aDone).toBe(0);
    expect(out).toBe('late');

    const b = spawn(IPCCTL, ['pmq', 'recv', q, '--timeout', '20s'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    b.stderr.on('data', (d) => (err += d));
    const bDone = new Promise<number | null>((r) => b.on('close', r));
    await waitUntilIdleWith(b.pid!, 'ffi-rs', /poll/); // opened, and waiting in poll(2) or epoll_wait
    expect(ipcctl(['pmq', 'rm', q]).code).toBe(0);
    expect(await bDone).toBe(4);
    expect(err).toBe(`ipcctl: pmq recv ${q}: EIDRM, the queue was removed (unlinked) while waiting\n`);
  });

  it('Ctrl-C while waiting exits 130 and takes nothing (pmq recv, psem wait)', async () => {
    const q = queue();
    const s = trackName('psem', uniqueName('s'));
    expect(ipcctl(['psem', 'create', s]).code).toBe(0);
    for (const args of [
      ['pmq', 'recv', q],
      ['psem', 'wait', s],
    ]) {
      const c = spawn(IPCCTL, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      const done = new Promise<number | null>((r) => c.on('close', r));
      await waitUntilIdleWith(c.pid!, 'ffi-rs', /poll/); // opened, and waiting in poll(2) or epoll_wait
      c.kill('SIGINT');
      expect(await done).toBe(130);
    }
    // Sent and posted after the interrupted waits: still all there.
    expect(ipcctl(['pmq', 'send', q, 'kept']).code).toBe(0);
    expect(ipcctl(['psem', 'post', s]).code).toBe(0);
    expect(curmsgs(q)).toBe(1);
    expect(peer('psem_value', s).stdout.trim()).toBe('1');
  });
});

describe('signals', () => {
  it('SIGTERM (143) and SIGHUP (129) while pmq recv waits end it, taking nothing', async () => {
    const q = queue();
    for (const [signal, code] of [
      ['SIGTERM', 143],
      ['SIGHUP', 129],
    ] as const) {
      const c = spawn(IPCCTL, ['pmq', 'recv', q, '-n', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
      const done = new Promise<number | null>((r) => c.on('close', r));
      await waitUntilIdleWith(c.pid!, 'ffi-rs', /poll/); // opened, and waiting in poll(2) or epoll_wait
      c.kill(signal);
      expect(await done, signal).toBe(code);
    }
    expect(ipcctl(['pmq', 'send', q, 'after']).code).toBe(0);
    expect(curmsgs(q)).toBe(1);
  });

  it('SIGINT, SIGTERM and SIGHUP in the middle of a stream end pmq recv (130, 143, 129), and nothing taken is lost or doubled', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ipcctl-pmq-int-'));
    const children: ChildProcess[] = [];
    const input = join(dir, 'in');
    writeFileSync(input, Array.from({ length: 300_000 }, (_, i) => `${i + 1}\n`).join(''));
    try {
      for (const [signal, code] of [
        ['SIGINT', 130],
        ['SIGTERM', 143],
        ['SIGHUP', 129],
      ] as const) {
        // Small messages (the numbers), so that three queues weigh little against RLIMIT_MSGQUEUE, which parallel tests share.
        const q = queue(['--max-msgs', '10', '--msg-size', '16']);
        const out = join(dir, `out-${signal}`);
        // A sender that outlasts the receiver's first 2000 messages: the receiver is stopped while messages keep coming.
        const [inFd, outFd] = [openSync(input, 'r'), openSync(out, 'w')];
        const sender = spawn(IPCCTL, ['pmq', 'send', q, '--lines'], { stdio: [inFd, 'ignore', 'ignore'] });
        const sent = new Promise<number | null>((r) => sender.on('close', r));
        const receiver = spawn(IPCCTL, ['pmq', 'recv', q, '-n', '300000'], { stdio: ['ignore', outFd, 'ignore'] });
        const received = new Promise<number | null>((r) => receiver.on('close', r));
        children.push(sender, receiver);
        closeSync(inFd);
        closeSync(outFd);
        const lines = () => readFileSync(out, 'latin1').split('\n').length - 1;
        await waitFor('pmq recv to deliver 2000 messages', () => lines() >= 2000, { timeoutMs: 20_000 });
        receiver.kill(signal);
        expect(await received, signal).toBe(code);
        sender.kill('SIGTERM');
        await sent;
        const delivered = readFileSync(out, 'latin1').split('\n').slice(0, -1).map(Number);
        const left = ipcctl(['pmq', 'recv', q, '--all']).stdout.split('\n').slice(0, -1).map(Number);
        // The sender sends in order and stops between records: what reached the queue is 1..M (M = sent), each exactly once.
        const all = [...delivered, ...left].sort((x, y) => x - y);
        expect(all.length, signal).toBeGreaterThanOrEqual(2000);
        expect(all, signal).toEqual(Array.from({ length: all.length }, (_, i) => i + 1));
      }
    } finally {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000); // three rounds of two Node start-ups each, on a loaded machine
});

describe('nothing lost', () => {
  it('a closed stdout puts every message back with its priority: delivered + left = sent', async () => {
    const q = queue();
    expect(ipcctl(['pmq', 'send', q, '-p', '5', '--lines'], { input: 'a\nb\nc\n' }).code).toBe(0);
    expect(ipcctl(['pmq', 'send', q, '-p', '1', 'low']).code).toBe(0);
    for (const args of [
      ['pmq', 'recv', q, '--all'],
      ['--json', 'pmq', 'recv', q, '-n', '3'],
      ['pmq', 'recv', q],
    ]) {
      const r = await runWithClosedStdout(args);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/output closed; put \d+ messages? back on the queue/);
      expect(curmsgs(q)).toBe(4);
    }
    const all = JSON.parse(peer('pmq_recv_all', q).stdout) as Array<[number, string]>;
    expect(all.map(([p, h]) => `${p}:${Buffer.from(h, 'hex').toString()}`).sort()).toEqual(['1:low', '5:a', '5:b', '5:c']);
  });

  it('stdout on /dev/full: exit 1 naming ENOSPC, and every message back', () => {
    const q = queue();
    expect(ipcctl(['pmq', 'send', q, '--lines', '-p', '3'], { input: 'x\ny\n' }).code).toBe(0);
    const r = spawn('bash', ['-c', `${IPCCTL} pmq recv ${q} --all > /dev/full`]);
    return new Promise<void>((resolve) => {
      let err = '';
      r.stderr.on('data', (d) => (err += d));
      r.on('close', (code) => {
        expect(code).toBe(1);
        expect(err).toMatch(/^ipcctl: pmq recv \S+: writing stdout: ENOSPC, no space left on device; put 2 messages back on the queue/);
        expect(err.trim().split('\n')).toHaveLength(1);
        expect(curmsgs(q)).toBe(2);
        resolve();
      });
    });
  });

  it('pshm bulk: 3 MiB from a file and from a pipe arrive byte-exact; a pipe one byte too long changes nothing', () => {
    const m = trackName('pshm', uniqueName('big'));
    expect(ipcctl(['pshm', 'create', m, '--size', '3M']).code).toBe(0);
    const data = Buffer.from(Array.from({ length: 3 << 20 }, (_, i) => (i * 31 + (i >> 12)) & 0xff));
    const dir = mkdtempSync(join(tmpdir(), 'ipcctl-pshm-'));
    try {
      const file = join(dir, 'data');
      writeFileSync(file, data);
      expect(spawnSync('bash', ['-c', `${IPCCTL} pshm write ${m} < ${file}`]).status).toBe(0);
      expect(ipcctl(['pshm', 'read', m]).out.equals(data)).toBe(true);
      const flipped = Buffer.from(data.map((b) => b ^ 0xff));
      writeFileSync(file, flipped);
      expect(spawnSync('bash', ['-c', `cat ${file} | ${IPCCTL} pshm write ${m}`]).status).toBe(0);
      expect(ipcctl(['pshm', 'read', m]).out.equals(flipped)).toBe(true);
      const over = spawnSync('bash', ['-c', `(cat ${file}; printf x) | ${IPCCTL} pshm write ${m}`]);
      expect(over.status).toBe(2);
      expect(over.stderr.toString()).toMatch(/more than 3145728 bytes .* nothing written/);
      expect(ipcctl(['pshm', 'read', m]).out.equals(flipped)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('pshm from a pipe: a refused write restores data and zeros alike; SIGTERM mid-stream leaves the segment as it was (143)', async () => {
    const m = trackName('pshm', uniqueName('stream'));
    expect(ipcctl(['pshm', 'create', m, '--size', '4M']).code).toBe(0);
    // Data in the first and third MiB, zeros (never written) in the second and fourth.
    const data = Buffer.alloc(4 << 20);
    for (let i = 0; i < 1 << 20; i++) {
      data[i] = (i * 7 + 3) & 0xff;
      data[(2 << 20) + i] = (i * 13 + 1) & 0xff;
    }
    const dir = mkdtempSync(join(tmpdir(), 'ipcctl-pshm-'));
    try {
      const file = join(dir, 'data');
      writeFileSync(file, data.subarray(0, 1 << 20));
      expect(spawnSync('bash', ['-c', `cat ${file} | ${IPCCTL} pshm write ${m}`]).status).toBe(0);
      writeFileSync(file, data.subarray(2 << 20, 3 << 20));
      expect(spawnSync('bash', ['-c', `cat ${file} | ${IPCCTL} pshm write ${m} --offset 2M`]).status).toBe(0);
      expect(ipcctl(['pshm', 'read', m]).out.equals(data)).toBe(true);
      // 4 MiB of 0xff and one byte more: every piece written, then every piece put back.
      const over = spawnSync('bash', ['-c', `(head -c 4194305 /dev/zero | tr '\\0' '\\377') | ${IPCCTL} pshm write ${m}`]);
      expect(over.status).toBe(2);
      expect(over.stderr.toString()).toMatch(/^ipcctl: pshm write \S+: more than 4194304 bytes .* nothing written\n$/);
      expect(ipcctl(['pshm', 'read', m]).out.equals(data)).toBe(true);
      // A producer that stalls after 2 MiB: the writer waits in poll, and SIGTERM ends it there.
      const w = spawn('bash', ['-c', `(head -c 2M /dev/zero | tr '\\0' 'z'; sleep 3) | exec ${IPCCTL} pshm write ${m}`]);
      let err = '';
      w.stderr.on('data', (d) => (err += d));
      await new Promise((r) => setTimeout(r, 1500));
      const pids = spawnSync('pgrep', ['-P', String(w.pid)], { encoding: 'utf8' })
        .stdout.trim()
        .split('\n');
      const writer = pids.find((p) => spawnSync('cat', [`/proc/${p}/cmdline`], { encoding: 'utf8' }).stdout.includes('pshm'));
      expect(writer).toBeDefined();
      process.kill(Number(writer), 'SIGTERM');
      const code = await new Promise<number | null>((r) => w.on('close', r));
      expect(err).toBe(`ipcctl: pshm write ${m}: interrupted by SIGTERM; nothing written\n`);
      expect(code).toBe(143);
      expect(ipcctl(['pshm', 'read', m]).out.equals(data)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('pshm: a write past the end is refused whole; a read to /dev/full fails with ENOSPC', () => {
    const m = trackName('pshm', uniqueName('m'));
    expect(ipcctl(['pshm', 'create', m, '--size', '16']).code).toBe(0);
    expect(ipcctl(['pshm', 'write', m, 'sixteen-bytes-ok']).code).toBe(0);
    const r = ipcctl(['pshm', 'write', m, '--offset', '10'], { input: 'seven..' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/more than 6 bytes at offset 10 go past the end of the 16-byte segment \(6 bytes fit\); nothing written/);
    expect(ipcctl(['pshm', 'read', m]).stdout).toBe('sixteen-bytes-ok');
    const full = spawn('bash', ['-c', `${IPCCTL} pshm read ${m} > /dev/full`]);
    return new Promise<void>((resolve) => {
      let err = '';
      full.stderr.on('data', (d) => (err += d));
      full.on('close', (code) => {
        expect(code).toBe(1);
        expect(err).toBe('ipcctl: pshm read: writing stdout: ENOSPC, no space left on device\n');
        resolve();
      });
    });
  });
});

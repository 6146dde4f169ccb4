// Nothing lost (DESIGN.md, issue 11): a message `msgq recv` has taken is
// delivered (written, the write returned) or put back with its type, under
// SIGINT, SIGTERM and SIGHUP at several moments of a large drain, into
// /dev/full, a closed pipe and a reader that exits early; `send --lines`
// reports under a signal exactly what is on the queue. Every message has a
// distinct numbered payload naming its type, so that output + queue can be
// checked for exactly-once and for types. Both native paths run (the C
// helper, and one FFI call per message with IPCCTL_NO_C_HELPER=1).
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { IPCCTL, ipcctl as hostIpcctl, ipcctlAsync, newQueue, PYTHON, run as runHost, type Run, sleep } from './helpers/run.js';
import { waitUntilInMsgrcv } from './helpers/proc.js';

const dir = mkdtempSync(join(tmpdir(), 'ipcctl-faults-'));

// 200,000 messages on one queue need a byte limit far above the default
// msgmnb, which only CAP_SYS_RESOURCE may set. A private IPC namespace has
// its own kernel.msgmnb: one is held open by a sleeping process for this
// file, and every command here enters it (nsenter). Its queues vanish with
// it, whatever happens; each test also removes its own.
let holder: ReturnType<typeof spawn> | null = null;
let nsArgs: string[] = [];
beforeAll(async () => {
  holder = spawn('unshare', ['--ipc', '--', 'sh', '-c', 'echo 16000000 > /proc/sys/kernel/msgmnb && echo ready && exec sleep 900'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    holder!.stdout!.once('data', () => resolve());
    holder!.once('exit', () => reject(new Error('no IPC namespace')));
  });
  nsArgs = ['-t', String(holder.pid), '--ipc', '--'];
});
afterAll(() => {
  holder?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** A shell command inside the namespace. */
function nsShell(cmd: string, env: object = {}, timeout = 60_000): Run {
  return runHost('nsenter', [...nsArgs, 'sh', '-c', cmd], { env: { NO_COLOR: '1', ...env }, timeout });
}
function nsSpawn(cmd: string, env: object = {}) {
  return spawn('nsenter', [...nsArgs, 'sh', '-c', `exec ${cmd}`], { env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}
function ipcctl(args: string[], opts: { env?: object; timeout?: number } = {}): Run {
  return runHost('nsenter', [...nsArgs, IPCCTL, ...args], { env: { NO_COLOR: '1', ...opts.env }, timeout: opts.timeout ?? 60_000 });
}
const mine: number[] = [];
afterEach(() => {
  while (mine.length > 0) ipcctl(['msgq', 'rm', String(mine.pop())]);
});
let nextKey = 0x5100;
/** A queue of the namespace, by a key of its own (nothing else lives there): Python opens queues by key. */
function nsQueue(key = nextKey++): number {
  const r = ipcctl(['msgq', 'create', '-k', String(key), '-x']);
  if (r.code !== 0) throw new Error(r.stderr);
  const id = Number(r.stdout.trim());
  mine.push(id);
  return id;
}

const TYPES = [1, 2, 7];
const EXIT_OF = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;
type Sig = keyof typeof EXIT_OF;

const paths = [
  ['the C helper', {}],
  ['one FFI call per message', { IPCCTL_NO_C_HELPER: '1' }],
] as const;

/** A queue holding `n` messages "t<type>-<i>", types round-robin over TYPES, sent by Python's sysv_ipc. */
function filledQueue(n: number): { id: number; sent: Set<string> } {
  const key = nextKey++;
  const id = nsQueue(key);
  const sent = new Set<string>();
  for (let i = 0; i < n; i++) sent.add(`t${TYPES[i % TYPES.length]}-${i}`);
  const py = `import sysv_ipc\nq = sysv_ipc.MessageQueue(${key})\ntypes = ${JSON.stringify(TYPES)}\nfor i in range(${n}):\n    t = types[i % len(types)]\n    q.send(f"t{t}-{i}", block=False, type=t)\n`;
  const r = runHost('nsenter', [...nsArgs, PYTHON, '-c', py], { timeout: 60_000 });
  expect(r.code, r.stderr).toBe(0);
  return { id, sent };
}

/** Every message left on the queue, as [type, text]. */
function leftOn(id: number): Array<[number, string]> {
  const r = ipcctl(['--json', 'msgq', 'recv', String(id), '--all'], { timeout: 60_000 });
  expect(r.code, r.stderr).toBe(0);
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .map((m) => [m.type, m.text]);
}

function fromJsonLines(text: string): Array<[number, string]> {
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .map((m) => [m.type, m.text]);
}

/** Output + queue = sent: each payload exactly once, each with the type it names. */
function expectExactlyOnce(sent: Set<string>, ...parts: Array<Array<[number, string]>>) {
  // Plain checks per message (expect() 200,000 times costs seconds), one expect for all.
  const seen = new Set<string>();
  const problems: string[] = [];
  for (const part of parts) {
    for (const [type, text] of part) {
      if (seen.has(text)) problems.push(`duplicate ${text}`);
      seen.add(text);
      if (!text.startsWith(`t${type}-`)) problems.push(`${text} came with type ${type}`);
      if (!sent.has(text)) problems.push(`${text} was never sent`);
    }
  }
  for (const t of sent) if (!seen.has(t)) problems.push(`${t} lost`);
  expect(problems.slice(0, 10)).toEqual([]);
  expect(seen.size).toBe(sent.size);
}

async function waitForOutput(file: string, bytes: number) {
  for (let i = 0; i < 400; i++) {
    try {
      if (statSync(file).size >= bytes) return;
    } catch {
      /* not there yet */
    }
    await sleep(5);
  }
}

/** Run `recv ARGS > file` (as JSON lines), signal it after `moment`, and check the books. */
async function drainAndSignal(env: object, sig: Sig, mode: string[], n: number, moment: (file: string, pid: number) => Promise<void>) {
  const { id, sent } = filledQueue(n);
  const file = join(dir, `out-${id}-${sig}`);
  const child = nsSpawn(`${IPCCTL} --json msgq recv ${id} ${mode.join(' ')} > ${file}`, env);
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  await moment(file, child.pid!);
  child.kill(sig);
  const r = await done;
  const got = fromJsonLines(readFileSync(file, 'utf8'));
  const left = leftOn(id);
  expectExactlyOnce(sent, got, left);
  if (r.code === EXIT_OF[sig]) {
    // The report names what happened: the delivered count is what the output holds.
    expect(stderr).toMatch(new RegExp(`^ipcctl: msgq recv ${id}: interrupted by ${sig}; delivered ${got.length}, put back \\d+\\n$`));
  } else {
    // Done before the signal came (exit 0, all delivered), or killed before the transfer began.
    expect(r.code === 0 || r.signal === sig, `exit ${r.code} ${r.signal} ${stderr}`).toBe(true);
  }
  return r.code === EXIT_OF[sig];
}

describe.each(paths)('recv under signals, through %s', (_name, env) => {
  // The 200k drain through the helper; the slow path gets fewer (same code above it).
  const N = 'IPCCTL_NO_C_HELPER' in env ? 30_000 : 200_000;
  const landed: boolean[] = [];
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    it(`${sig} during --all of ${N}: early, mid-drain and late`, async () => {
      for (const [after, extra] of [
        [1, 0],
        [N * 5, 30],
      ] as const) {
        landed.push(
          await drainAndSignal(env, sig, ['--all'], N, async (file) => {
            await waitForOutput(file, after);
            await sleep(extra);
          }),
        );
      }
    }, 120_000);

    it(`${sig} during --count: mid-drain, and while it waits for more than there are`, async () => {
      const n = Math.min(N, 50_000);
      landed.push(
        await drainAndSignal(env, sig, ['--count', String(n)], n, async (file) => {
          await waitForOutput(file, n * 3);
        }),
      );
      // Asks for more than the queue holds: it delivers all, then waits; the signal ends the wait.
      const hit = await drainAndSignal(env, sig, ['--count', String(N + 1000)], 5000, async (file, pid) => {
        await waitForOutput(file, 1);
        if (!('IPCCTL_NO_C_HELPER' in env)) await waitUntilInMsgrcv(pid);
        else await sleep(400);
      });
      expect(hit, 'the signal came while it waited').toBe(true);
    }, 120_000);
  }

  it('the signals above landed during transfers, not only before or after', () => {
    expect(landed.filter(Boolean).length).toBeGreaterThan(0);
  });
});

describe.each(paths)('recv into failing outputs, through %s', (_name, env) => {
  it('/dev/full: exit 1, one line with the counts, every message back with its type', () => {
    for (const mode of [['--all'], ['--count', '5'], []]) {
      const { id, sent } = filledQueue(3000);
      const r = nsShell(`${IPCCTL} msgq recv ${id} ${mode.join(' ')} > /dev/full`, env);
      expect(r.code).toBe(1);
      const taken = mode[0] === '--count' ? 5 : mode.length === 0 ? 1 : 3000;
      expect(r.stderr).toBe(`ipcctl: msgq recv ${id}: writing stdout: ENOSPC, no space left on device; delivered 0, put back ${taken}\n`);
      expectExactlyOnce(sent, leftOn(id));
    }
  });

  it('a closed pipe: exit 0, quietly but for the put-back line; every message back', async () => {
    const { id, sent } = filledQueue(3000);
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = nsSpawn(`${IPCCTL} --json msgq recv ${id} --all`, env);
      child.stdout!.destroy();
      let stderr = '';
      child.stderr!.on('data', (d) => (stderr += d));
      child.on('close', (code) => resolve({ code, stderr }));
    });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`ipcctl: msgq recv ${id}: output closed; put 3000 messages back on the queue (at its tail); delivered 0\n`);
    expectExactlyOnce(sent, leftOn(id));
  });

  it('a reader that exits early (head): what it read + what is back = sent, less at most the pipe it left unread', () => {
    const { id, sent } = filledQueue(50_000);
    const r = runHost('nsenter', [...nsArgs, 'bash', '-c', `${IPCCTL} --json msgq recv ${id} --all | head -n 10; echo "rc=\${PIPESTATUS[0]}" >&2`], {
      env,
      timeout: 60_000,
    });
    const read = fromJsonLines(r.stdout);
    expect(read).toHaveLength(10);
    expect(r.stderr).toMatch(/rc=0\n$/);
    const left = leftOn(id);
    const seen = new Set([...read, ...left].map(([, t]) => t));
    expect(seen.size, 'no duplicates').toBe(read.length + left.length);
    expect([...read, ...left].filter(([type, text]) => !text.startsWith(`t${type}-`))).toEqual([]);
    // Bytes written into the pipe count as delivered: head had them and went away.
    const missing = [...sent].filter((t) => !seen.has(t)).length;
    const pipeBytes = Number(readFileSync('/proc/sys/fs/pipe-max-size', 'utf8'));
    expect(missing * 30).toBeLessThanOrEqual(pipeBytes + 65536);
    if (left.length < sent.size - read.length - missing) expect.fail('messages lost beyond the pipe');
  }, 60_000);
});

describe.each(paths)('send --lines under signals, through %s', (_name, env) => {
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    it(`${sig}: the reported count is what is on the queue (blocked on a full queue, and mid-stream)`, async () => {
      const file = join(dir, `lines-${sig}`);
      writeFileSync(file, Array.from({ length: 200_000 }, (_, i) => `line-${i}`).join('\n') + '\n');
      for (const big of [false, true]) {
        const id = nsQueue();
        if (!big) expect(ipcctl(['msgq', 'set', String(id), '--max-bytes', '16384']).code).toBe(0);
        const child = nsSpawn(`${IPCCTL} msgq send ${id} --lines < ${file}`, env);
        let stderr = '';
        child.stderr!.on('data', (d) => (stderr += d));
        const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
        // Until the queue has messages (then, for the small queue, it is full and waiting).
        for (let i = 0; i < 400; i++) {
          const st = JSON.parse(ipcctl(['--json', 'msgq', 'stat', String(id)]).stdout);
          if (st.qnum > (big ? 1000 : 100)) break;
          await sleep(10);
        }
        if (!big) await sleep(100);
        child.kill(sig);
        const code = await done;
        const qnum = JSON.parse(ipcctl(['--json', 'msgq', 'stat', String(id)]).stdout).qnum;
        if (code === 0) {
          expect(qnum).toBe(200_000); // finished first
          continue;
        }
        expect(code, stderr).toBe(EXIT_OF[sig]);
        const m = new RegExp(`^ipcctl: msgq send ${id}: interrupted by ${sig}; sent (\\d+) messages?\\n$`).exec(stderr);
        expect(m, stderr).not.toBeNull();
        expect(Number(m![1])).toBe(qnum);
        // And they are the first lines, in order.
        const texts = leftOn(id).map(([, t]) => t);
        expect(texts).toEqual(Array.from({ length: qnum }, (_, i) => `line-${i}`));
      }
    }, 60_000);
  }
});

describe.each(paths)('both ends at once through a default-size queue, through %s', (_name, env) => {
  it('every message exactly once and in order, also when the receiver gets SIGINT', async () => {
    const id = newQueue();
    const n = 60_000;
    const lines = Array.from({ length: n }, (_, i) => `m-${i}-${'x'.repeat(i % 40)}`);
    const file = join(dir, `pair-${id}`);
    writeFileSync(file, lines.join('\n') + '\n');
    const reader = ipcctlAsync(['msgq', 'recv', String(id), '--count', String(n)], { env });
    const writer = spawn('sh', ['-c', `exec ${IPCCTL} msgq send ${id} --lines < ${file}`], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    expect(JSON.parse(hostIpcctl(['--json', 'msgq', 'stat', String(id)]).stdout).qbytes).toBe(16384);
    let wErr = '';
    writer.stderr.on('data', (d) => (wErr += d));
    const wDone = new Promise<number | null>((resolve) => writer.on('close', (code) => resolve(code)));
    // Mid-stream: once both run and messages flow.
    let flowing = 0;
    reader.child.stdout.on('data', (d: Buffer) => (flowing += d.length));
    for (let i = 0; i < 1000 && flowing < 100_000; i++) await sleep(5);
    reader.child.kill('SIGINT');
    const r = await reader.done;
    // The writer now blocks on the full queue: stop it too; it says how many it sent.
    await sleep(100);
    writer.kill('SIGTERM');
    const wCode = await wDone;
    const sentCount = wCode === 0 ? n : Number(/sent (\d+) message/.exec(wErr)?.[1] ?? NaN);
    if (wCode !== 0) expect(wCode, wErr).toBe(143);
    const received = r.stdout.split('\n').slice(0, -1);
    if (r.code === 130) expect(r.stderr).toMatch(new RegExp(`interrupted by SIGINT; delivered ${received.length}, put back 0\\n$`));
    else expect(r.code, r.stderr).toBe(0);
    const rest = hostIpcctl(['--json', 'msgq', 'recv', String(id), '--all']);
    const left = fromJsonLines(rest.stdout).map(([, t]) => t);
    expect(received.length + left.length).toBe(sentCount);
    expect([...received, ...left]).toEqual(lines.slice(0, sentCount));
  }, 90_000);
});

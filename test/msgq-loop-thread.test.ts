// Where a waiting message stream runs its loop (src/native/c/msg_batch.c,
// "The stream's own thread"): every waiting call of one stream runs on the
// same thread, one of the stream's own, not on whichever libuv pool thread
// is free (the scheduler would then often put the loops of both ends on one
// CPU). That thread blocks the signals Node handles (SIGINT, SIGTERM), not
// SIGURG (which ends its wait), and is gone once the stream has ended. Each
// end is fed or drained by a Perl peer in small steps, so that the stream
// makes many waiting calls; the threads blocked in msgrcv/msgsnd are seen
// in /proc/PID/task/TID/syscall meanwhile.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { batchInBackground, IPCCTL, ipcctl, newQueue, ROOT } from './helpers/run.js';

/** read, write, msgsnd and msgrcv system call numbers, as /proc/PID/task/TID/syscall shows them. */
const CALLS: Record<string, { read: number; write: number; msgsnd: number; msgrcv: number }> = {
  x64: { read: 0, write: 1, msgsnd: 69, msgrcv: 70 },
  arm64: { read: 63, write: 64, msgsnd: 189, msgrcv: 188 },
};
const calls = CALLS[process.arch];
const hasHelper = existsSync(`${ROOT}dist/native/libipcctl-batch.so`);

function tids(pid: number): string[] {
  try {
    return readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
}

/** Threads of `pid` blocked in system call `nr` now, with their blocked-signal masks. */
function blockedIn(pid: number, nr: number): Map<string, bigint> {
  const found = new Map<string, bigint>();
  for (const tid of tids(pid)) {
    try {
      const call = readFileSync(`/proc/${pid}/task/${tid}/syscall`, 'utf8').split(' ')[0];
      if (Number(call) !== nr) continue;
      const mask = /^SigBlk:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'))?.[1];
      found.set(tid, BigInt(`0x${mask ?? '0'}`));
    } catch {
      /* the thread ended meanwhile */
    }
  }
  return found;
}

const bit = (sig: number) => 1n << BigInt(sig - 1);
const SIGINT = 2;
const SIGTERM = 15;
const SIGURG = 23;

/** Sample `pid` every millisecond until `done` settles; every thread seen blocked in `nr`. */
async function watch(pid: number, nr: number, done: Promise<unknown>): Promise<Map<string, bigint>> {
  const seen = new Map<string, bigint>();
  let over = false;
  void done.finally(() => (over = true));
  while (!over) {
    for (const [tid, mask] of blockedIn(pid, nr)) seen.set(tid, mask);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  return seen;
}

function perl(script: string, args: string[]) {
  const child = spawn('perl', ['-e', `use IPC::SysV; ${script}`, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  return new Promise<{ code: number | null; out: string; err: string }>((resolve) => child.on('close', (code) => resolve({ code, out, err })));
}

describe.skipIf(!calls || !hasHelper || process.env.IPCCTL_NO_C_HELPER === '1')('the loop thread of a waiting stream (C helper)', () => {
  it(
    'recv --count: one thread of its own waits in msgrcv for every call, blocks SIGINT/SIGTERM but not SIGURG, and is gone after',
    { timeout: 60_000 },
    async () => {
      const id = newQueue();
      const n = 60;
      const { child: batch, firstReply: replied, exited } = batchInBackground();
      try {
        batch.stdin.write(`msgq recv ${id} --count ${n} --timeout 50s\n`);
        // One message every 15 ms: the receiver waits for each, and hands on what it holds
        // after 20 ms, so the stream makes many waiting calls.
        const fed = perl(
          'my ($id, $n) = @ARGV; for my $i (1 .. $n) { msgsnd($id, pack("l! a*", 1, "m$i"), 0) or die "$!"; select(undef, undef, undef, 0.015) }',
          [String(id), String(n)],
        );
        const seen = await watch(batch.pid!, calls!.msgrcv, replied);
        expect((await fed).code).toBe(0);
        const [code, out] = (await replied).trimEnd().split('|');
        expect(code).toBe('0');
        expect(out!.split('\\n').slice(0, -1)).toEqual(Array.from({ length: n }, (_, i) => `m${i + 1}`));
        // The main thread only ever tries IPC_NOWAIT: every thread seen waiting is a loop's.
        expect([...seen.keys()]).toHaveLength(1);
        const [tid, mask] = [...seen][0]!;
        expect(mask & bit(SIGINT)).toBe(bit(SIGINT));
        expect(mask & bit(SIGTERM)).toBe(bit(SIGTERM));
        expect(mask & bit(SIGURG)).toBe(0n);
        // The reply comes after the stream has ended its thread.
        expect(tids(batch.pid!)).not.toContain(tid);
      } finally {
        batch.stdin.end();
        expect(await exited).toBe(0);
      }
    },
  );

  it('send --lines: one thread of its own waits in msgsnd for every call; every line arrives once, in order', { timeout: 60_000 }, async () => {
    const id = newQueue();
    expect(ipcctl(['msgq', 'set', String(id), '--max-bytes', '1024']).code).toBe(0);
    const chunks = 15;
    const per = 20;
    const lines = Array.from({ length: chunks * per }, (_, i) => `${i} ${'z'.repeat(96)}`);
    const sender = spawn(IPCCTL, ['msgq', 'send', String(id), '--lines', '--timeout', '50s'], { stdio: ['pipe', 'ignore', 'pipe'] });
    const sent = new Promise<number | null>((resolve) => sender.on('exit', resolve));
    // The queue holds ten lines; the reader takes one every 3 ms.
    const drained = perl(
      'my ($id, $n) = @ARGV; my $b; for (1 .. $n) { msgrcv($id, $b, 65536, 0, 0) or die "$!"; print substr($b, 8), "\\n"; select(undef, undef, undef, 0.003) }',
      [String(id), String(lines.length)],
    );
    const seen = watch(sender.pid!, calls!.msgsnd, sent);
    // Twenty lines at a time, each a read of its own and so a batch (and a waiting call) of its own.
    for (let c = 0; c < chunks; c++) {
      sender.stdin.write(lines.slice(c * per, (c + 1) * per).join('\n') + '\n');
      await new Promise((resolve) => setTimeout(resolve, 40));
    }
    sender.stdin.end();
    expect(await sent).toBe(0);
    const got = await drained;
    expect(got.code).toBe(0);
    expect(got.out.split('\n').slice(0, -1)).toEqual(lines);
    const threads = await seen;
    expect([...threads.keys()]).toHaveLength(1);
    const mask = [...threads.values()][0]!;
    expect(mask & bit(SIGINT)).toBe(bit(SIGINT));
    expect(mask & bit(SIGURG)).toBe(0n);
  });
});

const EXIT_OF = { SIGINT: 130, SIGTERM: 143 } as const;

describe.each([
  ['the C helper', {}],
  ['one FFI call per message', { IPCCTL_NO_C_HELPER: '1' }],
] as const)('send --lines waiting for input (an idle pipe), through %s', (name, env) => {
  const native = name === 'the C helper' && hasHelper && calls !== undefined && process.env.IPCCTL_NO_C_HELPER !== '1';
  for (const end of ['SIGINT', 'SIGTERM', '--timeout'] as const) {
    it(
      `${end} ends it with the lines sent so far on the queue${native ? '; the wait is a read(2) on the stream thread' : ''}`,
      { timeout: 30_000 },
      async () => {
        const id = newQueue();
        const args = ['msgq', 'send', String(id), '--lines', ...(end === '--timeout' ? ['--timeout', '1500ms'] : [])];
        const sender = spawn(IPCCTL, args, { env: { ...process.env, ...env }, stdio: ['pipe', 'ignore', 'pipe'] });
        let stderr = '';
        sender.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
        const exited = new Promise<number | null>((resolve) => sender.on('exit', resolve));
        // Two lines and a partial third, then nothing (the pipe stays open).
        sender.stdin.write('one\ntwo\nthr');
        const onQueue = () => JSON.parse(ipcctl(['--json', 'msgq', 'stat', String(id)]).stdout).qnum as number;
        for (let i = 0; i < 500 && onQueue() < 2; i++) await new Promise((resolve) => setTimeout(resolve, 10));
        expect(onQueue()).toBe(2);
        if (native) {
          // Blocked reading stdin (fd 0), on a thread that is not the main one.
          let readers = new Map<string, bigint>();
          for (let i = 0; i < 500 && readers.size === 0; i++) {
            readers = blockedIn(sender.pid!, calls!.read);
            for (const tid of readers.keys()) {
              const args = readFileSync(`/proc/${sender.pid}/task/${tid}/syscall`, 'utf8').split(' ');
              if (tid === String(sender.pid) || Number(args[1]) !== 0) readers.delete(tid);
            }
            if (readers.size === 0) await new Promise((resolve) => setTimeout(resolve, 5));
          }
          expect(readers.size).toBe(1);
        }
        if (end !== '--timeout') sender.kill(end);
        const code = await exited;
        sender.stdin.destroy();
        expect(code, stderr).toBe(end === '--timeout' ? 124 : EXIT_OF[end]);
        const what = end === '--timeout' ? 'timed out after 1500ms' : `interrupted by ${end}`;
        expect(stderr).toBe(`ipcctl: msgq send ${id}: ${what}; sent 2 messages\n`);
        const left = ipcctl(['msgq', 'recv', String(id), '--all']);
        expect(left.stdout).toBe('one\ntwo\n');
      },
    );
  }
});

/** Threads of `pid` but its main one blocked in system call `nr` on descriptor `fd`, waiting up to 5 s for one. */
async function otherThreadBlockedIn(pid: number, nr: number, fd: number): Promise<string[]> {
  for (let i = 0; i < 1000; i++) {
    const found = [...blockedIn(pid, nr).keys()].filter((tid) => {
      if (tid === String(pid)) return false;
      try {
        return Number(readFileSync(`/proc/${pid}/task/${tid}/syscall`, 'utf8').split(' ')[1]) === fd;
      } catch {
        return false;
      }
    });
    if (found.length > 0) return found;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return [];
}

describe.each([
  ['the C helper', {}],
  ['one FFI call per message', { IPCCTL_NO_C_HELPER: '1' }],
] as const)('recv --count into a pipe nobody reads yet, through %s', (name, env) => {
  const native = name === 'the C helper' && hasHelper && calls !== undefined && process.env.IPCCTL_NO_C_HELPER !== '1';
  it(
    `SIGINT while the write waits: once the reader reads, exit 130; what it read + what is on the queue = sent, in order${native ? '; the write is on the stream thread' : ''}`,
    { timeout: 30_000 },
    async () => {
      const id = newQueue();
      const n = 3000;
      const lines = Array.from({ length: n }, (_, i) => `${i} ${'w'.repeat(200)}`);
      // A Perl sender keeps the (16 KiB) queue full; the pipe (64 KiB) holds a few hundred lines.
      const feeder = spawn(
        'perl',
        ['-e', 'use IPC::SysV; my $id = shift; while (my $l = <STDIN>) { chomp $l; msgsnd($id, pack("l! a*", 1, $l), 0) or die "$!" }', String(id)],
        {
          stdio: ['pipe', 'ignore', 'ignore'],
        },
      );
      feeder.stdin.on('error', () => {}); // (it is killed before it has read all)
      feeder.stdin.end(lines.join('\n') + '\n');
      const reader = spawn(IPCCTL, ['msgq', 'recv', String(id), '--count', String(n)], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      try {
        let stderr = '';
        reader.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
        const exited = new Promise<number | null>((resolve) => reader.on('exit', resolve));
        reader.stdout.pause();
        if (native) expect(await otherThreadBlockedIn(reader.pid!, calls!.write, 1)).toHaveLength(1);
        else await new Promise((resolve) => setTimeout(resolve, 1000));
        reader.kill('SIGINT');
        const out: Buffer[] = [];
        const closed = new Promise((resolve) => reader.stdout.on('close', resolve));
        reader.stdout.on('data', (d: Buffer) => out.push(d));
        reader.stdout.resume();
        const code = await exited;
        await closed;
        expect(code, stderr).toBe(130);
        const read = Buffer.concat(out).toString().split('\n').slice(0, -1);
        const m = /^ipcctl: msgq recv \d+: interrupted by SIGINT; delivered (\d+), put back 0\n$/.exec(stderr);
        expect(m, stderr).not.toBeNull();
        expect(Number(m![1])).toBe(read.length);
        expect(read.length).toBeGreaterThan(0);
        feeder.kill('SIGKILL');
        const left = ipcctl(['msgq', 'recv', String(id), '--all'])
          .stdout.split('\n')
          .slice(0, -1);
        // Every line once, in order: what was read, then what the queue holds.
        expect([...read, ...left]).toEqual(lines.slice(0, read.length + left.length));
      } finally {
        feeder.kill('SIGKILL');
        reader.kill('SIGKILL');
      }
    },
  );

  it('a closed pipe: exit 0; the messages taken are back on the queue, in order, with the put-back line', async () => {
    const id = newQueue();
    const n = 60;
    const lines = Array.from({ length: n }, (_, i) => `${i} ${'c'.repeat(200)}`);
    expect(ipcctl(['msgq', 'send', String(id), '--lines'], { input: lines.join('\n') + '\n' }).code).toBe(0);
    const reader = spawn(IPCCTL, ['msgq', 'recv', String(id), '--count', String(n)], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    reader.stdout.destroy();
    let stderr = '';
    reader.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => reader.on('exit', resolve));
    expect(code, stderr).toBe(0);
    expect(stderr).toBe(`ipcctl: msgq recv ${id}: output closed; put ${n} messages back on the queue (at its tail); delivered 0\n`);
    expect(
      ipcctl(['msgq', 'recv', String(id), '--all'])
        .stdout.split('\n')
        .slice(0, -1),
    ).toEqual(lines);
  });
});

describe.each([
  ['the C helper', {}],
  ['one FFI call per message', { IPCCTL_NO_C_HELPER: '1' }],
] as const)('recv --count with messages coming one by one, through %s', (_name, env) => {
  it('each message reaches stdout while the command waits for the next (it is not held until the count is reached)', { timeout: 60_000 }, async () => {
    const id = newQueue();
    const reader = spawn(IPCCTL, ['msgq', 'recv', String(id), '--count', '3', '--timeout', '50s'], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    reader.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    const exited = new Promise<number | null>((resolve) => reader.on('exit', resolve));
    try {
      for (const [i, want] of ['m1\n', 'm1\nm2\n', 'm1\nm2\nm3\n'].entries()) {
        expect(ipcctl(['msgq', 'send', String(id), `m${i + 1}`]).code).toBe(0);
        for (let k = 0; k < 1000 && out !== want; k++) await new Promise((resolve) => setTimeout(resolve, 10));
        expect(out).toBe(want);
      }
      expect(await exited).toBe(0);
    } finally {
      reader.kill('SIGKILL');
    }
  });
});

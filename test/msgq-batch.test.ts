// Many messages per native call: `send --lines` and `recv --all/--count` go
// through the C helper (src/native/c/msg_batch.c) when it was built, and
// through one FFI call per message without it (IPCCTL_NO_C_HELPER=1). Both
// paths must give the same results, through a queue small enough that both
// sides meet a full or empty queue many times.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IPCCTL, ipcctl, ipcctlAsync, newQueue, run, runWithClosedStdout } from './helpers/run.js';
import { waitUntilIdleWith, waitUntilInMsgrcv } from './helpers/proc.js';

const paths = [
  ['the C helper', {}],
  ['one FFI call per message', { IPCCTL_NO_C_HELPER: '1' }],
] as const;

describe('which path runs', () => {
  it('the built helper is loaded (and waits in msgrcv), and IPCCTL_NO_C_HELPER=1 keeps it out (and polls)', async () => {
    for (const [env, loaded] of [
      [{}, true],
      [{ IPCCTL_NO_C_HELPER: '1' }, false],
    ] as const) {
      const id = newQueue();
      const reader = ipcctlAsync(['msgq', 'recv', String(id), '--count', '1'], { env });
      // Once it waits its libraries are loaded: its mappings tell which. With
      // the helper it waits inside msgrcv; without, it polls (no thread could be ended).
      if (loaded) await waitUntilInMsgrcv(reader.child.pid!);
      else await waitUntilIdleWith(reader.child.pid!, 'ffi-rs');
      const maps = readFileSync(`/proc/${reader.child.pid}/maps`, 'utf8');
      expect(ipcctl(['msgq', 'send', String(id), 'go']).code).toBe(0);
      expect((await reader.done).stdout).toBe('go\n');
      expect(maps.includes('libipcctl-batch.so')).toBe(loaded);
    }
  });
});

describe.each(paths)('through %s', (_name, env) => {
  it('20,000 lines cross a 16 KiB queue exactly, in order, sender and receiver at once', async () => {
    const id = newQueue();
    const lines = Array.from({ length: 20_000 }, (_, i) => `line ${i} ${'x'.repeat(i % 50)}`);
    const input = lines.join('\n') + '\n';
    const reader = ipcctlAsync(['msgq', 'recv', String(id), '--count', String(lines.length), '--timeout', '60s'], { env });
    const writer = ipcctlAsync(['msgq', 'send', String(id), '--lines', '--timeout', '60s'], { input, env });
    const [w, r] = await Promise.all([writer.done, reader.done]);
    expect(w.code, w.stderr).toBe(0);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(input);
  }, 90_000);

  it('--count takes exactly that many from a full batch; the rest stay, in order', () => {
    const id = newQueue();
    const input = Array.from({ length: 900 }, (_, i) => String(i)).join('\n');
    expect(ipcctl(['msgq', 'send', String(id), '--lines', '--nowait'], { input, env }).code).toBe(0);
    const first = ipcctl(['msgq', 'recv', String(id), '--count', '700'], { env });
    expect(first.stdout.trim().split('\n')).toEqual(input.split('\n').slice(0, 700));
    const rest = ipcctl(['--json', 'msgq', 'recv', String(id), '--all'], { env });
    expect(
      rest.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).text),
    ).toEqual(input.split('\n').slice(700));
  });

  it('--type, -N and --except select within a batch, keeping the types', () => {
    const id = newQueue();
    for (const t of [1, 2, 3]) {
      const input = Array.from({ length: 50 }, (_, i) => `t${t}-${i}`).join('\n');
      expect(ipcctl(['msgq', 'send', String(id), '--lines', '-t', String(t)], { input, env }).code).toBe(0);
    }
    // Each receive is checked to have ended by itself (code 0), not by the
    // spawn's time bound after printing everything.
    const two = ipcctl(['--json', 'msgq', 'recv', String(id), '--all', '-t', '2'], { env });
    expect([two.code, two.signal, two.stderr]).toEqual([0, null, '']);
    const got2 = two.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(got2).toHaveLength(50);
    expect(got2.every((m) => m.type === 2 && m.text.startsWith('t2-'))).toBe(true);
    const notThree = ipcctl(['--json', 'msgq', 'recv', String(id), '--all', '-t', '3', '--except'], { env });
    expect([notThree.code, notThree.signal, notThree.stderr]).toEqual([0, null, '']);
    expect(
      notThree.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).text),
    ).toEqual(Array.from({ length: 50 }, (_, i) => `t1-${i}`));
    const upTo3 = ipcctl(['msgq', 'recv', String(id), '--all', '-t', '-3', '--null'], { env });
    expect([upTo3.code, upTo3.signal, upTo3.stderr]).toEqual([0, null, '']);
    expect(upTo3.stdout.split('\0').slice(0, -1)).toEqual(Array.from({ length: 50 }, (_, i) => `t3-${i}`));
  });

  it('a too-large line stops send --lines after the ones before it, and says how many', () => {
    const id = newQueue();
    expect(ipcctl(['msgq', 'set', String(id), '--max-bytes', '4096']).code).toBe(0);
    const input = ['a', 'b', 'x'.repeat(5000), 'c'].join('\n');
    const r = ipcctl(['msgq', 'send', String(id), '--lines'], { input, env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/above the queue's limit of 4096 bytes.*after sending 2 messages/);
    expect(ipcctl(['msgq', 'recv', String(id), '--all'], { env }).stdout).toBe('a\nb\n');
    // A line longer than any message: reading stops one byte past the limit
    // (the rest of stdin is never read), the lines before it went.
    expect(ipcctl(['msgq', 'set', String(id), '--max-bytes', '16384']).code).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), 'ipcctl-lines-'));
    try {
      writeFileSync(join(dir, 'in'), ['d', 'y'.repeat(3 << 20), 'e'].join('\n'));
      const h = run('sh', ['-c', `${IPCCTL} msgq send ${id} --lines < ${dir}/in`], { env });
      expect(h.code).toBe(1);
      expect(h.stderr).toMatch(
        /^ipcctl: msgq send \d+: a record of more than 8192 bytes is above the system limit msgmax=8192; stopped reading there \(after sending 1 message\)\n$/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(ipcctl(['msgq', 'recv', String(id), '--all'], { env }).stdout).toBe('d\n');
  });

  it('JSON of a batch: binary payloads as base64, byte-exact', () => {
    const id = newQueue();
    const input = Buffer.from([0xff, 0xfe, 0x0a, 0x41, 0x42, 0x0a, 0x80, 0x81]);
    expect(ipcctl(['msgq', 'send', String(id), '--lines'], { input, env }).code).toBe(0);
    const r = ipcctl(['--json', 'msgq', 'recv', String(id), '--all'], { env });
    expect(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual([
      { type: 1, size: 2, base64: '//4=' },
      { type: 1, size: 2, text: 'AB' },
      { type: 1, size: 2, base64: 'gIE=' },
    ]);
  });

  it('a closed stdout puts every taken message back, in order, as text and as JSON', async () => {
    const id = newQueue();
    const input = Array.from({ length: 300 }, (_, i) => `m${i}`).join('\n');
    expect(ipcctl(['msgq', 'send', String(id), '--lines', '-t', '7'], { input, env }).code).toBe(0);
    for (const json of [[], ['--json']]) {
      const r = await runWithClosedStdout([...json, 'msgq', 'recv', String(id), '--all'], env);
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/put 300 messages back on the queue/);
    }
    const back = ipcctl(['--json', 'msgq', 'recv', String(id), '--all'], { env })
      .stdout.trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(back.map((m) => [m.type, m.text])).toEqual(input.split('\n').map((t) => [7, t]));
  });
});

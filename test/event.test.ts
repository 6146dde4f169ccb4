// ipcctl event against the real kernel: manual events wake every waiter,
// auto events exactly one, pulse only who waits, timeouts; the waits are
// observed through the kernel's semncnt, and Perl/Python peers see and use
// the documented semaphore values (0/1 auto reset/set, 2/3 manual).
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { ipcctl, ipcctlAsync, PYTHON, run, track, uniqueKey } from './helpers/run.js';
import { waitFor } from './helpers/wait.js';

function newEvents(extra: string[] = []): number {
  const r = ipcctl(['event', 'create', ...extra]);
  if (r.code !== 0) throw new Error(`event create failed: ${r.stderr}`);
  return track('s', Number(r.stdout.trim()));
}

function value(id: number, num = 0): number {
  return Number(ipcctl(['sem', 'ctl', String(id), 'getval', String(num)]).stdout.trim());
}

function ncnt(id: number, num = 0): number {
  return Number(ipcctl(['sem', 'ctl', String(id), 'getncnt', String(num)]).stdout.trim());
}

/** Until the kernel counts `want` processes waiting on event `num` (bounded). */
async function waiting(id: number, want: number, num = 0): Promise<void> {
  await waitFor(`semncnt of ${id}:${num} to become ${want}`, () => ncnt(id, num) === want, { detail: () => `it is ${ncnt(id, num)}` });
}

describe('event', () => {
  it('manual: set wakes every waiter and stays set; later waits pass until reset', async () => {
    const id = newEvents();
    expect(value(id)).toBe(2);
    const waiters = [1, 2, 3].map(() => ipcctlAsync(['event', 'wait', String(id), '--timeout', '30s']));
    await waiting(id, 3);
    expect(ipcctl(['event', 'set', String(id)]).code).toBe(0);
    const results = await Promise.all(waiters.map((w) => w.done));
    expect(results.map((r) => r.code)).toEqual([0, 0, 0]);
    expect(value(id)).toBe(3);
    expect(ipcctl(['event', 'wait', String(id), '--timeout', '0']).code).toBe(0);
    expect(ipcctl(['event', 'wait', String(id)]).code).toBe(0);
    expect(ipcctl(['event', 'reset', String(id)]).code).toBe(0);
    expect(value(id)).toBe(2);
    const t = ipcctl(['event', 'wait', String(id), '--timeout', '0']);
    expect(t.code).toBe(3);
    expect(t.stderr).toMatch(/^ipcctl: event wait [0-9]+:0: not set/);
  });

  it('auto: set wakes exactly one waiter, which resets it', async () => {
    const id = newEvents(['--auto']);
    expect(value(id)).toBe(0);
    const waiters = [1, 2, 3].map(() => ipcctlAsync(['event', 'wait', `${id}:0`, '--timeout', '30s']));
    await waiting(id, 3);
    expect(ipcctl(['event', 'set', String(id)]).code).toBe(0);
    const first = await Promise.race(waiters.map((w) => w.done));
    expect(first.code).toBe(0);
    // The other two are still blocked in the kernel, and the event is reset again.
    expect(ncnt(id)).toBe(2);
    expect(value(id)).toBe(0);
    // Two more sets release the other two, one each.
    ipcctl(['event', 'set', String(id)]);
    await waiting(id, 1);
    ipcctl(['event', 'set', String(id)]);
    expect((await Promise.all(waiters.map((w) => w.done))).map((r) => r.code)).toEqual([0, 0, 0]);
    expect(value(id)).toBe(0);
    // Set with nobody waiting stays set for the next waiter, and only one.
    ipcctl(['event', 'set', String(id)]);
    ipcctl(['event', 'set', String(id)]);
    expect(value(id)).toBe(1);
    expect(ipcctl(['event', 'wait', String(id), '--timeout', '0']).code).toBe(0);
    expect(ipcctl(['event', 'wait', String(id), '--timeout', '0']).code).toBe(3);
  });

  it('pulse wakes who waits now and leaves the event reset', async () => {
    const id = newEvents(['--count', '2']);
    const r = ipcctl(['sem', 'ctl', String(id), 'setval', '1', '0']); // event 1 becomes auto, reset
    expect(r.code).toBe(0);
    const manual = [1, 2].map(() => ipcctlAsync(['event', 'wait', `${id}:0`, '--timeout', '30s']));
    await waiting(id, 2, 0);
    expect(ipcctl(['event', 'pulse', `${id}:0`]).code).toBe(0);
    expect((await Promise.all(manual.map((w) => w.done))).map((x) => x.code)).toEqual([0, 0]);
    expect(value(id, 0)).toBe(2);
    // Auto with nobody waiting: nothing to wake, stays reset.
    expect(ipcctl(['event', 'pulse', `${id}:1`]).code).toBe(0);
    expect(value(id, 1)).toBe(0);
    const st = JSON.parse(ipcctl(['--json', 'event', 'stat', String(id)]).stdout);
    expect(st.events).toEqual([
      { num: 0, kind: 'manual', state: 'reset', waiting: 0 },
      { num: 1, kind: 'auto', state: 'reset', waiting: 0 },
    ]);
  });

  it('wait --timeout exits 124; stat shows how many wait; by key with --slot', async () => {
    const key = uniqueKey();
    const id = newEvents(['-k', key, '--count', '3']);
    const t = ipcctl(['event', 'wait', '-k', key, '--slot', '2', '--timeout', '300ms']);
    expect(t.code).toBe(124);
    expect(t.stderr).toMatch(/^ipcctl: event wait [0-9]+:2: timed out after 300ms/);
    const w = ipcctlAsync(['event', 'wait', '-k', key, '--slot', '2', '--timeout', '30s']);
    await waiting(id, 1, 2);
    const st = JSON.parse(ipcctl(['--json', 'event', 'stat', `${id}:2`]).stdout);
    expect(st.events).toEqual([{ num: 2, kind: 'manual', state: 'reset', waiting: 1 }]);
    expect(ipcctl(['event', 'set', '-k', key, '--slot', '2']).code).toBe(0);
    expect((await w.done).code).toBe(0);
    expect(value(id, 1)).toBe(2);
    expect(ipcctl(['event', 'rm', String(id)]).code).toBe(0);
    expect(ipcctl(['event', 'stat', String(id)]).code).toBe(4);
  });

  it('interop: Python sysv_ipc sees the documented values; Perl semops wait on and set events alongside ipcctl', async () => {
    const mkey = uniqueKey();
    const akey = uniqueKey();
    const manual = newEvents(['-k', mkey]);
    const auto = newEvents(['-k', akey, '--auto']);
    const pyValue = (key: string) => {
      const r = run(PYTHON, ['-c', `import sysv_ipc; print(sysv_ipc.Semaphore(${Number(key)}).value)`]);
      expect(r.code, r.stderr).toBe(0);
      return Number(r.stdout.trim());
    };
    expect(pyValue(mkey)).toBe(2);
    expect(pyValue(akey)).toBe(0);

    // A Perl waiter on the manual event with the documented wait {-3, +3}.
    const perl = (code: string) => {
      const { spawn } = createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process');
      const child = spawn('perl', ['-MIPC::SysV=IPC_NOWAIT', '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      return new Promise<{ code: number | null; out: string }>((resolve) => child.on('close', (c) => resolve({ code: c, out })));
    };
    const perlWaiter = perl(`semop(${manual}, pack("s!3s!3", 0, -3, 0, 0, 3, 0)) or die "semop: $!"; print "passed\\n"`);
    await waiting(manual, 1);
    expect(ipcctl(['event', 'set', '-k', mkey]).code).toBe(0);
    expect(await perlWaiter).toEqual({ code: 0, out: 'passed\n' });
    expect(pyValue(mkey)).toBe(3);

    // An ipcctl waiter on the auto event, set by Perl with the documented {0, +1} (IPC_NOWAIT).
    const w = ipcctlAsync(['event', 'wait', '-k', akey, '--timeout', '30s']);
    await waiting(auto, 1);
    const set = await perl(`semop(${auto}, pack("s!3s!3", 0, 0, IPC_NOWAIT, 0, 1, IPC_NOWAIT)) or die "semop: $!"; print "set\\n"`);
    expect(set).toEqual({ code: 0, out: 'set\n' });
    expect((await w.done).code).toBe(0);
    expect(pyValue(akey)).toBe(0);
    // Python's release (+1) on the reset auto event is a set, as documented.
    expect(run(PYTHON, ['-c', `import sysv_ipc; sysv_ipc.Semaphore(${Number(akey)}).release()`]).code).toBe(0);
    expect(ipcctl(['event', 'wait', '-k', akey, '--timeout', '0']).code).toBe(0);
    expect(pyValue(akey)).toBe(0);
  });

  it('bad input: one line, right code', () => {
    const id = newEvents();
    for (const [args, code] of [
      [['event', 'wait', `${id}:x`], 2],
      [['event', 'wait', `${id}:5`, '--timeout', '0'], 2],
      [['event', 'set', '2147483646'], 4],
      [['event', 'create', '--auto', '--manual'], 2],
      [['event', 'rm', `${id}:0`], 2],
      [['event', 'wait', String(id), '--timeout', 'soon'], 2],
    ] as Array<[string[], number]>) {
      const r = ipcctl(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(code);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^ipcctl: /);
    }
    // Not an event: a semaphore value above 3.
    ipcctl(['sem', 'ctl', String(id), 'setval', '0', '9']);
    const r = ipcctl(['event', 'set', String(id)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no event state/);
  });
});

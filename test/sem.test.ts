// ipcctl sem against the real kernel: ops apply all together or not at all,
// blocked ops show in the kernel's wait counts and complete when released,
// SEM_UNDO is undone at exit, and a set is initialised exactly once.
import { describe, expect, it } from 'vitest';
import { badInputCases, ipcctl, ipcctlAsync, newSet, run, track, uniqueKey } from './helpers/run.js';
import { waitFor } from './helpers/wait.js';
import { waitUntilIdleWith } from './helpers/proc.js';

function values(id: number): number[] {
  const r = ipcctl(['sem', 'ctl', String(id), 'getall']);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim().split(' ').map(Number);
}

function ctl(id: number, ...words: string[]): number {
  const r = ipcctl(['sem', 'ctl', String(id), ...words]);
  expect(r.code, r.stderr).toBe(0);
  return Number(r.stdout.trim());
}

/** Poll (bounded) until a ctl query answers `want`: a spawned op blocks some time after spawn. */
async function becomes(id: number, query: string, num: number, want: number): Promise<void> {
  await waitFor(`${query} ${num} of set ${id} to become ${want}`, () => ctl(id, query, String(num)) === want);
}

/** ipcs -s -i ID: the header fields and the per-semaphore table. */
function ipcsSem(id: number) {
  const r = run('ipcs', ['-s', '-i', String(id)]);
  expect(r.code, r.stderr).toBe(0);
  const fields: Record<string, string> = {};
  const rows: number[][] = [];
  for (const line of r.stdout.split('\n')) {
    const row = line.trim().split(/\s+/);
    if (row.length === 5 && row.every((c) => /^[0-9]+$/.test(c))) {
      rows.push(row.map(Number));
      continue;
    }
    for (const m of line.matchAll(/(\w+)\s*=\s*([^\t,]+?)\s*(?:,|\t|$)/g)) fields[m[1]!] = m[2]!.trim();
  }
  const time = (s: string | undefined) => (s === undefined || s === 'Not set' ? null : Date.parse(s) / 1000);
  return {
    uid: Number(fields.uid),
    gid: Number(fields.gid),
    cuid: Number(fields.cuid),
    cgid: Number(fields.cgid),
    mode: fields.mode,
    nsems: Number(fields.nsems),
    otime: time(fields.otime),
    ctime: time(fields.ctime),
    values: rows.map((r) => r[1]),
    pids: rows.map((r) => r[4]),
  };
}

describe('sem stat agrees with ipcs', () => {
  it('ipcs -s -i shows what stat --json says', () => {
    const key = uniqueKey();
    const id = newSet(['-k', key, '-x', '--count', '3', '--value', '4', '0', '32767', '-m', '0640']);
    const st = JSON.parse(ipcctl(['--json', 'sem', 'stat', String(id)]).stdout);
    expect(Object.keys(st)).toEqual('id key mode uid gid cuid cgid nsems otime ctime values'.split(' '));
    expect(st).toMatchObject({ id, key, mode: '0640', nsems: 3, values: [4, 0, 32767] });
    const ip = ipcsSem(id);
    expect(ip).toMatchObject({
      uid: st.uid,
      gid: st.gid,
      cuid: st.cuid,
      cgid: st.cgid,
      mode: st.mode,
      nsems: st.nsems,
      otime: st.otime,
      ctime: st.ctime,
      values: st.values,
    });
    // The creator's semop set sem_otime: the set is marked initialised.
    expect(st.otime).not.toBeNull();
  });
});

describe('create', () => {
  it('one value for all, one per semaphore, or zeros', () => {
    expect(values(newSet(['--count', '3', '--value', '2']))).toEqual([2, 2, 2]);
    expect(values(newSet(['--value', '1', '2', '3']))).toEqual([1, 2, 3]);
    expect(values(newSet(['--value', '5,6']))).toEqual([5, 6]);
    expect(values(newSet(['--count', '2']))).toEqual([0, 0]);
    expect(values(newSet())).toEqual([0]);
  });

  it('a set that exists is opened as it is, never reset', () => {
    const key = uniqueKey();
    const id = newSet(['-k', key, '--value', '5']);
    expect(ipcctl(['sem', 'op', String(id), '0:-2']).code).toBe(0);
    const again = ipcctl(['sem', 'create', '-k', key, '--value', '5']);
    expect(again.code, again.stderr).toBe(0);
    expect(Number(again.stdout)).toBe(id);
    expect(again.stderr).toMatch(/exists; opened it without changing its values/);
    expect(values(id)).toEqual([3]);
    const excl = ipcctl(['sem', 'create', '-k', key, '-x']);
    expect(excl.code).toBe(1);
    expect(excl.stderr).toMatch(/EEXIST, a semaphore set with that key already exists/);
  });

  it('an opener waits until the creator has initialised the set (sem_otime != 0)', async () => {
    const key = uniqueKey();
    // A creator that made the set but has not yet set values nor done a semop.
    const made = run('perl', [
      '-e',
      'use IPC::SysV qw(IPC_CREAT IPC_EXCL); my $id = semget(hex($ARGV[0]), 2, IPC_CREAT|IPC_EXCL|0600); defined $id or die "$!"; print $id',
      key,
    ]);
    expect(made.code, made.stderr).toBe(0);
    const id = track('s', Number(made.stdout));
    // Nobody finishes: the opener gives up with a clear message.
    const timedOut = ipcctl(['sem', 'create', '-k', key, '--timeout', '300ms']);
    expect(timedOut.code).toBe(124);
    expect(timedOut.stderr).toMatch(/exists but was never initialised \(sem_otime is 0/);
    // The creator finishes while the opener waits: the opener sees its values.
    const opener = ipcctlAsync(['sem', 'create', '-k', key, '--value', '9', '--timeout', '20s']);
    // It found the set uninitialised and sleeps between two looks (Atomics.wait: a futex).
    await waitUntilIdleWith(opener.child.pid!, 'ffi-rs', /futex/);
    expect(opener.child.exitCode).toBeNull();
    expect(ipcctl(['sem', 'ctl', String(id), 'setall', '7', '8']).code).toBe(0);
    expect(ipcctl(['sem', 'op', String(id), '1:+1']).code).toBe(0); // the creator's semop
    const r = await opener.done;
    expect(r.code, r.stderr).toBe(0);
    expect(Number(r.stdout)).toBe(id);
    expect(values(id)).toEqual([7, 9]);
  });
});

describe('op', () => {
  it('all ops of one call apply atomically: with sem 0 at 0, 0:-1 1:-1 --nowait changes nothing', () => {
    const id = newSet(['--value', '0', '1']);
    const r = ipcctl(['sem', 'op', String(id), '0:-1', '1:-1', '--nowait']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^ipcctl: sem op \d+: EAGAIN, would block; nothing applied\n$/);
    expect(values(id)).toEqual([0, 1]);
    // And together when they can.
    expect(ipcctl(['sem', 'op', String(id), '0:+2', '1:-1', '0:-1']).code).toBe(0);
    expect(values(id)).toEqual([1, 0]);
  });

  it('a blocked op shows in getncnt and completes when another process releases', async () => {
    const id = newSet(['--value', '0']);
    const waiter = ipcctlAsync(['sem', 'op', String(id), '0:-1']);
    await becomes(id, 'getncnt', 0, 1);
    expect(waiter.child.exitCode).toBeNull();
    expect(ipcctl(['sem', 'op', String(id), '0:+1']).code).toBe(0);
    const r = await waiter.done;
    expect(r.code, r.stderr).toBe(0);
    expect(values(id)).toEqual([0]);
    expect(ctl(id, 'getncnt', '0')).toBe(0);
    expect(ctl(id, 'getpid', '0')).toBe(waiter.child.pid);
  });

  it('wait-for-zero blocks while the value is above 0 (getzcnt) and returns at 0', async () => {
    const id = newSet(['--value', '2']);
    const waiter = ipcctlAsync(['sem', 'op', String(id), '0:0']);
    await becomes(id, 'getzcnt', 0, 1);
    expect(ipcctl(['sem', 'op', String(id), '0:-1']).code).toBe(0);
    // Still 1: the kernel still counts the waiter as waiting for zero.
    expect(ctl(id, 'getzcnt', '0')).toBe(1);
    expect(waiter.child.exitCode).toBeNull();
    expect(ipcctl(['sem', 'op', String(id), '0:-1']).code).toBe(0);
    const r = await waiter.done;
    expect(r.code, r.stderr).toBe(0);
  });

  it('--undo is undone when the process exits', () => {
    const id = newSet(['--value', '1', '0']);
    expect(ipcctl(['sem', 'op', String(id), '0:-1', '1:+3', '--undo']).code).toBe(0);
    expect(values(id)).toEqual([1, 0]);
    // Without --undo it stays.
    expect(ipcctl(['sem', 'op', String(id), '0:-1']).code).toBe(0);
    expect(values(id)).toEqual([0, 0]);
  });

  it('--timeout gives up with exit 124 and leaves nothing waiting', () => {
    const id = newSet(['--value', '0']);
    const r = ipcctl(['sem', 'op', String(id), '0:-1', '--timeout', '300ms']);
    expect(r.code).toBe(124);
    expect(r.stderr).toMatch(/^ipcctl: sem op \d+: timed out after 300ms\n$/);
    expect(values(id)).toEqual([0]);
    expect(ctl(id, 'getncnt', '0')).toBe(0);
  });

  it('Ctrl-C during a wait exits 130 and applies nothing', async () => {
    const id = newSet(['--value', '0', '0']);
    const waiter = ipcctlAsync(['sem', 'op', String(id), '1:+1', '0:-1']);
    await becomes(id, 'getncnt', 0, 1);
    waiter.child.kill('SIGINT');
    const r = await waiter.done;
    expect(r.code).toBe(130);
    expect(values(id)).toEqual([0, 0]);
    expect(ctl(id, 'getncnt', '0')).toBe(0);
  });

  it('a set removed while an op waits: exit 4, EIDRM', async () => {
    const id = newSet(['--value', '0']);
    const waiter = ipcctlAsync(['sem', 'op', String(id), '0:-1']);
    await becomes(id, 'getncnt', 0, 1);
    expect(ipcctl(['sem', 'rm', String(id)]).code).toBe(0);
    const r = await waiter.done;
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/^ipcctl: sem op \d+: EIDRM, the semaphore set was removed\n$/);
  });

  it('-k KEY takes the first word as an op', () => {
    const key = uniqueKey();
    const id = newSet(['-k', key, '-x']);
    expect(ipcctl(['sem', 'op', '-k', key, '0:+4', '0:-1']).code).toBe(0);
    expect(ipcctl(['sem', 'ctl', '-k', key, 'getval', '0']).stdout).toBe('3\n');
    expect(values(id)).toEqual([3]);
  });
});

describe('ctl', () => {
  it('getval setval getall setall getpid getncnt getzcnt', () => {
    const id = newSet(['--count', '3']);
    expect(ipcctl(['sem', 'ctl', String(id), 'setval', '1', '42']).code).toBe(0);
    expect(ctl(id, 'getval', '1')).toBe(42);
    expect(ipcctl(['sem', 'ctl', String(id), 'setall', '1', '2', '3']).code).toBe(0);
    expect(values(id)).toEqual([1, 2, 3]);
    expect(ctl(id, 'getncnt', '2')).toBe(0);
    expect(ctl(id, 'getzcnt', '2')).toBe(0);
    expect(ctl(id, 'getpid', '0')).toBeGreaterThan(0);
    expect(JSON.parse(ipcctl(['--json', 'sem', 'ctl', String(id), 'getall']).stdout)).toEqual({ id, values: [1, 2, 3] });
    expect(JSON.parse(ipcctl(['--json', 'sem', 'ctl', String(id), 'getval', '2']).stdout)).toEqual({ id, num: 2, value: 3 });
  });
});

describe('bad input: one line, the right exit code, nothing changed', () => {
  const opCases: Array<[string, string, RegExp]> = [
    ['no sign', '0:1', /invalid op '0:1': say \+1 to add or -1 to take/],
    ['no colon', '0', /invalid op '0': use NUM:\+N/],
    ['a name for the number', 'a:-1', /invalid op 'a:-1'/],
    ['+0', '0:+0', /\+0 changes nothing; NUM:0 waits for zero/],
    ['above SEMVMX', '0:+40000', /40000 is above SEMVMX \(32767\)/],
  ];
  for (const [name, opText, message] of opCases) {
    it(`op syntax: ${name}`, () => {
      const id = newSet(['--value', '1']);
      const r = ipcctl(['sem', 'op', String(id), '0:+1', opText]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim()).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(values(id)).toEqual([1]);
    });
  }

  it('a semaphore outside the set: exit 2, nothing applied', () => {
    const id = newSet(['--count', '2', '--value', '1']);
    for (const args of [
      ['op', String(id), '0:-1', '2:+1'],
      ['ctl', String(id), 'getval', '2'],
      ['ctl', String(id), 'setval', '5', '1'],
    ]) {
      const r = ipcctl(['sem', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/semaphore (2|5) is outside the set \(it has 2: 0 to 1\)/);
    }
    expect(values(id)).toEqual([1, 1]);
  });

  it('values above SEMVMX are refused (exit 2); an op that would pass it is ERANGE (exit 1)', () => {
    const id = newSet(['--value', '32767']);
    for (const args of [
      ['create', '--value', '32768'],
      ['ctl', String(id), 'setval', '0', '40000'],
      ['ctl', String(id), 'setall', '99999'],
    ]) {
      const r = ipcctl(['sem', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/32767/);
    }
    const over = ipcctl(['sem', 'op', String(id), '0:+1']);
    expect(over.code).toBe(1);
    expect(over.stderr).toMatch(/ERANGE, a semaphore would go above SEMVMX \(32767\); nothing applied/);
    expect(values(id)).toEqual([32767]);
  });

  const cases: Array<[string, string[], number, RegExp]> = [
    ['op without ops', ['sem', 'op', '1'], 2, /missing OP/],
    ['op without id', ['sem', 'op', '0:-1'], 2, /missing ID before '0:-1'/],
    ['--nowait with --timeout', ['sem', 'op', '1', '0:-1', '--nowait', '--timeout', '1s'], 2, /--nowait or --timeout, not both/],
    ['an unknown ctl command', ['sem', 'ctl', '1', 'frobnicate'], 2, /unknown command 'frobnicate'/],
    ['ctl getval without N', ['sem', 'ctl', '1', 'getval'], 2, /expected N/],
    ['count 0', ['sem', 'create', '--count', '0'], 2, /invalid count '0'/],
    ['values that do not match the count', ['sem', 'create', '--count', '3', '--value', '1', '2'], 2, /2 values for 3 semaphores/],
    ['a set that does not exist', ['sem', 'stat', '2147483000'], 4, /^ipcctl: sem stat 2147483000: EINVAL, no such semaphore set$/],
  ];
  badInputCases(cases);
});

// ipcctl sem lock against the real kernel: mutual exclusion between
// concurrent holders, --nowait/--timeout/-E, release by the kernel when the
// holder is SIGKILLed, CMD's status and signals passed on.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IPCCTL, ipcctl, ipcctlAsync, run, track, uniqueKey } from './helpers/run.js';
import { waitFor } from './helpers/wait.js';

let dir: string;
const pids: number[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ipcctl-lock-'));
});
afterEach(() => {
  for (const p of pids.splice(0)) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

function idOfKey(key: string): number {
  const r = ipcctl(['--json', 'sem', 'stat', '-k', key]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout).id;
}

function getval(key: string): number {
  return Number(ipcctl(['sem', 'ctl', '-k', key, 'getval', '0']).stdout.trim());
}

/** Until the set with `key` exists and semaphore 0 holds `want` (bounded). */
async function valueBecomes(key: string, want: number): Promise<void> {
  await waitFor(`semaphore 0 of key ${key} to hold ${want}`, () => {
    const r = ipcctl(['sem', 'ctl', '-k', key, 'getval', '0']);
    return r.code === 0 && Number(r.stdout.trim()) === want;
  });
}

/** The text of `file` once something is in it (a child writes its pid or "ready"). */
function written(file: string): Promise<string> {
  return waitFor(`${file} to be written`, () => readFileSync(file, 'utf8') || undefined);
}

describe('sem lock', () => {
  it('two concurrent holders never overlap, and each sees the other’s writes', () => {
    const key = uniqueKey();
    writeFileSync(join(dir, 'count'), '0\n');
    // A read-modify-write with a pause in the middle, and a marker that shows an overlap.
    const body = `cd "${dir}"; [ -e inside ] && echo overlap >> log; touch inside; n=$(cat count); sleep 0.02; echo $((n + 1)) > count; rm inside`;
    const loop = `for i in $(seq 10); do ${IPCCTL} sem lock -k ${key} -w 30s -- sh -c '${body}' || exit 1; done`;
    const a = run('bash', ['-c', `(${loop}) & a=$!; (${loop}) & b=$!; wait $a && wait $b`], { timeout: 120_000 });
    track('s', idOfKey(key));
    expect(a.code, a.stderr).toBe(0);
    expect(readFileSync(join(dir, 'count'), 'utf8')).toBe('20\n');
    expect(() => readFileSync(join(dir, 'log'))).toThrow();
    expect(getval(key)).toBe(1);
  });

  it('passes CMD’s exit status on, and -c runs a shell command', () => {
    const key = uniqueKey();
    const r = ipcctl(['sem', 'lock', '-k', key, '--', 'sh', '-c', 'echo inside; exit 7']);
    track('s', idOfKey(key));
    expect(r.code).toBe(7);
    expect(r.stdout).toBe('inside\n');
    const c = ipcctl(['sem', 'lock', '-k', key, '-c', 'echo "$((6 * 7))"; exit 3']);
    expect(c.code).toBe(3);
    expect(c.stdout).toBe('42\n');
    expect(getval(key)).toBe(1);
    const missing = ipcctl(['sem', 'lock', '-k', key, '--', '/no/such/program']);
    expect(missing.code).toBe(127);
    expect(missing.stderr).toMatch(/^ipcctl: sem lock [0-9]+: \/no\/such\/program: ENOENT/);
    expect(getval(key)).toBe(1);
  });

  it('while held: -n exits 1 at once (or -E N), -w 300ms exits 124; kill -9 of the holder releases it', async () => {
    const key = uniqueKey();
    const holder = ipcctlAsync(['sem', 'lock', '-k', key, '--', 'sh', '-c', `echo $$ > "${dir}/child"; exec sleep 30`]);
    pids.push(holder.child.pid!);
    await valueBecomes(key, 0);
    track('s', idOfKey(key));
    pids.push(Number(await written(join(dir, 'child'))));

    const n = ipcctl(['sem', 'lock', '-k', key, '-n', '--', 'echo', 'never']);
    expect(n.code).toBe(1);
    expect(n.stdout).toBe('');
    expect(n.stderr).toMatch(/^ipcctl: sem lock [0-9]+: semaphore 0 is held by another process/);
    expect(ipcctl(['sem', 'lock', '-k', key, '-n', '-E', '9', '--', 'true']).code).toBe(9);
    const w = ipcctl(['sem', 'lock', '-k', key, '-w', '300ms', '--', 'echo', 'never']);
    expect(w.code).toBe(124);
    expect(w.stdout).toBe('');

    holder.child.kill('SIGKILL');
    // The orphaned sleep would hold the output pipe open: end it too.
    process.kill(pids.pop()!, 'SIGKILL');
    await holder.done;
    await valueBecomes(key, 1);
    const next = ipcctl(['sem', 'lock', '-k', key, '-n', '--', 'echo', 'got it']);
    expect(next.code).toBe(0);
    expect(next.stdout).toBe('got it\n');
  });

  it('SIGTERM goes to CMD; the lock is released after CMD ends, with its status', async () => {
    const key = uniqueKey();
    const holder = ipcctlAsync([
      'sem',
      'lock',
      '-k',
      key,
      '--',
      'sh',
      '-c',
      `trap 'echo got-term; exit 42' TERM; echo ready > "${dir}/ready"; sleep 30 >/dev/null 2>&1 & wait`,
    ]);
    pids.push(holder.child.pid!);
    await valueBecomes(key, 0);
    track('s', idOfKey(key));
    await written(join(dir, 'ready'));
    holder.child.kill('SIGTERM');
    const r = await holder.done;
    expect(r.code).toBe(42);
    expect(r.stdout).toBe('got-term\n');
    expect(getval(key)).toBe(1);
  });

  it('--slot and --take count: a set of value 2 lets two takers of 1 in, not a third', async () => {
    const id = track('s', Number(ipcctl(['sem', 'create', '--count', '2', '--value', '0', '2']).stdout.trim()));
    const first = ipcctlAsync(['sem', 'lock', String(id), '--slot', '1', '--', 'sh', '-c', `echo $$ > "${dir}/child"; exec sleep 30`]);
    pids.push(first.child.pid!);
    await waitFor('the first taker inside (semaphore 1 at 1)', () => ipcctl(['sem', 'ctl', String(id), 'getval', '1']).stdout.trim() === '1');
    expect(ipcctl(['sem', 'lock', String(id), '--slot', '1', '-n', '--', 'true']).code).toBe(0);
    expect(ipcctl(['sem', 'lock', String(id), '--slot', '1', '--take', '2', '-n', '--', 'true']).code).toBe(1);
    first.child.kill('SIGKILL');
    process.kill(Number(await written(join(dir, 'child'))), 'SIGKILL');
    await first.done;
    expect(ipcctl(['sem', 'ctl', String(id), 'getval', '1']).stdout.trim()).toBe('2');
  });

  it('inside a batch, CMD’s stdout and stderr are the reply', () => {
    const key = uniqueKey();
    const r = run('bash', ['-c', `printf '%s\\n' "sem lock -k ${key} -- sh -c 'echo out; echo err >&2; exit 3'" | ${IPCCTL} batch`]);
    track('s', idOfKey(key));
    expect(r.stdout).toBe('3|out\\n|err\\n\n');
  });

  it('bad input: one line, exit 2', () => {
    for (const args of [
      ['sem', 'lock', '-k', uniqueKey()],
      ['sem', 'lock', '1', '-n', '-w', '1s', '--', 'true'],
      ['sem', 'lock', '-k', '0x1', '--take', '0', '--', 'true'],
      ['sem', 'lock', '-k', '0x1', '--take', '3', '--', 'true'],
    ]) {
      const r = ipcctl(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^ipcctl: /);
    }
  });
});

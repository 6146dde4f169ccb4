// The batch's native turn (src/native/c/batch_turn.c: reply framed from the
// capture files, written, next line read, in one call; libc calls through
// its call slot) against the TypeScript turn that IPCCTL_NO_C_HELPER=1
// runs: the same input must give the same bytes, output of any size and
// from any writer (our sink, a child, a child that reopens /dev/stdout)
// must land in its own command's reply, and errno must still name errors.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IPCCTL, ipcctl, newSegment, newSet, run, track, uniqueKey } from './helpers/run.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ipcctl-batch-turn-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** printf '%b' of one reply field (latin1: bytes as they came), as bash decodes it after `read -r`. */
function decode(field: string): Buffer {
  const file = join(dir, 'field');
  writeFileSync(file, Buffer.from(field + '\n', 'latin1'));
  return run('bash', ['-c', 'IFS= read -r f < "$1"; printf "%b" "$f"', 'decode', file]).out;
}

function replies(stdout: string): Array<{ exit: number; out: string; err: string }> {
  return stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const [exit, out, err] = l.split('|');
      return { exit: Number(exit), out: out!, err: err! };
    });
}

/** Run FILE through `ipcctl batch` with the C helper and without it. */
function bothTurns(input: string): { c: string; ts: string } {
  const file = join(dir, 'commands');
  writeFileSync(file, input);
  const c = ipcctl(['batch', file]);
  const ts = ipcctl(['batch', file], { env: { IPCCTL_NO_C_HELPER: '1' } });
  expect(c.stderr).toBe('');
  expect(ts.stderr).toBe('');
  expect(c.code).toBe(ts.code);
  return { c: c.out.toString('latin1'), ts: ts.out.toString('latin1') };
}

describe('the native batch turn', () => {
  it('gives the same replies as the TypeScript turn: every byte value, big and small outputs, stderr, refusals, child output', () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const small = newSegment('256');
    expect(ipcctl(['shm', 'write', String(small)], { input: all }).code).toBe(0);
    // Above the helper's 64 KiB reply buffer, and above the 1 MiB at which it empties a capture file.
    const mid = newSegment('70000');
    const big = newSegment('1500000');
    const bigData = Buffer.alloc(1_500_000);
    for (let i = 0; i < bigData.length; i++) bigData[i] = (i * 7) & 0xff;
    expect(ipcctl(['shm', 'write', String(big)], { input: bigData }).code).toBe(0);
    const sem = newSet(['--value', '0']);
    const key = uniqueKey();
    const input = [
      `shm read ${small}`,
      `sem op ${sem} 0:-1 --nowait`,
      `shm read ${mid}`,
      `shm read ${small} --length 3`,
      `shm read ${big}`,
      `shm read ${small} --offset 65 --length 2`,
      'bogus words',
      'batch',
      `sem op 'unterminated`,
      `sem lock -k ${key} -- sh -c 'printf "a\\\\0b\\\\n"; echo to-stderr >&2'`,
      `sem lock -k ${key} -- sh -c 'echo first; echo reopened > /dev/stdout'`,
      `sem ctl ${sem} getval 0`,
      `sem rm -k ${key}`,
    ].join('\n');
    const { c, ts } = bothTurns(input + '\n');
    expect(c).toBe(ts);
    const r = replies(c);
    expect(r.map((x) => x.exit)).toEqual([0, 3, 0, 0, 0, 0, 2, 2, 2, 0, 0, 0, 0]);
    expect(decode(r[0]!.out).equals(all)).toBe(true);
    expect(r[1]!.out).toBe('');
    expect(r[1]!.err).toMatch(/^ipcctl: sem op \d+: EAGAIN, /);
    expect(decode(r[2]!.out).equals(Buffer.alloc(70000))).toBe(true);
    expect(decode(r[3]!.out).equals(all.subarray(0, 3))).toBe(true);
    expect(decode(r[4]!.out).equals(bigData)).toBe(true);
    // After 1.5 MB, a two-byte reply carries nothing else.
    expect(r[5]!.out).toBe('AB');
    expect(r[6]!.err).toMatch(/^ipcctl: unknown command 'bogus'/);
    expect(r[7]!.err).toMatch(/a batch cannot run another batch/);
    expect(r[8]!.err).toMatch(/unterminated single quote/);
    // A child's stdout and stderr are its command's reply; NUL comes through.
    expect(decode(r[9]!.out).toString('latin1')).toBe('a\0b\n');
    expect(decode(r[9]!.err).toString()).toBe('to-stderr\n');
    // A child that reopens /dev/stdout (truncating it) still answers in its own reply, and the next one is clean.
    expect(decode(r[10]!.out).toString()).toMatch(/reopened\n$/);
    expect(r[11]!.out).toBe('0\\n');
    expect(r[12]!.out).toBe('');
  });

  it('a segment removed and recreated under the same key between two lines: refused once (exit 4), then the new one is read and written', () => {
    for (const env of [{}, { IPCCTL_NO_C_HELPER: '1' }]) {
      const key = uniqueKey();
      const first = track('m', Number(ipcctl(['shm', 'create', '-k', key, '--size', '8']).stdout.trim()));
      const script = `
set -u
coproc B { exec ${IPCCTL} batch; }
exec {bout}<&"\${B[0]}"
ask() { printf '%s\\n' "$1" >&"\${B[1]}"; IFS='|' read -r code out err <&"$bout"; echo "$code|$out|$err"; }
ask 'shm write -k ${key} old'
ask 'shm read -k ${key} --length 3'
${IPCCTL} shm rm ${first}
id=$(${IPCCTL} shm create -k ${key} --size 8); echo "new $id"
${IPCCTL} shm write $id new
ask 'shm read -k ${key} --length 3'
ask 'shm read -k ${key} --length 3'
ask 'shm write -k ${key} xyz'
echo "outside $(${IPCCTL} shm read $id --length 3)"
exec {B[1]}>&-
wait
`;
      const r = run('bash', ['-c', script], { env: { NO_COLOR: '1', ...env }, timeout: 60_000 });
      const lines = r.stdout.trim().split('\n');
      const made = lines.find((l) => l.startsWith('new '));
      if (made) track('m', Number(made.split(' ')[1]));
      expect(r.stderr).toBe('');
      expect(lines.filter((l) => !l.startsWith('new '))).toEqual([
        '0||',
        '0|old|',
        expect.stringMatching(new RegExp(`^4\\|\\|ipcctl: shm read ${first}: EINVAL, `)),
        '0|new|',
        '0||',
        'outside xyz',
      ]);
    }
  });
});

// ipcctl batch driven the way scripts drive it: from a real bash coprocess,
// each reply read with one `read`, decoded with printf '%b'. Also --json,
// FILE input, SEM_UNDO lasting for the batch, Ctrl-C during a blocking op,
// and commands refused inside a batch.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IPCCTL, ipcctl, run, track, uniqueKey } from './helpers/run.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ipcctl-batch-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Run a bash script that has `ask CMD` (send one line, read one reply into $code $out $err). */
function bash(script: string, env: NodeJS.ProcessEnv = {}) {
  const prelude = `
set -u
coproc B { exec ${IPCCTL} batch; }
# bash forgets B_PID and closes B's fds once the coprocess ends: keep our own.
bpid=$B_PID
exec {bout}<&"\${B[0]}"
ask() { printf '%s\\n' "$1" >&"\${B[1]}"; IFS='|' read -r code out err <&"$bout"; }
`;
  return run('bash', ['-c', prelude + script], { env: { NO_COLOR: '1', DIR: dir, ...env }, timeout: 60_000 });
}

describe('batch from a bash coprocess', () => {
  it('answers each command with its exit code, stdout and stderr, binary and multi-line included, and ends at EOF with the last code', () => {
    // A segment holding every byte value, written by a separate process.
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const shm = track('m', Number(ipcctl(['shm', 'create', '--size', '256']).stdout.trim()));
    expect(ipcctl(['shm', 'write', String(shm)], { input: all }).code).toBe(0);
    const r = bash(`
ask 'sem create --value 1'; echo "create $code"; sem=$(printf '%b' "$out"); echo "sem $sem"
ask "--json sem stat $sem"; echo "json $code"; printf '%b' "$out" > "$DIR/stat.json"
ask "shm read ${shm}"; echo "read $code"; printf '%b' "$out" > "$DIR/bytes"
ask 'sem stat 2147483646'; echo "missing $code"; printf '%b' "$err" > "$DIR/err"
ask "sem op $sem 0:-1 --nowait"; echo "take $code"
ask "sem op $sem 0:-1 --nowait"; echo "again $code"
printf '  # a comment line gets no reply\n\n' >&"\${B[1]}"
ask "sem ctl $sem   getval   0   # trailing comment"; echo "getval $code $(printf '%b' "$out")"
ask "sem rm $sem"; echo "rm $code"
ask 'sem stat 2147483646'
exec {B[1]}>&-
wait $bpid; echo "batch $?"
`);
    expect(r.stderr).toBe('');
    const lines = r.stdout.trim().split('\n');
    const field = (name: string) =>
      lines
        .find((l) => l.startsWith(name + ' '))
        ?.split(' ')
        .slice(1);
    expect(field('create')).toEqual(['0']);
    const sem = Number(field('sem')![0]);
    track('s', sem);
    expect(field('json')).toEqual(['0']);
    const st = JSON.parse(readFileSync(join(dir, 'stat.json'), 'utf8'));
    expect(st.id).toBe(sem);
    expect(st.values).toEqual([1]);
    expect(field('read')).toEqual(['0']);
    expect(readFileSync(join(dir, 'bytes')).equals(all)).toBe(true);
    expect(field('missing')).toEqual(['4']);
    expect(readFileSync(join(dir, 'err'), 'utf8')).toMatch(/^ipcctl: sem stat 2147483646: EINVAL, .*\n$/);
    expect(field('take')).toEqual(['0']);
    expect(field('again')).toEqual(['3']);
    // The comment line got no reply: the next read saw getval's reply.
    expect(field('getval')).toEqual(['0', '0']);
    expect(field('rm')).toEqual(['0']);
    expect(field('batch')).toEqual(['4']);
    expect(ipcctl(['sem', 'stat', String(sem)]).code).toBe(4);
  });

  it('Ctrl-C interrupts a blocking sem op (reply 130) and the batch goes on; SEM_UNDO lasts until the batch ends', () => {
    const sem = track('s', Number(ipcctl(['sem', 'create', '--value', '1']).stdout.trim()));
    const r = bash(`
ask "sem op ${sem} 0:-1 --undo"; echo "lock $code"
echo "held $(${IPCCTL} sem ctl ${sem} getval 0)"
printf 'sem op ${sem} 0:-1\\n' >&"\${B[1]}"
# Wait until the kernel counts the batch as blocked on the semaphore.
for i in $(seq 200); do [ "$(${IPCCTL} sem ctl ${sem} getncnt 0)" = 1 ] && break; sleep 0.05; done
echo "ncnt $(${IPCCTL} sem ctl ${sem} getncnt 0)"
kill -INT $bpid
IFS='|' read -r code out err <&"$bout"; echo "interrupted $code"; printf '%b' "$err" > "$DIR/err"
ask "sem ctl ${sem} getval 0"; echo "after $code $(printf '%b' "$out")"
echo "ncnt2 $(${IPCCTL} sem ctl ${sem} getncnt 0)"
exec {B[1]}>&-
wait $bpid; echo "batch $?"
echo "released $(${IPCCTL} sem ctl ${sem} getval 0)"
`);
    expect(r.stderr).toBe('');
    const out = r.stdout;
    expect(out).toContain('lock 0\n');
    expect(out).toContain('held 0\n'); // the --undo take outlived its command
    expect(out).toContain('ncnt 1\n');
    expect(out).toContain('interrupted 130\n');
    expect(readFileSync(join(dir, 'err'), 'utf8')).toMatch(/^ipcctl: sem op [0-9]+: interrupted\n$/);
    expect(out).toContain('after 0 0\n');
    expect(out).toContain('batch 0\n');
    expect(out).toContain('released 1\n'); // the kernel undid the take when the batch ended
  });

  it('keeps a segment attached for the batch; one removed from outside is refused (exit 4) and let go', () => {
    const shm = track('m', Number(ipcctl(['shm', 'create', '--size', '8']).stdout.trim()));
    const r = bash(`
nattch() { ${IPCCTL} --json shm stat ${shm} | sed -n 's/.*"nattch": \\([0-9]*\\).*/\\1/p'; }
ask "shm write ${shm} abc"; echo "write $code"
ask "shm read ${shm} --length 3"; echo "read $code $(printf '%b' "$out")"
echo "nattch $(nattch)"
ipcrm -m ${shm}
ask "shm read ${shm}"; echo "gone $code"
exec {B[1]}>&-
wait $bpid; echo "batch $?"
`);
    expect(r.stdout).toBe('write 0\nread 0 abc\nnattch 1\ngone 4\nbatch 4\n');
  });

  it("SIGTERM during a blocking command ends the batch (143) after that command's reply", () => {
    const sem = track('s', Number(ipcctl(['sem', 'create']).stdout.trim()));
    const r = bash(`
printf 'sem op ${sem} 0:-1\\n' >&"\${B[1]}"
for i in $(seq 200); do [ "$(${IPCCTL} sem ctl ${sem} getncnt 0)" = 1 ] && break; sleep 0.05; done
kill -TERM $bpid
IFS='|' read -r code out err <&"$bout"; echo "reply $code"
wait $bpid; echo "batch $?"
echo "value $(${IPCCTL} sem ctl ${sem} getval 0)"
`);
    expect(r.stdout).toBe('reply 130\nbatch 143\nvalue 0\n');
  });

  it('a second Ctrl-C while the same command still runs ends the batch with 130', () => {
    // sem lock passes SIGINT to its command, which ignores it: the command goes on.
    const key = uniqueKey();
    const r = bash(`
printf '%s\\n' "sem lock -k ${key} -- sh -c 'trap \\"\\" INT; echo \\$\\$ > $DIR/started; exec sleep 30'" >&"\${B[1]}"
for i in $(seq 200); do [ -s "$DIR/started" ] && break; sleep 0.05; done
kill -INT $bpid; sleep 0.3
kill -0 $bpid && echo "alive after one"
kill -INT $bpid
wait $bpid; echo "batch $?"
kill $(cat "$DIR/started")
`);
    const id = ipcctl(['--json', 'sem', 'stat', '-k', key]);
    if (id.code === 0) track('s', JSON.parse(id.stdout).id);
    expect(r.stdout).toBe('alive after one\nbatch 130\n');
    // The kernel undid the lock the dead batch held.
    expect(ipcctl(['sem', 'ctl', '-k', key, 'getval', '0']).stdout.trim()).toBe('1');
  });

  it('a second Ctrl-C at idle ends the batch with 130', () => {
    const r = bash(`
ask 'sem stat 2147483646'; echo "first $code"
kill -INT $bpid
wait $bpid; echo "batch $?"
`);
    expect(r.stdout).toBe('first 4\nbatch 130\n');
  });

  it('refuses batch, lab and ls --watch, and bad quoting, each in one line (exit 2), and goes on', () => {
    const r = bash(`
for c in 'batch' 'lab race' 'ls --watch' "sem stat 'unterminated" 'no-such-command'; do
  ask "$c"; echo "$code $(printf '%b' "$err" | wc -l) $(printf '%b' "$err")"
done
ask 'sem stat 2147483646'; echo "still $code"
`);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(6);
    for (const l of lines.slice(0, 5)) expect(l).toMatch(/^2 1 ipcctl: /);
    expect(lines[0]).toMatch(/batch/);
    expect(lines[3]).toMatch(/unterminated single quote/);
    expect(lines[5]).toBe('still 4');
  });
});

describe('batch input and --json', () => {
  it('reads FILE, splits words like a shell, answers in JSON lines', () => {
    const key = uniqueKey();
    const file = join(dir, 'cmds');
    writeFileSync(
      file,
      [
        `msgq create -k ${key}`,
        `msgq send -k ${key} "two  words" 'and "quotes"' back\\ slash`,
        `msgq recv -k ${key}`,
        `msgq recv -k ${key} --nowait`,
        `msgq rm -k ${key}`,
      ].join('\n') + '\n',
    );
    const r = ipcctl(['batch', '--json', file]);
    const replies = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const q = Number(replies[0].stdout.trim());
    if (q > 0) track('q', q);
    expect(replies.map((x) => x.exit)).toEqual([0, 0, 0, 3, 0]);
    expect(replies.map((x) => x.line)).toEqual([1, 2, 3, 4, 5]);
    expect(replies[2].stdout).toBe('two  words and "quotes" back slash');
    expect(replies[3].stderr).toMatch(/^ipcctl: msgq recv [0-9]+: /);
    expect(r.code).toBe(0);
  });

  it('each line parses as a fresh command: options and --json of one line do not leak into the next', () => {
    const r = ipcctl(['batch', '--json'], { input: 'sem create --value 1 2\nsem create --value 3\n--json sem create --count 2\nsem create\n' });
    const replies = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(replies.map((x) => x.exit)).toEqual([0, 0, 0, 0]);
    const ids = [replies[0].stdout, replies[1].stdout, JSON.parse(replies[2].stdout).id, replies[3].stdout].map((x) => track('s', Number(String(x).trim())));
    expect(replies[3].stdout).toMatch(/^[0-9]+\n$/);
    expect(ids.map((id) => ipcctl(['sem', 'ctl', String(id), 'getall']).stdout.trim())).toEqual(['1 2', '3', '0 0', '0']);
  });

  it('gives non-UTF-8 output as base64', () => {
    const shm = track('m', Number(ipcctl(['shm', 'create', '--size', '4']).stdout.trim()));
    ipcctl(['shm', 'write', String(shm)], { input: Buffer.from([0xff, 0xfe, 0, 1]) });
    const r = ipcctl(['batch', '--json'], { input: `shm read ${shm}\n` });
    const reply = JSON.parse(r.stdout);
    expect(reply.stdout).toBeUndefined();
    expect(Buffer.from(reply.stdout_base64, 'base64')).toEqual(Buffer.from([0xff, 0xfe, 0, 1]));
  });

  it('bad input and output: a directory, /dev/full, /dev/zero (lines without end) give one line each, no hang', () => {
    const dirIn = run('bash', ['-c', `${IPCCTL} batch < /`]);
    expect(dirIn.code).toBe(1);
    expect(dirIn.stderr).toBe('ipcctl: batch reading the commands: EISDIR, the input is a directory\n');
    const full = run('bash', ['-c', `echo 'sem stat 2147483646' | ${IPCCTL} batch > /dev/full`]);
    expect(full.code).toBe(1);
    expect(full.stderr).toBe('ipcctl: batch writing a reply: ENOSPC, no space left on the output\n');
    const zero = run('bash', ['-c', `${IPCCTL} batch < /dev/zero | head -c 60`]);
    expect(zero.stdout).toBe('2||ipcctl: batch: line 1 is longer than 1048576 characters; '.slice(0, 60));
  });

  it('a missing FILE is one error line, exit 4', () => {
    const r = ipcctl(['batch', join(dir, 'nope')]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/^ipcctl: batch .*nope: ENOENT/);
  });

  it('a reply larger than the capture buffer comes whole, and the next reply carries nothing of it', () => {
    // 200,000 bytes: past the 64 KiB the capture reads in one go, and not a multiple of it.
    const size = 200_000;
    const data = Buffer.from(Array.from({ length: size }, (_, i) => 0x61 + (i % 26)));
    const shm = track('m', Number(ipcctl(['shm', 'create', '--size', String(size)]).stdout.trim()));
    expect(ipcctl(['shm', 'write', String(shm)], { input: data }).code).toBe(0);
    const r = ipcctl(['batch', '--json'], { input: `shm read ${shm}\nsem stat 2147483646\nshm read ${shm} --length 3\n` });
    const replies = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { exit: number; stdout: string; stderr: string });
    expect(replies.map((x) => x.exit)).toEqual([0, 4, 0]);
    expect(replies[0]!.stdout).toBe(data.toString('latin1'));
    expect(replies[0]!.stderr).toBe('');
    expect(replies[1]!.stdout).toBe('');
    expect(replies[1]!.stderr).toMatch(/^ipcctl: sem stat 2147483646: EINVAL/);
    expect(replies[2]!.stdout).toBe('abc');
  });

  it('per command, no fstat of the capture files, and one IPC_STAT per shm write by key', () => {
    const key = uniqueKey();
    const shm = track('m', Number(ipcctl(['shm', 'create', '-k', key, '--size', '16']).stdout.trim()));
    const sem = track('s', Number(ipcctl(['sem', 'create', '--value', '0']).stdout.trim()));
    // The same two commands once and six times: what the five more cost is what each costs.
    const traced = (times: number, name: string) => {
      const input = Array.from({ length: times }, (_, i) => `shm write -k ${key} ${i}\nsem op ${sem} 0:0`).join('\n') + '\n';
      const trace = join(dir, name);
      const r = run('strace', ['-f', '-qq', '-e', 'trace=statx,fstat,newfstatat,shmctl', '-o', trace, IPCCTL, 'batch'], { input });
      expect(r.stdout).toBe('0||\n'.repeat(2 * times));
      const calls = readFileSync(trace, 'utf8').split('\n');
      return {
        stats: calls.filter((l) => /\b(statx|fstat|newfstatat)\(/.test(l)).length,
        ipcStats: calls.filter((l) => l.includes(`shmctl(${shm}, IPC_STAT`)).length,
      };
    };
    const one = traced(1, 'one');
    const six = traced(6, 'six');
    expect(six.stats - one.stats).toBe(0);
    expect(six.ipcStats - one.ipcStats).toBe(5);
    expect(ipcctl(['shm', 'read', String(shm), '--length', '1']).stdout).toBe('5');
  });

  it('looks a key up once per batch (one msgget for many commands)', () => {
    const key = uniqueKey();
    const q = track('q', Number(ipcctl(['msgq', 'create', '-k', key]).stdout.trim()));
    const input = Array.from({ length: 5 }, () => `msgq stat -k ${key}`).join('\n') + '\n';
    const r = run('strace', ['-f', '-qq', '-e', 'trace=msgget', '-o', join(dir, 'trace'), IPCCTL, 'batch'], { input });
    expect(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => l[0]),
    ).toEqual(['0', '0', '0', '0', '0']);
    const calls = readFileSync(join(dir, 'trace'), 'utf8')
      .split('\n')
      .filter((l) => l.includes('msgget('));
    expect(calls).toHaveLength(1);
    // ...and that one lookup found the queue made above.
    expect(calls[0]).toMatch(new RegExp(`msgget\\(${key}, 0+\\)\\s+= ${q}$`));
  });
});

// The counter loop of README (lock, read, write, unlock: sem op, shm read,
// shm write, sem op) from bash, three ways, in one run:
//   1. through one `ipcctl batch` coprocess, 1,000 iterations;
//   2. one ipcctl process per operation, 25 iterations (scaled per op);
//   3. the same loop in one Perl IPC::SysV process, 1,000 iterations;
//   4. the floor: the same bash loop against a coprocess (C, built here)
//      that answers every line at once without doing anything, which is what
//      bash's own side of a coprocess round trip costs on this machine.
// Targets: the batch at most 0.2 ms per operation, and 300x faster than a
// process per operation. Times are wall-clock inside the loop (start-up of
// the coprocess and of Perl excluded, and printed apart); the machine is
// shared, so figures vary from run to run: the median of 3 rounds is shown
// (one round of the process-per-op loop, which alone takes ~10 s).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { IPCCTL, median, row } from './lib.mjs';

const N = Number(process.env.BENCH_BATCH_ITERS ?? 1000);
const N_PROC = Number(process.env.BENCH_PROC_ITERS ?? 25);
const ROUNDS = 3;
const key =
  '0x4b' +
  Math.floor(Math.random() * 0xffffff)
    .toString(16)
    .padStart(6, '0');
const dir = mkdtempSync(join(tmpdir(), 'ipcctl-bench-batch-'));

function sh(script, what) {
  const file = join(dir, `${what}.sh`);
  writeFileSync(file, script);
  const r = spawnSync('bash', [file], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`${what} failed (${r.status}): ${r.stderr}`);
  const m = /^ms (\S+)/m.exec(r.stdout);
  const lines = r.stdout.trim().split('\n');
  const cpu = /^[0-9]+m[0-9.]+s [0-9]+m[0-9.]+s$/.test(lines.at(-1))
    ? [...lines.at(-1).matchAll(/(\d+)m([\d.]+)s/g)].reduce((t, x) => t + (Number(x[1]) * 60 + Number(x[2])) * 1000, 0)
    : undefined;
  return { ms: Number(m[1]), cpu };
}

// $EPOCHREALTIME in microseconds, without a subshell.
const clock = `now() { local t=\${EPOCHREALTIME/[.,]/}; echo $t; }`;

const batchLoop = `${clock}
coproc IPC { exec ${IPCCTL} batch; }
ipc() { printf '%s\\n' "$*" >&"\${IPC[1]}"; IFS='|' read -r code out err <&"\${IPC[0]}"; return "$code"; }
ipc sem stat -k ${key} >/dev/null   # the coprocess is up
t0=$(now)
for ((i = 0; i < ${N}; i++)); do
  ipc sem op -k ${key} 0:-1 --undo
  ipc shm read -k ${key}; n=\${out%%\\\\*}
  ipc shm write -k ${key} "$(( \${n:-0} + 1 ))"
  ipc sem op -k ${key} 0:+1 --undo
done
t1=$(now)
echo "ms $(( (t1 - t0) / 1000 )).$(( (t1 - t0) % 1000 / 100 ))"
exec {IPC[1]}>&-; wait
times   # the second line: CPU of the reaped children (the batch process, start-up included)
`;

const procLoop = `${clock}
t0=$(now)
for ((i = 0; i < ${N_PROC}; i++)); do
  ${IPCCTL} sem op -k ${key} 0:-1
  n=$(${IPCCTL} shm read -k ${key} | tr -d '\\0')
  ${IPCCTL} shm write -k ${key} "$(( \${n:-0} + 1 ))"
  ${IPCCTL} sem op -k ${key} 0:+1
done
t1=$(now)
echo "ms $(( (t1 - t0) / 1000 )).$(( (t1 - t0) % 1000 / 100 ))"
`;

// The floor: a coprocess that answers each line at once ("0||", or a
// counter value for `shm read`), so that the loop costs only bash's side
// (printf, read byte by byte) and the round trips between the two.
const responder = `#include <string.h>
#include <unistd.h>
int main(void) {
  char b[65536]; size_t have = 0;
  for (;;) {
    ssize_t n = read(0, b + have, sizeof b - have);
    if (n <= 0) return 0;
    have += (size_t)n;
    char *s = b, *nl;
    while ((nl = memchr(s, '\\n', (size_t)(b + have - s)))) {
      *nl = 0;
      if (strstr(s, "shm read")) write(1, "0|5\\\\n|\\n", 7); else write(1, "0||\\n", 4);
      s = nl + 1;
    }
    have = (size_t)(b + have - s);
    memmove(b, s, have);
  }
}
`;
const floorLoop = (bin) => batchLoop.replace(`exec ${IPCCTL} batch;`, `exec ${bin};`);

const perlLoop = `perl -MIPC::SysV=IPC_CREAT,SEM_UNDO -MTime::HiRes=time -e '
  my $sem = semget(${Number(key)}, 0, 0) // die "semget: $!";
  my $shm = shmget(${Number(key)}, 0, 0) // die "shmget: $!";
  my $t0 = time;
  for (1 .. ${N}) {
    semop($sem, pack("s!3", 0, -1, SEM_UNDO)) or die "semop: $!";
    my $buf; shmread($shm, $buf, 0, 16) or die "shmread: $!";
    (my $n = $buf) =~ s/\\0.*//s;
    shmwrite($shm, $n + 1, 0, length($n + 1)) or die "shmwrite: $!";
    semop($sem, pack("s!3", 0, 1, SEM_UNDO)) or die "semop: $!";
  }
  printf "ms %.1f\\n", (time - $t0) * 1000;
'
`;

function ipcctl(...args) {
  const r = spawnSync(IPCCTL, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ipcctl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function counter() {
  return Number(ipcctl('shm', 'read', '-k', key).replace(/\0/g, '') || 0);
}

try {
  ipcctl('sem', 'create', '-k', key, '--value', '1');
  ipcctl('shm', 'create', '-k', key, '--size', '16');
  writeFileSync(join(dir, 'responder.c'), responder);
  execFileSync('gcc', ['-O2', '-o', join(dir, 'responder'), join(dir, 'responder.c')]);
  const per = { batch: [], proc: [], perl: [], batchCpu: [], floor: [] };
  let expected = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const b = sh(batchLoop, 'batch');
    per.batch.push(b.ms / (N * 4));
    per.batchCpu.push(b.cpu / (N * 4));
    expected += N;
    // A process per op takes ~100x longer: one round keeps the bench bounded.
    if (r === 0) {
      per.proc.push(sh(procLoop, 'proc').ms / (N_PROC * 4));
      expected += N_PROC;
    }
    per.perl.push(sh(perlLoop, 'perl').ms / (N * 4));
    expected += N;
    per.floor.push(sh(floorLoop(join(dir, 'responder')), 'floor').ms / (N * 4));
  }
  const got = counter();
  if (got !== expected) throw new Error(`the counter is ${got}, expected ${expected}: an update was lost`);
  const b = median(per.batch);
  const p = median(per.proc);
  const l = median(per.perl);
  console.log(`counter loop (lock, read, write, unlock), per operation, median of ${ROUNDS} rounds; counter checked: ${got}`);
  row(`Perl IPC::SysV, one process, ${N} iterations`, l * 1000, 'us/op');
  row(`ipcctl batch coprocess, ${N} iterations`, b * 1000, 'us/op', b / l);
  row(`ipcctl process per op, ${N_PROC} iterations`, p * 1000, 'us/op', p / l);
  console.log('(ratio = time / Perl time)');
  const f = median(per.floor);
  row(`floor: bash and a coprocess that answers at once`, f * 1000, 'us/op');
  row(`ipcctl batch above that floor`, (b - f) * 1000, 'us/op', b / f);
  console.log('(ratio = batch time / floor time)');
  row('CPU of the batch process per op (start-up in)', median(per.batchCpu) * 1000, 'us/op');
  row('speed-up of batch over a process per op', p / b, 'x');
  console.log(`targets: batch <= 0.2 ms/op (${b <= 0.2 ? 'met' : 'NOT met'}), >= 300x a process per op (${p / b >= 300 ? 'met' : 'NOT met'})`);
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log(`load average during the run: ${load} (on ${availableParallelism()} CPUs: other work shares them)`);
  console.log(
    `rounds: batch ${per.batch.map((x) => x.toFixed(3)).join(' ')}; process ${per.proc.map((x) => x.toFixed(1)).join(' ')}; perl ${per.perl.map((x) => x.toFixed(4)).join(' ')}; floor ${per.floor.map((x) => x.toFixed(3)).join(' ')} ms/op`,
  );
} finally {
  spawnSync('ipcrm', ['-S', key, '-M', key]);
  rmSync(dir, { recursive: true, force: true });
}

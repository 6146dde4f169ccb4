// POSIX IPC benchmark, run in private IPC and mount namespaces (own mqueue
// sysctls, own tmpfs on /dev/shm, nothing left behind):
//  1. 100,000 x 1 KiB through a POSIX queue: `pmq send --lines` and
//     `pmq recv --count` at once, against a C sender/receiver pair built
//     here with gcc. Target: at least half of C's rate.
//  2. pshm: 256 MiB written from a pipe and read to /dev/null, against dd
//     to and from /dev/shm/NAME.
//  3. `ipcctl ls` with 2,000 System V and 200 POSIX objects, against
//     `node -e 0` and lsipc (this util-linux may lack the POSIX views: then
//     lsipc lists the System V kinds only, and the bench says so).
// Numbers are noisy: other work shares the two cores.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IPCCTL, medians, peakMiB, row, timeShell } from './lib.mjs';

if (process.argv[2] !== '--inside') {
  const setup = 'mount --make-rprivate / && mkdir -p /dev/mqueue && mount -t mqueue none /dev/mqueue && mount -t tmpfs -o size=1g none /dev/shm';
  const r = spawnSync(
    'unshare',
    ['--ipc', '--mount', '--', 'bash', '-c', `${setup} && exec "$0" "$1" --inside`, process.execPath, new URL(import.meta.url).pathname],
    { stdio: 'inherit' },
  );
  process.exit(r.status ?? 1);
}

const N = Number(process.env.BENCH_MESSAGES ?? 100_000);
const SIZE = 1024;
const dir = mkdtempSync(join(tmpdir(), 'ipcctl-bench-posix-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

// --- 1. queue throughput -------------------------------------------------------
// Both sides get the same queue: 300 slots of 1 KiB (fs.mqueue.msg_max raised
// in this namespace only; two such queues fit the default RLIMIT_MSGQUEUE).
writeFileSync('/proc/sys/fs/mqueue/msg_max', '300');
writeFileSync(
  join(dir, 'pair.c'),
  String.raw`
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
/* send NAME N: N lines of stdin (1 KiB each), one message each; recv NAME N: N messages to stdout, newline after each */
int main(int argc, char **argv) {
  long n = atol(argv[3]);
  char *buf = malloc(1 << 16);
  if (!strcmp(argv[1], "send")) {
    mqd_t q = mq_open(argv[2], O_WRONLY);
    FILE *in = fdopen(0, "r");
    for (long i = 0; i < n; i++) {
      if (!fgets(buf, 1 << 16, in)) return 1;
      size_t len = strlen(buf);
      if (len && buf[len - 1] == '\n') len--;
      if (mq_send(q, buf, len, 0)) { perror("mq_send"); return 1; }
    }
    return 0;
  }
  mqd_t q = mq_open(argv[2], O_RDONLY);
  FILE *out = fdopen(1, "w");
  for (long i = 0; i < n; i++) {
    ssize_t got = mq_receive(q, buf, 1 << 16, NULL);
    if (got < 0) { perror("mq_receive"); return 1; }
    fwrite(buf, 1, got, out);
    fputc('\n', out);
  }
  fflush(out);
  return 0;
}
`,
);
execFileSync('gcc', ['-O2', '-o', join(dir, 'pair'), join(dir, 'pair.c')]);
const input = join(dir, 'lines');
const line = 'x'.repeat(SIZE - 1) + '\n';
writeFileSync(input, line.repeat(N).replace(/x\n/g, 'y\n'));
const create = (name) => execFileSync(IPCCTL, ['pmq', 'create', name, '--max-msgs', '300', '--msg-size', String(SIZE)]);
create('/bench-c');
create('/bench-ipcctl');
const C = join(dir, 'pair');
const cPair = `${C} recv /bench-c ${N} > /dev/null & r=$!; ${C} send /bench-c ${N} < ${input} && wait $r`;
const ours = `${IPCCTL} pmq recv /bench-ipcctl --count ${N} > /dev/null & r=$!; ${IPCCTL} pmq send /bench-ipcctl --lines < ${input} && wait $r`;
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const t = medians({ c: cPair, ipcctl: ours }, rounds);
const mib = (N * SIZE) / 2 ** 20;
console.log(`\n1. ${N} messages of ${SIZE} bytes through one POSIX queue, sender and receiver at once (median of ${rounds})`);
row('C pair (mq_send / mq_receive)', N / (t.c / 1000), 'msg/s');
row('ipcctl pmq send --lines | recv --count', N / (t.ipcctl / 1000), 'msg/s', t.c / t.ipcctl);
row('  (as MiB/s: C)', mib / (t.c / 1000), 'MiB/s');
row('  (as MiB/s: ipcctl)', mib / (t.ipcctl / 1000), 'MiB/s');
console.log(`   target: ratio >= 0.50 (${t.c / t.ipcctl >= 0.5 ? 'met' : 'NOT met'})`);
row(
  'peak RSS ipcctl pmq send --lines',
  peakMiB(`${IPCCTL} pmq send /bench-ipcctl --lines < ${join(dir, 'small')} 2>/dev/null || true`.replace(join(dir, 'small'), '/dev/null')),
  'MiB',
);

// --- 2. pshm bulk -----------------------------------------------------------------
const BYTES = 256 << 20;
execFileSync(IPCCTL, ['pshm', 'create', '/bench-big', '--size', String(BYTES)]);
const p = medians(
  {
    ipcctlWrite: `head -c ${BYTES} /dev/zero | ${IPCCTL} pshm write /bench-big`,
    ddWrite: `head -c ${BYTES} /dev/zero | dd of=/dev/shm/bench-dd bs=1M conv=notrunc status=none iflag=fullblock`,
    ipcctlRead: `${IPCCTL} pshm read /bench-big > /dev/null`,
    ddRead: `dd if=/dev/shm/bench-dd of=/dev/null bs=1M status=none`,
    ipcctlReadPipe: `${IPCCTL} pshm read /bench-big | cat > /dev/null`,
    ddReadPipe: `dd if=/dev/shm/bench-dd bs=1M status=none | cat > /dev/null`,
  },
  rounds,
);
const rate = (ms) => 256 / (ms / 1000);
console.log(`\n2. pshm: 256 MiB (median of ${rounds})`);
row('dd of=/dev/shm/NAME (from a pipe)', rate(p.ddWrite), 'MiB/s');
row('ipcctl pshm write (from a pipe)', rate(p.ipcctlWrite), 'MiB/s', p.ddWrite / p.ipcctlWrite);
row('dd if=/dev/shm/NAME > /dev/null', rate(p.ddRead), 'MiB/s');
row('ipcctl pshm read > /dev/null', rate(p.ipcctlRead), 'MiB/s', p.ddRead / p.ipcctlRead);
row('dd if=/dev/shm/NAME | cat', rate(p.ddReadPipe), 'MiB/s');
row('ipcctl pshm read | cat', rate(p.ipcctlReadPipe), 'MiB/s', p.ddReadPipe / p.ipcctlReadPipe);
row('peak RSS ipcctl pshm write 256M', peakMiB(`bash -c 'head -c ${BYTES} /dev/zero | ${IPCCTL} pshm write /bench-big'`), 'MiB');
execFileSync(IPCCTL, ['pshm', 'rm', '/bench-big']);
rmSync('/dev/shm/bench-dd', { force: true });

// --- 3. ls with many objects ------------------------------------------------------
execFileSync(IPCCTL, ['pmq', 'rm', '/bench-c', '/bench-ipcctl']);
const perl = spawnSync(
  'perl',
  [
    '-e',
    `use IPC::SysV qw(IPC_PRIVATE IPC_CREAT);
     for my $i (0 .. 1999) {
       my $k = $i % 3;
       my $ok = $k == 0 ? msgget(IPC_PRIVATE, IPC_CREAT | 0600) : $k == 1 ? shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600) : semget(IPC_PRIVATE, 4, IPC_CREAT | 0600);
       defined $ok or die "object $i: $!";
     }`,
  ],
  { stdio: 'inherit' },
);
if (perl.status !== 0) process.exit(1);
// 200 POSIX objects, made by one Python process through libc (70 small queues, 65 segments, 65 semaphores).
execFileSync('/usr/bin/python3', [
  '-c',
  `import ctypes, os
libc = ctypes.CDLL("libc.so.6", use_errno=True)
libc.sem_open.restype = ctypes.c_void_p
attr = (ctypes.c_long * 8)(0, 1, 64, 0)  # small queues: 70 of them fit RLIMIT_MSGQUEUE
for i in range(70):
    assert libc.mq_open(b"/bq%d" % i, 0o100 | 2, 0o600, attr) >= 0
for i in range(65):
    fd = libc.shm_open(b"/bm%d" % i, 0o100 | 2, 0o600); os.ftruncate(fd, 4096); os.close(fd)
for i in range(65):
    assert libc.sem_open(b"/bs%d" % i, 0o100, 0o600, 1)`,
]);
const lsipcVersion = spawnSync('lsipc', ['--version'], { encoding: 'utf8' }).stdout.trim();
const posixViews = / 2\.(4[1-9]|[5-9]\d)/.test(lsipcVersion);
const lsRounds = Number(process.env.BENCH_LS_ROUNDS ?? 15);
const l = medians(
  {
    node: `${process.execPath} -e 0`,
    ls: `${IPCCTL} ls >/dev/null`,
    lsSysv: `${IPCCTL} ls sysv >/dev/null`,
    lsJson: `${IPCCTL} ls --json >/dev/null`,
    lsPosix: `${IPCCTL} ls posix >/dev/null`,
    lsipc: posixViews
      ? 'lsipc -q >/dev/null && lsipc -m >/dev/null && lsipc -s >/dev/null && lsipc -Q >/dev/null && lsipc -M >/dev/null && lsipc -S >/dev/null'
      : 'lsipc -q >/dev/null && lsipc -m >/dev/null && lsipc -s >/dev/null',
  },
  lsRounds,
);
const counts = JSON.parse(execFileSync(IPCCTL, ['ls', '--summary', '--json'], { encoding: 'utf8' }));
console.log(
  `\n3. ls with ${counts.msgq.queues + counts.shm.segments + counts.sem.sets} System V and ${counts.pmq.queues + counts.pshm.segments + counts.psem.semaphores} POSIX objects (median of ${lsRounds}; ${lsipcVersion}${posixViews ? '' : ': no POSIX views, so lsipc lists the System V kinds only'})`,
);
row('node -e 0', l.node, 'ms');
row('ipcctl ls sysv (System V only)', l.lsSysv, 'ms', l.lsSysv / l.node);
row('ipcctl ls (every kind)', l.ls, 'ms', l.ls / l.node);
row('ipcctl ls --json (every kind)', l.lsJson, 'ms', l.lsJson / l.node);
row('ipcctl ls posix (with MSGS: loads libc)', l.lsPosix, 'ms', l.lsPosix / l.node);
row(`lsipc ${posixViews ? '-q -m -s -Q -M -S' : '-q -m -s'}`, l.lsipc, 'ms', l.ls / l.lsipc);
console.log(`   ratios: ipcctl ls / node -e 0 (target <= 1.5: ${l.ls / l.node <= 1.5 ? 'met' : 'NOT met'}); last row ipcctl ls / lsipc`);
row('peak RSS ipcctl ls', peakMiB(`${IPCCTL} ls >/dev/null`), 'MiB');
row('peak RSS node -e 0', peakMiB(`${process.execPath} -e 0`), 'MiB');
void timeShell;

// msgq benchmarks, ipcctl and its peers in one run:
//  1. start-up: `ipcctl msgq stat ID` against `node -e 0`, the floor for any
//     Node program (target: median ratio <= 1.25);
//  2. throughput: 100,000 messages of 1 KiB through `msgq send --lines` and
//     then `msgq recv --all`, against the same through Perl IPC::SysV
//     (target: at least half of Perl's rate);
//  3. both ends at once: 100,000 x 1 KiB through `msgq send --lines` and
//     `msgq recv --count` running together on a queue of the default size
//     (16384 bytes), so that both meet a full or empty queue all the time,
//     against the same pair in Perl (target: at least Perl's rate), and
//     against a C pair (built here), one blocking msgsnd/msgrcv per message:
//     the kernel's own floor for that queue. ipcctl's floor is that plus
//     its start-up (the pair's two start-ups run at once). The same three
//     pairs run once more with both ends on one CPU (taskset -c 0), where
//     every wake-up of a waiting end can preempt the other: how each pair
//     copes when the scheduler puts the two ends together, which it does
//     often, and always when the other CPUs are busy.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IPCCTL, medians, peakMiB, row, timeShell } from './lib.mjs';

const N = Number(process.env.BENCH_MSGS ?? 100_000);
const SIZE = 1024;

function ipcctl(...args) {
  const r = spawnSync(IPCCTL, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ipcctl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

// Both ends of the C pair: `s ID` sends each line of stdin as one message,
// `r ID N` receives N and writes each as a line.
const C_PAIR = `#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/msg.h>
static struct { long type; char text[65536]; } m;
int main(int argc, char **argv) {
  int id = atoi(argv[2]);
  if (argv[1][0] == 's') {
    static char line[65600];
    while (fgets(line, sizeof line, stdin)) {
      size_t n = strlen(line);
      if (n && line[n - 1] == '\\n') n--;
      m.type = 1; memcpy(m.text, line, n);
      if (msgsnd(id, &m, n, 0)) return 1;
    }
  } else {
    for (long i = atol(argv[3]); i > 0; i--) {
      ssize_t k = msgrcv(id, &m, sizeof m.text, 0, 0);
      if (k < 0) return 1;
      fwrite(m.text, 1, (size_t)k, stdout); putchar('\\n');
    }
  }
  return 0;
}
`;

const dir = mkdtempSync(join(tmpdir(), 'ipcctl-bench-'));
const ids = [];
const inner = process.argv[2] === '--throughput';
if (!inner) {
  // The throughput part needs one queue that holds all messages at once, so
  // that each side runs alone: kernel.msgmnb is raised in a private IPC
  // namespace (its own sysctl), which the bench process enters here.
  try {
    startup();
  } finally {
    cleanup();
  }
  const r = spawnSync('unshare', ['--ipc', '--', process.execPath, new URL(import.meta.url).pathname, '--throughput'], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

/** User + system seconds of a shell command and everything it waited for (GNU time). */
function cpuSeconds(cmd) {
  const out = join(dir, 'cpu');
  const r = spawnSync('bash', ['-c', `/usr/bin/time -f '%U %S' -o ${out} bash -c '${cmd.replace(/'/g, "'\\''")}'`], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`failed: ${cmd}`);
  const [u, sys] = readFileSync(out, 'utf8').trim().split('\n').pop().split(' ').map(Number);
  return u + sys;
}

function cleanup() {
  for (const id of ids) spawnSync(IPCCTL, ['msgq', 'rm', id]);
  rmSync(dir, { recursive: true, force: true });
}

function startup() {
  const id = ipcctl('msgq', 'create');
  ids.push(id);
  const m = medians({ node: 'node -e 0', stat: `${IPCCTL} msgq stat ${id}`, help: `${IPCCTL} --help` }, 21);
  console.log('start-up (median of 21 runs)');
  row('node -e 0', m.node, 'ms');
  row(`ipcctl msgq stat`, m.stat, 'ms', m.stat / m.node);
  row(`ipcctl --help`, m.help, 'ms', m.help / m.node);
  console.log('(ratio = ipcctl time / node time)');
  const rssNode = peakMiB('node -e 0');
  row('peak memory, node -e 0', rssNode, 'MiB');
  row('peak memory, ipcctl msgq stat', peakMiB(`${IPCCTL} msgq stat ${id}`), 'MiB');
  const bundle = process.env.BENCH_SANDBOX_CA_CERTS;
  if (bundle) {
    // The same with the certificate bundle this machine's environment sets.
    const withCa = { node: `NODE_EXTRA_CA_CERTS=${bundle} node -e 0`, stat: `NODE_EXTRA_CA_CERTS=${bundle} ${IPCCTL} msgq stat ${id}` };
    const c = medians(withCa, 21);
    console.log('start-up with NODE_EXTRA_CA_CERTS set, as in this environment (median of 21 runs)');
    row('node -e 0', c.node, 'ms');
    row('ipcctl msgq stat', c.stat, 'ms', c.stat / c.node);
  }
}

try {
  writeFileSync('/proc/sys/kernel/msgmnb', String(N * SIZE + 1024 * 1024));
  const input = join(dir, 'lines');
  const line = 'x'.repeat(SIZE) + '\n';
  writeFileSync(input, line.repeat(N));
  const q = ipcctl('msgq', 'create');
  ids.push(q);

  const perlSend = `use IPC::SysV; my $id=shift; while (my $l=<STDIN>) { chomp $l; msgsnd($id, pack("l! a*", 1, $l), 0) or die "$!" }`;
  const perlRecv = `use IPC::SysV qw(IPC_NOWAIT); my $id=shift; my $b; my $n=0; while (msgrcv($id, $b, 65536, 0, IPC_NOWAIT)) { print substr($b, 8), "\\n"; $n++ } print STDERR "";`;
  writeFileSync(join(dir, 'send.pl'), perlSend);
  writeFileSync(join(dir, 'recv.pl'), perlRecv);

  const rounds = 3;
  const t = { ipcSend: [], ipcRecv: [], perlSend: [], perlRecv: [] };
  for (let i = 0; i < rounds; i++) {
    t.ipcSend.push(timeShell(`${IPCCTL} msgq send ${q} --lines < ${input}`));
    t.ipcRecv.push(timeShell(`${IPCCTL} msgq recv ${q} --all > /dev/null`));
    t.perlSend.push(timeShell(`perl ${join(dir, 'send.pl')} ${q} < ${input}`));
    t.perlRecv.push(timeShell(`perl ${join(dir, 'recv.pl')} ${q} > /dev/null`));
  }
  const best = (xs) => Math.min(...xs);
  const rate = (ms) => N / (ms / 1000);
  console.log(`\nthroughput: ${N} messages of ${SIZE} bytes (best of ${rounds})`);
  row('perl IPC::SysV send', rate(best(t.perlSend)), 'msg/s');
  row('ipcctl msgq send --lines', rate(best(t.ipcSend)), 'msg/s', best(t.perlSend) / best(t.ipcSend));
  row('perl IPC::SysV recv', rate(best(t.perlRecv)), 'msg/s');
  row('ipcctl msgq recv --all', rate(best(t.ipcRecv)), 'msg/s', best(t.perlRecv) / best(t.ipcRecv));
  const perlBoth = best(t.perlSend) + best(t.perlRecv);
  const ipcBoth = best(t.ipcSend) + best(t.ipcRecv);
  row('perl send+recv', rate(perlBoth), 'msg/s');
  row('ipcctl send+recv', rate(ipcBoth), 'msg/s', perlBoth / ipcBoth);
  console.log('(ratio = ipcctl rate / peer rate; above 1 means ipcctl is faster)');

  // Both ends at once, through a default-size queue (16 messages of 1 KiB fit).
  const small = ipcctl('msgq', 'create');
  ids.push(small);
  ipcctl('msgq', 'set', small, '--max-bytes', '16384');
  const perlPairRecv = `use IPC::SysV; my ($id,$n)=@ARGV; my $b; for (1..$n) { msgrcv($id, $b, 65536, 0, 0) or die "$!"; print substr($b, 8), "\\n" }`;
  writeFileSync(join(dir, 'pair-recv.pl'), perlPairRecv);
  writeFileSync(join(dir, 'pair.c'), C_PAIR);
  execFileSync('gcc', ['-O2', '-o', join(dir, 'pair'), join(dir, 'pair.c')]);
  const hasTaskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
  const cPair = `${join(dir, 'pair')} r ${small} ${N} > /dev/null & r=$!; ${join(dir, 'pair')} s ${small} < ${input}; wait $r`;
  const pair = { ipc: [], perl: [], c: [], start: [], ipcNoHelper: [], ipcCpu: [], perlCpu: [], ipc1: [], perl1: [], c1: [] };
  // A pair command whose shell, and so both ends, may run on CPU 0 only.
  const oneCpu = (cmd) => `taskset -pc 0 $$ > /dev/null; ${cmd}`;
  const ipcPair = `${IPCCTL} msgq recv ${small} --count ${N} > /dev/null & r=$!; ${IPCCTL} msgq send ${small} --lines < ${input}; wait $r`;
  const perlPair = `perl ${join(dir, 'pair-recv.pl')} ${small} ${N} > /dev/null & r=$!; perl ${join(dir, 'send.pl')} ${small} < ${input}; wait $r`;
  for (let i = 0; i < rounds; i++) {
    pair.ipc.push(timeShell(ipcPair));
    pair.perl.push(timeShell(perlPair));
    pair.c.push(timeShell(cPair));
    pair.start.push(timeShell(`${IPCCTL} msgq stat ${small} > /dev/null`));
    // CPU time (user + system, both processes): less at the mercy of a shared machine than wall time.
    pair.ipcCpu.push(cpuSeconds(ipcPair));
    pair.perlCpu.push(cpuSeconds(perlPair));
    if (hasTaskset) {
      pair.ipc1.push(timeShell(oneCpu(ipcPair)));
      pair.perl1.push(timeShell(oneCpu(perlPair)));
      pair.c1.push(timeShell(oneCpu(cPair)));
    }
  }
  if (process.env.BENCH_NO_HELPER_PAIR !== '0') {
    pair.ipcNoHelper.push(
      timeShell(
        `export IPCCTL_NO_C_HELPER=1; ${IPCCTL} msgq recv ${small} --count ${N} > /dev/null & r=$!; ${IPCCTL} msgq send ${small} --lines < ${input}; wait $r`,
      ),
    );
  }
  console.log(`\nboth ends at once: ${N} messages of ${SIZE} bytes through a 16384-byte queue (best of ${rounds})`);
  row('perl IPC::SysV send | recv', rate(best(pair.perl)), 'msg/s');
  row('ipcctl send --lines | recv --count', rate(best(pair.ipc)), 'msg/s', best(pair.perl) / best(pair.ipc));
  row('C pair, one msgsnd/msgrcv per message', rate(best(pair.c)), 'msg/s', best(pair.perl) / best(pair.c));
  const floor = best(pair.c) + best(pair.start);
  row('floor for ipcctl: C pair + its start-up', rate(floor), 'msg/s', best(pair.perl) / floor);
  row('ipcctl against that floor', rate(best(pair.ipc)), 'msg/s', floor / best(pair.ipc));
  if (pair.ipcNoHelper.length) row('ipcctl, IPCCTL_NO_C_HELPER=1 (1 run)', rate(best(pair.ipcNoHelper)), 'msg/s', best(pair.perl) / best(pair.ipcNoHelper));
  if (hasTaskset) {
    console.log(`both ends on one CPU (taskset -c 0), best of ${rounds}:`);
    row('  perl IPC::SysV send | recv', rate(best(pair.perl1)), 'msg/s');
    row('  ipcctl send --lines | recv --count', rate(best(pair.ipc1)), 'msg/s', best(pair.perl1) / best(pair.ipc1));
    row('  C pair', rate(best(pair.c1)), 'msg/s', best(pair.perl1) / best(pair.c1));
  }
  row('CPU seconds, perl pair', best(pair.perlCpu), 's');
  row('CPU seconds, ipcctl pair', best(pair.ipcCpu), 's', best(pair.perlCpu) / best(pair.ipcCpu));
  console.log('(ratio = ipcctl rate / Perl rate, or Perl CPU / ipcctl CPU; target >= 1)');

  // Peak memory of one more run of each, the queue refilled between them.
  const mem = {
    'perl send': peakMiB(`perl ${join(dir, 'send.pl')} ${q} < ${input}`),
    'perl recv': peakMiB(`perl ${join(dir, 'recv.pl')} ${q} > /dev/null`),
    'ipcctl send --lines': peakMiB(`${IPCCTL} msgq send ${q} --lines < ${input}`),
    'ipcctl recv --all': peakMiB(`${IPCCTL} msgq recv ${q} --all > /dev/null`),
  };
  console.log('\npeak memory (resident), the same transfer:');
  for (const [k, v] of Object.entries(mem)) row(k, v, 'MiB');
} finally {
  cleanup();
}

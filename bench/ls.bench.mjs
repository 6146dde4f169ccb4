// ls benchmark: with 2,000 System V objects in a private IPC namespace,
// `ipcctl ls` and `ipcctl ls --json` against `ipcs` and `lsipc --json`, and
// against `node -e 0` (the floor for any Node program).
// Target: `ipcctl ls` median within 1.5x of `node -e 0`.
// The bench re-runs itself inside `unshare --ipc`, so the objects exist only
// there and vanish with it.
import { spawnSync } from 'node:child_process';
import { IPCCTL, cpuMedians, median, medians, peakMiB, row } from './lib.mjs';

const N = Number(process.env.BENCH_OBJECTS ?? 2000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20);

if (process.argv[2] !== '--inside') {
  const r = spawnSync('unshare', ['--ipc', '--', process.execPath, new URL(import.meta.url).pathname, '--inside'], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

// A third of each kind, made by one Perl process (fast: ~2,000 syscalls).
const perl = spawnSync(
  'perl',
  [
    '-e',
    `use IPC::SysV qw(IPC_PRIVATE IPC_CREAT);
     my $n = shift;
     for my $i (0 .. $n - 1) {
       my $k = $i % 3;
       my $ok = $k == 0 ? msgget(IPC_PRIVATE, IPC_CREAT | 0600)
              : $k == 1 ? shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600)
              :           semget(IPC_PRIVATE, 4, IPC_CREAT | 0600);
       defined $ok or die "object $i: $!";
     }`,
    String(N),
  ],
  { stdio: 'inherit' },
);
if (perl.status !== 0) process.exit(1);

const count = JSON.parse(spawnSync(IPCCTL, ['ls', '--summary', '--json'], { encoding: 'utf8' }).stdout);
const total = count.msgq.queues + count.shm.segments + count.sem.sets;
console.log(`${total} objects (${count.msgq.queues} queues, ${count.shm.segments} segments, ${count.sem.sets} sets), ${ROUNDS} rounds, medians`);

const commands = {
  'node -e 0': `${process.execPath} -e 0`,
  'ipcctl ls': `${IPCCTL} ls >/dev/null`,
  'ipcctl ls --json': `${IPCCTL} ls --json >/dev/null`,
  ipcs: 'ipcs >/dev/null',
  // lsipc shows one kind per run: all three to list what ipcctl ls lists.
  'lsipc --json (-q, -m, -s)': 'lsipc -q --json >/dev/null && lsipc -m --json >/dev/null && lsipc -s --json >/dev/null',
  'ipcctl --help (start-up only)': `${IPCCTL} --help >/dev/null`,
};

function report(title, m) {
  console.log(title);
  const floor = m['node -e 0'];
  for (const [label, ms] of Object.entries(m)) row(label, ms, 'ms', ms / floor);
  console.log(
    `  ipcctl ls vs ipcs ${(m['ipcctl ls'] / m.ipcs).toFixed(2)}x, ipcctl ls --json vs lsipc --json ${(m['ipcctl ls --json'] / m['lsipc --json (-q, -m, -s)']).toFixed(2)}x`,
  );
  const ratio = m['ipcctl ls'] / floor;
  console.log(`  target ipcctl ls <= 1.5x node -e 0: ${ratio <= 1.5 ? 'met' : 'NOT met'} (${ratio.toFixed(2)}x)`);
}

report('wall time (ratios against node -e 0):', medians(commands, ROUNDS));
report('CPU time, user + system (ratios against node -e 0):', cpuMedians(commands, ROUNDS));

console.log('peak memory (resident), one run each:');
row('node -e 0', peakMiB(`${process.execPath} -e 0`), 'MiB');
row('ipcctl ls', peakMiB(`${IPCCTL} ls >/dev/null`), 'MiB');
row('ipcctl ls --json', peakMiB(`${IPCCTL} ls --json >/dev/null`), 'MiB');
row('ipcs', peakMiB('ipcs >/dev/null'), 'MiB');
row('lsipc -q --json', peakMiB('lsipc -q --json >/dev/null'), 'MiB');

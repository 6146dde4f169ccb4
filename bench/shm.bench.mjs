// shm benchmark: write a 256 MiB segment from stdin, then read it back to
// stdout, with `ipcctl shm write/read` and with Python sysv_ipc doing the
// same (read stdin whole, write it at offset 0; read the segment whole,
// write it to stdout). Two plumbings: stdin a regular file and stdout
// /dev/null, and both through pipes (cat). Prints MB/s of each and the
// ratio ipcctl/python (target >= 1.0). Objects are removed at exit.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IPCCTL, median, row, timeShell } from './lib.mjs';

const SIZE = Number(process.env.BENCH_SHM_BYTES ?? 256 * 1024 * 1024);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const PYTHON = '/usr/bin/python3';

const dir = mkdtempSync(join(tmpdir(), 'ipcctl-shm-bench-'));
const input = join(dir, 'input.bin');
const pyWrite = join(dir, 'write.py');
const pyRead = join(dir, 'read.py');
writeFileSync(
  pyWrite,
  `import sys, sysv_ipc
m = sysv_ipc.attach(int(sys.argv[1]))
m.write(sys.stdin.buffer.read(), 0)
m.detach()
`,
);
writeFileSync(
  pyRead,
  `import sys, sysv_ipc
m = sysv_ipc.attach(int(sys.argv[1]))
sys.stdout.buffer.write(m.read())
m.detach()
`,
);

// Incompressible-looking but cheap input: a repeated random MiB.
const mib = Buffer.alloc(1 << 20);
for (let i = 0; i < mib.length; i++) mib[i] = (i * 2654435761) >>> 24;
writeFileSync(input, Buffer.concat(Array.from({ length: SIZE >> 20 }, () => mib)));

const created = [];
function segment() {
  const r = spawnSync(IPCCTL, ['shm', 'create', '--size', String(SIZE)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  const id = Number(r.stdout.trim());
  created.push(id);
  return id;
}

try {
  const a = segment();
  const b = segment();
  // Check both do the job before timing them.
  spawnSync('bash', ['-c', `"${IPCCTL}" shm write ${a} < ${input} && ${PYTHON} ${pyWrite} ${b} < ${input}`], { stdio: 'inherit' });
  const same = spawnSync('bash', ['-c', `cmp <("${IPCCTL}" shm read ${a}) ${input} && cmp <(${PYTHON} ${pyRead} ${b}) ${input}`], { stdio: 'inherit' });
  if (same.status !== 0) throw new Error('a segment did not hold the input');

  const mb = SIZE / 1e6;
  console.log(`${SIZE >> 20} MiB, write then read, ${ROUNDS} rounds (MB/s of the bytes written plus read):`);
  const plumbings = {
    'file stdin, /dev/null stdout': { w: (cmd) => `${cmd} < ${input}`, r: (cmd) => `${cmd} > /dev/null` },
    'pipes (cat | ... | cat)': { w: (cmd) => `cat ${input} | ${cmd}`, r: (cmd) => `${cmd} | cat > /dev/null` },
  };
  for (const [label, p] of Object.entries(plumbings)) {
    const cmds = {
      ipcctl: `${p.w(`"${IPCCTL}" shm write ${a}`)} && ${p.r(`"${IPCCTL}" shm read ${a}`)}`,
      python: `${p.w(`${PYTHON} ${pyWrite} ${b}`)} && ${p.r(`${PYTHON} ${pyRead} ${b}`)}`,
    };
    // Interleaved rounds; the median is the figure, the best shows the
    // floor when other work shares the machine.
    const times = { ipcctl: [], python: [] };
    for (let i = 0; i < ROUNDS; i++) for (const k of Object.keys(cmds)) times[k].push(timeShell(cmds[k]));
    const rate = (ms) => (2 * mb) / (ms / 1000);
    console.log(`-- ${label}`);
    const theirs = rate(median(times.python));
    const ours = rate(median(times.ipcctl));
    row('python3 sysv_ipc (median)', theirs, 'MB/s');
    row('ipcctl shm write + read (median)', ours, 'MB/s', ours / theirs);
    const bestTheirs = rate(Math.min(...times.python));
    const bestOurs = rate(Math.min(...times.ipcctl));
    row('python3 sysv_ipc (best)', bestTheirs, 'MB/s');
    row('ipcctl shm write + read (best)', bestOurs, 'MB/s', bestOurs / bestTheirs);
  }
} finally {
  for (const id of created) spawnSync('ipcrm', ['-m', String(id)]);
  rmSync(dir, { recursive: true, force: true });
}

// Start-up: `ipcctl msgq stat ID`, `ipcctl --help` and `ipcctl ls` against
// `node -e 0` (the floor for any Node program), with the running node and,
// when BENCH_NODE24 names another node binary (e.g. Node 24), with that one
// too. Targets: msgq stat <= 1.6x, --help <= 1.4x node -e 0. On Node 22.1+
// the launcher turns on Node's compile cache (module.enableCompileCache);
// the "cold" row runs with an empty cache directory each time, the others
// with the warm one. Run without NODE_EXTRA_CA_CERTS (bench/run.mjs unsets it).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IPCCTL, cpuMedians, medians, row } from './lib.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 21);
const nodes = [process.execPath, process.env.BENCH_NODE24].filter(Boolean);
const dir = mkdtempSync(join(tmpdir(), 'ipcctl-bench-startup-'));
const made = spawnSync(IPCCTL, ['msgq', 'create'], { encoding: 'utf8' });
const id = made.stdout.trim();
try {
  for (const node of nodes) {
    const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
    const cache = join(dir, `cache-${version}`);
    // NODE_COMPILE_CACHE chooses the directory where the launcher's
    // enableCompileCache() keeps its cache (Node >= 22.1; ignored before).
    const env = `NODE_COMPILE_CACHE=${cache}`;
    const run = (args) => `${env} ${node} ${IPCCTL} ${args} >/dev/null`;
    // Warm the cache (and the page cache) once.
    for (const a of [`msgq stat ${id}`, '--help', 'ls']) spawnSync('bash', ['-c', run(a)]);
    const m = medians(
      {
        node: `${node} -e 0`,
        stat: run(`msgq stat ${id}`),
        help: run('--help'),
        ls: run('ls'),
        cold: `rm -rf ${cache}-cold; NODE_COMPILE_CACHE=${cache}-cold ${node} ${IPCCTL} msgq stat ${id} >/dev/null`,
      },
      ROUNDS,
    );
    const cmds = {
      node: `${node} -e 0`,
      stat: run(`msgq stat ${id}`),
      help: run('--help'),
      ls: run('ls'),
      cold: `rm -rf ${cache}-cold; NODE_COMPILE_CACHE=${cache}-cold ${node} ${IPCCTL} msgq stat ${id} >/dev/null`,
    };
    const c = cpuMedians(cmds, ROUNDS);
    for (const [what, x] of [
      [`wall time, median of ${ROUNDS} runs`, m],
      [`CPU time (user + system), median of ${ROUNDS} runs`, c],
    ]) {
      console.log(`start-up with node ${version}: ${what}`);
      row('node -e 0', x.node, 'ms');
      row('ipcctl msgq stat', x.stat, 'ms', x.stat / x.node);
      row('ipcctl msgq stat, empty compile cache', x.cold, 'ms', x.cold / x.node);
      row('ipcctl --help', x.help, 'ms', x.help / x.node);
      row('ipcctl ls', x.ls, 'ms', x.ls / x.node);
      console.log(`targets: msgq stat <= 1.6x (${x.stat / x.node <= 1.6 ? 'met' : 'NOT met'}), --help <= 1.4x (${x.help / x.node <= 1.4 ? 'met' : 'NOT met'})`);
    }
  }
  console.log('(ratio = ipcctl time / node -e 0 time; the machine is shared: figures vary)');
} finally {
  spawnSync(IPCCTL, ['msgq', 'rm', id]);
  rmSync(dir, { recursive: true, force: true });
}

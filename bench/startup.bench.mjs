// Start-up: `ipcctl msgq stat ID`, `ipcctl --help` and `ipcctl ls` against
// `node -e 0` (the floor for any Node program), with the running node and,
// when BENCH_NODE24 names another node binary (e.g. Node 24), with that one
// too. Targets: msgq stat <= 1.6x, --help <= 1.4x node -e 0.
// Each runs as users run it: bin/ipcctl with that node first on PATH. With
// the node that ran `npm run build` the launcher starts from the group's
// start-up snapshot (dist/snapshots/); the "plain" rows set
// IPCCTL_NO_SNAPSHOT=1, which is also how any other node starts (Node >= 22.1
// then keeps a compile cache: the "cold" row empties it each time).
// Run without NODE_EXTRA_CA_CERTS (bench/run.mjs unsets it).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
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
    const env = `PATH=${dirname(node)}:$PATH NODE_COMPILE_CACHE=${cache}`;
    const run = (args, extra = '') => `${env} ${extra} ${IPCCTL} ${args} >/dev/null`;
    const plain = (args) => run(args, 'IPCCTL_NO_SNAPSHOT=1');
    const cmds = {
      node: `${node} -e 0`,
      stat: run(`msgq stat ${id}`),
      help: run('--help'),
      ls: run('ls'),
      statPlain: plain(`msgq stat ${id}`),
      helpPlain: plain('--help'),
      lsPlain: plain('ls'),
      cold: `rm -rf ${cache}-cold; PATH=${dirname(node)}:$PATH IPCCTL_NO_SNAPSHOT=1 NODE_COMPILE_CACHE=${cache}-cold ${IPCCTL} msgq stat ${id} >/dev/null`,
    };
    // Warm the compile cache (and the page cache) once.
    for (const c of Object.values(cmds)) spawnSync('bash', ['-c', c]);
    const snapshot =
      spawnSync('bash', ['-c', `${env} sh -x ${IPCCTL} --version 2>&1 >/dev/null | grep -c snapshot-blob`], { encoding: 'utf8' }).stdout.trim() !== '0';
    const m = medians(cmds, ROUNDS);
    const c = cpuMedians(cmds, ROUNDS);
    for (const [what, x] of [
      [`wall time, median of ${ROUNDS} runs`, m],
      [`CPU time (user + system), median of ${ROUNDS} runs`, c],
    ]) {
      console.log(`start-up with node ${version} (${snapshot ? 'from the start-up snapshots' : 'no snapshot fits this node: plain starts'}): ${what}`);
      row('node -e 0', x.node, 'ms');
      row('ipcctl msgq stat', x.stat, 'ms', x.stat / x.node);
      row('ipcctl --help', x.help, 'ms', x.help / x.node);
      row('ipcctl ls', x.ls, 'ms', x.ls / x.node);
      row('plain start: ipcctl msgq stat', x.statPlain, 'ms', x.statPlain / x.node);
      row('plain start: ipcctl --help', x.helpPlain, 'ms', x.helpPlain / x.node);
      row('plain start: ipcctl ls', x.lsPlain, 'ms', x.lsPlain / x.node);
      row('plain start, empty compile cache: msgq stat', x.cold, 'ms', x.cold / x.node);
      console.log(`targets: msgq stat <= 1.6x (${x.stat / x.node <= 1.6 ? 'met' : 'NOT met'}), --help <= 1.4x (${x.help / x.node <= 1.4 ? 'met' : 'NOT met'})`);
    }
  }
  console.log('(ratio = ipcctl time / node -e 0 time; the machine is shared: figures vary)');
} finally {
  spawnSync(IPCCTL, ['msgq', 'rm', id]);
  rmSync(dir, { recursive: true, force: true });
}

// Shared helpers for benchmarks: timing commands and printing ratios.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const IPCCTL = fileURLToPath(new URL('../bin/ipcctl', import.meta.url));

/** Wall time of one run of a shell command, in milliseconds. */
export function timeShell(cmd, opts = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('bash', ['-c', cmd], { stdio: ['ignore', 'ignore', 'inherit'], ...opts });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`failed (${r.status}): ${cmd}`);
  return ms;
}

/**
 * Peak resident memory, in MiB, of the one program `cmd` starts (GNU time's
 * maximum resident set size of that process). `cmd` may carry redirections.
 */
export function peakMiB(cmd) {
  const dir = mkdtempSync(join(tmpdir(), 'ipcctl-bench-rss-'));
  try {
    const out = join(dir, 'rss');
    const r = spawnSync('bash', ['-c', `/usr/bin/time -f %M -o ${out} ${cmd}`], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0) throw new Error(`failed (${r.status}): ${cmd}`);
    return Number(readFileSync(out, 'utf8').trim().split('\n').pop()) / 1024;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Run each command `rounds` times, interleaved, and return the medians. */
export function medians(cmds, rounds = 20) {
  const times = Object.fromEntries(Object.keys(cmds).map((k) => [k, []]));
  for (let i = 0; i < rounds; i++) for (const [k, c] of Object.entries(cmds)) times[k].push(timeShell(c));
  return Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
}

export function row(label, value, unit, ratio) {
  console.log(`${label.padEnd(40)} ${value.toFixed(2).padStart(12)} ${unit.padEnd(8)}${ratio === undefined ? '' : `  ratio ${ratio.toFixed(2)}`}`);
}

/**
 * CPU time (user + system) of each command, median of `rounds`: less moved
 * than wall time when other work shares the machine. bash's `times` reports
 * the children's CPU time to the millisecond (GNU time's %U/%S only to the
 * hundredth of a second, too coarse beside a 30 ms `node -e 0`).
 */
export function cpuMedians(cmds, rounds) {
  const times = Object.fromEntries(Object.keys(cmds).map((k) => [k, []]));
  for (let i = 0; i < rounds; i++) {
    for (const [k, c] of Object.entries(cmds)) {
      const r = spawnSync('bash', ['-c', `${c} || exit 1\ntimes`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
      if (r.status !== 0) throw new Error(`failed: ${c}`);
      // Two lines: the shell's own user/system time, then its children's.
      const children = r.stdout.trim().split('\n').pop();
      const [u, sys] = [...children.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
      times[k].push((u + sys) * 1000);
    }
  }
  return Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
}

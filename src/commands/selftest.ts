// ipcctl selftest: round-trips each mechanism on private objects, removes
// what it made, prints a report; exit 0 only when all pass.
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { readKernelNumbers } from '../ipc/sysv/limits.js';
import { OperationError } from '../errors.js';
import { printJson } from '../output/json.js';
import { writeStdout } from '../output/sink.js';
import { settings } from '../output/style.js';
import { semRoundTrip, shmRoundTrip } from './common/selftest-sysv.js';
import { pmqRoundTrip, pshmRoundTrip, psemRoundTrip } from './common/selftest-posix.js';

export interface CheckResult {
  mechanism: string;
  ok: boolean;
  ms: number;
  detail: string;
}

export type Check = () => Promise<string>;

async function msgqRoundTrip(): Promise<string> {
  const { MessageQueue } = await import('../ipc/sysv/msgq.js');
  const { Deadline } = await import('../ipc/wait.js');
  const id = await MessageQueue.create({ key: { kind: 'key', key: 0 }, mode: 0o600, exclusive: true });
  const q = MessageQueue.fromId(id);
  try {
    const payload = Buffer.from(`selftest ${process.pid} \u00e9\u0000\u00ff`);
    await q.send(payload, { type: 7, nowait: true, deadline: new Deadline(undefined) });
    const m = await q.receive(8192, { type: 7, except: false, truncate: false, nowait: true, deadline: new Deadline(undefined) });
    if (!m || m.type !== 7 || !m.data.equals(payload)) throw new Error('message came back different');
    return `queue ${id}: ${payload.length} bytes, type 7`;
  } finally {
    q.close();
    q.remove();
  }
}

export const checks: Array<[string, Check]> = [
  ['msgq', msgqRoundTrip],
  ['shm', shmRoundTrip],
  ['sem', semRoundTrip],
];

// POSIX objects, on names of this process.
checks.push(['pmq', pmqRoundTrip], ['pshm', pshmRoundTrip], ['psem', psemRoundTrip]);

// Sockets on loopback: a TCP and a UNIX stream connection, and UDP datagrams.
checks.push(
  ['tcp', async () => (await import('../ipc/net/sockcheck.js')).tcpRoundTrip()],
  ['udp', async () => (await import('../ipc/net/sockcheck.js')).udpRoundTrip()],
  ['unix', async () => (await import('../ipc/net/sockcheck.js')).unixRoundTrip()],
  // XDR, then an ONC RPC call over UDP and TCP to an unregistered server of our own.
  ['rpc', async () => (await import('../ipc/rpc/selftest.js')).rpcRoundTrip()],
);

/** System V checks need /proc/sysvipc; inside some containers it is missing. */
const SYSV = new Set(['msgq', 'shm', 'sem']);

function sysvAvailable(): boolean {
  return existsSync('/proc/sysvipc/msg');
}

function mainLimits(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of ['msgmax', 'msgmnb', 'msgmni', 'shmmax', 'shmall', 'shmmni']) {
    const [v] = readKernelNumbers(name);
    if (v !== undefined) out[name] = v;
  }
  const sem = readKernelNumbers('sem');
  if (sem.length === 4) Object.assign(out, { semmsl: sem[0]!, semmns: sem[1]!, semopm: sem[2]!, semmni: sem[3]! });
  return out;
}

async function run(): Promise<void> {
  const results: CheckResult[] = [];
  const sysv = sysvAvailable();
  const limits = mainLimits();
  for (const [mechanism, check] of checks) {
    if (SYSV.has(mechanism) && !sysv) {
      results.push({
        mechanism,
        ok: false,
        ms: 0,
        detail: 'System V IPC is not available here (no /proc/sysvipc: a kernel without CONFIG_SYSVIPC, or a sandbox)',
      });
      continue;
    }
    const t0 = performance.now();
    try {
      const detail = await check();
      results.push({ mechanism, ok: true, ms: performance.now() - t0, detail });
    } catch (e) {
      results.push({ mechanism, ok: false, ms: performance.now() - t0, detail: (e as Error).message });
    }
  }
  const ok = results.every((r) => r.ok);
  if (settings.json) printJson({ ok, sysv, limits, results: results.map((r) => ({ ...r, ms: Math.round(r.ms * 1000) / 1000 })) });
  else {
    const { loadChalk } = await import('../output/style.js');
    const chalk = await loadChalk();
    const { renderTable } = await import('../output/table.js');
    writeStdout(
      renderTable(results, [
        { header: 'MECHANISM', value: (r) => r.mechanism },
        { header: 'RESULT', value: (r) => (r.ok ? chalk.green('ok') : chalk.red('FAIL')) },
        { header: 'TIME', value: (r) => `${r.ms.toFixed(2)}ms`, align: 'right' },
        { header: 'DETAIL', value: (r) => r.detail },
      ]),
    );
    // shmmax/shmall default to "no limit" (ULONG_MAX - 2^24): say so.
    const shown = Object.entries(limits).map(([k, v]) => `${k} ${v >= 2 ** 62 ? 'unlimited' : v}`);
    if (shown.length > 0) writeStdout(chalk.dim(`limits: ${shown.join(', ')}`) + '\n');
    writeStdout(
      ok ? chalk.green(`all ${results.length} checks passed\n`) : chalk.red(`${results.filter((r) => !r.ok).length} of ${results.length} checks failed\n`),
    );
  }
  if (!ok)
    throw new OperationError(
      `selftest: ${results
        .filter((r) => !r.ok)
        .map((r) => r.mechanism)
        .join(', ')} failed`,
    );
}

export function register(program: Command): void {
  program
    .command('selftest')
    .description('round-trip every mechanism on private objects; the smoke check')
    .addHelpText('after', '\nExample:\n  ipcctl selftest && echo "IPC works here"')
    .action(run);
}

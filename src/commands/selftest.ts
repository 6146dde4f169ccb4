// ipcctl selftest: round-trips each mechanism on private objects, removes
// what it made, prints a report; exit 0 only when all pass.
import type { Command } from 'commander';
import { OperationError } from '../errors.js';
import { printJson } from '../output/json.js';
import { writeStdout } from '../output/sink.js';
import { settings } from '../output/style.js';

export interface CheckResult {
  mechanism: string;
  ok: boolean;
  ms: number;
  detail: string;
}

export type Check = () => Promise<string>;

async function msgqRoundTrip(): Promise<string> {
  const { MessageQueue } = await import('../ipc/msgq.js');
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

export const checks: Array<[string, Check]> = [['msgq', msgqRoundTrip]];

async function run(): Promise<void> {
  const results: CheckResult[] = [];
  for (const [mechanism, check] of checks) {
    const t0 = performance.now();
    try {
      const detail = await check();
      results.push({ mechanism, ok: true, ms: performance.now() - t0, detail });
    } catch (e) {
      results.push({ mechanism, ok: false, ms: performance.now() - t0, detail: (e as Error).message });
    }
  }
  const ok = results.every((r) => r.ok);
  if (settings.json) printJson({ ok, results: results.map((r) => ({ ...r, ms: Math.round(r.ms * 1000) / 1000 })) });
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
  }
  if (!ok) throw new OperationError(`selftest: ${results.filter((r) => !r.ok).map((r) => r.mechanism).join(', ')} failed`);
}

export function register(program: Command): void {
  program
    .command('selftest')
    .description('round-trip every mechanism on private objects; the smoke check')
    .addHelpText('after', '\nExample:\n  ipcctl selftest && echo "IPC works here"')
    .action(() => run());
}

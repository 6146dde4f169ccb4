// The entry point of a lab's child process: `node dist/lab/worker.js LAB
// ROLE ARGS_JSON`, started by LabRun.spawn with a Node IPC channel. It runs
// one role of one lab and reports through that channel (never on stdout):
// ready, narration notes, then the role's result or its error.
import { exitProcess } from '../exit.js';
import { CliError, EXIT } from '../errors.js';
import { findLab } from './catalog.js';
import type { ToParent, WorkerContext } from './runner.js';

function post(msg: ToParent): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected) return resolve();
    try {
      process.send!(msg, () => resolve());
    } catch {
      resolve();
    }
  });
}

// Messages from the parent, handed out by type in arrival order.
const inbox: Array<Record<string, unknown>> = [];
const waiting: Array<{ type: string; resolve: (m: Record<string, unknown>) => void }> = [];
process.on('message', (m: Record<string, unknown>) => {
  const i = waiting.findIndex((w) => w.type === m.t);
  if (i >= 0) waiting.splice(i, 1)[0]!.resolve(m);
  else inbox.push(m);
});

function message(type: string): Promise<Record<string, unknown>> {
  const i = inbox.findIndex((m) => m.t === type);
  if (i >= 0) return Promise.resolve(inbox.splice(i, 1)[0]!);
  return new Promise((resolve) => waiting.push({ type, resolve }));
}

async function main(): Promise<number> {
  // A parent that is gone (even killed with SIGKILL) takes its children with it.
  process.on('disconnect', () => exitProcess(EXIT.FAILED));
  const [labName, role, json] = process.argv.slice(2);
  const entry = findLab(labName ?? '');
  const fn = entry ? (await entry.load()).roles[role ?? ''] : undefined;
  if (!fn || json === undefined) {
    await post({ t: 'error', message: `no role '${role}' in lab '${labName}'`, exitCode: EXIT.USAGE });
    return EXIT.USAGE;
  }
  const ctx: WorkerContext<unknown> = {
    args: JSON.parse(json) as unknown,
    note: (text) => void post({ t: 'note', text }),
    ready: () => void post({ t: 'ready' }),
    message,
  };
  try {
    const value = await fn(ctx as WorkerContext<never>);
    await post({ t: 'result', value: value ?? null });
    return EXIT.OK;
  } catch (e) {
    const exitCode = e instanceof CliError ? e.exitCode : EXIT.FAILED;
    await post({ t: 'error', message: e instanceof Error ? e.message : String(e), exitCode });
    return exitCode;
  }
}

main().then(exitProcess, () => exitProcess(EXIT.FAILED));

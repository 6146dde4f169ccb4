// ipcctl lab [NAME]: the classic IPC and synchronisation exercises, run with
// real processes on real System V objects. This file parses options and
// renders what the lab reports; the labs themselves (src/lab) never print.
// Lab modules (and with them ffi-rs) are imported only inside the actions.
// Options come from createOption: commander is resolved once, by cli.ts.
import type { Command, Option } from 'commander';
import { UsageError } from '../errors.js';
import type { LabEvent, LabResult } from '../lab/runner.js';
import { labs } from '../lab/catalog.js';
import { printJson } from '../output/json.js';
import { writeStdout } from '../output/sink.js';
import { loadChalk, settings } from '../output/style.js';
import { asDuration, parseInteger } from './common/args.js';

const MAX_PROCESSES = 64;

const count =
  (what: string, min = 1, max = 1_000_000_000) =>
  (v: string) =>
    parseInteger(v, what, min, max);

function list(name: string | undefined): void {
  if (name !== undefined) {
    throw new UsageError(`lab: no lab named '${name}'`, `the labs are ${labs.map((l) => l.name).join(', ')}`);
  }
  if (settings.json) {
    printJson(labs.map((l) => ({ name: l.name, summary: l.summary })));
    return;
  }
  const width = Math.max(...labs.map((l) => l.name.length));
  writeStdout(labs.map((l) => `${l.name.padEnd(width)}  ${l.summary}\n`).join(''));
}

function clock(ms: number): string {
  return `${(ms / 1000).toFixed(2).padStart(6)}s`;
}

/** Figures of a result, for the human summary line: everything but the prose. */
function figures(r: LabResult): string {
  return Object.entries(r)
    .filter(([k]) => !['lab', 'ok', 'verdict'].includes(k))
    .map(([k, v]) => `${k} ${Array.isArray(v) ? (v.length === 0 ? 'none' : v.join(',')) : typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`)
    .join(', ');
}

async function runOne(name: string, opts: Record<string, unknown>, maxMs: number): Promise<void> {
  if (maxMs <= 0) throw new UsageError(`lab ${name}: --max-time must be above 0`);
  const { findLab } = await import('../lab/catalog.js');
  const { runLab } = await import('../lab/runner.js');
  const entry = findLab(name)!;
  const mod = await entry.load();
  const chalk = await loadChalk();
  const paint = { info: (s: string) => s, step: chalk.cyan, good: chalk.green, bad: chalk.red };
  // Narration only for people; --json prints the one result object.
  const onEvent = settings.json ? () => {} : (e: LabEvent) => writeStdout(`${chalk.dim(clock(e.ms))}  ${paint[e.tone](e.text)}\n`);
  const result = await runLab(name, mod, opts, onEvent, maxMs);
  if (settings.json) printJson(result);
  else {
    writeStdout(`${chalk.dim(figures(result))}\n`);
    writeStdout(`${result.ok ? chalk.green.bold('OK') : chalk.red.bold('NOT OK')}: ${result.verdict}\n`);
  }
  // A run that did not behave as the lesson predicts fails, for scripts.
  if (!result.ok) process.exitCode = 1;
}

/** A duration option whose default --help shows as 1s or 250ms, not 1000. */
function duration(cmd: Command, flags: string, help: string, ms: number): Option {
  return cmd.createOption(flags, help).argParser(asDuration).default(ms, formatDuration(ms));
}

function formatDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** One lab's subcommand: its summary, what to observe, and examples. */
function labCommand(parent: Command, name: string, observe: string, examples: string[]): Command {
  const summary = labs.find((l) => l.name === name)!.summary;
  return parent
    .command(name)
    .description(summary)
    .addOption(duration(parent, '--max-time <dur>', 'stop the lab (exit 124) if it runs longer than this', 60_000))
    .addHelpText('after', `\nObserve: ${observe}\n\nExamples:\n${examples.map((e) => `  ${e}\n`).join('')}`);
}

type Common = { maxTime: number };

export function register(program: Command): void {
  const lab = program
    .command('lab')
    .description('classic IPC and synchronisation exercises with real processes; without NAME, list them')
    .argument('[name]', 'the lab to run (see the list)')
    .action((name: string | undefined) => list(name))
    .addHelpText('after', '\nExamples:\n  ipcctl lab\n  ipcctl lab race && ipcctl lab race --lock\n  ipcctl --json lab deadlock');

  labCommand(lab, 'race', 'without --lock the counter usually ends away from 0 (lost updates); with --lock it is always 0.', [
    'ipcctl lab race',
    'ipcctl lab race --lock --processes 8',
    'ipcctl --json lab race --iterations 5000000 | jq .final',
  ])
    .option('--processes <n>', 'number of processes', count('number of processes', 1, MAX_PROCESSES), 4)
    .option('--iterations <n>', 'add/subtract pairs per process (default 1000000, or 2000 with --lock)', count('iterations'))
    .option('--lock', 'guard each update with a semaphore used as a binary semaphore (SEM_UNDO)')
    .action(async (o: Common & { processes: number; iterations?: number; lock?: boolean }) => {
      const { DEFAULT_ITERATIONS, DEFAULT_LOCKED_ITERATIONS } = await import('../lab/race.js');
      const lock = Boolean(o.lock);
      const iterations = o.iterations ?? (lock ? DEFAULT_LOCKED_ITERATIONS : DEFAULT_ITERATIONS);
      await runOne('race', { processes: o.processes, iterations, lock }, o.maxTime);
    });

  labCommand(lab, 'prodcons', 'every item is consumed exactly once, in order per producer; producers wait on a full buffer, consumers on an empty one.', [
    'ipcctl lab prodcons',
    'ipcctl lab prodcons --producers 3 --consumers 1 --buffer 2 --items 1000',
  ])
    .option('--producers <n>', 'number of producer processes', count('number of producers', 1, MAX_PROCESSES), 2)
    .option('--consumers <n>', 'number of consumer processes', count('number of consumers', 1, MAX_PROCESSES), 2)
    .option('--buffer <n>', 'slots in the bounded buffer', count('buffer size', 1, 4096), 4)
    .option('--items <n>', 'items each producer makes', count('number of items', 1, 1_000_000), 500)
    .action(async (o: Common & { producers: number; consumers: number; buffer: number; items: number }) => {
      await runOne('prodcons', { producers: o.producers, consumers: o.consumers, buffer: o.buffer, items: o.items }, o.maxTime);
    });

  labCommand(lab, 'deadlock', 'without --atomic both processes block for ever, each holding what the other needs; with --atomic both finish.', [
    'ipcctl lab deadlock',
    'ipcctl lab deadlock --atomic',
    'ipcctl --json lab deadlock --timeout 300ms',
  ])
    .option('--atomic', 'take both semaphores in one semop (all or nothing): no deadlock')
    .addOption(duration(program, '--timeout <dur>', 'declare a deadlock once both have been blocked this long', 1000))
    .action(async (o: Common & { atomic?: boolean; timeout: number }) => {
      await runOne('deadlock', { atomic: Boolean(o.atomic), timeoutMs: o.timeout }, o.maxTime);
    });

  labCommand(lab, 'msgq-server', 'every reply reaches its own client; with --thief a rogue client takes replies meant for another, counted as misdelivered.', [
    'ipcctl lab msgq-server --clients 5',
    'ipcctl lab msgq-server --thief',
  ])
    .option('--clients <n>', 'number of client processes', count('number of clients', 1, MAX_PROCESSES), 3)
    .option('--requests <n>', 'requests each client sends', count('number of requests', 1, 100), 5)
    .option('--thief', "add a rogue client that receives with another client's pid as the type")
    .action(async (o: Common & { clients: number; requests: number; thief?: boolean }) => {
      await runOne('msgq-server', { clients: o.clients, requests: o.requests, thief: Boolean(o.thief) }, o.maxTime);
    });

  labCommand(lab, 'heartbeat', 'every worker answers each heartbeat in time, except a --stall worker, which is declared unhealthy.', [
    'ipcctl lab heartbeat',
    'ipcctl lab heartbeat --workers 5 --stall 3 --response-time 200ms',
  ])
    .option('--workers <n>', 'number of worker processes', count('number of workers', 1, MAX_PROCESSES), 3)
    .option('--rounds <n>', 'heartbeat rounds', count('number of rounds', 1, 10_000), 3)
    .addOption(duration(program, '--response-time <dur>', 'how long a worker has to answer', 500))
    .option('--stall <n>', 'worker N (1 is the first) stops answering after the first round', count('worker number', 1, MAX_PROCESSES))
    .action(async (o: Common & { workers: number; rounds: number; responseTime: number; stall?: number }) => {
      if (o.stall !== undefined && o.stall > o.workers)
        throw new UsageError(`lab heartbeat: --stall ${o.stall}: there ${o.workers === 1 ? 'is 1 worker' : `are ${o.workers} workers`} (1 to ${o.workers})`);
      if (o.responseTime <= 0) throw new UsageError('lab heartbeat: --response-time must be above 0');
      await runOne('heartbeat', { workers: o.workers, rounds: o.rounds, responseMs: o.responseTime, stall: o.stall ?? null }, o.maxTime);
    });

  labCommand(
    lab,
    'rpc',
    'the client is blocked next to nothing by an asynchronous message, a round trip by a synchronous one, the processing time by an RPC, and processing minus its own work by an asynchronous request.',
    ['ipcctl lab rpc', 'ipcctl lab rpc --process-time 1s --work 600ms'],
  )
    .addOption(duration(program, '--process-time <dur>', "how long the server's work procedure takes", 300))
    .addOption(duration(program, '--work <dur>', 'work the client does while its asynchronous request runs', 200))
    .action(async (o: Common & { processTime: number; work: number }) => {
      if (o.processTime < 40) throw new UsageError('lab rpc: --process-time must be at least 40ms (to be seen beside a loopback round trip)');
      await runOne('rpc', { processMs: o.processTime, workMs: o.work }, o.maxTime);
    });

  labCommand(
    lab,
    'pipeline',
    'triggers come faster than images are processed, so the queue before processing grows; failed mails are retried; every trigger ends as one report.',
    [
      'ipcctl lab pipeline',
      'ipcctl lab pipeline --triggers 100 --interval 10ms --process-time 40ms --mail-failures 10',
      'ipcctl ls --watch msgq    # in another terminal, while it runs',
    ],
  )
    .option('--triggers <n>', 'sensor triggers (pictures taken)', count('number of triggers', 1, 100_000), 20)
    .addOption(duration(program, '--interval <dur>', 'time between triggers', 25))
    .addOption(duration(program, '--process-time <dur>', 'image processing time per picture', 75))
    .option('--mail-failures <n>', 'the first N mail attempts fail and are retried', count('number of mail failures', 0, 100_000), 3)
    .action(async (o: Common & { triggers: number; interval: number; processTime: number; mailFailures: number }) => {
      await runOne('pipeline', { triggers: o.triggers, intervalMs: o.interval, processMs: o.processTime, mailFailures: o.mailFailures }, o.maxTime);
    });
}

// ipcctl event create|set|reset|pulse|wait|stat|rm: parse arguments, call
// ipc/sysv/event.ts, print. An event is one semaphore of a set: `ID:N`
// (N defaults to 0) or -k/-f with --slot N.
import type { Command } from 'commander';
import { EXIT, OperationError, UsageError } from '../errors.js';
import type { EventRef } from '../ipc/sysv/event.js';
import { printJson } from '../output/json.js';
import { writeStdout } from '../output/sink.js';
import { settings } from '../output/style.js';
import { renderTable } from '../output/table.js';
import { addKeyOptions, asDuration, asMode, keySpecFrom, parseId, parseInteger, targetFrom } from './common/args.js';
import type { KeyOpts } from './common/remove-each.js';

type EventOpts = KeyOpts & { slot?: number };

/** `37`, `37:2`, or -k/-f with --slot: the set and the event number. */
function parseTarget(arg: string | undefined, opts: EventOpts, op: string) {
  let num = opts.slot;
  let idArg = arg;
  if (arg !== undefined) {
    const m = /^([^:]*):(.*)$/.exec(arg);
    if (m) {
      if (num !== undefined) throw new UsageError(`${op}: give ID:N or --slot N, not both`);
      idArg = m[1]!;
      num = parseInteger(m[2]!, 'event number', 0, 65535);
      parseId(idArg);
    }
  }
  return { target: targetFrom(idArg, opts, op), num: num ?? 0, explicit: num !== undefined };
}

async function open(arg: string | undefined, opts: EventOpts, op: string): Promise<EventRef> {
  const { target, num } = parseTarget(arg, opts, op);
  const { SemaphoreSet } = await import('../ipc/sysv/sem.js');
  const { EventRef } = await import('../ipc/sysv/event.js');
  const set = target.kind === 'id' ? SemaphoreSet.fromId(target.id) : await SemaphoreSet.fromKey(target);
  return new EventRef(set, num);
}

async function create(opts: KeyOpts & { count: number; auto?: boolean; manual?: boolean; set?: boolean; mode: number; exclusive?: boolean }) {
  if (opts.auto && opts.manual) throw new UsageError('event create: give --manual or --auto, not both');
  const { SemaphoreSet } = await import('../ipc/sysv/sem.js');
  const { eventValue } = await import('../ipc/sysv/event.js');
  const kind = opts.auto ? 'auto' : 'manual';
  const key = keySpecFrom(opts) ?? { kind: 'key' as const, key: 0 };
  const made = await SemaphoreSet.create({
    key,
    count: opts.count,
    values: [eventValue(kind, Boolean(opts.set))],
    mode: opts.mode,
    exclusive: Boolean(opts.exclusive),
    initWaitMs: 3000,
  });
  const { reportCreated } = await import('./common/created.js');
  reportCreated(
    'event create',
    'set',
    made,
    () => (settings.json ? printJson({ id: made.id, count: opts.count, kind, set: Boolean(opts.set), created: made.created }) : writeStdout(`${made.id}\n`)),
    () => SemaphoreSet.fromId(made.id).remove(),
    'sem',
  );
}

function report(ev: EventRef, changed: boolean | undefined) {
  if (settings.json) printJson({ id: ev.set.id, num: ev.num, ...(changed === undefined ? {} : { changed }), set: ev.state().set });
}

async function wait(arg: string | undefined, opts: EventOpts & { timeout?: number }) {
  const ev = await open(arg, opts, 'event wait');
  const { Deadline } = await import('../ipc/wait.js');
  const ok = await ev.wait(new Deadline(opts.timeout));
  if (!ok) throw new OperationError(`event wait ${ev.name}: not set (--timeout 0 only tests)`, EXIT.EMPTY);
}

async function stat(arg: string | undefined, opts: EventOpts) {
  const { target, num, explicit } = parseTarget(arg, opts, 'event stat');
  const { SemaphoreSet } = await import('../ipc/sysv/sem.js');
  const { EventRef } = await import('../ipc/sysv/event.js');
  const set = target.kind === 'id' ? SemaphoreSet.fromId(target.id) : await SemaphoreSet.fromKey(target);
  const nums = explicit ? [num] : Array.from({ length: set.nsems('event stat') ?? 1 }, (_, i) => i);
  const states = nums.map((n) => new EventRef(set, n).state());
  if (settings.json) {
    printJson({ id: set.id, events: states.map((s) => ({ num: s.num, kind: s.kind, state: s.set ? 'set' : 'reset', waiting: s.waiting })) });
    return;
  }
  writeStdout(
    renderTable(states, [
      { header: 'EVENT', value: (s) => `${set.id}:${s.num}` },
      { header: 'KIND', value: (s) => s.kind },
      { header: 'STATE', value: (s) => (s.set ? 'set' : 'reset') },
      { header: 'WAITING', value: (s) => s.waiting, align: 'right' },
    ]),
  );
}

async function rm(arg: string | undefined, opts: EventOpts) {
  const { target, explicit } = parseTarget(arg, opts, 'event rm');
  if (explicit) throw new UsageError('event rm: an event set is removed whole; give its ID without :N (or no --slot)');
  const { SemaphoreSet } = await import('../ipc/sysv/sem.js');
  const set = target.kind === 'id' ? SemaphoreSet.fromId(target.id) : await SemaphoreSet.fromKey(target);
  set.remove();
  if (settings.json) printJson({ removed: [set.id] });
}

function addressed(cmd: Command, program: Command): Command {
  return addKeyOptions(cmd.argument('[event]', 'ID or ID:N (N is the event in the set, 0 by default); or use --key/--path')).addOption(
    program.createOption('--slot <n>', 'the event in a set named by --key/--path').argParser((v) => parseInteger(v, 'slot', 0, 65535)),
  );
}

export function register(program: Command): void {
  const event = program
    .command('event')
    .description('events on System V semaphores: manual-reset (wake every waiter, stay set) or auto-reset (wake one, reset)')
    .addHelpText(
      'after',
      '\nExample (an event controls a worker):\n  ev=$(ipcctl event create)\n  (ipcctl event wait $ev && echo go) &\n  ipcctl event set $ev',
    );

  addKeyOptions(
    event
      .command('create')
      .description('create a set of events (or open the one with that key) and print its id')
      .addOption(
        program
          .createOption('-n, --count <n>', 'how many events in the set')
          .argParser((v) => parseInteger(v, 'count', 1))
          .default(1),
      )
      .option('--manual', 'manual reset: set wakes every waiter and stays set until reset (default)')
      .option('--auto', 'auto reset: set wakes exactly one waiter, and that wait resets it')
      .option('--set', 'start set (signalled)')
      .addOption(program.createOption('-m, --mode <octal>', 'permission bits').argParser(asMode).default(0o600, '0600'))
      .option('-x, --exclusive', 'fail if a set with the key exists (IPC_EXCL)'),
    true,
  )
    .addHelpText('after', '\nExamples:\n  ev=$(ipcctl event create)                 # manual, reset\n  ipcctl event create -k 0x4242 --auto --count 4')
    .action(create);

  addressed(event.command('set').description('set the event: wake its waiters (all, or one for --auto)'), program)
    .addHelpText('after', '\nExample:\n  ipcctl event set 32768:1')
    .action(async (arg: string | undefined, opts: EventOpts) => {
      const ev = await open(arg, opts, 'event set');
      report(ev, ev.setEvent());
    });

  addressed(event.command('reset').description('reset the event: later waits block'), program)
    .addHelpText('after', '\nExample:\n  ipcctl event reset -k 0x4242 --slot 2')
    .action(async (arg: string | undefined, opts: EventOpts) => {
      const ev = await open(arg, opts, 'event reset');
      report(ev, ev.resetEvent());
    });

  addressed(event.command('pulse').description('wake who waits now (all, or one for --auto) and leave the event reset'), program)
    .addHelpText('after', '\nExample:\n  ipcctl event pulse 32768')
    .action(async (arg: string | undefined, opts: EventOpts) => {
      const ev = await open(arg, opts, 'event pulse');
      ev.pulse();
      report(ev, undefined);
    });

  addressed(event.command('wait').description('wait until the event is set (taking it, for --auto); --timeout 0 only tests'), program)
    .addOption(program.createOption('--timeout <dur>', 'give up after DUR (exit 124); 0: exit 0 when set, 3 when not').argParser(asDuration))
    .addHelpText('after', '\nExamples:\n  ipcctl event wait 32768 --timeout 5s\n  ipcctl event wait 32768 --timeout 0 && echo set')
    .action(wait);

  addressed(event.command('stat').description('show each event: kind, state, and how many wait'), program)
    .addHelpText('after', '\nExample:\n  ipcctl event stat 32768 --json')
    .action(stat);

  addressed(event.command('rm').description('remove the event set (waiters fail with EIDRM)'), program)
    .addHelpText('after', '\nExample:\n  ipcctl event rm 32768')
    .action(rm);
}

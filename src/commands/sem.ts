// ipcctl sem create|op|ctl|stat|rm: parse arguments, call SemaphoreSet, hand
// results to output. The domain layer is imported inside each action so
// that `ipcctl sem --help` does not load ffi-rs.
// Options come from program.createOption: commander is resolved once, by cli.ts.
import type { Command } from 'commander';
import { EXIT, IpcError, UsageError } from '../errors.js';
import type { SemaphoreSet } from '../ipc/sysv/sem.js';
import { formatKey, formatMode, printJson } from '../output/json.js';
import { writeStderr, writeStdout } from '../output/sink.js';
import { settings } from '../output/style.js';
import { addKeyOptions, asDuration, asMode, idAndWords, keySpecFrom, parseInteger, targetFrom, type Target } from './common/args.js';
import { printSetStat } from './common/sysv-stat-print.js';
import { removeEach, type KeyOpts } from './common/remove-each.js';
import { spinnerWhileWaiting } from './common/feedback.js';
import {
  collectValues,
  CTL_GETTERS,
  CTL_USAGE,
  ctlWords,
  expectArgs,
  lockCommand,
  parseIndex,
  parseOp,
  parseValue,
  parseValues,
  SEMVMX,
} from './common/sem-args.js';
import { reportCreated } from './common/created.js';
import { once } from './common/once.js';

const waits = once(() => import('../ipc/wait.js'));
const sets = once(() => import('../ipc/sysv/sem.js'));

async function openSet(target: Target): Promise<SemaphoreSet> {
  return (await sets()).SemaphoreSet.open(target);
}

async function create(opts: KeyOpts & { count?: number; value?: number[]; mode: number; exclusive?: boolean; timeout?: number }) {
  const { SemaphoreSet } = await sets();
  const key = keySpecFrom(opts) ?? { kind: 'key' as const, key: 0 };
  const values = opts.value ?? [];
  const made = await SemaphoreSet.create({
    key,
    count: opts.count,
    values,
    mode: opts.mode,
    exclusive: Boolean(opts.exclusive),
    initWaitMs: opts.timeout ?? 3000,
  });
  if (!made.created && values.length > 0) {
    writeStderr(`ipcctl: sem create: set ${made.id} with that key exists; opened it without changing its values\n`);
  }
  reportCreated(
    'sem create',
    'semaphore set',
    made,
    () => {
      if (settings.json) {
        const st = SemaphoreSet.fromId(made.id).stat('sem create');
        printJson({ id: made.id, key: formatKey(st.key), mode: formatMode(st.mode), nsems: st.nsems, created: made.created, values: st.values });
      } else writeStdout(`${made.id}\n`);
    },
    () => SemaphoreSet.fromId(made.id).remove(),
  );
}

async function op(idArg: string | undefined, words: string[], opts: KeyOpts & { undo?: boolean; nowait?: boolean; timeout?: number }) {
  ({ id: idArg, words } = idAndWords(idArg, words, opts));
  if (idArg !== undefined && idArg.includes(':')) throw new UsageError(`sem op: missing ID before '${idArg}' (ipcctl sem op ID ${idArg})`);
  if (opts.nowait && opts.timeout !== undefined) throw new UsageError('sem op: give --nowait or --timeout, not both');
  const target = targetFrom(idArg, opts, 'sem op');
  if (words.length === 0) throw new UsageError('sem op: missing OP: NUM:+N, NUM:-N or NUM:0');
  const ops = words.map(parseOp);
  const set = await openSet(target);
  const { Deadline } = await waits();
  const onWait = spinnerWhileWaiting(`waiting on semaphore set ${set.name}`);
  const done = await set.op(ops, { undo: Boolean(opts.undo), nowait: Boolean(opts.nowait), deadline: new Deadline(opts.timeout), onWait });
  if (!done) {
    throw IpcError.of('EAGAIN', 'sem op', set.name, { detail: 'would block; nothing applied', exitCode: EXIT.EMPTY });
  }
  if (settings.json) printJson({ id: set.id, ops: ops.map((o) => ({ num: o.num, op: o.op })), undo: Boolean(opts.undo) });
}

async function ctl(words: string[], opts: KeyOpts) {
  const { idArg, cmd, cmdRaw, args } = ctlWords(words, opts.key !== undefined || opts.path !== undefined);
  const expect = (n: number) => expectArgs(cmd, args, n);
  const opName = `sem ctl ${cmd}`;
  const set = await openSet(targetFrom(idArg, opts, opName));
  const getter = CTL_GETTERS.get(cmd);
  if (getter) {
    expect(1);
    const num = parseIndex(args[0], opName);
    const value = set.get(getter.field, num);
    return settings.json ? printJson({ id: set.id, num, [getter.json]: value }) : writeStdout(`${value}\n`);
  }
  switch (cmd) {
    case 'getall': {
      expect(0);
      const values = set.getAll();
      return settings.json ? printJson({ id: set.id, values }) : writeStdout(values.join(' ') + '\n');
    }
    case 'setval': {
      expect(2);
      const num = parseIndex(args[0], opName);
      set.setVal(num, parseValue(args[1]!));
      return settings.json ? printJson({ id: set.id, num, value: set.get('val', num) }) : undefined;
    }
    case 'setall':
      set.setAll(parseValues(args));
      return settings.json ? printJson({ id: set.id, values: set.getAll() }) : undefined;
    default:
      throw new UsageError(`sem ctl: unknown command '${cmdRaw}': ${CTL_USAGE}`);
  }
}

async function stat(idArg: string | undefined, opts: KeyOpts) {
  const set = await openSet(targetFrom(idArg, opts, 'sem stat'));
  printSetStat(set.stat(), () => set.details());
}

interface LockCliOptions extends KeyOpts {
  command?: string;
  nowait?: boolean;
  timeout?: number;
  conflictExitCode?: number;
  slot: number;
  take: number;
  value: number;
  mode: number;
}

async function lock(idArg: string | undefined, words: string[], opts: LockCliOptions) {
  const { id, argv } = lockCommand(idArg, words, opts);
  const target = targetFrom(id, opts, 'sem lock');
  const { runLocked } = await import('../ipc/sysv/sem-lock.js');
  const { slot, take, value: initial, mode, timeout: timeoutMs, conflictExitCode } = opts;
  process.exitCode = await runLocked(target, { slot, take, initial, mode, nowait: Boolean(opts.nowait), timeoutMs, conflictExitCode }, argv);
}

async function rm(ids: string[], opts: KeyOpts) {
  await removeEach('sem rm', ids, opts, openSet);
}

export function register(program: Command): void {
  const sem = program
    .command('sem')
    .description('System V semaphores: create, op, ctl, stat, rm, lock')
    .addHelpText(
      'after',
      "\nExample (a mutex held while a command runs, released even if it is killed):\n  ipcctl sem lock -k 0x1234 -- sh -c 'n=$(cat count); echo $((n + 1)) > count'",
    );

  addKeyOptions(
    sem
      .command('create')
      .description('create a set with its initial values (or open the one with that key, unchanged) and print its id')
      .addOption(program.createOption('-n, --count <n>', 'number of semaphores (default: one per --value, or 1)').argParser((v) => parseInteger(v, 'count', 1)))
      .addOption(
        program.createOption('-v, --value <v...>', `initial values, 0 to ${SEMVMX}: one for all, or one per semaphore (default 0)`).argParser(collectValues),
      )
      .addOption(program.createOption('-m, --mode <octal>', 'permission bits').argParser(asMode).default(0o600, '0600'))
      .option('-x, --exclusive', 'fail if a set with the key exists (IPC_EXCL)')
      .addOption(
        program.createOption('--timeout <dur>', 'how long to wait for another creator to initialise an existing set (default 3s)').argParser(asDuration),
      ),
    true,
  )
    .addHelpText('after', '\nExamples:\n  id=$(ipcctl sem create --value 1)              # a mutex\n  ipcctl sem create -k 0x1234 --count 3 --value 0 5 1')
    .action(create);

  addKeyOptions(
    sem
      .command('op')
      .description('apply OPs atomically in one semop: NUM:+N adds, NUM:-N takes (waits), NUM:0 waits for zero')
      .argument('[id]', 'set id (or use --key/--path)')
      .argument('[op...]', 'NUM:+N, NUM:-N or NUM:0')
      .option('-u, --undo', 'undo the ops when this process exits (SEM_UNDO)')
      .option('--nowait', 'exit 3 at once instead of waiting (IPC_NOWAIT)')
      .addOption(program.createOption('--timeout <dur>', 'give up after DUR (semtimedop; exit 124)').argParser(asDuration)),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  ipcctl sem op 32768 0:-1            # take (P)\n  ipcctl sem op 32768 0:+1            # give back (V)\n  ipcctl sem op 32768 0:-1 1:-1 --nowait   # both or neither\n  ipcctl sem op 32768 2:0 --timeout 5s     # wait until semaphore 2 is 0',
    )
    .action(op);

  addKeyOptions(
    sem.command('ctl').description(`read or set values: ${CTL_USAGE}`).argument('<words...>', 'ID then the command (with --key/--path: just the command)'),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  ipcctl sem ctl 32768 getall\n  ipcctl sem ctl 32768 setval 0 1\n  ipcctl sem ctl 32768 getncnt 0       # how many wait to take from semaphore 0',
    )
    .action(ctl);

  addKeyOptions(sem.command('stat').description('show a set: owner, mode, times, and each value with its waiters').argument('[id]', 'set id'))
    .addHelpText('after', '\nExample:\n  ipcctl sem stat 32768 --json')
    .action(stat);

  addKeyOptions(
    sem
      .command('lock')
      .description("take a semaphore (with SEM_UNDO), run CMD, give it back; exit with CMD's status (like flock(1))")
      .argument('[id]', 'set id (or use --key/--path: the set is created with --value when none has the key)')
      .argument('[cmd...]', 'the command and its arguments, after --')
      .option('-c, --command <shell-command>', 'run this with /bin/sh -c instead of CMD')
      .option('-n, --nowait', 'fail at once (exit 1, or -E) when the semaphore is taken')
      .addOption(program.createOption('-w, --timeout <dur>', 'give up after DUR (exit 124, or -E)').argParser(asDuration))
      .addOption(
        program
          .createOption('-E, --conflict-exit-code <n>', 'exit code for --nowait and --timeout failures')
          .argParser((v) => parseInteger(v, 'exit code', 0, 255)),
      )
      .addOption(
        program
          .createOption('--slot <n>', 'which semaphore of the set')
          .argParser((v) => parseInteger(v, 'slot', 0, 65535))
          .default(0),
      )
      .addOption(
        program
          .createOption('--take <n>', 'how many units to take (a counting semaphore lets value/N holders in)')
          .argParser((v) => parseInteger(v, 'take', 1, SEMVMX))
          .default(1),
      )
      .addOption(program.createOption('-v, --value <v>', 'value of each semaphore of a set created here').argParser(parseValue).default(1))
      .addOption(program.createOption('-m, --mode <octal>', 'permission bits of a set created here').argParser(asMode).default(0o600, '0600')),
  )
    .addHelpText(
      'after',
      "\nThe take is made with SEM_UNDO by this ipcctl process, which waits for CMD: if it dies, even by\nSIGKILL, the kernel gives the semaphore back. SIGINT, SIGTERM and SIGHUP are passed to CMD.\n\nExamples:\n  ipcctl sem lock -k 0x1234 -- sh -c 'n=$(cat count); echo $((n + 1)) > count'\n  ipcctl sem lock -f /tmp/job.lock -n -c 'make deploy' || echo 'someone else deploys'\n  ipcctl sem lock -k 0x99 --value 3 -w 10s -- ./worker    # at most 3 workers at once",
    )
    .action(lock);

  addKeyOptions(sem.command('rm').description('remove sets (IPC_RMID); waiters fail with EIDRM').argument('[id...]', 'set ids'))
    .addHelpText('after', '\nExample:\n  ipcctl sem rm 32768')
    .action(rm);
}

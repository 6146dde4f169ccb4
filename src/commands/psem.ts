// ipcctl psem create|post|wait|stat|rm|lock: POSIX named semaphores
// (sem_open). Parse arguments, call PosixSemaphore, hand results to output.
// The domain layer is imported inside each action so that `--help` does not
// load ffi-rs.
// Options come from program.createOption: commander is resolved once, by cli.ts.
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { fileOf } from '../ipc/posix/errors.js';
import { parsePosixName } from '../ipc/posix/names.js';
import { formatMode, printJson } from '../output/json.js';
import { writeStdout } from '../output/sink.js';
import { startSpinner } from '../output/spinner.js';
import { settings } from '../output/style.js';
import { formatTime, renderFields } from '../output/table.js';
import { asCount, asDuration, asMode, parseInteger } from './common/args.js';

const domain = () => import('../ipc/posix/sem.js');
const name = (text: string, op: string) => parsePosixName(text, 'psem', op);

async function create(nameArg: string, opts: { value: number; mode: number; exclusive?: boolean }) {
  const n = name(nameArg, 'psem create');
  const { PosixSemaphore } = await domain();
  const { semaphore, created } = PosixSemaphore.create(n, opts.value, opts.mode, Boolean(opts.exclusive));
  const { reportCreated } = await import('./common/created.js');
  try {
    const value = semaphore.value('psem create');
    reportCreated(
      'psem create',
      'semaphore',
      { id: n, created },
      () => (settings.json ? printJson({ name: n, created, value }) : writeStdout(`${n}\n`)),
      () => PosixSemaphore.remove(n, 'psem create'),
    );
  } finally {
    semaphore.close();
  }
}

async function post(nameArg: string, opts: { count: number }) {
  const n = name(nameArg, 'psem post');
  const { PosixSemaphore } = await domain();
  const s = PosixSemaphore.open(n, 'psem post');
  try {
    s.post(opts.count);
    if (settings.json) printJson({ name: n, posted: opts.count, value: s.value('psem post') });
  } finally {
    s.close();
  }
}

async function wait(nameArg: string, opts: { nowait?: boolean; timeout?: number }) {
  const n = name(nameArg, 'psem wait');
  const { PosixSemaphore } = await domain();
  const { Deadline } = await import('../ipc/wait.js');
  const { EXIT, IpcError } = await import('../errors.js');
  const s = PosixSemaphore.open(n, 'psem wait');
  // Not closed on the way out: a wait given up on may still run on its
  // thread, and sem_close would unmap the sem_t under it. Exit unmaps it.
  if (!s.tryWait()) {
    if (opts.nowait) throw IpcError.of('EAGAIN', 'psem wait', n, { detail: 'the value is 0', exitCode: EXIT.EMPTY });
    const spinner = startSpinner(`waiting on semaphore ${n}`);
    try {
      await s.wait(new Deadline(opts.timeout));
    } finally {
      spinner.stop();
    }
  }
  if (settings.json) printJson({ name: n, value: s.value('psem wait') });
}

async function stat(nameArg: string) {
  const n = name(nameArg, 'psem stat');
  const { PosixSemaphore } = await domain();
  const { statSync } = await import('node:fs');
  const s = PosixSemaphore.open(n, 'psem stat');
  let value: number;
  try {
    value = s.value();
  } finally {
    s.close();
  }
  const st = statSync(fileOf('psem', n));
  const { userName, groupName } = await import('../ipc/users.js');
  const mtime = Math.floor(st.mtimeMs / 1000);
  if (settings.json) {
    printJson({ name: n, mode: formatMode(st.mode), uid: st.uid, gid: st.gid, value, mtime, ctime: Math.floor(st.ctimeMs / 1000) });
    return;
  }
  writeStdout(
    renderFields([
      ['name', n],
      ['owner', `${userName(st.uid)} (uid ${st.uid})`],
      ['group', `${groupName(st.gid)} (gid ${st.gid})`],
      ['mode', formatMode(st.mode)],
      ['value', value],
      ['last change', formatTime(mtime)],
    ]),
  );
}

async function rm(names: string[]) {
  if (names.length === 0) throw new UsageError('psem rm: missing NAME');
  const parsed = names.map((t) => name(t, 'psem rm'));
  const { PosixSemaphore } = await domain();
  const { removeNames } = await import('./common/posix-remove.js');
  removeNames(parsed, (x) => PosixSemaphore.remove(x));
}

/** Refused on purpose; the reason is the man page's. */
function lock(nameArg: string): never {
  name(nameArg, 'psem lock');
  throw new UsageError(
    'psem lock: refused: a named POSIX semaphore has no undo, so a holder killed by SIGKILL (or a crash) would keep the unit for ever and every later lock would hang',
    "use 'ipcctl sem lock', whose System V semaphore the kernel releases (SEM_UNDO) when the holder dies",
  );
}

export function register(program: Command): void {
  const psem = program
    .command('psem')
    .description('POSIX named semaphores (sem_open): create, post, wait, stat, rm')
    .addHelpText('after', '\nExample:\n  ipcctl psem create /slots --value 2 && ipcctl psem wait /slots && ipcctl psem post /slots');

  psem
    .command('create')
    .description('create a semaphore with --value (or open the one with that name) and print its name')
    .argument('<name>', '/NAME (the slash is added when missing)')
    .addOption(
      program
        .createOption('--value <n>', 'initial value (only when it is created now)')
        .argParser((v) => parseInteger(v, 'value', 0, 2 ** 31 - 1))
        .default(0),
    )
    .addOption(program.createOption('-m, --mode <octal>', 'permission bits').argParser(asMode).default(0o600, '0600'))
    .option('-x, --exclusive', 'fail if a semaphore with the name exists (O_EXCL)')
    .addHelpText('after', '\nExample:\n  ipcctl psem create /slots --value 3 -m 0660')
    .action(create);

  psem
    .command('post')
    .description('add to the value (sem_post), waking waiters')
    .argument('<name>', 'the semaphore')
    .addOption(program.createOption('-c, --count <n>', 'post N times').argParser(asCount).default(1))
    .addHelpText('after', '\nExample:\n  ipcctl psem post /slots --count 2')
    .action(post);

  psem
    .command('wait')
    .description('take one unit, waiting while the value is 0 (sem_wait)')
    .argument('<name>', 'the semaphore')
    .option('--nowait', 'exit 3 at once when the value is 0 (sem_trywait)')
    .addOption(program.createOption('--timeout <dur>', 'give up after DUR (exit 124; sem_timedwait)').argParser(asDuration))
    .addHelpText('after', '\nExample:\n  ipcctl psem wait /slots --timeout 5s')
    .action(wait);

  psem
    .command('stat')
    .description('show a semaphore: value (sem_getvalue), owner, mode')
    .argument('<name>', 'the semaphore')
    .addHelpText('after', '\nExample:\n  ipcctl psem stat /slots --json')
    .action(stat);

  psem
    .command('rm')
    .description('remove semaphores (sem_unlink)')
    .argument('[name...]', 'the semaphores')
    .addHelpText('after', '\nExample:\n  ipcctl psem rm /slots')
    .action(rm);

  psem
    .command('lock')
    .description('refused: a POSIX semaphore has no undo (use sem lock)')
    .argument('<name>', 'the semaphore')
    .argument('[command...]', 'the command that would have run')
    .addHelpText('after', '\nExample:\n  ipcctl psem lock /slots -- make    # refused: exit 2, with the reason')
    .action(lock);
}

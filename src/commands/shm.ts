// ipcctl shm create|attach|read|write|stat|set|lock|unlock|rm: parse
// arguments, call SharedMemory, hand results to output. The domain layer is
// imported inside each action so that `ipcctl shm --help` does not load ffi-rs.
// Options come from program.createOption: commander is resolved once, by cli.ts.
import type { Command } from 'commander';
import { EXIT, OperationError, UsageError } from '../errors.js';
import type { SharedMemory } from '../ipc/sysv/shm.js';
import { formatKey, formatMode, payloadFields, printJson } from '../output/json.js';
import { HexDumper } from '../output/hexdump.js';
import { OutputClosedError, writeStderr, writeStdout } from '../output/sink.js';
import { settings } from '../output/style.js';
import { progressWanted, threadProgress } from '../output/progress.js';
import { humanBytes } from '../output/table.js';
import { addKeyOptions, asDuration, asMode, idAndWords, keySpecFrom, parseSize, targetFrom, type Target } from './common/args.js';
import { printSegmentStat } from './common/sysv-stat-print.js';
import { permChanges, requireChange } from './common/perm-view.js';
import { removeEach, type KeyOpts } from './common/remove-each.js';
import { stdinFileSize, stdoutIsCharDevice } from './common/std-fds.js';
import { readerOf } from './common/input.js';
import { reportCreated } from './common/created.js';
import { hold } from './common/hold.js';
import { once } from './common/once.js';

const segments = once(() => import('../ipc/sysv/shm.js'));
const pipes = once(() => import('../ipc/pipes.js'));
const transfers = once(() => import('../ipc/sysv/shm-transfer.js'));

async function openSegment(target: Target): Promise<SharedMemory> {
  return (await segments()).SharedMemory.open(target);
}

const asBytes = (what: string) => (v: string) => parseSize(v, what);

async function create(opts: KeyOpts & { size: number; mode: number; exclusive?: boolean }) {
  const { SharedMemory } = await segments();
  const key = keySpecFrom(opts) ?? { kind: 'key' as const, key: 0 };
  const made = await SharedMemory.createNew({ key, size: opts.size, mode: opts.mode, exclusive: Boolean(opts.exclusive) });
  const id = made.id;
  reportCreated(
    'shm create',
    'segment',
    made,
    () => {
      if (settings.json) {
        const st = SharedMemory.fromId(id).stat('shm create');
        printJson({ id, key: formatKey(st.key), mode: formatMode(st.mode), size: st.size });
      } else writeStdout(`${id}\n`);
    },
    () => SharedMemory.fromId(id).remove(),
  );
}

async function attach(idArg: string | undefined, opts: KeyOpts & { readOnly?: boolean; hold?: number }) {
  const seg = await openSegment(targetFrom(idArg, opts, 'shm attach'));
  const readOnly = Boolean(opts.readOnly);
  const { attachment, stat } = seg.attach(readOnly, 'shm attach');
  noteRemoved(seg, 'shm attach');
  try {
    if (settings.json) printJson({ id: seg.id, size: stat.size, readOnly, holdMs: opts.hold ?? null });
    // On a terminal, a spinner says what we hold and how it ends (nothing under --json).
    await hold(`shm attach ${seg.id}`, `holding segment ${seg.id} attached (${humanBytes(stat.size)}, ${readOnly ? 'read-only' : 'read-write'})`, opts.hold);
  } finally {
    attachment.detach();
  }
}

/** A segment marked for removal still works; say that it (and the data) will not last. */
function noteRemoved(seg: SharedMemory, op: string): void {
  const note = seg.removedNote();
  if (note) writeStderr(`ipcctl: ${op} ${seg.id}: ${note}\n`);
}

/** Offsets and lengths take the size suffixes too: --offset 1M. */
async function read(idArg: string | undefined, opts: ReadOpts) {
  const seg = await openSegment(targetFrom(idArg, opts, 'shm read'));
  if (settings.json && opts.hex) throw new UsageError('shm read: give --json or --hex, not both');
  const progress = threadProgress(`shm read ${seg.id}`, progressWanted(opts.progress));
  try {
    if (settings.json) await readJson(seg, opts);
    else await readRaw(seg, opts, progress.counter);
  } catch (e) {
    await progress.abandon();
    if (e instanceof OutputClosedError) return; // a reader that went away is not an error
    throw e;
  }
  await progress.finish();
  noteRemoved(seg, 'shm read');
}

type ReadOpts = KeyOpts & { offset: number; length?: number; hex?: boolean; progress?: boolean };

async function readJson(seg: SharedMemory, opts: ReadOpts) {
  const { copySegment } = await transfers();
  const data = copySegment(seg, opts.offset, opts.length, (length) => {
    if (length > 64 << 20) throw new OperationError(`shm read ${seg.id}: --json is for up to 64M; read ${length} bytes raw instead`, EXIT.USAGE);
  });
  printJson({ id: seg.id, offset: opts.offset, size: data.length, ...payloadFields(data) });
}

async function readRaw(seg: SharedMemory, opts: ReadOpts, counter: Float64Array) {
  const { readSegment, BULK, PREFAULT_FROM } = await transfers();
  const { preferBulkPipe } = await pipes();
  const hex = opts.hex ? new HexDumper() : null;
  let end = 0;
  const how = { offset: opts.offset, length: opts.length, prefault: false, counter };
  const sized = (length: number) => {
    end = opts.offset + length;
    if (!hex && length >= BULK) preferBulkPipe(1);
    // Touching the pages ahead pays when write(2) will read them; /dev/null
    // never does. Under PREFAULT_FROM bytes it is no call at all, and no
    // fstat of stdout is needed to decide (a batch reads small counters).
    how.prefault = length >= PREFAULT_FROM && (hex !== null || !stdoutIsCharDevice());
    return true;
  };
  readSegment(seg, how, (window, at) => writeStdout(hex ? hex.push(window, at) : window), sized);
  if (hex) writeStdout(hex.end(end));
}

async function write(idArg: string | undefined, text: string[], opts: KeyOpts & { offset: number; progress?: boolean }) {
  ({ id: idArg, words: text } = idAndWords(idArg, text, opts));
  const seg = await openSegment(targetFrom(idArg, opts, 'shm write'));
  const { writeSegment } = await transfers();
  // --progress counts what comes from stdin; DATA on the command line is there at once.
  const progress = threadProgress(`shm write ${seg.id}`, text.length === 0 && progressWanted(opts.progress));
  let written: number;
  try {
    const input = text.length > 0 ? { data: Buffer.from(text.join(' ')) } : { read: readerOf(0), fd: 0, fileSize: stdinFileSize() };
    written = writeSegment(seg, input, opts.offset, progress.counter);
  } catch (e) {
    await progress.abandon();
    throw e;
  }
  await progress.finish();
  noteRemoved(seg, 'shm write');
  if (settings.json) printJson({ id: seg.id, offset: opts.offset, written });
}

async function stat(idArg: string | undefined, opts: KeyOpts) {
  printSegmentStat((await openSegment(targetFrom(idArg, opts, 'shm stat'))).stat());
}

async function set(idArg: string | undefined, opts: KeyOpts & { mode?: number; owner?: string }) {
  requireChange('shm set', opts);
  const seg = await openSegment(targetFrom(idArg, opts, 'shm set'));
  const st = seg.set(permChanges(opts));
  if (settings.json) printJson({ id: st.id, mode: formatMode(st.mode), uid: st.uid, gid: st.gid });
}

async function lock(idArg: string | undefined, opts: KeyOpts, on: boolean) {
  const seg = await openSegment(targetFrom(idArg, opts, on ? 'shm lock' : 'shm unlock'));
  seg.lock(on);
  if (settings.json) printJson({ id: seg.id, locked: seg.stat(on ? 'shm lock' : 'shm unlock').locked });
}

async function rm(ids: string[], opts: KeyOpts) {
  await removeEach('shm rm', ids, opts, openSegment);
}

export function register(program: Command): void {
  const shm = program
    .command('shm')
    .description('System V shared memory: create, attach, read, write, stat, set, lock, unlock, rm')
    .addHelpText('after', '\nExample:\n  id=$(ipcctl shm create --size 4K) && ipcctl shm write $id hello && ipcctl shm read $id --length 5');

  addKeyOptions(
    shm
      .command('create')
      .description('create a segment (or open the one with that key) and print its id')
      .requiredOption('-s, --size <size>', 'size in bytes, or with K, M, G', asBytes('size'))
      .addOption(program.createOption('-m, --mode <octal>', 'permission bits').argParser(asMode).default(0o600, '0600'))
      .option('-x, --exclusive', 'fail if a segment with the key exists (IPC_EXCL)'),
    true,
  )
    .addHelpText('after', '\nExample:\n  id=$(ipcctl shm create --size 1M -k 0x1234 -m 0660)')
    .action(create);

  addKeyOptions(
    shm
      .command('attach')
      .description('attach and stay attached (shows in nattch) until --hold ends or Ctrl-C')
      .argument('[id]', 'segment id (or use --key/--path)')
      .option('-r, --read-only', 'attach read-only (SHM_RDONLY)')
      .addOption(program.createOption('--hold <dur>', 'detach and exit 0 after DUR (default: until Ctrl-C, exit 130)').argParser(asDuration)),
  )
    .addHelpText('after', '\nExample:\n  ipcctl shm attach 32768 --hold 10s &')
    .action(attach);

  addKeyOptions(
    shm
      .command('read')
      .description("write the segment's bytes to stdout (raw, or --hex)")
      .argument('[id]', 'segment id (or use --key/--path)')
      .addOption(program.createOption('-o, --offset <n>', 'first byte (K, M, G allowed)').argParser(asBytes('offset')).default(0))
      .addOption(program.createOption('-l, --length <n>', 'how many bytes (default: to the end)').argParser(asBytes('length')))
      .option('--hex', 'a hex dump (as hexdump -C) instead of raw bytes')
      .option('--progress', 'on a terminal: bytes read and the rate on stderr, and a summary at the end'),
  )
    .addHelpText('after', '\nExamples:\n  ipcctl shm read 32768 --offset 16 --length 4 --hex\n  ipcctl shm read 32768 > segment.bin')
    .action(read);

  addKeyOptions(
    shm
      .command('write')
      .description('write DATA, or stdin, into the segment; refused whole if it does not fit')
      .argument('[id]', 'segment id (or use --key/--path)')
      .argument('[data...]', 'the bytes to write (words joined by spaces); stdin when absent')
      .addOption(program.createOption('-o, --offset <n>', 'where to write (K, M, G allowed)').argParser(asBytes('offset')).default(0))
      .option('--progress', 'on a terminal, with stdin: bytes read and the rate on stderr, and a summary at the end'),
  )
    .addHelpText('after', '\nExamples:\n  ipcctl shm write 32768 --offset 16 "hello"\n  ipcctl shm write 32768 < segment.bin')
    .action(write);

  addKeyOptions(shm.command('stat').description('show a segment: size, nattch, pids, times, mode, owner, locked').argument('[id]', 'segment id'))
    .addHelpText('after', '\nExample:\n  ipcctl shm stat 32768 --json')
    .action(stat);

  addKeyOptions(
    shm
      .command('set')
      .description('change mode or owner (IPC_SET)')
      .argument('[id]', 'segment id')
      .addOption(program.createOption('-m, --mode <octal>', 'permission bits').argParser(asMode))
      .option('--owner <uid[:gid]>', 'new owner (name or number)'),
  )
    .addHelpText('after', '\nExample:\n  ipcctl shm set 32768 --mode 0640 --owner alice:staff')
    .action(set);

  addKeyOptions(shm.command('lock').description('keep the segment in RAM, never swapped (SHM_LOCK)').argument('[id]', 'segment id'))
    .addHelpText('after', '\nExample:\n  ipcctl shm lock 32768')
    .action((id: string | undefined, opts: KeyOpts) => lock(id, opts, true));

  addKeyOptions(shm.command('unlock').description('let the segment be swapped again (SHM_UNLOCK)').argument('[id]', 'segment id'))
    .addHelpText('after', '\nExample:\n  ipcctl shm unlock 32768')
    .action((id: string | undefined, opts: KeyOpts) => lock(id, opts, false));

  addKeyOptions(shm.command('rm').description('remove segments (IPC_RMID; gone when the last user detaches)').argument('[id...]', 'segment ids'))
    .addHelpText('after', '\nExample:\n  ipcctl shm rm 32768')
    .action(rm);
}

// ipcctl pshm create|read|write|stat|rm: POSIX shared memory (shm_open).
// Parse arguments, call PosixSegment, hand results to output. The domain
// layer is imported inside each action so that `--help` does not load ffi-rs.
// Options come from program.createOption: commander is resolved once, by cli.ts.
import type { Command } from 'commander';
import { EXIT, OperationError, UsageError } from '../errors.js';
import { parsePosixName } from '../ipc/posix/names.js';
import { HexDumper } from '../output/hexdump.js';
import { formatMode, payloadFields, printJson } from '../output/json.js';
import { OutputClosedError, writeStdout } from '../output/sink.js';
import { settings } from '../output/style.js';
import { asMode, parseSize } from './common/args.js';
import { readerOf } from './common/input.js';
import { stdinFileSize } from './common/std-fds.js';

const domain = () => import('../ipc/posix/shm.js');
const name = (text: string, op: string) => parsePosixName(text, 'pshm', op);
const asBytes = (what: string) => (v: string) => parseSize(v, what);
/** From this many bytes on, a bigger pipe pays for its one fcntl. */
const BULK = 1 << 20;

async function create(nameArg: string, opts: { size: number; mode: number; exclusive?: boolean }) {
  const n = name(nameArg, 'pshm create');
  const { PosixSegment } = await domain();
  const { segment, created } = PosixSegment.create(n, opts.size, opts.mode, Boolean(opts.exclusive));
  const { reportCreated } = await import('./common/created.js');
  try {
    const st = segment.stat();
    reportCreated(
      'pshm create',
      'segment',
      { id: n, created },
      () => (settings.json ? printJson({ name: n, created, size: st.size, mode: formatMode(st.mode) }) : writeStdout(`${n}\n`)),
      () => PosixSegment.remove(n, 'pshm create'),
    );
  } finally {
    segment.close();
  }
}

async function read(nameArg: string, opts: { offset: number; length?: number; hex?: boolean }) {
  const n = name(nameArg, 'pshm read');
  if (settings.json && opts.hex) throw new UsageError('pshm read: give --json or --hex, not both');
  const { PosixSegment } = await domain();
  const seg = PosixSegment.open(n, false, 'pshm read');
  try {
    const length = seg.range('pshm read', opts.offset, opts.length);
    if (settings.json) {
      if (length > 64 << 20) throw new OperationError(`pshm read ${n}: --json is for up to 64M; read ${length} bytes raw instead`, EXIT.USAGE);
      let data = Buffer.alloc(0);
      seg.read(opts.offset, length, (v) => (data = Buffer.from(v)));
      printJson({ name: n, offset: opts.offset, size: length, ...payloadFields(data) });
      return;
    }
    const hex = opts.hex ? new HexDumper() : null;
    if (!hex && length >= BULK) (await import('../ipc/pipes.js')).preferBulkPipe(1);
    let at = opts.offset;
    seg.read(opts.offset, length, (v) => {
      writeStdout(hex ? hex.push(v, at) : v);
      at += v.length;
    });
    if (hex) writeStdout(hex.end(opts.offset + length));
  } catch (e) {
    if (e instanceof OutputClosedError) return; // a reader that went away is not an error
    throw e;
  } finally {
    seg.close();
  }
}

async function write(nameArg: string, data: string[], opts: { offset: number }) {
  const n = name(nameArg, 'pshm write');
  const { PosixSegment } = await domain();
  const { writePosixSegment } = await import('../ipc/posix/shm-transfer.js');
  const seg = PosixSegment.open(n, true, 'pshm write');
  try {
    const input = data.length > 0 ? { data: Buffer.from(data.join(' ')) } : { read: readerOf(0), fileSize: stdinFileSize() };
    const written = await writePosixSegment(seg, n, opts.offset, input);
    if (settings.json) printJson({ name: n, offset: opts.offset, written });
  } finally {
    seg.close();
  }
}

async function stat(nameArg: string) {
  const n = name(nameArg, 'pshm stat');
  const { PosixSegment } = await domain();
  const seg = PosixSegment.open(n, false, 'pshm stat');
  let st;
  try {
    st = seg.stat();
  } finally {
    seg.close();
  }
  const { printPosixSegmentStat } = await import('./common/posix-stat-print.js');
  printPosixSegmentStat(st);
}

async function rm(names: string[]) {
  if (names.length === 0) throw new UsageError('pshm rm: missing NAME');
  const parsed = names.map((t) => name(t, 'pshm rm'));
  const { PosixSegment } = await domain();
  const { removeNames } = await import('./common/posix-remove.js');
  removeNames(parsed, (x) => PosixSegment.remove(x));
}

export function register(program: Command): void {
  const pshm = program
    .command('pshm')
    .description('POSIX shared memory (shm_open): create, read, write, stat, rm')
    .addHelpText('after', '\nExample:\n  ipcctl pshm create /frame --size 4K && echo hi | ipcctl pshm write /frame && ipcctl pshm read /frame --length 2');

  pshm
    .command('create')
    .description('create a segment of --size bytes (or open the one with that name) and print its name')
    .argument('<name>', '/NAME (the slash is added when missing)')
    .requiredOption('-s, --size <bytes>', 'size (suffixes K, M, G)', asBytes('size'))
    .addOption(program.createOption('-m, --mode <octal>', 'permission bits').argParser(asMode).default(0o600, '0600'))
    .option('-x, --exclusive', 'fail if a segment with the name exists (O_EXCL)')
    .addHelpText('after', '\nExample:\n  ipcctl pshm create /frame --size 1M -m 0640')
    .action(create);

  pshm
    .command('read')
    .description('copy bytes of the segment to stdout')
    .argument('<name>', 'the segment')
    .addOption(program.createOption('--offset <bytes>', 'start here').argParser(asBytes('offset')).default(0))
    .addOption(program.createOption('--length <bytes>', 'this many bytes (default: to the end)').argParser(asBytes('length')))
    .option('--hex', 'a hex dump (hexdump -C) instead of raw bytes')
    .addHelpText('after', '\nExample:\n  ipcctl pshm read /frame --offset 16 --length 32 --hex')
    .action(read);

  pshm
    .command('write')
    .description('write DATA, or stdin, into the segment (refused whole if it does not fit)')
    .argument('<name>', 'the segment')
    .argument('[data...]', 'the bytes; stdin when absent')
    .addOption(program.createOption('--offset <bytes>', 'start here').argParser(asBytes('offset')).default(0))
    .addHelpText('after', '\nExample:\n  head -c 4096 /dev/urandom | ipcctl pshm write /frame')
    .action(write);

  pshm
    .command('stat')
    .description('show a segment: size, owner, mode, times (fstat)')
    .argument('<name>', 'the segment')
    .addHelpText('after', '\nExample:\n  ipcctl pshm stat /frame --json')
    .action(stat);

  pshm
    .command('rm')
    .description('remove segments (shm_unlink)')
    .argument('[name...]', 'the segments')
    .addHelpText('after', '\nExample:\n  ipcctl pshm rm /frame')
    .action(rm);
}

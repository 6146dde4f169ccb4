// ipcctl pmq create|send|recv|stat|rm: POSIX message queues. Parse
// arguments, call PosixQueue, hand results to output. The domain layer is
// imported inside each action so that `ipcctl pmq --help` does not load ffi-rs.
// Options come from program.createOption: commander is resolved once, by cli.ts.
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import type { PosixMessage } from '../ipc/posix/mqueue.js';
import { parsePosixName } from '../ipc/posix/names.js';
import { formatMode, jsonLine, payloadFields, printJson } from '../output/json.js';
import { writeStderr, writeStdout } from '../output/sink.js';
import { settings } from '../output/style.js';
import { asCount, asDuration, asMode, parseInteger, parseSize } from './common/args.js';
import { readerOf } from './common/input.js';
import { boundedRecords, readBounded } from './common/posix-input.js';
import { printPosixQueueStat } from './common/posix-stat-print.js';
import { transferStdout } from './common/transfer-stdout.js';

const domain = () => import('../ipc/posix/mqueue.js');
const name = (text: string, op: string) => parsePosixName(text, 'pmq', op);

async function create(nameArg: string, opts: { mode: number; exclusive?: boolean; maxMsgs?: number; msgSize?: number }) {
  const n = name(nameArg, 'pmq create');
  const { PosixQueue } = await domain();
  const { queue, created } = PosixQueue.create(n, { mode: opts.mode, exclusive: Boolean(opts.exclusive), maxmsg: opts.maxMsgs, msgsize: opts.msgSize });
  const { reportCreated } = await import('./common/created.js');
  try {
    const a = queue.attr('pmq create');
    const mode = formatMode(queue.stat().mode);
    reportCreated(
      'pmq create',
      'queue',
      { id: n, created },
      () => (settings.json ? printJson({ name: n, created, maxmsg: a.maxmsg, msgsize: a.msgsize, mode }) : writeStdout(`${n}\n`)),
      () => PosixQueue.remove(n, 'pmq create'),
    );
  } finally {
    queue.close();
  }
}

interface SendOpts {
  priority: number;
  lines?: boolean;
  null?: boolean;
  nowait?: boolean;
  timeout?: number;
}

async function send(nameArg: string, text: string[], opts: SendOpts) {
  if (opts.lines && opts.null) throw new UsageError('pmq send: give --lines or --null, not both');
  const n = name(nameArg, 'pmq send');
  const { PosixQueue } = await domain();
  const { Deadline } = await import('../ipc/wait.js');
  const q = PosixQueue.open(n, 'send');
  const { sendToQueue } = await import('../ipc/posix/mq-send.js');
  const sendOpts = { priority: opts.priority, nowait: Boolean(opts.nowait), deadline: new Deadline(opts.timeout) };
  let sent: number;
  try {
    if (opts.lines || opts.null) {
      const separator = opts.null ? 0 : 10;
      const { readerOfBuffer } = await import('./common/input.js');
      const source = text.length > 0 ? readerOfBuffer(Buffer.from(text.join(' '))) : readerOf(0);
      const records = boundedRecords(source, separator, q.msgsize, () => q.checkSize(q.msgsize + 1, 'pmq send', true) as never);
      sent = await sendToQueue(q, { records, separator }, sendOpts);
    } else {
      const payload = text.length > 0 ? Buffer.from(text.join(' ')) : readBounded(q.msgsize);
      if (payload === null) q.checkSize(q.msgsize + 1, 'pmq send', true);
      sent = await sendToQueue(q, { payload: payload! }, sendOpts);
    }
  } finally {
    q.close();
  }
  if (settings.json) printJson({ name: n, sent });
}

interface RecvOpts {
  nowait?: boolean;
  timeout?: number;
  count?: number;
  all?: boolean;
  null?: boolean;
}

const jsonOf = (m: PosixMessage) => Buffer.from(jsonLine({ priority: m.priority, size: m.data.length, ...payloadFields(m.data) }));

async function recv(nameArg: string, opts: RecvOpts) {
  if (opts.all && opts.count !== undefined) throw new UsageError('pmq recv: give --count or --all, not both');
  const n = name(nameArg, 'pmq recv');
  const { PosixQueue } = await domain();
  const transfer = await import('../ipc/posix/mq-receive.js');
  const { spinnerWhileWaiting } = await import('./common/feedback.js');
  const q = PosixQueue.open(n, 'recv');
  try {
    const report = await transfer.receiveFromQueue(q, transferStdout(transfer.OutputFailure), {
      count: opts.all ? Infinity : (opts.count ?? 1),
      all: Boolean(opts.all),
      several: Boolean(opts.all) || opts.count !== undefined,
      nowait: Boolean(opts.nowait),
      timeoutMs: opts.timeout,
      separator: opts.null ? 0 : 10,
      encode: settings.json ? jsonOf : undefined,
      onWait: spinnerWhileWaiting(`waiting for a message on queue ${n}`),
    });
    if (report.notice) writeStderr(report.notice);
    if (report.signal) process.exitCode = transfer.SIGNAL_EXIT[report.signal];
  } finally {
    q.close();
  }
}

async function stat(nameArg: string) {
  const n = name(nameArg, 'pmq stat');
  const { PosixQueue } = await domain();
  const q = PosixQueue.open(n, 'stat');
  let st;
  try {
    st = q.stat();
  } finally {
    q.close();
  }
  printPosixQueueStat(st);
}

async function rm(names: string[]) {
  if (names.length === 0) throw new UsageError('pmq rm: missing NAME');
  const parsed = names.map((t) => name(t, 'pmq rm'));
  const { PosixQueue } = await domain();
  const { removeNames } = await import('./common/posix-remove.js');
  removeNames(parsed, (x) => PosixQueue.remove(x));
}

export function register(program: Command): void {
  const pmq = program
    .command('pmq')
    .description('POSIX message queues (mq_open): create, send, recv, stat, rm')
    .addHelpText('after', '\nExample:\n  ipcctl pmq create /jobs && ipcctl pmq send /jobs -p 5 hello && ipcctl pmq recv /jobs');

  pmq
    .command('create')
    .description('create a queue (or open the one with that name) and print its name')
    .argument('<name>', '/NAME (the slash is added when missing)')
    .addOption(program.createOption('--max-msgs <n>', 'messages it holds (mq_maxmsg; default fs.mqueue.msg_default)').argParser(asCount))
    .addOption(
      program
        .createOption('--msg-size <bytes>', 'largest message (mq_msgsize; default fs.mqueue.msgsize_default)')
        .argParser((v) => parseSize(v, 'message size')),
    )
    .addOption(program.createOption('-m, --mode <octal>', 'permission bits').argParser(asMode).default(0o600, '0600'))
    .option('-x, --exclusive', 'fail if a queue with the name exists (O_EXCL)')
    .addHelpText('after', '\nExample:\n  ipcctl pmq create /jobs --max-msgs 10 --msg-size 1K -m 0660')
    .action(create);

  pmq
    .command('send')
    .description('send TEXT, or stdin, as a message')
    .argument('<name>', 'the queue')
    .argument('[text...]', 'the message; stdin when absent')
    .addOption(
      program
        .createOption('-p, --priority <n>', 'priority, 0 to 32767 (higher is received first)')
        .argParser((v) => parseInteger(v, 'priority', 0, 32767))
        .default(0),
    )
    .option('--lines', 'one message per line of stdin (newline stripped)')
    .option('-0, --null', 'one message per NUL-terminated record of stdin')
    .option('--nowait', 'fail with exit 3 instead of waiting when the queue is full')
    .addOption(program.createOption('--timeout <dur>', 'give up after DUR (exit 124)').argParser(asDuration))
    .addHelpText('after', '\nExamples:\n  ipcctl pmq send /jobs -p 9 urgent\n  seq 10 | ipcctl pmq send /jobs --lines')
    .action(send);

  pmq
    .command('recv')
    .description('receive messages, highest priority first; payload bytes to stdout')
    .argument('<name>', 'the queue')
    .option('--nowait', 'exit 3 at once when no message is there')
    .addOption(program.createOption('--timeout <dur>', 'give up after DUR (exit 124)').argParser(asDuration))
    .addOption(program.createOption('-n, --count <n>', 'receive N messages').argParser(asCount))
    .option('--all', 'drain the messages there now, then exit 0')
    .option('-0, --null', 'end each message with NUL instead of newline (with --count/--all)')
    .addHelpText('after', '\nExamples:\n  ipcctl pmq recv /jobs --timeout 5s\n  ipcctl --json pmq recv /jobs --all')
    .action(recv);

  pmq
    .command('stat')
    .description('show a queue: attributes (mq_getattr), owner, mode')
    .argument('<name>', 'the queue')
    .addHelpText('after', '\nExample:\n  ipcctl pmq stat /jobs --json')
    .action(stat);

  pmq
    .command('rm')
    .description('remove queues (mq_unlink)')
    .argument('[name...]', 'the queues')
    .addHelpText('after', '\nExample:\n  ipcctl pmq rm /jobs')
    .action(rm);
}

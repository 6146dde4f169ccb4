// ipcctl msgq create|send|recv|stat|set|rm: parse arguments, call
// MessageQueue, hand results to output. The domain layer is imported inside
// each action so that `ipcctl msgq --help` does not load ffi-rs.
// Options come from program.createOption: commander is resolved once, by cli.ts.
import type { Command } from 'commander';
import type { MessageQueue } from '../ipc/sysv/msgq.js';
import { formatKey, formatMode, printJson } from '../output/json.js';
import { writeStderr, writeStdout } from '../output/sink.js';
import { settings } from '../output/style.js';
import { addKeyOptions, asCount, asDuration, asMode, asSize, idAndWords, keySpecFrom, parseSizeUpTo, targetFrom, type Target } from './common/args.js';
import { printQueueStat } from './common/sysv-stat-print.js';
import { permChanges, requireChange } from './common/perm-view.js';
import { spinnerWhileWaiting } from './common/feedback.js';
import { transferStdout } from './common/transfer-stdout.js';
import { removeEach, type KeyOpts } from './common/remove-each.js';
import { readerOf, readerOfBuffer } from './common/input.js';
import { reportCreated } from './common/created.js';
import { checkRecvOptions, checkSendOptions, recvType, sendType } from './common/msgq-args.js';
import { messageJson, peekEncoding } from './common/message-encoding.js';

async function openQueue(target: Target): Promise<MessageQueue> {
  return (await import('../ipc/sysv/msgq.js')).MessageQueue.open(target);
}

async function create(opts: { key?: string; path?: string; proj?: string; mode: number; exclusive?: boolean }) {
  const { MessageQueue } = await import('../ipc/sysv/msgq.js');
  const key = keySpecFrom(opts) ?? { kind: 'key' as const, key: 0 };
  const made = await MessageQueue.createNew({ key, mode: opts.mode, exclusive: Boolean(opts.exclusive) });
  const id = made.id;
  reportCreated(
    'msgq create',
    'queue',
    made,
    () => {
      if (settings.json) {
        const st = MessageQueue.fromId(id).stat('msgq create');
        printJson({ id, key: formatKey(st.key), mode: formatMode(st.mode) });
      } else writeStdout(`${id}\n`);
    },
    () => MessageQueue.fromId(id).remove(),
  );
}

interface SendOpts {
  key?: string;
  path?: string;
  proj?: string;
  type: number;
  lines?: boolean;
  null?: boolean;
  nowait?: boolean;
  timeout?: number;
}

async function send(idArg: string | undefined, text: string[], opts: SendOpts) {
  ({ id: idArg, words: text } = idAndWords(idArg, text, opts));
  checkSendOptions(opts);
  const q = await openQueue(targetFrom(idArg, opts, 'msgq send'));
  const transfer = await import('../ipc/sysv/msgq-transfer.js');
  const input = text.length === 0 ? { read: readerOf(0), fd: 0 } : { read: readerOfBuffer(Buffer.from(text.join(' '))) };
  let sent: number;
  try {
    if (opts.lines || opts.null) {
      const r = await transfer.sendStream(q, input, {
        type: opts.type,
        nowait: Boolean(opts.nowait),
        timeoutMs: opts.timeout,
        separator: opts.null ? 0 : 10,
        onWait: spinnerWhileWaiting(`waiting for room on queue ${q.name}`),
      });
      sent = r.sent;
    } else {
      sent = (await transfer.sendWhole(q, input, { type: opts.type, nowait: Boolean(opts.nowait), timeoutMs: opts.timeout })).sent;
    }
  } finally {
    q.close();
  }
  if (settings.json) printJson({ id: q.id, sent });
}

interface RecvOpts {
  key?: string;
  path?: string;
  proj?: string;
  type: number;
  except?: boolean;
  nowait?: boolean;
  timeout?: number;
  maxSize?: number;
  truncate?: boolean;
  count?: number;
  all?: boolean;
  peek?: boolean;
  null?: boolean;
}

async function recv(idArg: string | undefined, opts: RecvOpts) {
  checkRecvOptions(opts);
  const q = await openQueue(targetFrom(idArg, opts, 'msgq recv'));
  try {
    const capacity = q.receiveCapacity(opts.maxSize);
    const several = Boolean(opts.all) || opts.count !== undefined;
    const count = opts.all ? Infinity : (opts.count ?? 1);
    const transfer = await import('../ipc/sysv/msgq-transfer.js');
    const output = transferStdout(transfer.OutputFailure);
    if (opts.peek) {
      const encode = peekEncoding(settings.json, several, Boolean(opts.null));
      transfer.peekStream(q, output, { type: opts.type, except: Boolean(opts.except), truncate: Boolean(opts.truncate), capacity, count, encode });
      return;
    }
    const report = await transfer.receiveStream(q, output, {
      type: opts.type,
      except: Boolean(opts.except),
      truncate: Boolean(opts.truncate),
      nowait: Boolean(opts.nowait),
      timeoutMs: opts.timeout,
      capacity,
      count,
      all: Boolean(opts.all),
      several,
      separator: several ? (opts.null ? 0 : 10) : -1,
      encode: settings.json ? messageJson : undefined,
      onWait: spinnerWhileWaiting(`waiting for a message on queue ${q.name}`),
    });
    if (report.notice) writeStderr(report.notice);
  } finally {
    q.close();
  }
}

async function stat(idArg: string | undefined, opts: KeyOpts) {
  printQueueStat((await openQueue(targetFrom(idArg, opts, 'msgq stat'))).stat());
}

async function set(idArg: string | undefined, opts: { key?: string; path?: string; proj?: string; mode?: number; owner?: string; maxBytes?: number }) {
  requireChange('msgq set', opts, { '--max-bytes': opts.maxBytes !== undefined });
  const q = await openQueue(targetFrom(idArg, opts, 'msgq set'));
  const st = q.set({ ...permChanges(opts), qbytes: opts.maxBytes });
  if (settings.json) printJson({ id: st.id, mode: formatMode(st.mode), uid: st.uid, gid: st.gid, qbytes: st.qbytes });
}

async function rm(ids: string[], opts: KeyOpts) {
  await removeEach('msgq rm', ids, opts, openQueue);
}

export function register(program: Command): void {
  const msgq = program
    .command('msgq')
    .description('System V message queues: create, send, recv, stat, set, rm')
    .addHelpText('after', '\nExample:\n  id=$(ipcctl msgq create) && ipcctl msgq send $id hello && ipcctl msgq recv $id');

  addKeyOptions(
    msgq
      .command('create')
      .description('create a queue (or open the one with that key) and print its id')
      .addOption(program.createOption('-m, --mode <octal>', 'permission bits').argParser(asMode).default(0o600, '0600'))
      .option('-x, --exclusive', 'fail if a queue with the key exists (IPC_EXCL)'),
    true,
  )
    .addHelpText('after', '\nExample:\n  id=$(ipcctl msgq create -k 0x1234 -m 0660)')
    .action(create);

  addKeyOptions(
    msgq
      .command('send')
      .description('send TEXT, or stdin, as a message')
      .argument('[id]', 'queue id (or use --key/--path)')
      .argument('[text...]', 'the message; stdin when absent')
      .addOption(program.createOption('-t, --type <n>', 'message type, above 0').argParser(sendType).default(1))
      .option('--lines', 'one message per line of stdin (newline stripped)')
      .option('-0, --null', 'one message per NUL-terminated record of stdin')
      .option('--nowait', 'fail with exit 3 instead of waiting when the queue is full (IPC_NOWAIT)')
      .addOption(program.createOption('--timeout <dur>', 'give up after DUR (exit 124)').argParser(asDuration)),
  )
    .addHelpText('after', '\nExamples:\n  ipcctl msgq send 32768 -t 2 "hello"\n  seq 10 | ipcctl msgq send 32768 --lines')
    .action(send);

  addKeyOptions(
    msgq
      .command('recv')
      .description('receive messages; payload bytes to stdout')
      .argument('[id]', 'queue id (or use --key/--path)')
      .addOption(
        program.createOption('-t, --type <n>', '0: first message; N>0: first of type N; N<0: first of lowest type <= |N|').argParser(recvType).default(0),
      )
      .option('--except', 'first message NOT of --type N (MSG_EXCEPT)')
      .option('--nowait', 'exit 3 at once when no message is there (IPC_NOWAIT)')
      .addOption(program.createOption('--timeout <dur>', 'give up after DUR (exit 124)').argParser(asDuration))
      .addOption(program.createOption('--max-size <bytes>', 'receive buffer size (default: the queue limit)').argParser(asSize))
      .option('--truncate', 'cut longer messages to --max-size instead of failing (MSG_NOERROR)')
      .addOption(program.createOption('-n, --count <n>', 'receive N messages').argParser(asCount))
      .option('--all', 'drain the messages there now, then exit 0')
      .option('--peek', 'copy without removing (MSG_COPY)')
      .option('-0, --null', 'end each message with NUL instead of newline (with --count/--all)'),
  )
    .addHelpText('after', '\nExamples:\n  ipcctl msgq recv 32768 -t 2 --timeout 5s\n  ipcctl --json msgq recv 32768 --all')
    .action(recv);

  addKeyOptions(msgq.command('stat').description('show a queue: owner, mode, messages, bytes, pids, times').argument('[id]', 'queue id'))
    .addHelpText('after', '\nExample:\n  ipcctl msgq stat 32768 --json')
    .action(stat);

  addKeyOptions(
    msgq
      .command('set')
      .description('change mode, owner or byte limit (IPC_SET)')
      .argument('[id]', 'queue id')
      .addOption(program.createOption('-m, --mode <octal>', 'permission bits').argParser(asMode))
      .option('--owner <uid[:gid]>', 'new owner (name or number)')
      .addOption(
        program
          .createOption('--max-bytes <bytes>', 'queue byte limit (msg_qbytes)')
          .argParser((v) => parseSizeUpTo(v, 'byte limit', 2 ** 32 - 1, 'msg_qbytes')),
      ),
  )
    .addHelpText('after', '\nExample:\n  ipcctl msgq set 32768 --mode 0666 --max-bytes 64K')
    .action(set);

  addKeyOptions(msgq.command('rm').description('remove queues (IPC_RMID)').argument('[id...]', 'queue ids'))
    .addHelpText('after', '\nExample:\n  ipcctl msgq rm 32768')
    .action(rm);
}

// ipcctl msgq create|send|recv|stat|set|rm: parse arguments, call
// MessageQueue, hand results to output. The domain layer is imported inside
// each action so that `ipcctl msgq --help` does not load ffi-rs.
// Options come from program.createOption: commander is resolved once, by cli.ts.
import type { Command } from 'commander';
import { EXIT, IpcError, UsageError } from '../errors.js';
import type { Message, MessageQueue, ReceivedRun } from '../ipc/msgq.js';
import type { ReadInto } from '../ipc/record-batch.js';
import { formatKey, formatMode, jsonLine, payloadFields, printJson } from '../output/json.js';
import { BatchWriter, OutputClosedError, writeStderr, writeStdout } from '../output/sink.js';
import { settings } from '../output/style.js';
import { formatTime, renderFields } from '../output/table.js';
import { startSpinner } from '../output/spinner.js';
import { addKeyOptions, asCount, asDuration, asMode, asSize, keySpecFrom, parseInteger, parseOwner, parseSizeUpTo, targetFrom, type Target } from './common/args.js';
import { permJson, permRows } from './common/perm-view.js';
import { removeEach, type KeyOpts } from './common/remove-each.js';
import { readAll, readerOf, readerOfBuffer } from './common/input.js';
import { reportCreated } from './common/created.js';

const MAX_TYPE = Number.MAX_SAFE_INTEGER;

async function openQueue(target: Target): Promise<MessageQueue> {
  const { MessageQueue } = await import('../ipc/msgq.js');
  return target.kind === 'id' ? MessageQueue.fromId(target.id) : MessageQueue.fromKey(target);
}

function sendType(v: string): number {
  return parseInteger(v, 'message type', 1, MAX_TYPE);
}

function recvType(v: string): number {
  return parseInteger(v, 'message type', -MAX_TYPE, MAX_TYPE);
}

async function create(opts: { key?: string; path?: string; proj?: string; mode: number; exclusive?: boolean }) {
  const { MessageQueue } = await import('../ipc/msgq.js');
  const key = keySpecFrom(opts) ?? { kind: 'key' as const, key: 0 };
  const made = await MessageQueue.createNew({ key, mode: opts.mode, exclusive: Boolean(opts.exclusive) });
  const id = made.id;
  reportCreated('msgq create', 'queue', made, () => {
    if (settings.json) {
      const st = MessageQueue.fromId(id).stat('msgq create');
      printJson({ id, key: formatKey(st.key), mode: formatMode(st.mode) });
    } else writeStdout(`${id}\n`);
  }, () => MessageQueue.fromId(id).remove());
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
  // With -k/-f the first positional word is text, not an id.
  if ((opts.key !== undefined || opts.path !== undefined) && idArg !== undefined) {
    text = [idArg, ...text];
    idArg = undefined;
  }
  if (opts.lines && opts.null) throw new UsageError('msgq send: give --lines or --null, not both');
  const q = await openQueue(targetFrom(idArg, opts, 'msgq send'));
  const { Deadline } = await import('../ipc/wait.js');
  const sendOpts = { type: opts.type, nowait: Boolean(opts.nowait), deadline: new Deadline(opts.timeout) };
  let sent = 0;
  const full = () =>
    new IpcError(11, 'msgq send', q.name, {
      code: 'EAGAIN',
      detail: `the queue is full; sent ${sent} message${sent === 1 ? '' : 's'}`,
      exitCode: EXIT.EMPTY,
    });
  // The common case (room on the queue) stays synchronous: an await per
  // message would cost more than the system call.
  const slowSend = async (payload: Uint8Array) => {
    if (sendOpts.nowait || !(await q.sendWaiting(payload, sendOpts))) throw full();
    sent++;
  };
  const trySend = (payload: Uint8Array): boolean => {
    if (!q.sendNow(payload, sendOpts.type)) return false;
    sent++;
    return true;
  };
  // --lines/--null: records go many per native call, read straight into
  // the memory msgsnd reads; a lone message goes by itself.
  const sendRecords = async (read: ReadInto) => {
    const { RecordBatch } = await import('../ipc/record-batch.js');
    const records = new RecordBatch(opts.null ? 0 : 10);
    try {
      while (records.next(read)) {
        for (let i = 0; i < records.count; ) {
          const r = q.sendBatchNow(records, i, sendOpts.type);
          sent += r.sent;
          i += r.sent;
          if (r.error) throw r.error;
          if (i === records.count) break;
          // The queue is full, or this record needs its size checked first.
          const payload = records.record(i++);
          if (!trySend(payload)) await slowSend(payload);
        }
      }
    } finally {
      records.free();
    }
  };
  try {
    if (opts.lines || opts.null) await sendRecords(text.length === 0 ? readerOf(0) : readerOfBuffer(Buffer.from(text.join(' '))));
    else {
      const payload = text.length === 0 ? readAll() : Buffer.from(text.join(' '));
      if (!trySend(payload)) await slowSend(payload);
    }
  } catch (e) {
    // Say how many went out before the failure: exactly those are on the queue.
    if (sent > 0 && !(e instanceof IpcError && e.code === 'EAGAIN') && e instanceof Error && 'exitCode' in e) {
      e.message += ` (after sending ${sent} message${sent === 1 ? '' : 's'})`;
    }
    throw e;
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

/** Does a message of type `t` match what --type/--except ask for (used by --peek)? */
function typeMatches(t: number, want: number, except: boolean): boolean {
  if (want === 0) return true;
  if (want > 0) return except ? t !== want : t === want;
  return t <= -want;
}

async function recv(idArg: string | undefined, opts: RecvOpts) {
  if (opts.all && opts.count !== undefined) throw new UsageError('msgq recv: give --count or --all, not both');
  if (opts.except && opts.type <= 0) throw new UsageError('msgq recv: --except needs a --type above 0');
  const q = await openQueue(targetFrom(idArg, opts, 'msgq recv'));
  const { Deadline } = await import('../ipc/wait.js');
  const capacity = q.receiveCapacity(opts.maxSize);
  const several = Boolean(opts.all) || opts.count !== undefined;
  const limit = opts.all ? Infinity : (opts.count ?? 1);
  const sep = Buffer.from(opts.null ? '\0' : '\n');
  const out = new BatchWriter<Message>(1, several ? 64 * 1024 : 0);
  const emit = (m: Message) => {
    if (settings.json) out.push(m, Buffer.from(jsonLine({ type: m.type, size: m.data.length, ...payloadFields(m.data) })));
    else if (several) out.push(m, m.data, sep);
    else out.push(m, m.data);
  };
  let got = 0;
  let empty = false;
  let notEmitted: Message[] = [];
  try {
    if (opts.peek) {
      // MSG_COPY reads by position; --type filters the copies here.
      for (let index = 0; got < limit; index++) {
        const m = q.peek(index, capacity, Boolean(opts.truncate));
        if (!m) break;
        if (typeMatches(m.type, opts.type, Boolean(opts.except))) {
          emit(m);
          got++;
        }
      }
      out.flush();
      if (got === 0) empty = true;
    } else {
      const deadline = new Deadline(opts.timeout);
      const ropts = { type: opts.type, except: Boolean(opts.except), truncate: Boolean(opts.truncate), nowait: Boolean(opts.nowait) || Boolean(opts.all), deadline };
      const handOver = (batch: Message[]) => {
        for (let i = 0; i < batch.length; i++) {
          try {
            emit(batch[i]!);
          } catch (e) {
            // Taken but never handed to the writer: these go back too.
            notEmitted = batch.slice(e instanceof OutputClosedError ? i + 1 : i);
            throw e;
          }
        }
      };
      // Plain text of several messages: the run is written as it came.
      const writeRun = (run: ReceivedRun) => {
        out.flush(); // messages received one by one before this run go first
        try {
          writeStdout(run.bytes);
        } catch (e) {
          if (e instanceof OutputClosedError) notEmitted = run.messages(run.firstUnwritten(e.written));
          throw e;
        }
      };
      while (got < limit) {
        if (several) {
          // Whatever is there now comes many messages per native call.
          const run = q.receiveRunNow(capacity, ropts, Math.min(limit - got, 1 << 30), settings.json ? -1 : sep[0]!);
          if (run) {
            got += run.count;
            if (settings.json) handOver(run.messages());
            else writeRun(run);
            continue;
          }
        }
        let m = several ? null : q.receiveNow(capacity, ropts);
        if (!m && !ropts.nowait) {
          out.flush(); // what we have goes out before we wait
          const spinner = startSpinner(`waiting for a message on queue ${q.name}`);
          try {
            m = await q.receive(capacity, ropts);
          } finally {
            spinner.stop();
          }
        }
        if (!m) {
          empty = !opts.all;
          break;
        }
        got++;
        handOver([m]);
      }
      out.flush();
    }
  } catch (e) {
    if (e instanceof OutputClosedError) {
      if (!opts.peek) {
        const back = [...out.unwritten, ...notEmitted];
        for (const m of back) await q.putBack(m);
        if (back.length > 0) {
          const n = back.length;
          writeStderr(`ipcctl: msgq recv ${q.name}: output closed; put ${n} message${n === 1 ? '' : 's'} back on the queue (at its tail)\n`);
        }
      }
      return; // a reader that went away is not an error
    }
    for (const m of notEmitted) await q.putBack(m);
    throw e;
  } finally {
    q.close();
  }
  if (empty) {
    throw new IpcError(42, 'msgq recv', q.name, {
      code: 'ENOMSG',
      detail: got === 0 ? 'no message' + (opts.type !== 0 ? ` of type ${opts.type}` : '') : `only ${got} message${got === 1 ? '' : 's'}`,
      exitCode: EXIT.EMPTY,
    });
  }
}

async function stat(idArg: string | undefined, opts: { key?: string; path?: string; proj?: string }) {
  const q = await openQueue(targetFrom(idArg, opts, 'msgq stat'));
  const st = q.stat();
  if (settings.json) {
    printJson({
      ...permJson(st),
      qnum: st.qnum,
      cbytes: st.cbytes,
      qbytes: st.qbytes,
      lspid: st.lspid,
      lrpid: st.lrpid,
      stime: st.stime,
      rtime: st.rtime,
      ctime: st.ctime,
    });
    return;
  }
  writeStdout(
    renderFields([
      ...permRows(st),
      ['messages', st.qnum],
      ['bytes', st.cbytes],
      ['max bytes', st.qbytes],
      ['last send pid', st.lspid],
      ['last recv pid', st.lrpid],
      ['last send', formatTime(st.stime)],
      ['last recv', formatTime(st.rtime)],
      ['last change', formatTime(st.ctime)],
    ]),
  );
}

async function set(idArg: string | undefined, opts: { key?: string; path?: string; proj?: string; mode?: number; owner?: string; maxBytes?: number }) {
  if (opts.mode === undefined && opts.owner === undefined && opts.maxBytes === undefined) {
    throw new UsageError('msgq set: nothing to change: give --mode, --owner or --max-bytes');
  }
  const q = await openQueue(targetFrom(idArg, opts, 'msgq set'));
  const { userId, groupId } = await import('../ipc/users.js');
  const owner = opts.owner !== undefined ? parseOwner(opts.owner) : {};
  const st = q.set({
    mode: opts.mode,
    uid: owner.uid !== undefined ? userId(owner.uid) : undefined,
    gid: owner.gid !== undefined ? groupId(owner.gid) : undefined,
    qbytes: opts.maxBytes,
  });
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
    .action((opts) => create(opts));

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
    .action((id, text, opts) => send(id, text, opts));

  addKeyOptions(
    msgq
      .command('recv')
      .description('receive messages; payload bytes to stdout')
      .argument('[id]', 'queue id (or use --key/--path)')
      .addOption(program.createOption('-t, --type <n>', '0: first message; N>0: first of type N; N<0: first of lowest type <= |N|').argParser(recvType).default(0))
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
    .action((id, opts) => recv(id, opts));

  addKeyOptions(msgq.command('stat').description('show a queue: owner, mode, messages, bytes, pids, times').argument('[id]', 'queue id'))
    .addHelpText('after', '\nExample:\n  ipcctl msgq stat 32768 --json')
    .action((id, opts) => stat(id, opts));

  addKeyOptions(
    msgq
      .command('set')
      .description('change mode, owner or byte limit (IPC_SET)')
      .argument('[id]', 'queue id')
      .addOption(program.createOption('-m, --mode <octal>', 'permission bits').argParser(asMode))
      .option('--owner <uid[:gid]>', 'new owner (name or number)')
      .addOption(program.createOption('--max-bytes <bytes>', 'queue byte limit (msg_qbytes)').argParser((v) => parseSizeUpTo(v, 'byte limit', 2 ** 32 - 1, 'msg_qbytes'))),
  )
    .addHelpText('after', '\nExample:\n  ipcctl msgq set 32768 --mode 0666 --max-bytes 64K')
    .action((id, opts) => set(id, opts));

  addKeyOptions(msgq.command('rm').description('remove queues (IPC_RMID)').argument('[id...]', 'queue ids'))
    .addHelpText('after', '\nExample:\n  ipcctl msgq rm 32768')
    .action((ids, opts) => rm(ids, opts));
}

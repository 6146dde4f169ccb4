// PosixQueue: a POSIX message queue as the commands use it. Typed values in,
// typed values or IpcError out; never prints. The descriptor is opened
// O_NONBLOCK: a send or receive is tried at once, and only when it must wait
// does it wait, in poll(2) (see poll-wait.ts). Messages come out in the
// kernel's order: highest priority first, FIFO within a priority.
import { fchmodSync, fstatSync, readFileSync, statSync } from 'node:fs';
import { EXIT, IpcError, OperationError } from '../../errors.js';
import * as native from '../../native/posix/mqueue.js';
import type * as Batch from '../../native/posix/mq-batch.js';
import type { RecordBatch } from '../sysv/record-batch.js';
import { POLLIN, POLLOUT } from '../../native/poll.js';
import { type Deadline } from '../wait.js';
import { relabelPosix } from './errors.js';
import { MQ_PRIO_MAX, readMqueueLimits } from './limits.js';
import { waitUntilReady } from './poll-wait.js';

export interface PosixMessage {
  priority: number;
  data: Buffer;
}

export interface QueueStat {
  name: string;
  maxmsg: number;
  msgsize: number;
  curmsgs: number;
  /** mq_flags: O_NONBLOCK is the only flag Linux keeps. */
  nonblock: boolean;
  mode: number;
  uid: number;
  gid: number;
  /** Bytes in the queue's messages (QSIZE of its /dev/mqueue file), when mounted. */
  size: number | null;
  mtime: number;
  ctime: number;
}

export interface CreateQueueOptions {
  mode: number;
  exclusive: boolean;
  maxmsg?: number;
  msgsize?: number;
}

const fail = (e: unknown, op: string, name: string): never => relabelPosix('pmq', e, op, name);

// The batch loops load with the first batch: single messages never need them.
const batch = (): typeof Batch => require('../../native/posix/mq-batch.js') as typeof Batch;

/** Messages one receiveRunNow took, back to back in native memory (valid until the next run). */
export interface ReceivedRun {
  count: number;
  /** Their bytes, each followed by the separator asked for: ready to write. */
  bytes: Buffer;
  /** Messages [from, count) as values of their own (copies), for JSON or put-back. */
  messages(from?: number): PosixMessage[];
  /** The first message not wholly inside the first `written` bytes. */
  firstUnwritten(written: number): number;
}

export { MQ_PRIO_MAX };

export class PosixQueue {
  private buffer: native.MessageBuffer | null = null;
  private area: Batch.MqReceiveArea | null = null;
  private attrCache: native.MqAttr | null = null;
  private readonly ino: number;

  private constructor(
    readonly name: string,
    readonly fd: number,
  ) {
    this.ino = fstatSync(fd).ino;
  }

  /**
   * Create the queue, or open the one with that name (unless exclusive).
   * Attributes apply only to a queue made now; unset ones are the kernel's
   * defaults (fs.mqueue.msg_default / msgsize_default). The mode is set
   * with fchmod after creation, so the umask does not narrow it (as
   * System V modes are not narrowed).
   */
  static create(name: string, opts: CreateQueueOptions): { queue: PosixQueue; created: boolean } {
    const l = readMqueueLimits();
    const attr =
      opts.maxmsg !== undefined || opts.msgsize !== undefined ? { maxmsg: opts.maxmsg ?? l.msg_default, msgsize: opts.msgsize ?? l.msgsize_default } : null;
    const flags = native.O_RDWR | native.O_NONBLOCK | native.O_CLOEXEC;
    let fd: number;
    let created = true;
    try {
      fd = native.openQueue(name, flags | native.O_CREAT | native.O_EXCL, opts.mode, attr);
    } catch (e) {
      if (opts.exclusive || !(e instanceof IpcError) || e.code !== 'EEXIST') return fail(e, 'pmq create', name);
      created = false;
      try {
        fd = native.openQueue(name, flags, 0, null);
      } catch (e2) {
        return fail(e2, 'pmq create', name);
      }
    }
    const queue = new PosixQueue(name, fd);
    if (created) {
      try {
        // fchmod on a queue descriptor is the kernel's setattr of its inode.
        fchmodSync(fd, opts.mode);
      } catch {
        /* the umask-narrowed mode stays; stat shows it */
      }
    }
    return { queue, created };
  }

  /** Open an existing queue for `op`: 'send' (write), 'recv' (read), or 'stat'. */
  static open(name: string, op: 'send' | 'recv' | 'stat' | 'wait'): PosixQueue {
    const access = op === 'send' ? native.O_WRONLY : op === 'stat' ? native.O_RDONLY : native.O_RDWR;
    // stat opens blocking, so that mq_flags shows the queue's own flags (0), not ours.
    const nonblock = op === 'stat' ? 0 : native.O_NONBLOCK;
    try {
      return new PosixQueue(name, native.openQueue(name, access | nonblock | native.O_CLOEXEC, 0, null));
    } catch (e) {
      // recv also sends (a message it could not deliver goes back): with
      // read permission only, receive anyway and say so if put-back fails.
      if (op === 'recv' && e instanceof IpcError && e.code === 'EACCES') {
        try {
          return new PosixQueue(name, native.openQueue(name, native.O_RDONLY | native.O_NONBLOCK | native.O_CLOEXEC, 0, null));
        } catch {
          /* the first error says it */
        }
      }
      return fail(e, `pmq ${op}`, name);
    }
  }

  static remove(name: string, op = 'pmq rm'): void {
    try {
      native.unlinkQueue(name);
    } catch (e) {
      fail(e, op, name);
    }
  }

  attr(op = 'pmq stat'): native.MqAttr {
    try {
      return (this.attrCache = native.getAttr(this.fd, this.name));
    } catch (e) {
      return fail(e, op, this.name);
    }
  }

  stat(): QueueStat {
    const a = this.attr();
    const st = fstatSync(this.fd);
    let size: number | null = null;
    try {
      // The file's text: "QSIZE:123 NOTIFY:0 SIGNO:0 NOTIFY_PID:0".
      const text = readFileSync(`/dev/mqueue${this.name}`, 'latin1');
      const m = /QSIZE:\s*([0-9]+)/.exec(text);
      if (m && statSync(`/dev/mqueue${this.name}`).ino === st.ino) size = Number(m[1]);
    } catch {
      /* not mounted, or no read permission */
    }
    return {
      name: this.name,
      maxmsg: a.maxmsg,
      msgsize: a.msgsize,
      curmsgs: a.curmsgs,
      nonblock: (a.flags & native.O_NONBLOCK) !== 0,
      mode: st.mode & 0o777,
      uid: st.uid,
      gid: st.gid,
      size,
      mtime: Math.floor(st.mtimeMs / 1000),
      ctime: Math.floor(st.ctimeMs / 1000),
    };
  }

  /** The queue's message size limit: every buffer is this big, so no message is ever too large to receive. */
  get msgsize(): number {
    return (this.attrCache ?? this.attr()).msgsize;
  }

  private bufferFor(): native.MessageBuffer {
    return (this.buffer ??= new native.MessageBuffer(this.msgsize));
  }

  /** Refuse a message the queue can never take, before anything is sent. */
  checkSize(size: number, op = 'pmq send', atLeast = false): void {
    if (size > this.msgsize) {
      throw IpcError.of('EMSGSIZE', op, this.name, {
        detail: `a message of ${atLeast ? 'more than ' + this.msgsize : size} bytes is above the queue's msgsize of ${this.msgsize}; nothing sent of it`,
        hint: `a queue created with a larger --msg-size takes it; fs.mqueue.msgsize_max is ${readMqueueLimits().msgsize_max}`,
        exitCode: EXIT.FAILED,
      });
    }
  }

  /** Send without waiting: false when the queue is full. */
  sendNow(data: Uint8Array, priority: number, op = 'pmq send'): boolean {
    if (data.length > this.msgsize) this.checkSize(data.length, op);
    const b = this.bufferFor();
    b.load(data);
    for (;;) {
      const error = b.send(this.fd, data.length, priority);
      if (error === undefined) return true;
      if (error === 'EAGAIN') return false;
      if (error !== 'EINTR') return fail(IpcError.of(error, op, this.name), op, this.name);
    }
  }

  /** Send, waiting in poll for room unless nowait. False when full under nowait. */
  async send(data: Uint8Array, priority: number, opts: { nowait: boolean; deadline: Deadline }, op = 'pmq send'): Promise<boolean> {
    while (!this.sendNow(data, priority, op)) {
      if (opts.nowait) return false;
      await waitUntilReady(this.fd, POLLOUT, `${op} ${this.name}`, opts.deadline, () => this.checkStillThere(op));
    }
    return true;
  }

  /** Receive without waiting: null when the queue is empty. */
  receiveNow(op = 'pmq recv'): PosixMessage | null {
    const b = this.bufferFor();
    for (;;) {
      const n = b.receive(this.fd);
      if (typeof n === 'number') return { priority: b.priority, data: b.copyOut(n) };
      if (n === 'EAGAIN') return null;
      if (n !== 'EINTR') return fail(IpcError.of(n, op, this.name), op, this.name);
    }
  }

  /**
   * Send records [from, count) of a batch without waiting, many per native
   * call. Stops at a full queue (full: true; wait, then go on) or at an
   * error, returned with how many went before it (EMSGSIZE names msgsize).
   */
  sendBatchNow(records: RecordBatch, from: number, priority: number): { sent: number; full: boolean; error?: unknown } {
    const r = batch().mqSendBatch(this.fd, records.native, from, records.count, priority);
    if (r.error === undefined) return { sent: r.done, full: false };
    const e = IpcError.of(r.error, 'pmq send', this.name);
    if (e.code === 'EAGAIN') return { sent: r.done, full: true };
    if (e.code === 'EINTR') return { sent: r.done, full: false };
    try {
      if (e.code === 'EMSGSIZE') this.checkSize(records.length(from + r.done));
      return fail(e, 'pmq send', this.name);
    } catch (error) {
      return { sent: r.done, full: false, error };
    }
  }

  /**
   * What is on the queue now, up to `max` messages, many per native call,
   * each followed by `sep` (-1: none). Null when the queue is empty.
   */
  receiveRunNow(max: number, sep: number): ReceivedRun | null {
    const area = (this.area ??= new (batch().MqReceiveArea)(Math.max(1 << 20, 4 * (this.msgsize + 1)), this.msgsize));
    const r = area.receive(this.fd, max, sep);
    if (r.done === 0) {
      if (r.error === undefined || r.error === 'EAGAIN' || r.error === 'EINTR') return null;
      return fail(IpcError.of(r.error, 'pmq recv', this.name), 'pmq recv', this.name);
    }
    const n = r.done;
    const cut = sep === -1 ? 0 : 1;
    return {
      count: n,
      bytes: area.bytes(0, area.endOf(n - 1)),
      messages: (from = 0) => {
        const out: PosixMessage[] = [];
        for (let i = from; i < n; i++) out.push({ priority: area.priorityOf(i), data: Buffer.from(area.bytes(area.endOf(i - 1), area.endOf(i) - cut)) });
        return out;
      },
      firstUnwritten: (written) => {
        let i = 0;
        while (i < n && area.endOf(i) <= written) i++;
        return i;
      },
    };
  }

  /** Receive, waiting in poll for a message. */
  async receive(deadline: Deadline, op = 'pmq recv', stop?: () => { signal: string; code: number } | null): Promise<PosixMessage> {
    for (;;) {
      const m = this.receiveNow(op);
      if (m) return m;
      await waitUntilReady(this.fd, POLLIN, `${op} ${this.name}`, deadline, () => this.checkStillThere(op), stop);
    }
  }

  /**
   * Send a message back that was taken and not delivered, with its
   * priority: it goes behind the messages of the same priority (the
   * queue's order allows nothing else). Waits up to a second for room.
   */
  async putBack(m: PosixMessage): Promise<boolean> {
    try {
      const { Deadline } = await import('../wait.js');
      return await this.send(m.data, m.priority, { nowait: false, deadline: new Deadline(1000) }, 'pmq recv put-back');
    } catch {
      return false;
    }
  }

  /** Throws EIDRM-like ENOENT when the name no longer leads to this queue. */
  private checkStillThere(op: string): void {
    let fd = -1;
    try {
      fd = native.openQueue(this.name, native.O_RDONLY | native.O_NONBLOCK | native.O_CLOEXEC, 0, null);
      if (fstatSync(fd).ino === this.ino) return;
    } catch (e) {
      if (!(e instanceof IpcError) || e.code !== 'ENOENT') return; // cannot tell: keep waiting
    } finally {
      if (fd >= 0) native.closeQueue(fd);
    }
    throw IpcError.of('EIDRM', op, this.name, { detail: 'the queue was removed (unlinked) while waiting', exitCode: EXIT.NO_OBJECT });
  }

  close(): void {
    this.buffer?.free();
    this.buffer = null;
    this.area?.free();
    this.area = null;
    native.closeQueue(this.fd);
  }
}

/** A --priority as the kernel takes it: 0 .. MQ_PRIO_MAX - 1. */
export function checkPriority(p: number): void {
  if (!Number.isInteger(p) || p < 0 || p >= MQ_PRIO_MAX) throw new OperationError(`pmq send: priority ${p} is out of range 0..${MQ_PRIO_MAX - 1}`, EXIT.USAGE);
}

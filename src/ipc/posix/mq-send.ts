// Sending to a POSIX message queue: the policy of `pmq send`, in one place.
// While the queue has room no call waits (an await per message would cost
// more than mq_send); records of a stream go many per native call, read
// straight into the memory mq_send reads; a full queue is waited on for one
// message, then batches go on. A failure says how many went before it:
// exactly those are on the queue. (Receiving, and putting back what was
// not delivered, is mq-receive.ts.)
import { EXIT, IpcError } from '../../errors.js';
import { RecordBatch, type ReadInto } from '../sysv/record-batch.js';
import type { Deadline } from '../wait.js';
import type { PosixQueue } from './mqueue.js';

export interface PmqSendOptions {
  priority: number;
  nowait: boolean;
  deadline: Deadline;
}

/** One message, or a stream of records ending in `separator` (10 for --lines, 0 for --null). */
export type PmqSendInput = { payload: Buffer } | { records: ReadInto; separator: number };

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

/** Send `input` to `q`; the number of messages sent. */
export async function sendToQueue(q: PosixQueue, input: PmqSendInput, opts: PmqSendOptions): Promise<number> {
  let sent = 0;
  const full = () => IpcError.of('EAGAIN', 'pmq send', q.name, { detail: `the queue is full; sent ${plural(sent, 'message')}`, exitCode: EXIT.EMPTY });
  const one = (payload: Buffer): void | Promise<void> => {
    if (q.sendNow(payload, opts.priority)) {
      sent++;
      return;
    }
    if (opts.nowait) throw full();
    return q.send(payload, opts.priority, opts).then(() => {
      sent++;
    });
  };
  try {
    if ('payload' in input) await one(input.payload);
    else await sendRecords(q, input.records, input.separator, opts.priority, one, (n) => (sent += n));
  } catch (e) {
    if (sent > 0 && e instanceof IpcError && e.code !== 'EAGAIN') e.message += ` (after sending ${plural(sent, 'message')})`;
    throw e;
  }
  return sent;
}

async function sendRecords(
  q: PosixQueue,
  read: ReadInto,
  separator: number,
  priority: number,
  one: (payload: Buffer) => void | Promise<void>,
  count: (n: number) => void,
): Promise<void> {
  const records = new RecordBatch(separator);
  try {
    while (records.next(read)) {
      for (let i = 0; i < records.count;) {
        const r = q.sendBatchNow(records, i, priority);
        count(r.sent);
        i += r.sent;
        // What sendBatchNow caught from its own fail(): an IpcError, handed on as it came.
        if (r.error !== undefined) throw r.error as Error;
        if (i === records.count || !r.full) continue;
        // The queue is full: wait for room for this one, then go on in batches.
        await one(records.record(i++));
      }
    }
  } finally {
    records.free();
  }
}

// The message counts (and sizes) of listed queues: mq_getattr on each, the
// only way Linux tells them. This loads the native layer, so `ls` imports it
// only when a view asks for MSGS (`ls pmq`, `-o MSGS`, `--limits`).
import { closeQueue, getAttr, O_CLOEXEC, O_NONBLOCK, O_RDONLY, openQueue } from '../../native/posix/mqueue.js';
import type { PosixQueueInfo } from './listing.js';

/** Fill in msgs/maxmsg/msgsize where the queue can be opened (read permission); the others stay null. */
export function countMessages(queues: PosixQueueInfo[]): void {
  for (const q of queues) {
    let fd = -1;
    try {
      fd = openQueue(q.name, O_RDONLY | O_NONBLOCK | O_CLOEXEC, 0, null);
      const a = getAttr(fd, q.name);
      q.msgs = a.curmsgs;
      q.maxmsg = a.maxmsg;
      q.msgsize = a.msgsize;
    } catch {
      /* no permission, or gone since */
    } finally {
      if (fd >= 0) closeQueue(fd);
    }
  }
}

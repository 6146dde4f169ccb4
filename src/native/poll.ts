// poll(2) over an array of struct pollfd in native memory. The loop in
// src/ipc/net/reactor.ts calls it on the main thread with a short timeout, so a
// wait never occupies one of libuv's pool threads and SIGINT is seen at once
// (poll returns EINTR) or at the latest when the slice ends.
import { errnoNumber, IpcError } from '../errors.js';
import { bind } from './bind.js';
import { C } from './library.js';
import { NativeMemory } from './memory.js';
import { pollfd } from './layouts.js';

export const POLLIN = 0x1;
export const POLLOUT = 0x4;
export const POLLERR = 0x8;
export const POLLHUP = 0x10;
export const POLLNVAL = 0x20;

const EINTR = errnoNumber('EINTR');
const pollFn = bind('poll', C.int, [C.ptr, C.ulong, C.int]);

export class PollSet {
  private mem: NativeMemory;
  private capacity: number;
  length = 0;

  constructor(capacity = 16) {
    this.capacity = capacity;
    this.mem = new NativeMemory(capacity * pollfd.size);
  }

  clear(): void {
    this.length = 0;
  }

  /** Add an entry; returns its index. The same fd may appear more than once. */
  add(fd: number, events: number): number {
    if (this.length === this.capacity) {
      const bigger = new NativeMemory(this.capacity * 2 * pollfd.size);
      this.mem.buf.copy(bigger.buf);
      this.mem.free();
      this.mem = bigger;
      this.capacity *= 2;
    }
    const at = this.length * pollfd.size;
    this.mem.buf.writeInt32LE(fd, at + pollfd.fields.fd);
    this.mem.buf.writeInt16LE(events, at + pollfd.fields.events);
    this.mem.buf.writeInt16LE(0, at + pollfd.fields.revents);
    return this.length++;
  }

  revents(index: number): number {
    return this.mem.buf.readUInt16LE(index * pollfd.size + pollfd.fields.revents);
  }

  /** Wait up to `timeoutMs` (0: just look). Returns how many entries are ready; 0 also on EINTR. */
  wait(timeoutMs: number): number {
    const r = pollFn.call(this.mem.addr, this.length, Math.max(0, Math.min(timeoutMs, 2 ** 31 - 1)));
    if (r.value >= 0) return r.value;
    if (r.errno === EINTR) return 0;
    throw new IpcError(r.errno, 'poll', '');
  }

  free(): void {
    this.mem.free();
  }
}

/** Is `fd` ready for `events` right now? One poll with timeout 0. */
const single = new PollSet(1);
export function readyNow(fd: number, events: number): number {
  single.clear();
  single.add(fd, events);
  return single.wait(0) > 0 ? single.revents(0) : 0;
}

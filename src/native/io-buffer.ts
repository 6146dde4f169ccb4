// IoBuffer: memory that read/write/send/recv move bytes through, as the
// domain layer sees it. The kernel writes straight into it (malloc'ed, never
// moved by the GC); above native/ it is bytes to fill and look at, with no
// address: only fd.ts and net/socket.ts (through addressOf) hand it to libc.
import { NativeMemory } from './memory.js';

export class IoBuffer {
  private readonly mem: NativeMemory;

  constructor(readonly size: number) {
    this.mem = new NativeMemory(size);
  }

  /** Bytes [start, end) without a copy: valid until the next I/O into them, or free(). */
  view(start = 0, end = this.size): Buffer {
    return this.mem.buf.subarray(start, end);
  }

  /** A copy of bytes [start, end): safe to keep. */
  copyOut(start: number, end: number): Buffer {
    return Buffer.from(this.mem.buf.subarray(start, end));
  }

  /** Copy `data` in at `at` (as much as fits, like Buffer.copy); the bytes copied. */
  load(data: Uint8Array, at = 0): number {
    return Buffer.from(data.buffer, data.byteOffset, data.byteLength).copy(this.mem.buf, at);
  }

  free(): void {
    this.mem.free();
  }
}

/** For fd.ts and net/socket.ts: where byte `offset` of `b` lives. */
export function addressOf(b: IoBuffer, offset: number): number {
  // Bracket access reads the private field: the only place that may.
  return b['mem'].addr + offset;
}

/**
 * IoBuffers of one size, handed out and taken back: a server that makes a
 * buffer per connection (hundreds per second under --exec) reuses them
 * instead of a malloc and a free, two FFI calls each, per connection.
 */
export class IoBufferPool {
  private readonly free: IoBuffer[] = [];

  constructor(
    readonly size: number,
    private readonly keep = 64,
  ) {}

  take(): IoBuffer {
    return this.free.pop() ?? new IoBuffer(this.size);
  }

  give(b: IoBuffer): void {
    if (this.free.length < this.keep) this.free.push(b);
    else b.free();
  }
}

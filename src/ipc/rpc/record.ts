// TCP record marking (RFC 5531 section 11): every record is one or more
// fragments, each behind a 4-byte header whose high bit marks the last
// fragment and whose low 31 bits are its length. Bytes go in as they arrive;
// complete records come out, their fragments joined.
import { OperationError } from '../../errors.js';

export const LAST_FRAGMENT = 0x80000000;

/** A record of one fragment: header and message. */
export function frame(msg: Buffer): Buffer {
  const out = Buffer.allocUnsafe(4 + msg.length);
  out.writeUInt32BE((LAST_FRAGMENT | msg.length) >>> 0, 0);
  msg.copy(out, 4);
  return out;
}

export class RecordReader {
  private pending: Buffer = Buffer.alloc(0);

  constructor(
    /** Names the peer in the error about an oversized record. */
    private readonly what: string,
    private readonly maxRecord: number,
  ) {}

  push(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.pending, chunk]);
  }

  /** Bytes received that are not part of a complete record yet. */
  get buffered(): number {
    return this.pending.length;
  }

  /** The next complete record, or null until more bytes come. */
  take(): Buffer | null {
    const fragments: Buffer[] = [];
    let at = 0;
    let total = 0;
    for (;;) {
      if (this.pending.length - at < 4) return null;
      const head = this.pending.readUInt32BE(at);
      const size = head & 0x7fffffff;
      total += size;
      if (total > this.maxRecord) throw new OperationError(`${this.what}: a record of more than ${this.maxRecord} bytes (not an RPC peer?)`);
      if (this.pending.length - at - 4 < size) return null;
      fragments.push(this.pending.subarray(at + 4, at + 4 + size));
      at += 4 + size;
      if (head & LAST_FRAGMENT) {
        const record = fragments.length === 1 ? Buffer.from(fragments[0]!) : Buffer.concat(fragments);
        this.pending = this.pending.subarray(at);
        return record;
      }
    }
  }
}

// Records (lines, or NUL-ended records) read straight into the native
// memory that msgsnd reads from, for `msgq send --lines/--null`. A record
// is found with one indexOf and described by two numbers; its bytes are
// never copied into a JS object. Each batch holds the records that one read
// completed, so a slow producer (`tail -f`) still has each line sent as
// soon as it arrives.
import { SendBatch } from '../../native/sysv/msg-batch.js';

/** Fill `into[offset, offset + length)`; 0 at end of input, -1 when nothing can be read now. */
export type ReadInto = (into: Uint8Array, offset: number, length: number) => number;

/** A record longer than the batch's limit: reading stopped there. */
export class RecordTooLong extends Error {
  constructor(
    readonly atLeast: number,
    readonly limit: number,
  ) {
    super(`a record of more than ${limit} bytes`);
  }
}

export class RecordBatch {
  readonly native = new SendBatch();
  /** Bytes in the data block: consumed records first, then a partial one. */
  private filled = 0;
  /** Where the records of the current batch end (and the partial one starts). */
  private consumed = 0;
  /** Where the next search for a separator starts. */
  private scanned = 0;
  private ended = false;

  /**
   * `maxRecord`: the longest record that may follow; a longer one stops the
   * reading (RecordTooLong) once one byte more than that is in, so memory
   * stays bounded whatever the input is.
   */
  constructor(
    private readonly sep: number,
    private readonly maxRecord = Infinity,
  ) {}

  get count(): number {
    return this.native.count;
  }

  length(i: number): number {
    return this.native.length(i);
  }

  /** Record i's bytes, aliasing native memory (valid until next()). */
  record(i: number): Buffer {
    return this.native.text(i);
  }

  /**
   * Make the batch the next records: those already read, or else those the
   * next reads complete. False at the end of input. A last record without a
   * separator still counts; an empty input has none. Null when `read`
   * had nothing now (-1): call again when the input is readable.
   */
  next(read: ReadInto): boolean | null {
    this.dropConsumed();
    for (;;) {
      if (this.split()) return true;
      // Only a partial record is in the block now.
      if (this.filled > this.maxRecord) throw new RecordTooLong(this.filled, this.maxRecord);
      if (this.ended) {
        if (this.filled === 0) return false;
        this.native.setSpan(0, 0, this.filled);
        this.native.count = 1;
        this.consumed = this.scanned = this.filled;
        return true;
      }
      if (this.filled === this.native.data.length) this.native.grow(2 * this.filled, this.filled);
      const n = read(this.native.data, this.filled, this.native.data.length - this.filled);
      if (n < 0) return null;
      if (n === 0) this.ended = true;
      this.filled += n;
    }
  }

  /**
   * Let a native loop read and send from here on (msgSendReadingWaiting):
   * every record of the current batch must have gone. It starts from the
   * bytes read and not yet consumed.
   */
  handOver(): void {
    this.native.setReadState(this.filled, this.consumed, this.ended);
  }

  /** Take back what the native loop left: its block, where the records not sent start, and the end of input. */
  takeBack(): void {
    const st = this.native.readState;
    this.filled = st.filled;
    this.consumed = this.scanned = st.start;
    this.ended = st.ended;
    this.native.count = 0;
  }

  /** Move the partial record to the start of the block. */
  private dropConsumed(): void {
    if (this.consumed === 0) return;
    this.native.data.copyWithin(0, this.consumed, this.filled);
    this.filled -= this.consumed;
    this.scanned -= this.consumed;
    this.consumed = 0;
    this.native.count = 0;
  }

  /** Spans for the complete records in the block; false when there are none. */
  private split(): boolean {
    // Only what was read: stale bytes past it must not count as separators.
    const data = this.native.data.subarray(0, this.filled);
    const max = this.native.maxCount;
    let start = 0;
    let n = 0;
    let at = data.indexOf(this.sep, this.scanned);
    while (at !== -1 && n < max) {
      this.native.setSpan(n++, start, at - start);
      start = at + 1;
      at = n < max ? data.indexOf(this.sep, start) : -1;
    }
    this.native.count = n;
    this.consumed = start;
    // Past the last separator there is none: the next search starts at the end.
    this.scanned = n === max ? start : this.filled;
    return n > 0;
  }

  free(): void {
    this.native.free();
  }
}

// A canonical hex dump, as `hexdump -C` prints it: offset, 16 bytes in two
// groups of eight, the printable ASCII between bars, and a `*` line for runs
// of identical rows (a mostly-zero segment stays short). Offsets are those
// of the dumped object, so a dump of a window shows where the bytes live.

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function offsetText(n: number): string {
  return n.toString(16).padStart(8, '0');
}

export class HexDumper {
  private previous: Buffer | null = null;
  private squeezing = false;
  /** Bytes of a row split between two pushes. */
  private carry: Buffer = Buffer.alloc(0);
  private carryAt = 0;

  /** Dump the next bytes, the first of which lives at `offset`. Returns text to write. */
  push(data: Uint8Array, offset: number): string {
    let bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    let at = offset;
    if (this.carry.length > 0) {
      bytes = Buffer.concat([this.carry, bytes]);
      at = this.carryAt;
    }
    const whole = bytes.length - (bytes.length % 16);
    const out: string[] = [];
    for (let i = 0; i < whole; i += 16) out.push(this.row(bytes.subarray(i, i + 16), at + i));
    this.carry = Buffer.from(bytes.subarray(whole));
    this.carryAt = at + whole;
    return out.join('');
  }

  /** Flush a last short row and print the end offset. */
  end(endOffset: number): string {
    let text = '';
    if (this.carry.length > 0) {
      this.previous = null; // a short row is never squeezed
      text += this.row(this.carry, this.carryAt);
      this.carry = Buffer.alloc(0);
    }
    return text + `${offsetText(endOffset)}\n`;
  }

  private row(row: Buffer, offset: number): string {
    if (row.length === 16 && this.previous && this.previous.equals(row)) {
      if (this.squeezing) return '';
      this.squeezing = true;
      return '*\n';
    }
    this.squeezing = false;
    this.previous = Buffer.from(row);
    let hex = '';
    let text = '';
    for (let i = 0; i < 16; i++) {
      if (i === 8) hex += ' ';
      if (i < row.length) {
        const b = row[i]!;
        hex += HEX[b] + ' ';
        text += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
      } else hex += '   ';
    }
    return `${offsetText(offset)}  ${hex} |${text}|\n`;
  }
}

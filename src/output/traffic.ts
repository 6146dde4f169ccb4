// -x, --hexdump [FILE]: the bytes of a connection as they pass, both
// directions, each chunk as one block: a marker line saying which way and
// how much (`> 5 bytes sent, offset 0`, `< 12 bytes received, offset 0`),
// then the rows of `hexdump -C -s OFFSET -n LENGTH` over that direction's
// stream, ending with the offset after it. Offsets count per direction (and
// per connection on a server), so one direction's blocks, joined, are that
// stream. Written to FILE (appended) or else to stderr.
import { closeSync, openSync } from 'node:fs';
import { HexDumper } from './hexdump.js';
import { writeAll, writeStderr } from './sink.js';

export type Direction = 'sent' | 'received';

export class TrafficDump {
  private fd: number | null;
  private readonly offsets = new Map<string, number>();

  constructor(file?: string) {
    // commander gives `true` for a bare -x.
    this.fd = typeof file === 'string' && file !== '' ? openSync(file, 'a') : null;
  }

  /** Dump `chunk`, which went `dir`; `who` names the connection on a server ("conn 3"). */
  chunk(dir: Direction, chunk: Uint8Array, who = ''): void {
    if (chunk.length === 0) return;
    const key = `${who}\0${dir}`;
    const offset = this.offsets.get(key) ?? 0;
    this.offsets.set(key, offset + chunk.length);
    const d = new HexDumper();
    const mark = `${dir === 'sent' ? '>' : '<'} ${who ? who + ': ' : ''}${chunk.length} byte${chunk.length === 1 ? '' : 's'} ${dir}, offset ${offset}\n`;
    const text = mark + d.push(chunk, offset) + d.end(offset + chunk.length);
    if (this.fd === null) writeStderr(text);
    else writeAll(this.fd, Buffer.from(text));
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

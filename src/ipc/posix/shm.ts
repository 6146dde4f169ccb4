// PosixSegment: a POSIX shared memory object (shm_open) as the commands use
// it: created with its size (ftruncate), read and written through shared
// mappings in windows, stat from fstat. A write past the end is refused
// whole before a byte is written, as `shm write` does.
import { fchmodSync, fstatSync, readSync, writeSync } from 'node:fs';
import { EXIT, IpcError, OperationError, UsageError } from '../../errors.js';
import * as native from '../../native/posix/shm.js';
import { relabelPosix } from './errors.js';

export interface SegmentStat {
  name: string;
  size: number;
  mode: number;
  uid: number;
  gid: number;
  atime: number;
  mtime: number;
  ctime: number;
}

/** Bytes per mapped window when streaming: few calls, bounded address space. */
export const WINDOW = 64 << 20;

const fail = (e: unknown, op: string, name: string): never => relabelPosix('pshm', e, op, name);

export class PosixSegment {
  private constructor(
    readonly name: string,
    readonly fd: number,
    readonly writable: boolean,
  ) {}

  /**
   * Create the object with `size` bytes, or open the one with that name
   * (unless exclusive); an existing object of another size is refused
   * (one of size 0, made by shm_open alone, is given the size). The mode
   * is set with fchmod so the umask does not narrow it.
   */
  static create(name: string, size: number, mode: number, exclusive: boolean): { segment: PosixSegment; created: boolean } {
    if (size <= 0) throw new UsageError('pshm create: --size must be above 0');
    let fd: number;
    let created = true;
    try {
      fd = native.openShm(name, native.O_RDWR | native.O_CREAT | native.O_EXCL, mode);
    } catch (e) {
      if (exclusive || !(e instanceof IpcError) || e.code !== 'EEXIST') return fail(e, 'pshm create', name);
      created = false;
      try {
        fd = native.openShm(name, native.O_RDWR, 0);
      } catch (e2) {
        return fail(e2, 'pshm create', name);
      }
    }
    const segment = new PosixSegment(name, fd, true);
    try {
      if (created) {
        fchmodSync(fd, mode);
        native.truncate(fd, size, name);
      } else {
        const cur = fstatSync(fd).size;
        if (cur === 0) native.truncate(fd, size, name);
        else if (cur !== size) {
          throw new OperationError(
            `pshm create ${name}: a segment of ${cur} bytes has that name; --size ${size} differs`,
            EXIT.FAILED,
            'open it without --size changes, or remove it first',
          );
        }
      }
    } catch (e) {
      // Nothing half-done: a segment we made and could not size goes again.
      segment.close();
      if (created) native.unlinkShm(name);
      if (e instanceof IpcError) fail(e, 'pshm create', name);
      throw e;
    }
    return { segment, created };
  }

  static open(name: string, write: boolean, op: string): PosixSegment {
    try {
      return new PosixSegment(name, native.openShm(name, write ? native.O_RDWR : native.O_RDONLY, 0), write);
    } catch (e) {
      return fail(e, op, name);
    }
  }

  static remove(name: string, op = 'pshm rm'): void {
    try {
      native.unlinkShm(name);
    } catch (e) {
      fail(e, op, name);
    }
  }

  stat(): SegmentStat {
    const st = fstatSync(this.fd);
    const sec = (ms: number) => Math.floor(ms / 1000);
    return {
      name: this.name,
      size: st.size,
      mode: st.mode & 0o777,
      uid: st.uid,
      gid: st.gid,
      atime: sec(st.atimeMs),
      mtime: sec(st.mtimeMs),
      ctime: sec(st.ctimeMs),
    };
  }

  /** Check that [offset, offset+length) lies inside; returns the length. */
  range(op: string, offset: number, length: number | undefined): number {
    const size = this.stat().size;
    if (offset > size || (offset === size && length !== undefined && length !== 0)) {
      throw new OperationError(`${op} ${this.name}: offset ${offset} is past the end of the ${size}-byte segment`, EXIT.USAGE);
    }
    const len = length ?? size - offset;
    if (offset + len > size) {
      throw new OperationError(
        `${op} ${this.name}: ${len} bytes at offset ${offset} go past the end of the ${size}-byte segment (${size - offset} bytes fit)`,
        EXIT.USAGE,
      );
    }
    return len;
  }

  /** Hand `length` bytes at `offset` to `sink`, window by window (views valid only inside sink). */
  read(offset: number, length: number, sink: (view: Buffer) => void, op = 'pshm read'): void {
    for (let done = 0; done < length;) {
      const n = Math.min(WINDOW, length - done);
      const m = this.map(offset + done, n, false, op);
      try {
        m.prefault(0, n, false);
        sink(m.view(0, n));
      } finally {
        m.unmap();
      }
      done += n;
    }
  }

  /** Copy `data` in at `offset` (the caller checked the range). */
  write(offset: number, data: Buffer, op = 'pshm write'): void {
    for (let done = 0; done < data.length;) {
      const n = Math.min(WINDOW, data.length - done);
      const m = this.map(offset + done, n, true, op);
      try {
        m.prefault(0, n, true);
        data.copy(m.view(0, n), 0, done, done + n);
      } finally {
        m.unmap();
      }
      done += n;
    }
  }

  /**
   * pread(2) of the segment's file: up to `length` bytes at `position` into
   * `into`; the bytes read (fewer only at the end). A hole reads as zeros
   * without the kernel giving it a page.
   */
  pread(into: Buffer, length: number, position: number, op = 'pshm write'): number {
    let done = 0;
    try {
      while (done < length) {
        const n = readSync(this.fd, into, done, length - done, position + done);
        if (n === 0) break;
        done += n;
      }
    } catch (e) {
      this.fsFailure(e, op);
    }
    return done;
  }

  /** pwrite(2) of all of `from[0, length)` at `position` (ENOSPC when tmpfs is full, named as an errno). */
  pwrite(from: Buffer, length: number, position: number, op = 'pshm write'): void {
    try {
      for (let done = 0; done < length;) done += writeSync(this.fd, from, done, length - done, position + done);
    } catch (e) {
      this.fsFailure(e, op);
    }
  }

  private fsFailure(e: unknown, op: string): never {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && /^E[A-Z0-9]+$/.test(code)) return fail(IpcError.of(code, op, this.name), op, this.name);
    throw e;
  }

  /**
   * Run `fn` with [offset, offset+length) mapped (one mapping, viewed in
   * windows of at most WINDOW bytes); unmapped however it ends, so no view
   * escapes. The caller checked the range.
   */
  withMapping<T>(
    offset: number,
    length: number,
    write: boolean,
    op: string,
    fn: (m: { view(at: number, len: number): Buffer; prefault(at: number, len: number): void }) => T,
  ): T {
    const m = this.map(offset, length, write, op);
    try {
      return fn({ view: (at, len) => m.view(at, len), prefault: (at, len) => m.prefault(at, len, write) });
    } finally {
      m.unmap();
    }
  }

  private map(offset: number, length: number, write: boolean, op: string): native.Mapping {
    try {
      return native.Mapping.map(this.fd, offset, length, write, this.name);
    } catch (e) {
      return fail(e, op, this.name);
    }
  }

  close(): void {
    native.closeFd(this.fd);
  }
}

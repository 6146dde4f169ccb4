// POSIX shared memory: shm_open / shm_unlink (a file in /dev/shm, opened by
// glibc with O_NOFOLLOW|O_CLOEXEC), ftruncate for the size, and shared
// mappings of it for reading and writing. A mapping is seen as Buffers that
// alias it; none may be touched after unmap(), so Mapping hands out views
// only while it is mapped.
import { IpcError } from '../../errors.js';
import { bind, bindPointer } from '../bind.js';
import { C } from '../library.js';
import { prefault, viewAt } from '../memory.js';

export { O_CREAT, O_EXCL, O_RDONLY, O_RDWR } from './flags.js';

const shmOpen = bind('shm_open', C.int, [C.string, C.int, C.uint]);
const shmUnlink = bind('shm_unlink', C.int, [C.string]);
const ftruncate = bind('ftruncate', C.int, [C.int, C.long]);
const close = bind('close', C.int, [C.int]);
const mmap = bindPointer('mmap', [C.ptr, C.size_t, C.int, C.int, C.int, C.long]);
const munmap = bind('munmap', C.int, [C.ptr, C.size_t]);

const PROT_READ = 0x1;
const PROT_WRITE = 0x2;
const MAP_SHARED = 0x01;
const PAGE = 4096;

export function openShm(name: string, oflag: number, mode: number): number {
  const r = shmOpen.call(name, oflag, mode);
  if (r.value === -1) throw new IpcError(r.errno, 'shm_open', name);
  return r.value;
}

export function unlinkShm(name: string): void {
  const r = shmUnlink.call(name);
  if (r.value === -1) throw new IpcError(r.errno, 'shm_unlink', name);
}

export function truncate(fd: number, size: number, name: string): void {
  const r = ftruncate.call(fd, size);
  if (r.value === -1) throw new IpcError(r.errno, 'ftruncate', name);
}

export function closeFd(fd: number): void {
  close.call(fd);
}

/** One MAP_SHARED mapping of [offset, offset+length) of an open object. */
export class Mapping {
  private mapped = true;
  private constructor(
    private readonly base: number,
    private readonly mappedLength: number,
    /** Bytes between the page-aligned start and the offset asked for. */
    private readonly skew: number,
    readonly length: number,
  ) {}

  static map(fd: number, offset: number, length: number, write: boolean, name: string): Mapping {
    const start = Math.floor(offset / PAGE) * PAGE;
    const skew = offset - start;
    const total = skew + length;
    const r = mmap.call(0, Math.max(1, total), PROT_READ | (write ? PROT_WRITE : 0), MAP_SHARED, fd, start);
    if (r.addr === -1) throw new IpcError(r.errno, 'mmap', name);
    return new Mapping(r.addr, Math.max(1, total), skew, length);
  }

  /** `len` bytes at `at` (relative to the offset mapped), aliasing the object. */
  view(at: number, len: number): Buffer {
    if (!this.mapped) throw new Error('mapping already unmapped');
    if (at < 0 || len < 0 || at + len > this.length) throw new RangeError(`window ${at}+${len} outside ${this.length} bytes`);
    return viewAt(this.base + this.skew + at, len);
  }

  /** Fault the pages of a window in with one call before a bulk copy (a hint). */
  prefault(at: number, len: number, write: boolean): void {
    if (this.mapped) prefault(this.base + this.skew + at, len, write);
  }

  unmap(): void {
    if (!this.mapped) return;
    this.mapped = false;
    munmap.call(this.base, this.mappedLength);
  }
}

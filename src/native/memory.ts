// Native memory: blocks we own (NativeMemory, malloc'ed), and for bulk
// transfers Buffers that alias any address, page-table prefaulting (madvise
// MADV_POPULATE_*), and anonymous mappings backed by huge pages. Moving
// hundreds of megabytes, the cost that is left after the copies is one page
// fault per 4 KiB page; these cut it by orders.
import { bind, bindPointer } from './bind.js';
import { ffi } from './binding.js';
import { C, externalAddress, LIB } from './library.js';

// Memory we own. malloc'ed (never moved by the GC) and exposed as a Buffer
// that aliases it, so the kernel writes straight into what JS reads.
const mallocFn = {
  library: LIB,
  funcName: 'malloc',
  retType: ffi.DataType.External,
  paramsType: [ffi.DataType.U64],
  paramsValue: [0],
  freeResultMemory: false,
};
const freeFn = {
  library: LIB,
  funcName: 'free',
  retType: ffi.DataType.Void,
  paramsType: [ffi.DataType.External],
  paramsValue: [null as unknown],
  freeResultMemory: false,
};

export class NativeMemory {
  readonly addr: number;
  readonly buf: Buffer;
  private handle: unknown;

  constructor(readonly size: number) {
    mallocFn.paramsValue[0] = Math.max(1, size);
    const handle = ffi.load(mallocFn as never) as unknown;
    if (ffi.isNullPointer(handle as never)) throw new Error(`malloc(${size}) failed`);
    this.handle = handle;
    this.addr = externalAddress(handle);
    this.buf = ffi.createExternalBuffer(handle as never, Math.max(1, size)).subarray(0, size);
  }

  free(): void {
    if (this.handle === null) return;
    freeFn.paramsValue[0] = this.handle;
    ffi.load(freeFn as never);
    this.handle = null;
  }
}

const PAGE = 4096;
const MADV_HUGEPAGE = 14;
const MADV_POPULATE_READ = 22;
const MADV_POPULATE_WRITE = 23;
const PROT_READ_WRITE = 0x1 | 0x2;
const MAP_PRIVATE_ANONYMOUS = 0x02 | 0x20;

// memmove(p, p, 0) returns p: turns any address into a viewable pointer.
const pointerAt = bindPointer('memmove', [C.ptr, C.ptr, C.size_t]);
const madvise = bind('madvise', C.int, [C.ptr, C.size_t, C.int]);
const mmap = bindPointer('mmap', [C.ptr, C.size_t, C.int, C.int, C.int, C.long]);
const munmap = bind('munmap', C.int, [C.ptr, C.size_t]);

/** A Buffer over `length` bytes at `addr`, without a copy. Valid while the memory is mapped. */
export function viewAt(addr: number, length: number): Buffer {
  if (length === 0) return Buffer.alloc(0);
  return pointerAt.call(addr, addr, 0).view(length);
}

/**
 * Map the pages of [addr, addr+length) now, in one call, instead of one
 * fault per page later. Only a hint: false when the kernel cannot (before
 * Linux 5.14, or memory it will not populate), and nothing changes.
 */
export function prefault(addr: number, length: number, forWrite: boolean): boolean {
  const start = Math.floor(addr / PAGE) * PAGE;
  const end = Math.ceil((addr + length) / PAGE) * PAGE;
  if (end <= start) return true;
  // A few pages fault in for less than the call costs.
  if (end - start < 16 * PAGE) return true;
  return madvise.call(start, end - start, forWrite ? MADV_POPULATE_WRITE : MADV_POPULATE_READ).value === 0;
}

/** Private anonymous memory (mmap), huge pages when the kernel allows; munmap on free(). */
export class AnonymousMemory {
  private mapped = true;
  private constructor(
    private readonly addr: number,
    readonly size: number,
  ) {}

  /** Reserve `size` bytes; pages cost nothing until touched. Null when mmap fails. */
  static map(size: number): AnonymousMemory | null {
    const r = mmap.call(0, size, PROT_READ_WRITE, MAP_PRIVATE_ANONYMOUS, -1, 0);
    if (r.addr === -1) return null;
    madvise.call(r.addr, size, MADV_HUGEPAGE); // a hint; THP may be off
    return new AnonymousMemory(r.addr, size);
  }

  view(offset: number, length: number): Buffer {
    if (!this.mapped) throw new Error('anonymous memory already unmapped');
    if (offset < 0 || offset + length > this.size) throw new RangeError(`window ${offset}+${length} outside ${this.size} bytes`);
    return viewAt(this.addr + offset, length);
  }

  free(): void {
    if (!this.mapped) return;
    this.mapped = false;
    munmap.call(this.addr, this.size);
  }
}

// The one door to ffi-rs. Every libc function is bound once, with one
// prebuilt params object: ffi-rs re-prepares on every call, and handing it
// the same object (mutating only paramsValue) is the cheapest path it has.
// Pointers cross as plain numbers (DataType.U64 addresses): memory we own
// is malloc'ed here and viewed as a Buffer without a copy, so a pointer
// into the middle of a block is simple arithmetic.
import { ffi } from './binding.js';
import { blockingCallEnded, blockingCallStarted, installHardExit } from '../exit.js';

const { DataType } = ffi;
const LIB = 'libc';
ffi.open({ library: LIB, path: 'libc.so.6' });

/** C argument and return types as this layer names them. */
export const C = {
  int: DataType.I32,
  uint: DataType.U32,
  long: DataType.I64,
  ulong: DataType.U64,
  size_t: DataType.U64,
  ssize_t: DataType.I64,
  ptr: DataType.U64,
  string: DataType.String,
  void: DataType.Void,
} as const;
type CType = (typeof C)[keyof typeof C];

export interface CallResult {
  value: number;
  errno: number;
}

export interface LibcFunction {
  readonly name: string;
  /** Call on this thread; for calls that cannot block (or IPC_NOWAIT). */
  call(...args: Array<number | string>): CallResult;
  /** Call on a new native thread, for calls that may block. */
  callBlocking(...args: Array<number | string>): Promise<CallResult>;
}

interface RawResult {
  value: number;
  errnoCode: number;
}

// errno of this thread, read straight from libc's thread-local slot. The
// synchronous fast path skips ffi-rs's `errno: true` (which costs ~1.3 us a
// call, a third of a cheap call) and reads the slot only when a call failed:
// nothing between the C function's return and this read makes a failing
// system call on this thread. Blocking calls run on a pool thread, whose
// errno is not this one, so they keep ffi-rs's errno capture.
const errnoLocation = {
  library: LIB,
  funcName: '__errno_location',
  retType: DataType.External,
  paramsType: [] as number[],
  paramsValue: [] as unknown[],
  freeResultMemory: false,
};
const errnoSlot = ffi.createExternalBuffer(ffi.load(errnoLocation as never) as never, 4);

/**
 * Open a shared library of our own under `name`, for bind(..., name).
 * False when the file is missing or will not load.
 */
export function openLibrary(name: string, path: string): boolean {
  try {
    ffi.open({ library: name, path });
    return true;
  } catch {
    return false;
  }
}

/**
 * errno of this thread now: for functions of ours that report failure by a
 * short count rather than -1 (call() reads errno only on -1). Read it right
 * after the call, before anything else can make a system call here.
 */
export function currentErrno(): number {
  return errnoSlot.readInt32LE(0);
}

export function bind(name: string, ret: CType, params: CType[], library = LIB): LibcFunction {
  const sync = {
    library,
    funcName: name,
    retType: ret,
    paramsType: params,
    paramsValue: new Array<number | string>(params.length).fill(0),
    freeResultMemory: false,
  };
  const blocking = { ...sync, paramsValue: [...sync.paramsValue], errno: true as const, runInNewThread: true as const };
  return {
    name,
    call(...args) {
      for (let i = 0; i < args.length; i++) sync.paramsValue[i] = args[i]!;
      const value = ffi.load(sync as never) as unknown as number;
      return { value, errno: value === -1 ? errnoSlot.readInt32LE(0) : 0 };
    },
    async callBlocking(...args) {
      // ffi-rs reads the arguments when the call starts, so one object can be
      // reused even while an earlier blocking call is still running.
      for (let i = 0; i < args.length; i++) blocking.paramsValue[i] = args[i]!;
      blockingCallStarted();
      try {
        // With runInNewThread ffi-rs returns a promise; its type says otherwise.
        const r = await (ffi.load(blocking as never) as unknown as Promise<RawResult>);
        return { value: r.value, errno: r.value === -1 ? r.errnoCode : 0 };
      } finally {
        blockingCallEnded();
      }
    },
  };
}

const exitFn = { library: LIB, funcName: '_exit', retType: DataType.Void, paramsType: [DataType.I32], paramsValue: [0], freeResultMemory: false };
installHardExit((code: number): never => {
  exitFn.paramsValue[0] = code;
  ffi.load(exitFn as never);
  throw new Error('_exit returned');
});

// Memory we own. malloc'ed (never moved by the GC) and exposed as a Buffer
// that aliases it, so the kernel writes straight into what JS reads.
const mallocFn = {
  library: LIB,
  funcName: 'malloc',
  retType: DataType.External,
  paramsType: [DataType.U64],
  paramsValue: [0],
  freeResultMemory: false,
};
const freeFn = { library: LIB, funcName: 'free', retType: DataType.Void, paramsType: [DataType.External], paramsValue: [null as unknown], freeResultMemory: false };
// memmove(p, p, 0) returns p: the cheapest way to learn an External's address.
const addressOf = {
  library: LIB,
  funcName: 'memmove',
  retType: DataType.U64,
  paramsType: [DataType.External, DataType.External, DataType.U64],
  paramsValue: [null as unknown, null as unknown, 0],
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

/** The address in an External, as a number. */
function externalAddress(handle: unknown): number {
  addressOf.paramsValue[0] = handle;
  addressOf.paramsValue[1] = handle;
  return ffi.load(addressOf as never) as unknown as number;
}

export interface PointerResult {
  /** The address as a number; -1 when the call returned (void *) -1. */
  addr: number;
  errno: number;
  /** A Buffer over `length` bytes at the address, without a copy. */
  view(length: number): Buffer;
}

/**
 * Bind a function that returns a pointer we do not own (shmat): the result
 * can be viewed as a Buffer that aliases the memory, never freed here.
 */
export function bindPointer(name: string, params: CType[]): { call(...args: number[]): PointerResult } {
  const sync = {
    library: LIB,
    funcName: name,
    retType: DataType.External,
    paramsType: params,
    paramsValue: new Array<number>(params.length).fill(0),
    errno: true as const,
    freeResultMemory: false,
  };
  return {
    call(...args) {
      for (let i = 0; i < args.length; i++) sync.paramsValue[i] = args[i]!;
      const r = ffi.load(sync as never) as unknown as { value: unknown; errnoCode: number };
      const raw = externalAddress(r.value);
      // (void *) -1 read as an unsigned 64-bit number is 2^64 - 1.
      const failed = raw >= 2 ** 63;
      return {
        addr: failed ? -1 : raw,
        errno: failed ? r.errnoCode : 0,
        view: (length: number) => ffi.createExternalBuffer(r.value as never, length),
      };
    },
  };
}

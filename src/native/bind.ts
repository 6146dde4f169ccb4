// Binding libc functions. Every function is bound once, with one prebuilt
// params object: ffi-rs re-prepares on every call, and handing it the same
// object (mutating only paramsValue) is the cheapest path it has. Pointers
// cross as plain numbers (DataType.U64 addresses), so a pointer into the
// middle of a block is simple arithmetic.
import { DataType, ffi } from './binding.js';
import { blockingCallEnded, blockingCallStarted } from '../exit.js';
import { ensureHardExit } from './hard-exit.js';
import { currentErrno, externalAddress, LIB, type CType } from './library.js';
import { fastCall, fastCallsOn, symbolAddress, type Width } from './fast-call.js';

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

/** How a fast call (fast-call.ts) reads a return type; null: not an integer type. */
function widthOf(t: CType): Width | null {
  if (t === DataType.I32) return 'i32';
  if (t === DataType.U32) return 'u32';
  if (t === DataType.I64) return 'i64';
  if (t === DataType.U64) return 'u64';
  if (t === DataType.Void) return 'void';
  return null;
}

const INTEGER_PARAMS = new Set<CType>([DataType.I32, DataType.U32, DataType.I64, DataType.U64]);

export function bind(name: string, ret: CType, params: CType[], library = LIB): LibcFunction {
  // libc functions of integers and pointers can go through the fast-call slot once a batch turned it on.
  const width = library === LIB && params.length <= 6 && params.every((p) => INTEGER_PARAMS.has(p)) ? widthOf(ret) : null;
  /** The function's address for a fast call: 0 until looked up, -1 when dlsym does not know it. */
  let address = 0;
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
      if (width !== null && fastCallsOn()) {
        if (address === 0) address = symbolAddress(name) || -1;
        if (address > 0) return fastCall(address, args as number[], width);
      }
      for (let i = 0; i < args.length; i++) sync.paramsValue[i] = args[i]!;
      const value = ffi.load(sync as never) as unknown as number;
      return { value, errno: value === -1 ? currentErrno() : 0 };
    },
    async callBlocking(...args) {
      // ffi-rs reads the arguments when the call starts, so one object can be
      // reused even while an earlier blocking call is still running.
      for (let i = 0; i < args.length; i++) blocking.paramsValue[i] = args[i]!;
      ensureHardExit();
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

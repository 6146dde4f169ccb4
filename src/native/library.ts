// libc as ffi-rs sees it: the library opened once under one name, the C
// types this layer speaks, the calling thread's errno, and the address held
// in an External. bind.ts builds every binding on these; memory.ts the
// memory we own.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DataType, ffi, onLoad } from './binding.js';

export const LIB = 'libc';

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
export type CType = (typeof C)[keyof typeof C];

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
let errnoSlot: Buffer;
// With the binary, before any call: libc opened, and where errno lives.
onLoad((f) => {
  f.open({ library: LIB, path: 'libc.so.6' });
  errnoSlot = f.createExternalBuffer(f.load(errnoLocation as never) as never, 4);
});

/**
 * errno of this thread now: read it right after the call that failed,
 * before anything else can make a system call here.
 */
export function currentErrno(): number {
  return errnoSlot.readInt32LE(0);
}

/**
 * Open one of ipcctl's C helpers (a file built beside this module, in
 * dist/native/) under `name`, for bind(..., name). False when
 * IPCCTL_NO_C_HELPER=1 asks for the TypeScript paths, when the file was not
 * built (no compiler), or when it will not load.
 */
export function openHelper(name: string, file: string): boolean {
  if (process.env.IPCCTL_NO_C_HELPER === '1') return false;
  const path = join(__dirname, file);
  if (!existsSync(path)) return false;
  try {
    ffi.open({ library: name, path });
    return true;
  } catch {
    return false;
  }
}

// memmove(p, p, 0) returns p: the cheapest way to learn an External's address.
const addressOf = {
  library: LIB,
  funcName: 'memmove',
  retType: DataType.U64,
  paramsType: [DataType.External, DataType.External, DataType.U64],
  paramsValue: [null as unknown, null as unknown, 0],
  freeResultMemory: false,
};

/** The address in an External, as a number. */
export function externalAddress(handle: unknown): number {
  addressOf.paramsValue[0] = handle;
  addressOf.paramsValue[1] = handle;
  return ffi.load(addressOf as never) as unknown as number;
}

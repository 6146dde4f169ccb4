// libc calls through the C helper's call slot (src/native/c/batch_turn.c):
// ffi-rs converts every argument of a call through N-API, about 1 us each
// after the first (getpid 2.2 us, lseek 5-6 us here), while a call without
// arguments stays near its floor. Through the slot a bound function's
// address and integer arguments are written into memory the helper owns,
// and the call is one FFI call without arguments (lseek: 2.7 us). Used by
// bind.ts for libc functions without string arguments, once a batch turned
// it on (a single command makes too few calls to pay for opening the helper).
import { ffi } from './binding.js';
import { openHelper } from './library.js';

const HELPER = 'ipcctl_fast_call';

// struct call_slot: fn, args[6], ret, err (as int32 pairs: low word first).
const FN = 0;
const ARGS = 2;
const RET = 14;
const ERR = 16;
const SLOT_WORDS = 18;
const TWO_32 = 4294967296;

let words: Int32Array | null = null;
const callParams = { library: HELPER, funcName: 'ipcctl_call', retType: ffi.DataType.I64, paramsType: [], paramsValue: [], freeResultMemory: false };
const symbolParams = {
  library: HELPER,
  funcName: 'ipcctl_symbol',
  retType: ffi.DataType.U64,
  paramsType: [ffi.DataType.String],
  paramsValue: [''],
  freeResultMemory: false,
};

/** Turn the slot on (idempotent); false without the helper or under IPCCTL_NO_C_HELPER=1. */
export function enableFastCalls(): boolean {
  if (words) return true;
  if (!openHelper(HELPER, 'libipcctl-turn.so')) return false;
  const at = ffi.load({
    library: HELPER,
    funcName: 'ipcctl_call_slot',
    retType: ffi.DataType.External,
    paramsType: [],
    paramsValue: [],
    freeResultMemory: false,
  } as never);
  const view = ffi.createExternalBuffer(at as never, SLOT_WORDS * 4);
  words = new Int32Array(view.buffer, view.byteOffset, SLOT_WORDS);
  return true;
}

export function fastCallsOn(): boolean {
  return words !== null;
}

/** The address of libc's `name`, or 0 when dlsym does not know it. */
export function symbolAddress(name: string): number {
  symbolParams.paramsValue[0] = name;
  return Number(ffi.load(symbolParams as never));
}

/** How the 64-bit register the function returned in is read (its C return type). */
export type Width = 'i32' | 'u32' | 'i64' | 'u64' | 'void';

function put(w: Int32Array, at: number, x: number): void {
  // Integers: a negative one sign-extends, a large one (an address) splits.
  w[at] = x;
  w[at + 1] = x < 0 ? -1 : Math.floor(x / TWO_32);
}

/** Call the function at `fn` with integer `args`: its value read as `width`, and errno when it is -1. */
export function fastCall(fn: number, args: ArrayLike<number>, width: Width): { value: number; errno: number } {
  const w = words!;
  put(w, FN, fn);
  for (let i = 0; i < args.length; i++) put(w, ARGS + 2 * i, args[i]!);
  ffi.load(callParams as never);
  const lo = w[RET]!;
  const hi = w[RET + 1]!;
  let value: number;
  if (width === 'i32') value = lo;
  else if (width === 'u32') value = lo >>> 0;
  else if (width === 'i64') value = hi * TWO_32 + (lo >>> 0);
  else if (width === 'u64') value = (hi >>> 0) * TWO_32 + (lo >>> 0);
  else value = undefined as unknown as number;
  return { value, errno: value === -1 ? w[ERR]! : 0 };
}

// The hard exit (_exit(2)) that src/exit.ts takes while a blocking call
// still holds one of libuv's pool threads (Node's own exit would wait for it
// for ever). It is installed by the first blocking call, not on import:
// loading the native layer changes nothing about how the process ends, and a
// process that never blocks never has it.
import { installHardExit } from '../exit.js';
import { ffi } from './binding.js';
import { LIB } from './library.js';

let installed = false;

export function ensureHardExit(): void {
  if (installed) return;
  installed = true;
  const exitFn = { library: LIB, funcName: '_exit', retType: ffi.DataType.Void, paramsType: [ffi.DataType.I32], paramsValue: [0], freeResultMemory: false };
  installHardExit((code: number): never => {
    exitFn.paramsValue[0] = code;
    ffi.load(exitFn as never);
    throw new Error('_exit returned');
  });
}

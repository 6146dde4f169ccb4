// Loading ffi-rs. Its index.js decides between prebuilt binaries by calling
// process.report.getReport() (to tell glibc from musl), which costs ~10 ms at
// every start, and its load() wrapper re-maps paramsType on every call. On
// the platforms we know we load the prebuilt binary that ffi-rs itself would
// pick, from where npm puts ffi-rs's own dependency (inside ffi-rs, or beside
// it), with process.dlopen as require() would, but without the module
// resolver (a few ms at start-up); elsewhere we use ffi-rs.
// We never pass array types, so skipping the wrapper's array handling is safe
// (every params object here also sets freeResultMemory: false, as it does).
//
// The binary is loaded on first use, not on import: the modules that bind
// functions can then be evaluated into a start-up snapshot (src/snapshot),
// which must hold nothing of the run, and only a run loads the binary.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

type Ffi = typeof import('ffi-rs');

/** The prebuilt package ffi-rs would load here, and its binary's file name. */
function prebuilt(): { pkg: string; file: string } | null {
  if (process.platform !== 'linux') return null;
  // The glibc dynamic loader's presence tells glibc from musl without a report.
  if (process.arch === 'x64' && existsSync('/lib64/ld-linux-x86-64.so.2')) return { pkg: '@yuuang/ffi-rs-linux-x64-gnu', file: 'ffi-rs.linux-x64-gnu.node' };
  if (process.arch === 'arm64' && existsSync('/lib/ld-linux-aarch64.so.1'))
    return { pkg: '@yuuang/ffi-rs-linux-arm64-gnu', file: 'ffi-rs.linux-arm64-gnu.node' };
  return null;
}

function loadBinding(): Ffi {
  const want = prebuilt();
  if (want) {
    const ffiDir = dirname(require.resolve('ffi-rs'));
    for (const modules of [join(ffiDir, 'node_modules'), dirname(ffiDir)]) {
      const file = join(modules, want.pkg, want.file);
      if (!existsSync(file)) continue;
      const addon = { exports: {} };
      process.dlopen(addon, file);
      return addon.exports as Ffi;
    }
  }
  return require('ffi-rs') as Ffi;
}

/**
 * ffi-rs's DataType numbers for the types this program passes (the enum of
 * its index.d.ts), known before the binary is loaded; checked against the
 * binary's own when it loads.
 */
export const DataType = { String: 0, I32: 1, Void: 7, I64: 8, External: 11, U64: 12, U32: 20 } as const;

let loaded: Ffi | null = null;
const whenLoaded: Array<(f: Ffi) => void> = [];

/** Run `fn` with the binding as soon as it is loaded (libc opened, errno slot found), before any call. */
export function onLoad(fn: (f: Ffi) => void): void {
  if (loaded) fn(loaded);
  else whenLoaded.push(fn);
}

function binding(): Ffi {
  if (loaded) return loaded;
  const f = loadBinding();
  const theirs = f.DataType as unknown as Record<string, number>;
  for (const [name, n] of Object.entries(DataType)) {
    if (theirs[name] !== n) throw new Error(`ffi-rs: DataType.${name} is ${theirs[name]}, not ${n}: this ffi-rs is not the one ipcctl was written for`);
  }
  loaded = f;
  for (const fn of whenLoaded.splice(0)) fn(f);
  return f;
}

/** The part of ffi-rs this program uses; the first call loads the binary. */
export const ffi = {
  DataType,
  load: ((params: never) => (loaded ?? binding()).load(params)) as unknown as Ffi['load'],
  open: ((params: never) => (loaded ?? binding()).open(params)) as Ffi['open'],
  createExternalBuffer: ((external: never, length: number) => (loaded ?? binding()).createExternalBuffer(external, length)) as Ffi['createExternalBuffer'],
  isNullPointer: ((external: never) => (loaded ?? binding()).isNullPointer(external)) as Ffi['isNullPointer'],
};

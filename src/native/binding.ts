// Loading ffi-rs. Its index.js decides between prebuilt binaries by calling
// process.report.getReport() (to tell glibc from musl), which costs ~10 ms at
// every start, and its load() wrapper re-maps paramsType on every call. On
// the platforms we know we load the prebuilt binary that ffi-rs itself would
// pick, from where npm puts ffi-rs's own dependency (inside ffi-rs, or beside
// it), with process.dlopen as require() would, but without the module
// resolver (a few ms at start-up); elsewhere we use ffi-rs.
// We never pass array types, so skipping the wrapper's array handling is safe
// (every params object here also sets freeResultMemory: false, as it does).
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

export const ffi: Ffi = loadBinding();

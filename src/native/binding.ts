// Loading ffi-rs. Its index.js decides between prebuilt binaries by calling
// process.report.getReport() (to tell glibc from musl), which costs ~10 ms at
// every start, and its load() wrapper re-maps paramsType on every call. On
// the platforms we know we load the prebuilt binary that ffi-rs itself would
// pick, straight from ffi-rs's own dependencies; elsewhere we use ffi-rs.
// We never pass array types, so skipping the wrapper's array handling is safe
// (every params object here also sets freeResultMemory: false, as it does).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

type Ffi = typeof import('ffi-rs');

function prebuiltName(): string | null {
  if (process.platform !== 'linux') return null;
  // The glibc dynamic loader's presence tells glibc from musl without a report.
  if (process.arch === 'x64' && existsSync('/lib64/ld-linux-x86-64.so.2')) return '@yuuang/ffi-rs-linux-x64-gnu';
  if (process.arch === 'arm64' && existsSync('/lib/ld-linux-aarch64.so.1')) return '@yuuang/ffi-rs-linux-arm64-gnu';
  return null;
}

function loadBinding(): Ffi {
  const name = prebuiltName();
  if (name) {
    try {
      // Resolve from ffi-rs's directory: the binary is its dependency, not ours.
      const fromFfi = createRequire(require.resolve('ffi-rs'));
      return fromFfi(name) as Ffi;
    } catch {
      /* not installed next to ffi-rs: fall through */
    }
  }
  return require('ffi-rs') as Ffi;
}

export const ffi: Ffi = loadBinding();

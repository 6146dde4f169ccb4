// Transitional. libc.ts did four jobs and is now four files: library.ts
// (libc opened, C types, errno), bind.ts (bindings), hard-exit.ts (the exit
// hook, installed by the first blocking call) and memory.ts (NativeMemory).
// It re-exports their names only so that code written against it before the
// split still compiles; the restructure (issue 13) points every importer at
// the file it needs and deletes this one. Importing it installs nothing.
export { C, currentErrno, openLibrary, type CType } from './library.js';
export { bind, bindPointer, type CallResult, type LibcFunction, type PointerResult } from './bind.js';
export { NativeMemory } from './memory.js';

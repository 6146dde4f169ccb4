// The replies of `ipcctl batch`, one line per command, so that a bash
// coprocess reads a whole reply with one `read`:
//
//   EXIT|STDOUT|STDERR\n
//
// EXIT is the command's exit code in decimal; STDOUT and STDERR are what it
// wrote, escaped so that `printf '%b'` gives back the exact bytes: `\` is
// `\\`, newline `\n`, tab `\t`, carriage return `\r`, `|` and every other
// byte below 0x20 (NUL too) or 0x7f is `\0` and three octal digits (`\0174`,
// `\0000`); bytes from 0x20 to 0x7e but `\` and `|`, and bytes from 0x80 up
// (UTF-8 text), are themselves. So a reply has exactly two `|` and one
// newline, at its end, and reads as `IFS='|' read -r code out err`.
//
// --json: one JSON object per line, {"line":N,"exit":N,"stdout":"...",
// "stderr":"..."}, with "stdout_base64" (or "stderr_base64") in place of
// the text when the bytes are not valid UTF-8.
import { IpcError } from '../errors.js';
import { BatchTurn, type TurnFds } from '../native/batch-turn.js';
import type { ReplyTurn } from '../ipc/batch/engine.js';
import { writeAll } from './sink.js';

const SAFE = new Uint8Array(256);
for (let b = 0x20; b < 0x7f; b++) SAFE[b] = 1;
for (let b = 0x80; b < 0x100; b++) SAFE[b] = 1;
SAFE[0x5c] = 0; // backslash
SAFE[0x7c] = 0; // the field separator

const NAMED: Record<number, string> = { 0x0a: '\\n', 0x09: '\\t', 0x0d: '\\r', 0x5c: '\\\\' };

/** The bytes of `data` escaped for printf '%b' (see the top of this file). */
export function escapeForPrintf(data: Buffer): string {
  let plain = true;
  for (let i = 0; i < data.length; i++) {
    if (!SAFE[data[i]!]) {
      plain = false;
      break;
    }
  }
  if (plain) return data.toString('latin1');
  const parts: string[] = [];
  let from = 0;
  for (let i = 0; i < data.length; i++) {
    const b = data[i]!;
    if (SAFE[b]) continue;
    if (i > from) parts.push(data.toString('latin1', from, i));
    parts.push(NAMED[b] ?? '\\0' + b.toString(8).padStart(3, '0'));
    from = i + 1;
  }
  if (from < data.length) parts.push(data.toString('latin1', from));
  return parts.join('');
}

export interface BatchReply {
  line: number;
  exit: number;
  stdout: Buffer;
  stderr: Buffer;
}

function isUtf8(b: Buffer): boolean {
  return Buffer.from(b.toString('utf8'), 'utf8').equals(b);
}

function jsonField(obj: Record<string, unknown>, name: string, data: Buffer): void {
  if (isUtf8(data)) obj[name] = data.toString('utf8');
  else obj[`${name}_base64`] = data.toString('base64');
}

export function formatReply(r: BatchReply, json: boolean): Buffer {
  if (json) {
    const obj: Record<string, unknown> = { line: r.line, exit: r.exit };
    jsonField(obj, 'stdout', r.stdout);
    jsonField(obj, 'stderr', r.stderr);
    return Buffer.from(JSON.stringify(obj) + '\n');
  }
  // latin1 both ways: every byte above 0x7f goes out as itself.
  return Buffer.from(`${r.exit}|${escapeForPrintf(r.stdout)}|${escapeForPrintf(r.stderr)}\n`, 'latin1');
}

function replyFailed(code: string): IpcError {
  return IpcError.of(code, 'batch', 'writing a reply', code === 'ENOSPC' ? { detail: 'no space left on the output' } : {});
}

/** Write one reply to `fd` whole; OutputClosedError when the reader is gone. */
export function writeReply(fd: number, r: BatchReply, json: boolean): void {
  try {
    writeAll(fd, formatReply(r, json));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code && /^E[A-Z0-9]+$/.test(code)) throw replyFailed(code);
    throw e;
  }
}

/**
 * A reply and the next input in one native call (src/native/batch-turn.ts),
 * for the EXIT|STDOUT|STDERR form (it frames exactly as formatReply does; a
 * failed reply throws as writeReply does). Null under --json or without the
 * C helper: then writeReply.
 */
export function replyTurn(fds: TurnFds, json: boolean): ReplyTurn | null {
  const turn = json ? null : BatchTurn.open(fds);
  if (!turn) return null;
  return {
    buf: turn.buf,
    step(exit, read, waitMs) {
      try {
        return turn.step(exit, read, waitMs);
      } catch (e) {
        // writeAll's words: a reader gone (EPIPE, ECONNRESET) is EPIPE.
        if (e instanceof IpcError && e.op === 'write') throw replyFailed(e.code === 'ECONNRESET' ? 'EPIPE' : e.code);
        throw e;
      }
    },
  };
}

// The error types every layer shares, and the one table that turns them
// into the exit codes of the contract. No layer below cli.ts exits or prints:
// they throw one of these, and cli.ts decides what the user sees.
import { constants } from 'node:os';

// errno number -> name, made by inverting os.constants.errno so that names
// Node's util.getSystemErrorName lacks (EIDRM, ENOMSG) are still found.
const errnoNames = new Map<number, string>();
for (const [name, num] of Object.entries(constants.errno)) {
  if (!errnoNames.has(num)) errnoNames.set(num, name);
}

export function errnoName(errno: number): string {
  return errnoNames.get(errno) ?? `errno ${errno}`;
}

export function errnoNumber(name: string): number {
  const n = (constants.errno as Record<string, number>)[name];
  if (n === undefined) throw new Error(`unknown errno name ${name}`);
  return n;
}

export const EXIT = {
  OK: 0,
  FAILED: 1,
  USAGE: 2,
  EMPTY: 3,
  NO_OBJECT: 4,
  PERMISSION: 5,
  TIMEOUT: 124,
  INTERRUPTED: 130,
  /** SIGTERM ended a server (128 + 15, as a shell reports a process killed by it). */
  TERMINATED: 143,
  /** SIGHUP ended a reader (128 + 1). */
  HANGUP: 129,
} as const;

/** Base of every error that reaches the user as one `ipcctl: ...` line. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** Bad option, bad value, missing argument: exit 2. */
export class UsageError extends CliError {
  constructor(message: string, hint?: string) {
    super(message, EXIT.USAGE, hint);
  }
}

/** A --timeout expired: exit 124, as timeout(1). */
export class TimeoutError extends CliError {
  constructor(message: string) {
    super(message, EXIT.TIMEOUT);
  }
}

/** SIGINT arrived while waiting: exit 130. */
export class InterruptedError extends CliError {
  constructor(message = 'interrupted') {
    super(message, EXIT.INTERRUPTED);
  }
}

/** The operation failed for a reason that is not an errno (exit 1 unless told). */
export class OperationError extends CliError {
  constructor(message: string, exitCode: number = EXIT.FAILED, hint?: string) {
    super(message, exitCode, hint);
  }
}

// What an errno means to a user of the command line, chosen per errno on
// purpose (as sysv_ipc does), not left to strerror.
const errnoExit: Record<string, number> = {
  EAGAIN: EXIT.EMPTY,
  ENOMSG: EXIT.EMPTY,
  EINVAL: EXIT.NO_OBJECT,
  ENOENT: EXIT.NO_OBJECT,
  EIDRM: EXIT.NO_OBJECT,
  EACCES: EXIT.PERMISSION,
  EPERM: EXIT.PERMISSION,
};

const errnoPhrase: Record<string, string> = {
  EAGAIN: 'would block',
  ENOMSG: 'no message',
  EINVAL: 'no such object or invalid argument',
  ENOENT: 'no such object',
  EIDRM: 'the object was removed',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: 'a system limit was reached',
  ENOMEM: 'out of memory',
  E2BIG: 'message larger than the buffer',
  EEXIST: 'already exists',
  EFAULT: 'bad address',
  EINTR: 'interrupted',
  ENOSYS: 'System V IPC is not available here',
  EFBIG: 'too large',
  ERANGE: 'value out of range',
  ECONNREFUSED: 'connection refused',
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'address not available',
  ETIMEDOUT: 'timed out',
  ECONNRESET: 'connection reset by peer',
  EPIPE: 'broken pipe',
  ENOTSOCK: 'not a socket',
  ENETUNREACH: 'network unreachable',
  EHOSTUNREACH: 'host unreachable',
  EAFNOSUPPORT: 'address family not supported',
};

/**
 * A failed system call. `code` is the errno name (EIDRM), `op` the operation
 * as the user named it ("msgq recv"), `object` what it acted on ("32768").
 */
export class IpcError extends CliError {
  readonly code: string;
  constructor(
    readonly errno: number,
    readonly op: string,
    readonly object: string,
    opts: { detail?: string; hint?: string; exitCode?: number; code?: string } = {},
  ) {
    const code = opts.code ?? errnoName(errno);
    const detail = opts.detail ?? errnoPhrase[code] ?? 'failed';
    const where = object ? `${op} ${object}` : op;
    super(`${where}: ${code}, ${detail}`, opts.exitCode ?? errnoExit[code] ?? EXIT.FAILED, opts.hint);
    this.code = code;
  }

  /** The same errno, re-described for the operation the user ran. */
  static of(name: string, op: string, object: string, opts: { detail?: string; hint?: string; exitCode?: number } = {}) {
    // errnoName gives `errno N` for a number this Node does not name: keep N.
    const unnamed = /^errno (\d+)$/.exec(name);
    return new IpcError(unnamed ? Number(unnamed[1]) : errnoNumber(name), op, object, opts);
  }
}

export function exitCodeFor(err: unknown): number {
  if (err instanceof CliError) return err.exitCode;
  return EXIT.FAILED;
}

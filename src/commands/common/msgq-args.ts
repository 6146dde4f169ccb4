// The words of `msgq` commands: message types, and the options that exclude
// each other. Parsing only: nothing here loads the native layer.
import { UsageError } from '../../errors.js';
import { parseInteger } from './args.js';

const MAX_TYPE = Number.MAX_SAFE_INTEGER;

/** `send --type`: a type above 0 (msgsnd refuses 0 and below). */
export function sendType(v: string): number {
  return parseInteger(v, 'message type', 1, MAX_TYPE);
}

/** `recv --type`: 0 the first, N the first of type N, -N the lowest type up to N. */
export function recvType(v: string): number {
  return parseInteger(v, 'message type', -MAX_TYPE, MAX_TYPE);
}

export function checkSendOptions(opts: { lines?: boolean; null?: boolean }): void {
  if (opts.lines && opts.null) throw new UsageError('msgq send: give --lines or --null, not both');
}

export function checkRecvOptions(opts: { all?: boolean; count?: number; except?: boolean; type: number }): void {
  if (opts.all && opts.count !== undefined) throw new UsageError('msgq recv: give --count or --all, not both');
  if (opts.except && opts.type <= 0) throw new UsageError('msgq recv: --except needs a --type above 0');
}

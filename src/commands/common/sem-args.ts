// The words of `sem` commands: semaphore values, numbers and OPs. Parsing
// only: nothing here loads the native layer.
import { UsageError } from '../../errors.js';
import type { SemField, SemOp } from '../../ipc/sysv/sem.js';
import { idAndWords, parseId, parseInteger } from './args.js';

/** SEMVMX, repeated here so that parsing does not load the native layer. */
export const SEMVMX = 32767;

export function parseValue(text: string): number {
  return parseInteger(text, 'semaphore value', 0, SEMVMX);
}

export function parseIndex(text: string | undefined, op: string): number {
  if (text === undefined) throw new UsageError(`${op}: missing the semaphore number (0 is the first)`);
  return parseInteger(text, 'semaphore number', 0, 65535);
}

/** NUM:+N (add), NUM:-N (take, waiting while it would go below 0), NUM:0 (wait for zero). */
export function parseOp(text: string): SemOp {
  const m = /^([0-9]+):([+-]?)([0-9]+)$/.exec(text.trim());
  if (!m) throw new UsageError(`invalid op '${text}': use NUM:+N (add), NUM:-N (take) or NUM:0 (wait for zero), e.g. 0:-1`);
  const num = Number(m[1]);
  const n = Number(m[3]);
  if (num > 65535) throw new UsageError(`invalid op '${text}': semaphore number ${m[1]} is out of range`);
  if (n > SEMVMX) throw new UsageError(`invalid op '${text}': ${n} is above SEMVMX (${SEMVMX})`);
  if (n === 0) {
    if (m[2]) throw new UsageError(`invalid op '${text}': ${m[2]}0 changes nothing; NUM:0 waits for zero`);
    return { num, op: 0 };
  }
  if (!m[2]) throw new UsageError(`invalid op '${text}': say +${n} to add or -${n} to take`);
  return { num, op: m[2] === '-' ? -n : n };
}

export function collectValues(v: string, prev: number[] | undefined): number[] {
  // --value 1 2 3, --value 1 --value 2, and --value 1,2,3 all work.
  // An empty value is refused as `ctl setval 0 ''` is, never taken as 0.
  if (v.trim() === '') throw new UsageError(`invalid semaphore value '': give a number from 0 to ${SEMVMX}`);
  return [...(prev ?? []), ...v.split(',').map(parseValue)];
}

export const CTL_USAGE = 'getval N | setval N V | getall | setall V... | getpid N | getncnt N | getzcnt N';

/** `sem ctl ID CMD ARGS...` (or, by key, `CMD ARGS...`): the id, the command (lower case and as typed) and its arguments. */
export function ctlWords(words: string[], byKey: boolean): { idArg: string | undefined; cmd: string; cmdRaw: string; args: string[] } {
  const idArg = byKey ? undefined : words[0];
  const [cmdRaw, ...args] = byKey ? words : words.slice(1);
  if (!byKey && idArg !== undefined && !/^[0-9]+$/.test(idArg)) {
    throw new UsageError(`sem ctl: expected an ID before '${idArg}' (ipcctl sem ctl ID ${CTL_USAGE.split(' | ')[0]})`);
  }
  if (idArg !== undefined) parseId(idArg);
  const cmd = cmdRaw?.toLowerCase();
  if (cmd === undefined) throw new UsageError(`sem ctl: missing command: ${CTL_USAGE}`);
  return { idArg, cmd, cmdRaw: cmdRaw!, args };
}

/** `sem ctl CMD` takes exactly `n` arguments. */
export function expectArgs(cmd: string, args: string[], n: number): void {
  if (args.length !== n)
    throw new UsageError(`sem ctl ${cmd}: expected ${n === 0 ? 'no arguments' : n === 1 ? 'N' : 'N V'}, got ${args.length === 0 ? 'none' : args.join(' ')}`);
}

/** The one-semaphore reads of `sem ctl`: what each reads, and the JSON field it prints as. */
export const CTL_GETTERS: ReadonlyMap<string, { field: SemField; json: string }> = new Map([
  ['getval', { field: 'val', json: 'value' }],
  ['getpid', { field: 'pid', json: 'pid' }],
  ['getncnt', { field: 'ncnt', json: 'ncnt' }],
  ['getzcnt', { field: 'zcnt', json: 'zcnt' }],
]);

/** `sem ctl setall V...`: values as words, or comma-separated, or both. */
export function parseValues(args: string[]): number[] {
  if (args.length === 0) throw new UsageError(`sem ctl setall: missing values (one per semaphore)`);
  return args
    .flatMap((a) => a.split(','))
    .filter((a) => a !== '')
    .map(parseValue);
}

export interface LockWords {
  key?: string;
  path?: string;
  command?: string;
  nowait?: boolean;
  timeout?: number;
  take: number;
  value: number;
}

/** `sem lock [ID] [-- CMD ARGS...] | -c COMMAND`, checked: the id (if any) and the argv to run. */
export function lockCommand(idArg: string | undefined, words: string[], opts: LockWords): { id: string | undefined; argv: string[] } {
  // With -k/-f every positional word belongs to the command.
  const { id, words: cmd } = idAndWords(idArg, words, opts);
  if (opts.nowait && opts.timeout !== undefined) throw new UsageError('sem lock: give --nowait or --timeout, not both');
  if (opts.command !== undefined && cmd.length > 0) throw new UsageError(`sem lock: give -c 'COMMAND' or -- CMD ARGS..., not both`);
  if (opts.command === undefined && cmd.length === 0) throw new UsageError('sem lock: missing the command to run (-- CMD [ARGS...] or -c COMMAND)');
  if (opts.command === '' || (opts.command === undefined && cmd[0] === '')) throw new UsageError('sem lock: the command to run is empty');
  if (opts.take > opts.value && id === undefined) {
    throw new UsageError(`sem lock: --take ${opts.take} is more than the value ${opts.value} a new set starts with (raise --value)`);
  }
  return { id, argv: opts.command !== undefined ? ['/bin/sh', '-c', opts.command] : cmd };
}

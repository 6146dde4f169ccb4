// The generator of the bad-input corpus (test/bad-input.test.ts): every
// invocation is derived from the commander program itself, so a command or
// option added later is covered without anyone editing a list. For each
// leaf command it makes a valid-looking base invocation (fixture objects,
// loopback addresses, no waiting), then breaks one thing at a time: a
// missing argument, an unknown option, a bad value for each option and each
// argument, stdout full or closed, stdin from /dev/zero or a directory.
import type { Command, Option } from 'commander';

export type Stdin = 'empty' | 'zero' | 'dir';
/** 'closed': stdout is a pipe whose reader is gone before the command writes. */
export type Stdout = 'pipe' | 'full' | 'closed';

export interface Case {
  name: string;
  /** Words after `ipcctl`; {Q} {M} {S} (fixture ids), {DIR} (a temp dir) are filled in by the runner. */
  args: string[];
  stdin: Stdin;
  stdout: Stdout;
  /** When set, the exit code this case must have (else: any code of the table). */
  code?: number;
}

export interface Skipped {
  name: string;
  reason: string;
}

/** Values that must never reach `internal error`: empty, negative, huge, not a number, unicode. */
export const BAD_VALUES = ['', '-1', '99999999999999999999', 'ünï😀'];

/**
 * Values at the edge of what a kernel field or a double holds: (uid_t)-1 and
 * 2^53-1. Not for options that say how much work to do (--count, --items,
 * ...): there a huge valid value is a long run, not bad input.
 */
export const EDGE_VALUES = ['4294967295', '9007199254740991'];
const QUANTITY = /count|iterations|items|rounds|requests|processes|producers|consumers|clients|workers|triggers|buffer|conns|failures/i;

/**
 * Commands whose plain run is left out: they run real exercises for
 * seconds. Their bad values are still run (they are refused before anything
 * starts).
 */
const HEAVY = /^(lab |selftest$)/;

/**
 * Cases that wait for other work before they can pass: named with the
 * reason, so they are visible in the test output and easy to drop.
 */
const PENDING: Array<[RegExp, string]> = [];

interface Leaf {
  path: string[];
  cmd: Command;
}

function leaves(program: Command): Leaf[] {
  const out: Leaf[] = [];
  const walk = (c: Command, path: string[]) => {
    const subs = c.commands.filter((s) => s.name() !== 'help');
    if (subs.length === 0 && path.length > 0) out.push({ path, cmd: c });
    for (const s of subs) walk(s, [...path, s.name()]);
  };
  walk(program, []);
  return out;
}

/** The fixture a command of this group acts on. */
function fixtureFor(path: string[]): string {
  if (path[0] === 'shm') return '{M}';
  if (path[0] === 'sem') return '{S}';
  return '{Q}';
}

/** A good value for a positional argument, chosen by its name. */
function goodArgument(path: string[], name: string): string[] {
  switch (name) {
    case 'id':
      return [fixtureFor(path)];
    case 'kind':
      return ['msgq'];
    case 'op':
      return ['0:+1'];
    case 'words':
      return ['{S}', 'getall'];
    case 'host':
      return ['127.0.0.1'];
    case 'port':
      return ['9'];
    case 'path':
      return ['{DIR}/s.sock'];
    case 'shell':
      return ['bash'];
    case 'cmd':
      return ['true'];
    case 'text':
    case 'data':
      return ['hello'];
    default:
      return ['x'];
  }
}

/** A good value for an option that must be given (mandatory), by its name. */
function goodOption(o: Option): string {
  const name = o.attributeName();
  // A fixed port is safe: the corpus runs in its own network namespace (and --port 0 would add a 'listening on' line).
  if (name === 'port') return '7777';
  if (name === 'size') return '4096';
  return '1';
}

function has(cmd: Command, long: string): boolean {
  return cmd.options.some((o) => o.long === long);
}

/**
 * Options that keep a valid run short: never wait for a message, a client
 * or a signal. Blocking commands have --nowait or --timeout; attach has --hold.
 */
function noWaiting(cmd: Command, except: string | undefined): string[] {
  const out: string[] = [];
  if (has(cmd, '--nowait') && except !== '--nowait' && except !== '--timeout') out.push('--nowait');
  else if (has(cmd, '--timeout') && except !== '--timeout' && !has(cmd, '--nowait')) out.push('--timeout', '300ms');
  if (has(cmd, '--hold') && except !== '--hold') out.push('--hold', '100ms');
  if (has(cmd, '--watch') && except === '--watch') out.push('--count', '2');
  return out;
}

function mandatory(cmd: Command, except: string | undefined): string[] {
  return cmd.options.filter((o) => o.mandatory && o.long !== except).flatMap((o) => [o.long!, goodOption(o)]);
}

function positionals(leaf: Leaf): string[][] {
  return leaf.cmd.registeredArguments.map((a) => goodArgument(leaf.path, a.name()));
}

/**
 * The values one option is tried with: always the empty one, and four of the
 * others in turn (the n-th option starts at the n-th), so that every value
 * meets every kind of option across the corpus while a run stays short.
 */
function valuesFor(o: Option, n: number): string[] {
  const others = [...BAD_VALUES.slice(1), ...(QUANTITY.test(o.attributeName()) ? [] : EDGE_VALUES)];
  const picked = Array.from({ length: Math.min(4, others.length) }, (_, i) => others[(n + i) % others.length]!);
  return ['', ...picked];
}

export function generateCorpus(program: Command): { cases: Case[]; skipped: Skipped[] } {
  const cases: Case[] = [];
  const skipped: Skipped[] = [];
  let optionNo = 0;
  const add = (c: Omit<Case, 'stdin' | 'stdout'> & Partial<Case>) => {
    const full: Case = { stdin: 'empty', stdout: 'pipe', ...c };
    const pending = PENDING.find(([re]) => re.test(full.name));
    if (pending) skipped.push({ name: full.name, reason: pending[1] });
    else cases.push(full);
  };
  for (const leaf of leaves(program)) {
    const words = leaf.path.join(' ');
    const pos = positionals(leaf);
    // -k/-f name the object instead of the id: testing them, leave the id out.
    const byKey = (except?: string) => except === '--key' || except === '--path';
    const base = (except?: string) => [
      ...leaf.path,
      ...pos.filter((_, i) => !(byKey(except) && leaf.cmd.registeredArguments[i]!.name() === 'id')).flat(),
      ...mandatory(leaf.cmd, except),
      ...noWaiting(leaf.cmd, except),
    ];
    const heavy = HEAVY.test(words);

    // Missing: no arguments and no mandatory options at all.
    if (leaf.cmd.registeredArguments.length > 0 || leaf.cmd.options.some((o) => o.mandatory)) {
      const required = leaf.cmd.registeredArguments.some((a) => a.required) || leaf.cmd.options.some((o) => o.mandatory);
      add({ name: `${words} (nothing given)`, args: [...leaf.path, ...noWaiting(leaf.cmd, undefined)], code: required ? 2 : undefined });
    }
    add({ name: `${words} --no-such-option`, args: [...base(), '--no-such-option'], code: 2 });

    // The plain run, and with every way its output and input can fail.
    if (heavy) skipped.push({ name: `${words} (plain run)`, reason: 'runs a real exercise for seconds; its options are still covered' });
    else {
      add({ name: `${words} stdout full`, args: base(), stdout: 'full' });
      add({ name: `${words} stdout closed`, args: base(), stdout: 'closed' });
      add({ name: `--json ${words} stdout full`, args: ['--json', ...base()], stdout: 'full' });
      add({ name: `${words} stdin zero`, args: base(), stdin: 'zero' });
      add({ name: `${words} stdin dir`, args: base(), stdin: 'dir' });
    }

    // Each option with each bad value (options that take one), or given bare
    // when it wants one.
    for (const o of leaf.cmd.options) {
      if (!o.long || o.long === '--help') continue;
      if (!o.required && !o.optional) continue;
      const rest = base(o.long).filter((w, i, all) => !(w === o.long || all[i - 1] === o.long));
      for (const v of valuesFor(o, optionNo++)) add({ name: `${words} ${o.long} '${v}'`, args: [...rest, o.long, v] });
      if (o.required) add({ name: `${words} ${o.long} (value missing)`, args: [...rest, o.long], code: 2 });
    }

    // Each positional argument with each bad value, the others good.
    leaf.cmd.registeredArguments.forEach((a, i) => {
      for (const v of BAD_VALUES) {
        const args = pos.map((p, j) => (j === i ? [v] : p)).flat();
        add({ name: `${words} <${a.name()}> '${v}'`, args: [...leaf.path, ...args, ...mandatory(leaf.cmd, undefined), ...noWaiting(leaf.cmd, undefined)] });
      }
    });
  }
  return { cases, skipped };
}

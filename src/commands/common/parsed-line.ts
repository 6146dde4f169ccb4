// The batch lines a quick parser (quick-argv.ts) has parsed, kept for the
// next time the same line comes: a script sends the same few lines again and
// again, and parsing one (a fresh options object filled key by key, each
// value through its parser) was the largest part of running a small command
// in a batch. The values are what the option and argument parsers made of
// the same words (they are pure); each call gets its own copies, so that no
// action sees what another changed.
import type { Command } from 'commander';

/** The most lines a parser remembers. */
export const PARSED_MAX = 256;

type Action = (this: Command, ...args: unknown[]) => unknown;

/** What the program's own flags set. */
interface Globals {
  json: boolean;
  color: boolean;
}

/** One line parsed: its leaf command, the program's flags, the operand values and the options. */
export interface Parsed<L extends { command: Command; action: Action }> {
  leaf: L;
  globals: Globals;
  args: unknown[];
  opts: Record<string, unknown>;
  /** Which options and operands hold arrays (variadic, repeated): copied for each call. */
  arrayOpts: string[];
  arrayArgs: number[];
}

const NONE: never[] = [];

export function parsedLine<L extends { command: Command; action: Action }>(
  leaf: L,
  globals: Globals,
  args: unknown[],
  opts: Record<string, unknown>,
): Parsed<L> {
  // Most lines hold no array (and a line whose DATA changes each time is parsed each time: keep this cheap).
  let arrayOpts: string[] = NONE;
  for (const k in opts) if (Array.isArray(opts[k])) arrayOpts = [...arrayOpts, k];
  let arrayArgs: number[] = NONE;
  for (let i = 0; i < args.length; i++) if (Array.isArray(args[i])) arrayArgs = [...arrayArgs, i];
  return { leaf, globals, args, opts, arrayOpts, arrayArgs };
}

/** The call of a parsed line (the action as commander calls it), with its own copies of the values. */
export function callOf(p: Parsed<{ command: Command; action: Action }>): Globals & { run(): unknown } {
  const { command, action } = p.leaf;
  // A spread of one same-shaped object: the copy V8 makes fastest, with the same shape every time.
  const opts = { ...p.opts };
  for (const k of p.arrayOpts) opts[k] = (opts[k] as unknown[]).slice();
  const args = p.args.slice();
  for (const i of p.arrayArgs) args[i] = (args[i] as unknown[]).slice();
  args.push(opts, command);
  return { json: p.globals.json, color: p.globals.color, run: () => action.apply(command, args) };
}

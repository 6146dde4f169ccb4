// A quick path for the command lines of a batch: commander's parse of one
// line costs 10-30 us (it walks the whole tree, re-derives every option's
// attribute name, checks conflicts and environment variables that no
// ipcctl command uses), more than the System V call the line asks for.
// This parser reads the same commander objects (options, arguments, the
// action a command module registered) and handles the plain lines a script
// sends: `GROUP SUB` then known options, values and operands. Anything else
// (help, --version, `--`, unknown or combined flags, a value that fails its
// parser, too few or too many operands, options commander would treat
// specially) is answered "not mine" (null), and the caller hands the line to
// commander, so every error and every unusual line reads exactly as before.
import type { Argument, Command, Option } from 'commander';
import { BoundedMap } from '../../bounded-map.js';
import { callOf, type Parsed, parsedLine, PARSED_MAX } from './parsed-line.js';

/** What the program's own flags set (the preAction hook of cli.ts does the same). */
export interface QuickGlobals {
  json: boolean;
  color: boolean;
}

/** A line parsed without commander: run() calls the action as commander would. */
export interface QuickCall extends QuickGlobals {
  run(): unknown;
}

type Action = (this: Command, ...args: unknown[]) => unknown;

/** The action a command registered, and whether it (or its group) added hooks. */
export interface Recorded {
  recordedAction?: Action;
  hookCount: number;
}

/** commander's Option as this parser needs it (implied and conflictsWith are not in its types). */
type PlainOption = Option & { implied?: object; conflictsWith?: string[] };

/** One leaf command, seen once: its flags, the defaults before any parse, its arguments. */
interface Leaf {
  command: Command;
  action: Action;
  flags: Map<string, PlainOption>;
  /** Each option's attribute name (commander derives it anew, camel-casing, at every call). */
  names: Map<Option, string>;
  defaults: Record<string, unknown>;
  mandatory: PlainOption[];
  args: readonly Argument[];
  /** Most operands taken (Infinity with a variadic last argument). */
  most: number;
  /** Fewest operands taken: up to the last required argument. */
  least: number;
}

function plainOption(o: PlainOption): boolean {
  if (o.envVar !== undefined || o.implied !== undefined || (o.conflictsWith?.length ?? 0) > 0) return false;
  if (o.variadic || o.optional || o.negate || o.presetArg !== undefined) return false;
  // A boolean flag with a parser would be called with `undefined`: leave it to commander.
  return o.required || o.parseArg === undefined;
}

function leafOf(command: Command & Recorded): Leaf | null {
  if (!command.recordedAction || command.hookCount > 0 || command.commands.length > 0) return null;
  const options = command.options as readonly PlainOption[];
  if (!options.every(plainOption)) return null;
  // cli.ts's hook reads json and color from optsWithGlobals: a leaf's own would win there.
  if (options.some((o) => o.attributeName() === 'json' || o.attributeName() === 'color')) return null;
  const flags = new Map<string, PlainOption>();
  const names = new Map<Option, string>();
  for (const o of options) {
    names.set(o, o.attributeName());
    if (o.short) flags.set(o.short, o);
    if (o.long) flags.set(o.long, o);
  }
  const args = command.registeredArguments;
  const last = args[args.length - 1];
  return {
    command,
    action: command.recordedAction,
    flags,
    names,
    // Taken before the first parse: what commander restores before each one.
    defaults: { ...command.opts() },
    mandatory: options.filter((o) => o.mandatory),
    args,
    most: last?.variadic ? Infinity : args.length,
    least: args.reduce((n, a, i) => (a.required ? i + 1 : n), 0),
  };
}

/**
 * The quick parser of one program (one group loaded). Leaves are looked at
 * when first used; build it before the program's first parse, so that the
 * defaults it keeps are the pristine ones.
 */
export class QuickParser {
  private readonly leaves = new Map<string, Leaf | null>();
  /** The same leaves by group name, then subcommand name: a line finds its own without building a key. */
  private readonly byWords = new Map<string, Map<string, Leaf | null>>();
  /** The program's flags: --json and --no-color are read here, any other one (--version) is commander's. */
  private readonly globals = new Map<string, 'json' | 'color' | 'other'>();
  private readonly usable: boolean;

  constructor(
    private readonly program: Command & Recorded,
    ownHooks: number,
  ) {
    for (const o of program.options) {
      const plain = !o.required && !o.optional;
      const role = plain && o.long === '--json' ? 'json' : plain && o.long === '--no-color' && o.negate ? 'color' : 'other';
      if (o.long) this.globals.set(o.long, role);
      if (o.short) this.globals.set(o.short, 'other');
    }
    this.usable = program.hookCount === ownHooks;
    // Snapshot every leaf now, before any parse changes their values.
    for (const group of program.commands) {
      const subs = new Map<string, Leaf | null>();
      for (const sub of group.commands) subs.set(sub.name(), this.leaf(group, sub));
      this.byWords.set(group.name(), subs);
    }
  }

  private leaf(group: Command, sub: Command): Leaf | null {
    const key = `${group.name()} ${sub.name()}`;
    let leaf = this.leaves.get(key);
    if (leaf === undefined) {
      const g = group as Command & Recorded;
      leaf = g.options.length === 0 && g.hookCount === 0 && !g.recordedAction ? leafOf(sub as Command & Recorded) : null;
      this.leaves.set(key, leaf);
    }
    return leaf;
  }

  /** Lines parsed before, by their words (see parsed-line.ts). */
  private readonly parsed = new BoundedMap<string, Parsed<Leaf>>(PARSED_MAX);

  /** The line as commander would run it, or null: let commander parse it. */
  parse(argv: readonly string[]): QuickCall | null {
    if (!this.usable) return null;
    const key = argv.join('\n');
    const known = this.parsed.get(key);
    if (known) return callOf(known);
    const parsed = this.parseFresh(argv);
    if (!parsed) return null;
    // A bounded memory: past it the oldest line goes (a line used all along comes back at its next use).
    this.parsed.add(key, parsed);
    return callOf(parsed);
  }

  private parseFresh(argv: readonly string[]): Parsed<Leaf> | null {
    const globals: QuickGlobals = { json: false, color: true };
    // The program's flags count wherever they stand (commander reads them first).
    const words: string[] = [];
    for (const w of argv) {
      const g = this.globals.get(w);
      if (g === 'json') globals.json = true;
      else if (g === 'color') globals.color = false;
      else if (g === 'other') return null;
      else words.push(w);
    }
    if (words.length < 2) return null;
    const known = this.byWords.get(words[0]!)?.get(words[1]!);
    if (known !== undefined) return known ? this.parseLeaf(known, words, globals) : null;
    const group = this.program.commands.find((c) => c.name() === words[0]);
    const sub = group?.commands.find((c) => c.name() === words[1]);
    if (!group || !sub) return null;
    const leaf = this.leaf(group, sub);
    return leaf ? this.parseLeaf(leaf, words, globals) : null;
  }

  private parseLeaf(leaf: Leaf, words: string[], globals: QuickGlobals): Parsed<Leaf> | null {
    const opts: Record<string, unknown> = { ...leaf.defaults };
    const operands: string[] = [];
    try {
      for (let i = 2; i < words.length; i++) {
        const w = words[i]!;
        if (w.length < 2 || w[0] !== '-') {
          operands.push(w);
          continue;
        }
        const read = readOption(leaf, w, words[i + 1]);
        if (!read) return null;
        if (read.takesNext) i++;
        const name = leaf.names.get(read.option)!;
        if (read.value === undefined) opts[name] = true;
        else opts[name] = read.option.parseArg ? read.option.parseArg(read.value, opts[name]) : read.value;
      }
      for (const o of leaf.mandatory) if (opts[leaf.names.get(o)!] === undefined) return null;
      if (operands.length > leaf.most || operands.length < leaf.least) return null;
      // The action's arguments as commander passes them: the operands, then (per call) the options and the command.
      const args = leaf.args.map((a, i) => argumentValue(a, operands, i));
      return parsedLine(leaf, globals, args, opts);
    } catch {
      // A value its parser refuses: commander says so in its own words.
      return null;
    }
  }
}

/**
 * The option a dash word names and its value: `-x`, `--flag`, `--opt VALUE`
 * (then `takesNext`) or `--opt=VALUE`; null for anything else, which
 * commander parses in its own way.
 */
function readOption(leaf: Leaf, w: string, next: string | undefined): { option: Option; value?: string; takesNext: boolean } | null {
  const option = leaf.flags.get(w);
  if (option) {
    if (!option.required) return { option, takesNext: false };
    return next === undefined ? null : { option, value: next, takesNext: true };
  }
  // --long=value, for an option that takes a value; any other dash word is commander's.
  const eq = w.indexOf('=');
  if (!w.startsWith('--') || eq < 0) return null;
  const named = leaf.flags.get(w.slice(0, eq));
  return named?.required ? { option: named, value: w.slice(eq + 1), takesNext: false } : null;
}

/** An argument's value as commander's _processArguments makes it. */
function argumentValue(a: Argument, operands: string[], i: number): unknown {
  if (a.variadic) {
    if (i >= operands.length) return a.defaultValue === undefined ? [] : a.defaultValue;
    const rest = operands.slice(i);
    return a.parseArg ? rest.reduce<unknown>((prev, v) => a.parseArg!(v, prev), a.defaultValue) : rest;
  }
  if (i >= operands.length) return a.defaultValue;
  return a.parseArg ? a.parseArg(operands[i]!, a.defaultValue) : operands[i];
}

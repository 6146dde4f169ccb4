// The commander program: global flags, the command registry, and the one
// place where errors become exit codes. Command modules are imported only
// when their name is on the command line, so `ipcctl --help` and `ipcctl ls`
// never load ffi-rs.
import { provideFullProgram } from './commands/common/full-program.js';
import { Command, CommanderError, type OutputConfiguration } from 'commander';
import { CliError, EXIT, exitCodeFor, UsageError } from './errors.js';
import { settings } from './output/style.js';
import { OutputClosedError, OutputFailedError, writeStderr, writeStdout } from './output/sink.js';
import { readFileSync } from 'node:fs';
import { isatty } from 'node:tty';
import { join } from 'node:path';
import { exitProcess, madeBlockingCalls } from './exit.js';
import { QuickParser, type Recorded } from './commands/common/quick-argv.js';

/** What a command module may ask of the program (batch runs other commands). */
export interface Host {
  /** Run one command line as `ipcctl WORDS` would and return its exit code. */
  run(argv: string[]): Promise<number>;
  /** From now on, one program per group serves every command line. */
  reusePrograms(): void;
}

export interface CommandModule {
  register(program: Command, host: Host): void;
}

interface Entry {
  name: string;
  summary: string;
  load: () => Promise<CommandModule>;
}

/** Every command group. Adding one is a line here and a file in commands/. */
export const registry: Entry[] = [
  { name: 'msgq', summary: 'System V message queues: create, send, recv, stat, set, rm', load: () => import('./commands/msgq.js') },
  { name: 'shm', summary: 'System V shared memory: create, attach, read, write, stat, set, lock, unlock, rm', load: () => import('./commands/shm.js') },
  { name: 'sem', summary: 'System V semaphores: create, op, ctl, stat, rm, lock (run a command holding one)', load: () => import('./commands/sem.js') },
  {
    name: 'event',
    summary: 'events (manual or auto reset) on System V semaphores: create, set, reset, pulse, wait, stat, rm',
    load: () => import('./commands/event.js'),
  },
  { name: 'pmq', summary: 'POSIX message queues: create, send, recv, stat, rm', load: () => import('./commands/pmq.js') },
  { name: 'pshm', summary: 'POSIX shared memory: create, read, write, stat, rm', load: () => import('./commands/pshm.js') },
  { name: 'psem', summary: 'POSIX named semaphores: create, post, wait, stat, rm', load: () => import('./commands/psem.js') },
  { name: 'ls', summary: 'list System V objects, limits and usage (ipcs/lsipc-like)', load: () => import('./commands/ls.js') },
  { name: 'rm', summary: 'remove System V objects by id, by key, or --all of a selection (ipcrm-like)', load: () => import('./commands/rm.js') },
  { name: 'completion', summary: 'print a shell completion script (bash, zsh or fish)', load: () => import('./commands/completion.js') },
  { name: 'tcp', summary: 'TCP sockets: serve, connect', load: () => import('./commands/tcp.js') },
  { name: 'udp', summary: 'UDP datagrams: send, listen', load: () => import('./commands/udp.js') },
  { name: 'unix', summary: 'UNIX domain sockets (stream or --dgram): serve, connect', load: () => import('./commands/unix.js') },
  { name: 'rpc', summary: 'ONC RPC (RFC 5531) with the portmapper: ls, ping, call, serve', load: () => import('./commands/rpc.js') },
  { name: 'xdr', summary: 'XDR (RFC 4506) from the shell: encode, decode', load: () => import('./commands/xdr.js') },
  { name: 'lab', summary: 'classic IPC and synchronisation exercises run with real processes (race, deadlock, ...)', load: () => import('./commands/lab.js') },
  {
    name: 'batch',
    summary: 'run many commands in one process, one per line, with framed replies (for scripts and coprocesses)',
    load: () => import('./commands/batch.js'),
  },
  { name: 'selftest', summary: 'round-trip every mechanism on private objects; the smoke check', load: () => import('./commands/selftest.js') },
];

let versionText: string | null = null;
function version(): string {
  versionText ??= (JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
  return versionText;
}

// completion describes every command: it gets the whole tree from here
// through commands/common/full-program.ts, without importing cli.ts.
provideFullProgram(buildFullProgram);

/**
 * commander's Command, remembering the action each command registers and
 * counting hooks, so that a batch's quick parser (commands/common/quick-argv)
 * can call the action itself. Every subcommand is one too (createCommand).
 */
class IpcctlCommand extends Command implements Recorded {
  recordedAction?: Recorded['recordedAction'];
  hookCount = 0;

  override createCommand(name?: string): Command {
    return new IpcctlCommand(name);
  }

  override action(fn: Parameters<Command['action']>[0]): this {
    this.recordedAction = fn as Recorded['recordedAction'];
    return super.action(fn);
  }

  override hook(...args: Parameters<Command['hook']>): this {
    this.hookCount++;
    return super.hook(...args);
  }
}

/** Hooks buildProgram adds itself (the quick parser does their work). */
const OWN_HOOKS = 1;

export function buildProgram(): Command {
  const program = new IpcctlCommand('ipcctl');
  const defaultOutput = program.configureOutput();
  program
    .description('Linux inter-process communication from the shell: System V queues, shared memory, semaphores, and sockets')
    .option('--json', 'machine-readable output (JSON, or JSON Lines for streams)')
    .option('--no-color', 'no colour (also when NO_COLOR is set)')
    .version(version(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      // Help goes through our synchronous writer: `ipcctl --help | head -1` then
      // ends quietly instead of with an unhandled EPIPE.
      writeOut: (str) => {
        try {
          writeStdout(str);
        } catch {
          /* reader gone */
        }
      },
      // commander asks process.stdout and process.stderr for a width and for
      // colours, and the first such question makes Node build a stream for
      // the fd (~1 ms at every start, and a piped fd goes non-blocking).
      // Only a terminal has either (elsewhere commander takes 80 columns);
      // isatty(3) says whether it is one.
      getOutHelpWidth: () => (isatty(1) ? process.stdout.columns : 80),
      getErrHelpWidth: () => (isatty(2) ? process.stderr.columns : 80),
      getOutHasColors: () => isatty(1) && defaultOutput.getOutHasColors!(),
      getErrHasColors: () => isatty(2) && defaultOutput.getErrHasColors!(),
      // commander's own errors ("error: unknown option") become our one line.
      outputError: (str) =>
        writeStderr(
          `ipcctl: ${str
            .replace(/^error: /, '')
            .replace(/\s*\n\s*/g, ' ')
            .trim()}\n`,
        ),
    })
    .hook('preAction', (_this, action) => {
      const g = action.optsWithGlobals() as { json?: boolean; color?: boolean };
      settings.json = Boolean(g.json);
      settings.color = g.color !== false;
    });
  return program;
}

/** The `n`th word of a command line that is not an option (0-based). */
function word(argv: string[], n: number): string | undefined {
  for (const a of argv) if (!a.startsWith('-') && n-- === 0) return a;
  return undefined;
}

/** The group a command line names (`help GROUP` names GROUP). */
function groupOf(argv: string[]): string | undefined {
  const first = word(argv, 0);
  return first === 'help' ? word(argv, 1) : first;
}

/** A program with GROUP registered for real (`module`: its command module) and placeholders for the others. */
function programWith(group: string, module: CommandModule | null, output?: OutputConfiguration): Command {
  const program = buildProgram();
  // Before registering: each subcommand copies its parent's output settings when it is made.
  if (output) program.configureOutput(output);
  for (const entry of registry) {
    if (module && entry.name === group) module.register(program, host);
    else program.command(entry.name).description(entry.summary);
  }
  return program;
}

/** `ipcctl help bogus`: one usage line, not the whole help on stderr. */
function refuseUnknownHelpTopic(argv: string[]): void {
  if (word(argv, 0) !== 'help') return;
  const words = argv.filter((a) => !a.startsWith('-'));
  if (words[1] === undefined || words[1] === 'help') return;
  if (registry.some((e) => e.name === words[1])) return;
  throw new UsageError(`help: unknown command '${words[1]}': one of ${registry.map((e) => e.name).join(', ')}`);
}

/** Every group loaded: for completion and the manual check. */
export async function buildFullProgram(): Promise<Command> {
  const program = buildProgram();
  for (const entry of registry) (await entry.load()).register(program, host);
  return program;
}

/** "msgq recv: ": the command words of this run, to name the operation in a line. */
function commandWords(): string {
  const words: string[] = [];
  for (const a of process.argv.slice(2)) {
    if (a.startsWith('-') && words.length === 0) continue; // global flags before the command
    if (a.startsWith('-') || !/^[a-z][a-z-]*$/.test(a) || words.length === 2) break;
    words.push(a);
  }
  return words.length > 0 ? `${words.join(' ')}: ` : '';
}

function report(err: unknown): number {
  if (err instanceof CommanderError) {
    // Help and version are not errors; everything else commander rejects is usage.
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT.OK;
    // `help sem` asked for help (0); a group without its subcommand showed help as an error (2).
    if (err.code === 'commander.help') return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    return EXIT.USAGE;
  }
  // A reader that went away (`| head -1`) is not an error.
  if (err instanceof OutputClosedError) return EXIT.OK;
  if (err instanceof OutputFailedError) {
    writeStderr(`ipcctl: ${commandWords()}${err.message}\n`);
  } else if (err instanceof CliError) {
    writeStderr(`ipcctl: ${err.message}${err.hint ? ` (${err.hint})` : ''}\n`);
  } else {
    const e = err as Error;
    writeStderr(`ipcctl: internal error: ${e?.message ?? String(err)}${process.env.IPCCTL_DEBUG === '1' ? '' : ' (set IPCCTL_DEBUG=1 for details)'}\n`);
  }
  if (process.env.IPCCTL_DEBUG === '1' && err instanceof Error && err.stack) writeStderr(err.stack + '\n');
  return exitCodeFor(err);
}

// A batch parses many lines with one program per group: commander 14
// restores every option value, source and argument list to its state before
// the first parse at each parseAsync (saveStateBeforeParse), so a reused
// program parses as a fresh one does, at a fraction of the cost of building
// the group's options again (~0.1 ms a command). Off for a single command.
/** The quick parser of a program buildProgram made; build it before the program's first parse. */
export function quickParserFor(program: Command): QuickParser {
  return new QuickParser(program as IpcctlCommand, OWN_HOOKS);
}

// Each reused program also has a quick parser (commands/common/quick-argv):
// the plain lines a script sends skip commander's parse; any other line
// goes to commander, which answers it as it always did.
interface Reused {
  program: Command;
  quick: QuickParser;
}
let programs: Map<string, Reused> | null = null;

function reusePrograms(): void {
  programs ??= new Map();
  // A batch's lines are help only now and then: not worth a lookup per line.
  cannedHelp = null;
}

/** The program a batch already built for the line's group (no promise to wait for), or undefined. */
function reusedFor(argv: string[]): Reused | undefined {
  return programs?.get(groupOf(argv) ?? '');
}

/**
 * A program made before its run: a start-up snapshot (src/snapshot) makes,
 * at build time, the one its group's start will need, so that the start
 * does not build it again. Taken once, by the first run of that group.
 */
let prepared: { group: string; program: Command } | null = null;

/** Make GROUP's program now (`module` is GROUP's command module; '' and null: help, version). */
export function prepareProgram(group: string, module: CommandModule | null): void {
  prepared = { group, program: programWith(group, module) };
}

/** What warmUp()'s throwaway program wrote (to its stdout, its stderr) for the line it parsed last. */
const written = { out: '', err: '' };

/** Output kept in `written`, at the width and without the colour of output that is not a terminal: for warmUp(). */
const NOWHERE: OutputConfiguration = {
  writeOut: (s) => void (written.out += s),
  writeErr: (s) => void (written.err += s),
  outputError: (s) => void (written.err += s),
  getOutHelpWidth: () => 80,
  getErrHelpWidth: () => 80,
  getOutHasColors: () => false,
  getErrHasColors: () => false,
};

/**
 * At snapshot build time, run what a start of GROUP runs in commander: its
 * parse down to each subcommand's action, --version and every --help, on a
 * throwaway program whose actions do nothing and whose output goes nowhere.
 * V8 keeps in a snapshot the bytecode of the functions that ran while it was
 * made (a start would otherwise compile each one on its first call), and the
 * throwaway program's functions are the real one's.
 */
/**
 * Help as warmUp() saw it written, by command line: a start from a snapshot
 * whose stdout is not a terminal writes it as it is, without formatting it
 * again (formatting is most of what `ipcctl --help` costs).
 */
let cannedHelp: Map<string, string> | null = null;

export function warmUp(group: string, module: CommandModule | null): void {
  const program = programWith(group, module, NOWHERE);
  const lines: string[][] = [['--version'], ['--help'], ['help']];
  const visit = (command: Command, path: string[]): void => {
    for (const sub of command.commands) {
      const words = [...path, sub.name()];
      if ((sub as IpcctlCommand).recordedAction) {
        sub.action(() => undefined);
        // Every operand given (a placeholder the no-op action never reads), then its help.
        lines.push([...words, ...sub.registeredArguments.map(() => '1')], [...words, '--help']);
      } else lines.push([...words, '--help']);
      visit(sub, words);
    }
  };
  visit(program, []);
  const help = new Map<string, string>();
  for (const argv of lines) {
    written.out = written.err = '';
    try {
      program.parse(argv, { from: 'user' });
    } catch (err) {
      // Help, version and usage errors end a parse by throwing (exitOverride).
      // Help that went to stdout alone, exit 0, is the same at every start
      // whose stdout is not a terminal (80 columns, no colour): kept.
      const e = err as CommanderError;
      const shown = e instanceof CommanderError && (e.code === 'commander.helpDisplayed' || e.code === 'commander.help') && e.exitCode === 0;
      // Only lines of this group (or of none, for core): a line of another
      // group runs on a program with that group registered, whose help differs.
      const ours = (groupOf(argv) ?? '') === group;
      if (shown && ours && written.err === '' && written.out !== '') help.set(argv.join('\0'), written.out);
    }
  }
  cannedHelp = help;
  // The preAction hook set these for the placeholder lines.
  settings.json = false;
  settings.color = true;
}

async function programFor(argv: string[]): Promise<Reused | { program: Command; quick: null }> {
  const group = groupOf(argv) ?? '';
  const known = programs?.get(group);
  if (known) return known;
  let program: Command;
  if (prepared?.group === group) {
    program = prepared.program;
    prepared = null;
  } else {
    const entry = registry.find((e) => e.name === group);
    program = programWith(group, entry ? await entry.load() : null);
  }
  if (!programs) return { program, quick: null };
  const reused = { program, quick: quickParserFor(program) };
  programs.set(group, reused);
  return reused;
}

/**
 * Run one command line on a fresh program and return its exit code, without
 * exiting: main() runs one, `batch` many. Per-command state (output
 * settings, process.exitCode) starts from the defaults every time.
 */
export async function runCommand(argv: string[]): Promise<number> {
  settings.json = false;
  settings.color = true;
  // process.exitCode is an accessor that validates what it is given: set it only when it holds something.
  if (process.exitCode !== undefined) process.exitCode = undefined;
  let code: number;
  const canned = cannedHelp?.get(argv.join('\0'));
  if (canned !== undefined && !isatty(1)) {
    try {
      writeStdout(canned);
    } catch {
      /* reader gone, as for help written by commander */
    }
    return EXIT.OK;
  }
  try {
    refuseUnknownHelpTopic(argv);
    const { program, quick } = reusedFor(argv) ?? (await programFor(argv));
    const call = quick?.parse(argv);
    if (call) {
      settings.json = call.json;
      settings.color = call.color;
      await call.run();
    } else await program.parseAsync(argv, { from: 'user' });
    const exitCode = process.exitCode;
    code = typeof exitCode === 'number' ? exitCode : EXIT.OK;
  } catch (err) {
    code = report(err);
  }
  if (process.exitCode !== undefined) process.exitCode = undefined;
  return code;
}

const host: Host = { run: runCommand, reusePrograms };

export async function main(argv: string[]): Promise<void> {
  const code = await runCommand(argv);
  // Let callbacks of calls that finished just now run (a late message is put
  // back there), then exit even if a native thread still blocks in the
  // kernel. All output was written synchronously: nothing is left to drain
  // (and touching process.stdout here would make a piped stdout non-blocking).
  // A process that never made one has no such callback to wait for (and
  // saves the timers' start-up, ~0.5 ms).
  if (madeBlockingCalls()) await new Promise((r) => setImmediate(r));
  exitProcess(code);
}

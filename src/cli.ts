// The commander program: global flags, the command registry, and the one
// place where errors become exit codes. Command modules are imported only
// when their name is on the command line, so `ipcctl --help` and `ipcctl ls`
// never load ffi-rs.
import { provideFullProgram } from './commands/common/full-program.js';
import { Command, CommanderError } from 'commander';
import { CliError, EXIT, exitCodeFor } from './errors.js';
import { settings } from './output/style.js';
import { OutputClosedError, writeStderr, writeStdout } from './output/sink.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { exitProcess } from './exit.js';

export interface CommandModule {
  register(program: Command): void;
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
  { name: 'sem', summary: 'System V semaphores: create, op, ctl, stat, rm', load: () => import('./commands/sem.js') },
  { name: 'ls', summary: 'list System V objects, limits and usage (ipcs/lsipc-like)', load: () => import('./commands/ls.js') },
  { name: 'rm', summary: 'remove System V objects by id, by key, or --all of a selection (ipcrm-like)', load: () => import('./commands/rm.js') },
  { name: 'completion', summary: 'print a shell completion script (bash, zsh or fish)', load: () => import('./commands/completion.js') },
  { name: 'tcp', summary: 'TCP sockets: serve, connect', load: () => import('./commands/tcp.js') },
  { name: 'udp', summary: 'UDP datagrams: send, listen', load: () => import('./commands/udp.js') },
  { name: 'unix', summary: 'UNIX domain sockets (stream or --dgram): serve, connect', load: () => import('./commands/unix.js') },
  { name: 'lab', summary: 'classic IPC and synchronisation exercises run with real processes (race, deadlock, ...)', load: () => import('./commands/lab.js') },
  { name: 'selftest', summary: 'round-trip every mechanism on private objects; the smoke check', load: () => import('./commands/selftest.js') },
];

function version(): string {
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

// completion describes every command: it gets the whole tree from here
// through commands/common/full-program.ts, without importing cli.ts.
provideFullProgram(buildFullProgram);

export function buildProgram(): Command {
  const program = new Command('ipcctl');
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
      // commander's own errors ("error: unknown option") become our one line.
      outputError: (str) => writeStderr(`ipcctl: ${str.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ').trim()}\n`),
    })
    .hook('preAction', (_this, action) => {
      const g = action.optsWithGlobals() as { json?: boolean; color?: boolean };
      settings.json = Boolean(g.json);
      settings.color = g.color !== false;
    });
  return program;
}

/** Register the named group for real, and placeholders for the others. */
async function registerFor(program: Command, argv: string[]): Promise<void> {
  const words = argv.filter((a) => !a.startsWith('-'));
  const wanted = words[0] === 'help' ? words[1] : words[0];
  for (const entry of registry) {
    if (entry.name === wanted) (await entry.load()).register(program);
    else program.command(entry.name).description(entry.summary);
  }
}

/** Every group loaded: for completion and the manual check. */
export async function buildFullProgram(): Promise<Command> {
  const program = buildProgram();
  for (const entry of registry) (await entry.load()).register(program);
  return program;
}

function report(err: unknown): number {
  if (err instanceof CommanderError) {
    // Help and version are not errors; everything else commander rejects is usage.
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT.OK;
    if (err.code === 'commander.help') return EXIT.USAGE;
    return EXIT.USAGE;
  }
  // A reader that went away (`| head -1`) is not an error.
  if (err instanceof OutputClosedError) return EXIT.OK;
  if (err instanceof CliError) {
    writeStderr(`ipcctl: ${err.message}${err.hint ? ` (${err.hint})` : ''}\n`);
  } else {
    const e = err as Error;
    writeStderr(`ipcctl: internal error: ${e?.message ?? String(err)}${process.env.IPCCTL_DEBUG === '1' ? '' : ' (set IPCCTL_DEBUG=1 for details)'}\n`);
  }
  if (process.env.IPCCTL_DEBUG === '1' && err instanceof Error && err.stack) writeStderr(err.stack + '\n');
  return exitCodeFor(err);
}

export async function main(argv: string[]): Promise<void> {
  let code: number = EXIT.OK;
  try {
    const program = buildProgram();
    await registerFor(program, argv);
    await program.parseAsync(argv, { from: 'user' });
    code = typeof process.exitCode === 'number' ? process.exitCode : EXIT.OK;
  } catch (err) {
    code = report(err);
  }
  // Let callbacks of calls that finished just now run (a late message is put
  // back there), then exit even if a native thread still blocks in the
  // kernel. All output was written synchronously: nothing is left to drain
  // (and touching process.stdout here would make a piped stdout non-blocking).
  await new Promise((r) => setImmediate(r));
  exitProcess(code);
}

// The contract between cli.ts and a command module. It lives here, below
// both, so that a command needing the whole command tree (completion) gets it
// handed in rather than importing cli.ts back (cli.ts loads the commands;
// nothing under src/ loads cli.ts).
import type { Command } from 'commander';

/** What cli.ts offers every command module when it registers it. */
export interface Cli {
  /** A program with every command group registered for real. */
  fullProgram(): Promise<Command>;
}

export interface CommandModule {
  register(program: Command, cli: Cli): void;
}

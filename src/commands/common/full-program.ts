// The whole command tree, for the one command that needs every other one
// (completion describes them all). cli.ts owns the registry and provides the
// builder at start-up; a command asks for it here instead of importing
// cli.ts, which would close a circle (cli.ts loads the commands; nothing
// under src/ loads cli.ts).
import type { Command } from 'commander';

let build: (() => Promise<Command>) | null = null;

/** Called once by cli.ts: how to build a program with every group registered. */
export function provideFullProgram(builder: () => Promise<Command>): void {
  build = builder;
}

/** A program with every command group registered for real. */
export function fullProgram(): Promise<Command> {
  if (!build) throw new Error('fullProgram: cli.ts has not provided the command tree');
  return build();
}

// Help that teaches: every command's --help has a one-line description and
// an example.
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildFullProgram } from '../src/cli.js';
import { ipcctl } from './helpers/run.js';

function leaves(cmd: Command, path: string[] = []): string[][] {
  const subs = cmd.commands.filter((c) => c.name() !== 'help');
  if (subs.length === 0) return path.length > 0 ? [path] : [];
  return subs.flatMap((c) => leaves(c, [...path, c.name()]));
}

describe('--help of every command', async () => {
  const program = await buildFullProgram();
  for (const path of leaves(program)) {
    it(`ipcctl ${path.join(' ')} --help`, () => {
      const r = ipcctl([...path, '--help']);
      expect(r.code).toBe(0);
      // Usage line, blank line, a one-line description.
      expect(r.stdout).toMatch(/^Usage: ipcctl .*\n\n\S[^\n]*\n/);
      expect(r.stdout).toMatch(/\nExamples?:\n {2}.*\bipcctl /);
    });
  }
});

describe('lazy loading', () => {
  // NODE_DEBUG=module makes Node's loader name every file it loads on stderr.
  for (const args of [['--help'], ['msgq', '--help'], ['shm', 'read', '--help'], ['tcp', 'serve', '--help']]) {
    it(`ipcctl ${args.join(' ')} does not load ffi-rs`, () => {
      const r = ipcctl(args, { env: { NODE_DEBUG: 'module' } });
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/commander/); // the check can see loads at all
      expect(r.stderr).not.toMatch(/ffi-rs/);
    });
  }

  it('a command that calls libc does load it (the check can fail)', () => {
    const r = ipcctl(['msgq', 'stat', '2147480000'], { env: { NODE_DEBUG: 'module' } });
    expect(r.stderr).toMatch(/ffi-rs/);
  });
});

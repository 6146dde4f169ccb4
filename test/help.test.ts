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
  // LD_DEBUG=files makes the dynamic loader name every library it loads on
  // stderr: ffi-rs is one (a Node addon), whether the start is from a
  // snapshot or plain, and whichever way the addon is opened.
  for (const plain of [false, true]) {
    const env = { LD_DEBUG: 'files', ...(plain ? { IPCCTL_NO_SNAPSHOT: '1' } : {}) };
    const how = plain ? ' (plain start)' : '';
    for (const args of [['--help'], ['msgq', '--help'], ['shm', 'read', '--help'], ['tcp', 'serve', '--help']]) {
      it(`ipcctl ${args.join(' ')} does not load ffi-rs${how}`, () => {
        const r = ipcctl(args, { env });
        expect(r.code).toBe(0);
        expect(r.stderr).toMatch(/file=libc\.so/); // the check can see loads at all
        expect(r.stderr).not.toMatch(/ffi-rs/);
      });
    }

    it(`a command that calls libc does load it (the check can fail)${how}`, () => {
      const r = ipcctl(['msgq', 'stat', '2147480000'], { env });
      expect(r.stderr).toMatch(/file=.*ffi-rs\.linux/);
    });
  }
});

// The manual is kept in step with the command definitions: every command,
// subcommand and option that --help shows must be in man/ipcctl.1, and groff
// must format the page without a warning.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildFullProgram } from '../src/cli.js';
import { ROOT, run } from './helpers/run.js';

const page = join(ROOT, 'man/ipcctl.1');
function join(a: string, b: string) {
  return a.endsWith('/') ? a + b : `${a}/${b}`;
}

/** The page as plain text: font escapes gone, \- as -, \(dq as ". */
function plain(roff: string): string {
  return roff
    .replace(/\\f[BIRP]/g, '')
    .replace(/\\-/g, '-')
    .replace(/\\\(dq/g, '"')
    .replace(/\\&/g, '');
}

const text = plain(readFileSync(page, 'utf8'));

function walk(cmd: Command, path: string[], out: Array<{ path: string[]; cmd: Command }>) {
  for (const sub of cmd.commands) {
    if (sub.name() === 'help') continue;
    const p = [...path, sub.name()];
    out.push({ path: p, cmd: sub });
    walk(sub, p, out);
  }
  return out;
}

describe('man/ipcctl.1', async () => {
  const program = await buildFullProgram();
  const all = walk(program, [], []);

  it('formats without a warning', () => {
    const r = run('groff', ['-man', '-ww', '-z', page]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
  });

  it('documents the global options', () => {
    for (const o of program.options) if (o.long) expect(text, o.long).toContain(o.long);
  });

  for (const { path, cmd } of all) {
    it(`documents ipcctl ${path.join(' ')} and each of its options`, () => {
      // "ipcctl msgq recv" may be split over roff lines; its words in order suffice.
      const title = new RegExp(`ipcctl\\s+${path.join('\\s+')}\\b`);
      expect(text, `ipcctl ${path.join(' ')}`).toMatch(title);
      const missing = cmd.options.filter((o) => o.long && !text.includes(o.long)).map((o) => o.long);
      expect(missing, `options of ipcctl ${path.join(' ')} missing from the manual`).toEqual([]);
    });
  }
});

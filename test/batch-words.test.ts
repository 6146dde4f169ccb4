// Word splitting of batch lines (src/ipc/batch/words.ts): a plain line takes
// the quick split on spaces, any other the shell-like splitter; both must
// give the words bash itself makes of the line (no expansion happens here).
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { splitWords } from '../src/ipc/batch/words.js';

function bashWords(line: string): string[] {
  const r = spawnSync('bash', ['-c', `set -f; set -- ${line}\nfor w; do printf '%s\\0' "$w"; done`], { encoding: 'utf8' });
  expect(r.status).toBe(0);
  return r.stdout.split('\0').slice(0, -1);
}

describe('batch word splitting, as bash splits', () => {
  const lines = [
    'sem op -k 0x4b001 0:-1 --undo',
    '  shm   read  -k 0x4b001  ',
    'shm write 7 a  b   c',
    '',
    '   ',
    'msgq send 3 "two words" x',
    "msgq send 3 'it''s' \\# a\\ b",
    'shm write 7 a\tb',
    'sem stat 5 # a comment',
    'sem stat 5#not-a-comment',
  ];
  for (const line of lines) {
    it(JSON.stringify(line), () => {
      expect(splitWords(line)).toEqual(bashWords(line));
    });
  }

  it('a carriage return separates words (a CRLF file)', () => {
    expect(splitWords('sem stat 5\r')).toEqual(['sem', 'stat', '5']);
  });
});

// Asking a person yes or no on the terminal before something drastic.
// Synchronous on purpose: nothing else runs while the question is open.
import { readSync } from 'node:fs';
import { writeStderr } from '../../output/sink.js';

/** Prompt on stderr, read one line from stdin; true only for y or yes. */
export function confirm(question: string): boolean {
  writeStderr(question);
  const buf = Buffer.alloc(256);
  let answer = '';
  for (;;) {
    let n: number;
    try {
      n = readSync(0, buf, 0, buf.length, null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') continue;
      return false;
    }
    if (n === 0) break;
    answer += buf.toString('utf8', 0, n);
    if (answer.includes('\n')) break;
  }
  return /^\s*y(es)?\s*$/i.test(answer.split('\n')[0] ?? '');
}

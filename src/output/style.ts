// Colour decisions live here: colour only on a terminal, never when NO_COLOR
// is set to anything non-empty (chalk does not read it) or --no-color is given.
import type { ChalkInstance } from 'chalk';
import { importEsm } from './esm.js';
import { keepStdioBlocking } from './sink.js';

export const settings = { color: true, json: false };

/**
 * Is colour wanted on file descriptor `fd`? isatty(3), not process.stdout.isTTY:
 * touching process.stdout opens it as a libuv stream, which makes a piped
 * stdout non-blocking for every process that shares the pipe.
 */
export function colorWanted(fd = 1): boolean {
  if (!settings.color) return false;
  if (process.env.NO_COLOR) return false;
  // node:tty on first use only: it loads net and the stream modules, which a plain `ls` never needs.
  return (require('node:tty') as typeof import('node:tty')).isatty(fd);
}

let chalkInstance: ChalkInstance | null = null;

/** chalk, loaded on first use, at level 0 when colour is not wanted. */
export async function loadChalk(fd = 1): Promise<ChalkInstance> {
  if (!chalkInstance) {
    const { Chalk } = await importEsm<typeof import('chalk')>('chalk');
    keepStdioBlocking(); // chalk imports node:process, which opens our stdio
    chalkInstance = new Chalk({ level: colorWanted(fd) ? 1 : 0 });
  }
  return chalkInstance;
}

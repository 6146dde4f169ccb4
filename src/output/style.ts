// Colour decisions live here: colour only on a terminal, never when NO_COLOR
// is set to anything non-empty (chalk does not read it) or --no-color is given.
import type { ChalkInstance } from 'chalk';
import { keepStdioBlocking } from './sink.js';

export const settings = { color: true, json: false };

export function colorWanted(stream: NodeJS.WriteStream = process.stdout): boolean {
  if (!settings.color) return false;
  if (process.env.NO_COLOR) return false;
  return Boolean(stream.isTTY);
}

let chalkInstance: ChalkInstance | null = null;

/** chalk, loaded on first use, at level 0 when colour is not wanted. */
export async function loadChalk(stream: NodeJS.WriteStream = process.stdout): Promise<ChalkInstance> {
  if (!chalkInstance) {
    const { Chalk } = await import('chalk');
    keepStdioBlocking(); // chalk imports node:process, which opens our stdio
    chalkInstance = new Chalk({ level: colorWanted(stream) ? 1 : 0 });
  }
  return chalkInstance;
}

// Splitting one batch line into words the way a POSIX shell splits a simple
// command, without any expansion: 'single quotes' keep everything, "double
// quotes" keep everything but \" \\ \$ \` (a backslash before anything else
// stays), a backslash outside quotes keeps the next character, and `#` at the
// start of a word begins a comment. No $VAR, no globs, no ~, no redirections:
// what is written is what the command gets.
import { BoundedMap } from '../../bounded-map.js';
import { UsageError } from '../../errors.js';

/** Space, tab, carriage return: what separates words (a char compare, not a regex, per character). */
const isBlank = (c: string) => c === ' ' || c === '\t' || c === '\r';
/** What only the full splitter handles: quotes, backslashes, comments, blanks other than a space. */
const PLAIN_SPECIAL = /[\\'"#\t\r]/;

/** The words of `line`; an empty array for a blank or comment-only line. */
export function splitWords(line: string): string[] {
  // Most lines quote nothing: split on spaces, without building words a character at a time.
  if (!PLAIN_SPECIAL.test(line)) return line.split(' ').filter((w) => w !== '');
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (isBlank(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      continue;
    }
    if (c === '#' && !inWord) break;
    inWord = true;
    if (c === '\\') {
      // A backslash at the very end keeps itself (there is no next line to join).
      if (i + 1 < line.length) word += line[++i];
      else word += c;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new UsageError(`batch: unterminated single quote in: ${line}`);
      word += line.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < line.length && line[j] !== '"'; j++) {
        if (line[j] === '\\' && j + 1 < line.length && '"\\$`'.includes(line[j + 1]!)) j++;
        word += line[j];
      }
      if (j >= line.length) throw new UsageError(`batch: unterminated double quote in: ${line}`);
      i = j;
    } else word += c;
  }
  if (inWord) words.push(word);
  return words;
}

/** The most lines a LineWords remembers. */
const REMEMBERED_MAX = 256;

/**
 * splitWords with a memory of the lines it split: a script sends the same
 * few lines again and again. Each call gets its own array.
 */
export class LineWords {
  private readonly known = new BoundedMap<string, string[]>(REMEMBERED_MAX);

  split(line: string): string[] {
    const known = this.known.get(line);
    if (known) return known.slice();
    const words = splitWords(line);
    // Past the bound the oldest line goes (a line used all along comes back at its next use).
    this.known.add(line, words);
    return words.slice();
  }
}

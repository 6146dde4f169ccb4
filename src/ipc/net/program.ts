// The program of `--exec CMD` / `--sh CMD`: the words of the command line,
// and the file found in PATH once, when the server starts (so that a typo
// is a usage error before anything listens, and no child searches PATH).
import { accessSync, constants } from 'node:fs';
import { UsageError } from '../../errors.js';

/** What to run: argv[0] is searched in PATH. */
export interface Program {
  argv: string[];
  /** argv[0] found in PATH once, at start: posix_spawnp would try every PATH entry per child. */
  file: string;
}

/**
 * `--exec 'CMD ARGS'` split into words as a shell would split them, without
 * expansion: whitespace separates, '...' and "..." quote, \ escapes.
 */
export function splitCommand(text: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      if (ch === quote) quote = null;
      else if (ch === '\\' && quote === '"' && i + 1 < text.length && '"\\$`'.includes(text[i + 1]!)) cur += text[++i];
      else cur += ch;
      continue;
    }
    if (ch === "'" || ch === '"') {
      quote = ch;
      inWord = true;
    } else if (ch === '\\' && i + 1 < text.length) {
      cur += text[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (quote) throw new UsageError(`--exec: unterminated ${quote} in '${text}'`);
  if (inWord) words.push(cur);
  return words;
}

/** The program of --exec CMD or --sh CMD, checked before anything listens. */
export function programFor(op: string, exec: string | undefined, sh: string | undefined): Program {
  if (sh !== undefined) {
    if (sh.trim() === '') throw new UsageError(`${op}: --sh needs a command`);
    return { argv: ['/bin/sh', '-c', sh], file: '/bin/sh' };
  }
  const argv = splitCommand(exec ?? '');
  if (argv.length === 0) throw new UsageError(`${op}: --exec needs a command`);
  const file = findInPath(argv[0]!);
  if (file === null) throw new UsageError(`${op}: --exec: command '${argv[0]}' not found or not executable`, 'give a path, or a program in PATH');
  return { argv, file };
}

function findInPath(file: string): string | null {
  const ok = (p: string) => {
    try {
      accessSync(p, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (file.includes('/')) return ok(file) ? file : null;
  for (const d of (process.env.PATH ?? '/usr/bin:/bin').split(':')) if (ok(`${d || '.'}/${file}`)) return `${d || '.'}/${file}`;
  return null;
}

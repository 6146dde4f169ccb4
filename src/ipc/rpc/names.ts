// Program names from /etc/rpc ("rstatd 100001 rstat rup ..."), the file
// rpcinfo and getrpcbyname(3) read: a program may be given by its name or
// any alias, and listings show the name beside the number. Read once, lazily.
import { readFileSync } from 'node:fs';
import { UsageError } from '../../errors.js';

interface RpcNames {
  byName: Map<string, number>;
  byNumber: Map<number, string>;
}

let names: RpcNames | null = null;

function load(): RpcNames {
  if (names) return names;
  names = { byName: new Map(), byNumber: new Map() };
  let text: string;
  try {
    text = readFileSync('/etc/rpc', 'utf8');
  } catch {
    return names; // no /etc/rpc: numbers only
  }
  for (const line of text.split('\n')) {
    const words = line.replace(/#.*/, '').trim().split(/\s+/);
    if (words.length < 2 || !/^[0-9]+$/.test(words[1]!)) continue;
    const n = Number(words[1]);
    if (!names.byNumber.has(n)) names.byNumber.set(n, words[0]!);
    for (const w of [words[0]!, ...words.slice(2)]) if (!names.byName.has(w)) names.byName.set(w, n);
  }
  return names;
}

/** A program number from `123`, `0x20000001`, or a name/alias of /etc/rpc. */
export function parseProgram(text: string): number {
  const t = text.trim();
  if (/^(0x[0-9a-f]+|[0-9]+)$/i.test(t)) {
    const n = Number(t);
    if (n > 0xffffffff) throw new UsageError(`invalid program '${text}': at most 4294967295 (0xffffffff)`);
    return n;
  }
  const n = load().byName.get(t);
  if (n === undefined) throw new UsageError(`unknown RPC program '${text}': give a number or a name from /etc/rpc`);
  return n;
}

/** The /etc/rpc name of a program, or '' when it has none. */
export function programName(prog: number): string {
  return load().byNumber.get(prog) ?? '';
}

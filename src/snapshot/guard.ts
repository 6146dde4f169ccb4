// What a module evaluated into a snapshot may not do at its top level: read
// something that belongs to the run rather than to the build (the
// environment, the clock, randomness, the terminal, files outside the
// package). Its value would be baked into every later start. While the
// snapshot's modules are evaluated, those calls throw, and make.ts leaves
// that group's snapshot out, naming the read; a function that reads them
// when called is fine (it is called at run time).
import fs from 'node:fs';
import tty from 'node:tty';

type Restore = () => void;

/** Put `value` in place of owner[key]; the returned function puts the original back. */
function replace<T extends object, K extends keyof T>(owner: T, key: K, value: unknown): Restore {
  const original = owner[key];
  Object.defineProperty(owner, key, { configurable: true, writable: true, value });
  return () => Object.defineProperty(owner, key, { configurable: true, writable: true, value: original });
}

/** The same for a property read: reading owner[key] calls `get`. */
function replaceGetter<T extends object>(owner: T, key: keyof T & string, get: () => unknown): Restore {
  const original = Object.getOwnPropertyDescriptor(owner, key);
  Object.defineProperty(owner, key, { configurable: true, get });
  return () => (original ? Object.defineProperty(owner, key, original) : delete owner[key]);
}

function refused(what: string): () => never {
  return () => {
    throw new Error(`reads ${what} at build time`);
  };
}

/** Run `evaluate` with the run-time reads refused; files under `root` (the package) may be read. */
export function refusingRunTimeReads<T>(root: string, evaluate: () => T): T {
  const env = process.env;
  // Node's own modules read NODE_* variables while they load; everything else is the run's.
  process.env = new Proxy(env, {
    get(target, key) {
      if (typeof key === 'string' && !key.startsWith('NODE_')) throw new Error(`reads process.env.${key} at build time`);
      return target[key as string];
    },
  });
  const restores = [
    replace(Date, 'now', refused('Date.now()')),
    replace(Math, 'random', refused('Math.random()')),
    replace(process, 'hrtime', refused('process.hrtime()')),
    replace(tty, 'isatty', refused('isatty()')),
    // A native binary (ffi-rs) belongs to the process that loads it.
    replace(process, 'dlopen', refused('process.dlopen()')),
    // And so do its ids, directory and arguments.
    ...(['cwd', 'getuid', 'geteuid', 'getgid', 'getegid', 'umask'] as const).map((f) => replace(process, f, refused(`process.${f}()`))),
    ...(['pid', 'ppid', 'argv'] as const).map((p) => replaceGetter(process, p, refused(`process.${p}`))),
  ];
  for (const name of ['readFileSync', 'openSync', 'existsSync', 'statSync', 'readdirSync', 'accessSync'] as const) {
    const original = fs[name] as (path: unknown, ...rest: unknown[]) => unknown;
    const inPackage = (path: unknown, ...rest: unknown[]) => {
      if (typeof path === 'string' && path.startsWith(root)) return original(path, ...rest);
      throw new Error(`reads ${String(path)} (fs.${name}) at build time`);
    };
    restores.push(replace(fs, name, inPackage));
  }
  try {
    return evaluate();
  } finally {
    process.env = env;
    for (const restore of restores.reverse()) restore();
  }
}

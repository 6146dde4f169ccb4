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

function trap<T extends object, K extends keyof T>(owner: T, key: K, what: string): Restore {
  const original = owner[key];
  Object.defineProperty(owner, key, {
    configurable: true,
    writable: true,
    value: () => {
      throw new Error(`reads ${what} at build time`);
    },
  });
  return () => Object.defineProperty(owner, key, { configurable: true, writable: true, value: original });
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
    trap(Date, 'now', 'Date.now()'),
    trap(Math, 'random', 'Math.random()'),
    trap(process, 'hrtime', 'process.hrtime()'),
    trap(tty, 'isatty', 'isatty()'),
  ];
  for (const name of ['readFileSync', 'openSync', 'existsSync', 'statSync', 'readdirSync', 'accessSync'] as const) {
    const original = fs[name] as (path: unknown, ...rest: unknown[]) => unknown;
    restores.push(trap(fs, name, `fs.${name}`));
    Object.defineProperty(fs, name, {
      configurable: true,
      writable: true,
      value: (path: unknown, ...rest: unknown[]) => {
        if (typeof path === 'string' && path.startsWith(root)) return original(path, ...rest);
        throw new Error(`reads ${String(path)} (fs.${name}) at build time`);
      },
    });
  }
  try {
    return evaluate();
  } finally {
    process.env = env;
    for (const restore of restores.reverse()) restore();
  }
}

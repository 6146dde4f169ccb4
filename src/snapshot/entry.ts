// The entry of ipcctl's V8 start-up snapshots (`node --build-snapshot`, run
// by make.ts, once per command group). Node's snapshot builder lets this
// file require built-in modules only, so it carries its own small CommonJS
// loader, one registry for every module of dist/ and commander:
//
// - at build time it evaluates what every run needs (cli.ts and its static
//   imports, commander) and the group's command module with its static
//   imports: a run then starts with them in the heap, without reading,
//   compiling or running them (V8 keeps no bytecode in a snapshot, but the
//   objects they made are there);
// - at run time (the deserialized main) it reads, compiles and evaluates
//   any other module on first require, as Node's loader would.
//
// Nothing that depends on the running process may run at build time: the
// native layer (libraries opened, environment read) is refused then, and
// guard.ts makes any read of the environment, the clock, the terminal or a
// file outside the package throw while the modules are evaluated. chalk and
// ora are ES modules: output/esm.ts, which imports them, is left to Node's
// loader.
import { readdirSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { startupSnapshot } from 'node:v8';

type ModuleFunction = (exports: unknown, require: unknown, module: unknown, filename: string, dirname: string) => void;
interface Held {
  fn: ModuleFunction;
  module: { exports: unknown; id: string; filename: string; loaded: boolean } | null;
}

const DIST = resolve(__dirname, '..');
const ROOT = resolve(DIST, '..');
const COMMANDER = resolvePackage('commander');
const COMMANDER_DIR = dirname(COMMANDER) + '/';
/** The launcher this snapshot was made for: bin/ipcctl passes itself as argv[1]. */
const LAUNCHER = join(ROOT, 'bin', 'ipcctl');

/**
 * Left to Node's loader, and loaded only when first used: its import()
 * needs a module Node compiled (chalk and ora are ES modules).
 */
const NOT_HELD = new Set([join(DIST, 'output', 'esm.js')]);
/** Where require.resolve('ffi-rs') points (native/binding.ts), found now: Node's resolver costs ms. */
const FFI_RS = resolvePackage('ffi-rs');

const held = new Map<string, Held>();
const COMMANDS = join(DIST, 'commands') + '/';
let building = true;
type NodeRequire = (id: string) => unknown;
const realRequires = new Map<string, NodeRequire & { resolve(id: string): string }>();

/** Node's own require from `file`, created at run time only (node:module must not load at build). */
function realRequire(file: string): NodeRequire & { resolve(id: string): string } {
  let r = realRequires.get(file);
  if (!r) {
    const { createRequire } = require('node:module') as typeof import('node:module');
    r = createRequire(file);
    realRequires.set(file, r);
  }
  return r;
}

/** A dependency's main file, as Node's require would find it in our node_modules. */
function resolvePackage(name: string): string {
  const dir = join(ROOT, 'node_modules', name);
  type Target = string | { require?: Target; default?: Target } | undefined;
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { main?: string; exports?: { '.'?: Target } };
  // exports["."], its "require" condition, then its "default", as Node picks for require().
  let target = pkg.exports?.['.'];
  while (typeof target === 'object') target = target.require ?? target.default;
  return join(dir, target ?? pkg.main ?? 'index.js');
}

/** Every file the loader serves: all of dist/ and commander; the ones evaluated at build are compiled then, the others on first require. */
const ours = new Set<string>();

function hold(file: string): Held {
  // The same wrapper Node's CommonJS loader puts around a module.
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- compiling our own built files, as Node's loader does
  const fn = new Function('exports', 'require', 'module', '__filename', '__dirname', readFileSync(file, 'utf8')) as ModuleFunction;
  const h = { fn, module: null };
  held.set(file, h);
  return h;
}

function holdTree(dir: string, skip: string): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (p !== skip) holdTree(p, skip);
    } else if (p.endsWith('.js') && !NOT_HELD.has(p)) ours.add(p);
  }
}

/** A module not held: a stand-in that has Node's loader load it on first use (never at build time). */
function notHeld(file: string, from: string, loadNow = () => realRequire(from)(file)): unknown {
  let loaded: Record<string | symbol, unknown> | null = null;
  const get = (key: string | symbol): unknown => {
    // Used while building, it would run Node's loader into the snapshot, which then cannot start.
    if (building) throw new Error(`snapshot: ${file} (required by ${from}) is used at build time`);
    return (loaded ??= loadNow() as Record<string | symbol, unknown>)[key];
  };
  return new Proxy({}, { get: (_t, key) => get(key) });
}

/**
 * commander requires node:child_process when it loads, for commands that are
 * separate executables (ipcctl has none). Loaded at build time, it would put
 * net, streams and dgram into every snapshot: it loads on first use instead.
 */
const LAZY_BUILTINS = new Set(['node:child_process']);

function load(file: string, from: string): unknown {
  const h = held.get(file) ?? (ours.has(file) ? hold(file) : null);
  if (!h) return notHeld(file, from);
  if (h.module) return h.module.exports;
  const module = { exports: {}, id: file, filename: file, loaded: false };
  h.module = module;
  const dir = dirname(file);
  const req = (id: string): unknown => {
    if (LAZY_BUILTINS.has(id) && file.startsWith(COMMANDER_DIR)) return notHeld(id, file, () => require(id));
    if (id.startsWith('node:')) return require(id);
    if (id === 'commander') return load(COMMANDER, file);
    if (id.startsWith('./') || id.startsWith('../')) {
      const target = resolve(dir, id);
      // As Node resolves a relative file: the name, then with .js, then a directory's index.js.
      const found = [target, `${target}.js`, join(target, 'index.js')].find((f) => ours.has(f));
      return found ? load(found, file) : notHeld(target, file);
    }
    return building ? notHeld(id, file) : realRequire(file)(id);
  };
  req.resolve = (id: string): string => (id === 'ffi-rs' ? FFI_RS : realRequire(file).resolve(id));
  try {
    h.fn.call(module.exports, module.exports, req, module, file, dir);
  } catch (err) {
    h.module = null; // as Node does: a module that threw is not cached
    throw err;
  }
  module.loaded = true;
  return module.exports;
}

interface Cli {
  main(argv: string[]): Promise<void>;
  prepareProgram(group: string, module: unknown): void;
  warmUp(group: string, module: unknown): void;
}

/** Domain modules left to load at run time, and why (IPCCTL_SNAPSHOT_VERBOSE=1 prints them). */
const skipped: string[] = [];

holdTree(DIST, __dirname);
for (const f of readdirSync(dirname(COMMANDER), { recursive: true, encoding: 'utf8' })) {
  if (f.endsWith('.js')) ours.add(join(dirname(COMMANDER), f));
}
// make.ts builds one snapshot per command group, with that group's module evaluated too.
const group = process.env.IPCCTL_SNAPSHOT_GROUP;
const guard = join(__dirname, 'guard.js');
ours.add(guard);
const { refusingRunTimeReads } = load(guard, __filename) as typeof import('./guard.js');
const cli = refusingRunTimeReads(ROOT, () => {
  const c = load(join(DIST, 'cli.js'), __filename) as Cli;
  const module = group ? load(join(DIST, 'commands', `${group}.js`), __filename) : null;
  // The commander program the group's start will parse with, made now.
  c.prepareProgram(group ?? '', module);
  // Then what a start runs, once, so that its bytecode is in the snapshot too.
  c.warmUp(group ?? '', module);
  preloadDomain();
  return c;
});

/**
 * The modules the command layer imports when a command runs (`await
 * import('../ipc/...')`, compiled to require('...') with single quotes),
 * evaluated now: a start then finds the domain and the native layer's
 * bindings in the heap (the binary itself loads at the first call; see
 * native/binding.ts). One that reads something of the run at its top level
 * (the guard says so) is left to load at run time, as before.
 */
function preloadDomain(): void {
  const tried = new Set<string>();
  const evaluated = [...held].filter(([f, h]) => h.module && f.startsWith(COMMANDS)).map(([f]) => f);
  for (const from of evaluated) {
    for (const m of readFileSync(from, 'utf8').matchAll(/require\('(\.\.?\/[^']+)'\)/g)) {
      const file = resolve(dirname(from), m[1]!);
      if (!ours.has(file) || held.get(file)?.module || tried.has(file)) continue;
      tried.add(file);
      try {
        load(file, from);
      } catch (err) {
        skipped.push(`${file.slice(DIST.length + 1)}: ${(err as Error).message}`);
      }
    }
  }
}

if (process.env.IPCCTL_SNAPSHOT_VERBOSE === '1') for (const s of skipped) process.stderr.write(`snapshot ${group || 'core'}: left to run time: ${s}\n`);

startupSnapshot.setDeserializeMainFunction(() => {
  building = false;
  // Children (lab roles) and worker threads start as plain node, not from this snapshot.
  process.execArgv.splice(0);
  const launcher = process.argv[1];
  let real: string | null = null;
  try {
    real = realpathSync.native(launcher);
  } catch {
    /* no such launcher: Node's loader below says so */
  }
  // A package moved since the snapshot was made: its paths are not ours; load the files where they are now.
  const run = real === LAUNCHER ? cli : (realRequire(resolve(launcher))(join(dirname(real ?? resolve(launcher)), '..', 'dist', 'cli.js')) as Cli);
  void run.main(process.argv.slice(2));
});

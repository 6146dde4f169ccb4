// `npm run build` makes dist/snapshots/: one V8 start-up snapshot per
// command group (GROUP.blob, with that group's command module evaluated,
// see entry.ts) and core.blob for help, version and anything else, and
// proves each one starts before the launcher may use it. A snapshot loads
// only into the very node binary, V8 version and V8 flags that made it (any
// other exits 14), so beside them goes node.stamp, whose modification time
// is copied from that node binary: bin/ipcctl uses a blob only when the node
// it finds on PATH has exactly that time, NODE_OPTIONS is empty, and the
// blob is newer than dist/cli.js. Anything else starts the plain way.
// A snapshot that fails here is left out with one line on stderr: ipcctl
// works without it, only that start is slower. The blobs are made for this
// machine's node, so they are not part of the package (package.json files).
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { registry } from '../cli.js';

const DIST = resolve(__dirname, '..');
const ROOT = resolve(DIST, '..');
const DIR = join(DIST, 'snapshots');
const STAMP = join(DIR, 'node.stamp');
const LAUNCHER = join(ROOT, 'bin', 'ipcctl');

const env = { ...process.env };
delete env.NODE_OPTIONS; // V8 flags in it would be baked into every blob
delete env.IPCCTL_NO_SNAPSHOT;

function warn(why: string): void {
  process.stderr.write(`ipcctl: ${why}: those starts compile the CLI (slower)\n`);
}

/** Build one blob and start it once; true when it answered as the plain CLI does. */
async function make(group: string): Promise<boolean> {
  const blob = join(DIR, `${group}.blob`);
  const made = await run(['--no-warnings', '--snapshot-blob', `${blob}.new`, '--build-snapshot', ENTRY], {
    IPCCTL_SNAPSHOT_GROUP: group === 'core' ? '' : group,
  });
  if (made.status !== 0) {
    warn(`no start-up snapshot for ${group} (${reason(made.stderr)})`);
    return false;
  }
  // Domain modules left to load at run time (entry.ts), with IPCCTL_SNAPSHOT_VERBOSE=1.
  for (const line of made.stderr.split('\n')) if (line.startsWith('snapshot ')) process.stderr.write(`ipcctl: ${line}\n`);
  // The same questions asked of the snapshot and of the plain CLI must get the same answers
  // (help among them: a snapshot writes the help it kept when it was made).
  const questions = group === 'core' ? [['--version'], ['--help']] : [[group, '--help']];
  for (const question of questions) {
    const tried = await run(['--snapshot-blob', `${blob}.new`, LAUNCHER, ...question], {});
    const plain = spawnSync(process.execPath, [LAUNCHER, ...question], { env, encoding: 'utf8' });
    if (tried.status !== 0 || tried.stdout !== plain.stdout || plain.stdout === '') {
      rmSync(`${blob}.new`, { force: true });
      warn(`the start-up snapshot for ${group} does not start (${lastLine(tried.stderr) || 'another answer'})`);
      return false;
    }
  }
  renameSync(`${blob}.new`, blob);
  return true;
}

function run(args: string[], extra: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, args, { env: { ...env, ...extra }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (err) => done({ status: null, stdout, stderr: String(err) }));
    child.on('close', (status) => done({ status, stdout, stderr }));
  });
}

function lastLine(text: string): string {
  return text.trim().split('\n').pop() ?? '';
}

/** The builder's error line ("Error: snapshot: ... would load at build time"), else its last line. */
function reason(stderr: string): string {
  return /^\w*Error: (.*)$/m.exec(stderr)?.[1] ?? lastLine(stderr);
}

// The builder runs its entry as a plain script (require, __filename and
// __dirname, but no exports): give the compiled module an exports object.
const ENTRY = join(__dirname, 'entry-script.js');

/** `make.js` makes every snapshot afresh; `make.js GROUP...` remakes only those (tests, development). */
/**
 * npm gives every file it unpacks this modification time (1985-10-26
 * 08:15:00 UTC), also the node binary of the registry's node packages: it
 * cannot tell one such node from the next version, so no stamp is trusted.
 */
const NPM_TIME_S = 499162500;

async function main(only: string[]): Promise<void> {
  if (only.length === 0) rmSync(DIR, { recursive: true, force: true });
  if (Math.floor(statSync(process.execPath).mtimeMs / 1000) === NPM_TIME_S) {
    warn(`no start-up snapshots for ${process.execPath} (its modification time is npm's, the same for every version)`);
    return;
  }
  mkdirSync(DIR, { recursive: true });
  writeFileSync(ENTRY, `var exports = {};\n${readFileSync(join(__dirname, 'entry.js'), 'utf8')}`);
  const groups = only.length > 0 ? only : ['core', ...registry.map((e) => e.name)];
  for (const g of groups) rmSync(join(DIR, `${g}.blob`), { force: true });
  let made = 0;
  const queue = [...groups];
  const worker = async (): Promise<void> => {
    for (let g = queue.shift(); g !== undefined; g = queue.shift()) if (await make(g)) made++;
  };
  await Promise.all(Array.from({ length: Math.min(availableParallelism(), 4) }, worker));
  rmSync(ENTRY, { force: true });
  if (made === 0 && only.length === 0) {
    rmSync(DIR, { recursive: true, force: true });
    return;
  }
  writeFileSync(STAMP, `${process.execPath}\n`);
  if (spawnSync('touch', ['-r', process.execPath, STAMP]).status !== 0) {
    rmSync(DIR, { recursive: true, force: true });
    warn('no start-up snapshots (touch -r failed)');
  }
}

void main(process.argv.slice(2));

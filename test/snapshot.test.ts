// Start-up snapshots (src/snapshot/, bin/ipcctl): every command group has
// one, a start uses its group's blob when it fits the node on PATH, every
// case where it does not fit starts the plain way, the answers are the same
// either way, and a module that would bake a run-time read into a snapshot
// is refused when the snapshot is made.
import { spawn } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IPCCTL, ROOT, ipcctl, newQueue, newSet, run, sleep } from './helpers/run.js';

const SNAPSHOTS = join(ROOT, 'dist', 'snapshots');
const groups = [...ipcctl(['--help']).stdout.matchAll(/^ {2}([a-z]+) /gm)].map((m) => m[1]!).filter((g) => g !== 'help');
const scratch = mkdtempSync(join(tmpdir(), 'ipcctl-snapshot-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The command line of a blocking ipcctl, read from /proc while it waits; then it is stopped (by pid). */
async function commandLineOf(args: string[], env: NodeJS.ProcessEnv = {}, launcher = IPCCTL): Promise<string[]> {
  const child = spawn(launcher, args, { env: { ...process.env, ...env }, stdio: 'ignore' });
  try {
    for (let i = 0; i < 100; i++) {
      await sleep(50);
      const words = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
      // Until the launcher's exec, /proc shows sh.
      if (words.some((w) => w.endsWith('/node') || w === 'node')) return words;
    }
    throw new Error('ipcctl did not start node');
  } finally {
    child.kill('SIGTERM');
  }
}

// npm gives every file it unpacks one time (1985-10-26 08:15 UTC), also the
// binary of the registry's node packages (CI's Node 24): such a node cannot
// be told from its next version by that time, so it gets no snapshots.
const npmNode = Math.floor(statSync(process.execPath).mtimeMs / 1000) === 499162500;

describe.runIf(npmNode)('a node unpacked by npm', () => {
  it('gets no snapshots, and every start is plain', async () => {
    expect(existsSync(join(SNAPSHOTS, 'node.stamp'))).toBe(false);
    const set = newSet();
    expect(await commandLineOf(['sem', 'op', String(set), '0:-1'])).not.toContain('--snapshot-blob');
  });
});

describe.skipIf(npmNode)('start-up snapshots', () => {
  it('exist for every command group and core, stamped with the time of the node that made them', () => {
    expect(groups.length).toBeGreaterThan(10);
    for (const g of ['core', ...groups]) expect(existsSync(join(SNAPSHOTS, `${g}.blob`)), g).toBe(true);
    const stamp = statSync(join(SNAPSHOTS, 'node.stamp'), { bigint: true });
    const node = statSync(readFileSync(join(SNAPSHOTS, 'node.stamp'), 'utf8').trim(), { bigint: true });
    expect(stamp.mtimeNs).toBe(node.mtimeNs);
  });

  it("a start uses its group's snapshot, also after global flags", async () => {
    const set = newSet();
    const words = await commandLineOf(['--json', 'sem', 'op', String(set), '0:-1']);
    expect(words).toContain('--snapshot-blob');
    expect(words[words.indexOf('--snapshot-blob') + 1]).toMatch(/dist\/snapshots\/sem\.blob$/);
    const q = newQueue();
    const recv = await commandLineOf(['msgq', 'recv', String(q)]);
    expect(recv[recv.indexOf('--snapshot-blob') + 1]).toMatch(/msgq\.blob$/);
  });

  it('starts the plain way with IPCCTL_NO_SNAPSHOT, with NODE_OPTIONS, or when the node on PATH is another binary', async () => {
    const set = newSet();
    const args = ['sem', 'op', String(set), '0:-1'];
    expect(await commandLineOf(args, { IPCCTL_NO_SNAPSHOT: '1' })).not.toContain('--snapshot-blob');
    expect(await commandLineOf(args, { NODE_OPTIONS: '--no-warnings' })).not.toContain('--snapshot-blob');
    // Another node first on PATH: a script that runs the real one (its time is not the stamp's).
    writeFileSync(join(scratch, 'node'), `#!/bin/sh\nexec ${process.execPath} "$@"\n`);
    chmodSync(join(scratch, 'node'), 0o755);
    const other = await commandLineOf(args, { PATH: `${scratch}:${process.env.PATH}` });
    expect(other).not.toContain('--snapshot-blob');
    expect(other[0]).toBe(process.execPath);
  });

  it('answers as the plain start does: output, errors and exit codes', () => {
    const q = newQueue();
    const cases = [
      ['--version'],
      ['--help'],
      ['help'],
      ['sem', 'lock', '--help'],
      ['msgq', '--help'],
      ['msgq', 'stat', String(q)],
      ['msgq', 'stat', '2147483646'],
      ['bogus'],
      ['xdr', 'encode', 'int:3', '--hex'],
      ['sem', 'op'],
      ['--json', 'msgq', 'stat', String(q)],
      ['msgq', 'rm', '2147483646'],
    ];
    for (const args of cases) {
      const snap = ipcctl(args);
      const plain = ipcctl(args, { env: { IPCCTL_NO_SNAPSHOT: '1' } });
      expect({ code: snap.code, stdout: snap.stdout, stderr: snap.stderr }, args.join(' ')).toEqual({
        code: plain.code,
        stdout: plain.stdout,
        stderr: plain.stderr,
      });
    }
  });

  it("writes the help a snapshot kept only for its own group's lines: a batch's help lines read as the commands' own", () => {
    const lines = [['msgq', '--help'], ['--help'], ['sem', 'op', '--help'], ['help']];
    const r = ipcctl(['--json', 'batch'], { input: lines.map((l) => l.join(' ') + '\n').join('') });
    expect(r.code, r.stderr).toBe(0);
    const replies = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { exit: number; stdout: string });
    expect(replies.map((x) => x.stdout)).toEqual(lines.map((l) => ipcctl(l).stdout));
    expect(replies.map((x) => x.exit)).toEqual([0, 0, 0, 0]);
  });

  it('formats help for a terminal at its width, as the plain start does (the help a snapshot keeps is for other outputs)', () => {
    // script(1) gives the command a terminal; stty sets its width.
    const inTerminal = (env: string) => run('script', ['-qc', `stty cols 150; ${env} ${IPCCTL} --help`, '/dev/null']).stdout;
    const snap = inTerminal('');
    expect(snap).toBe(inTerminal('IPCCTL_NO_SNAPSHOT=1'));
    expect(Math.max(...snap.split('\n').map((l) => l.trimEnd().length))).toBeGreaterThan(80);
    expect(
      Math.max(
        ...ipcctl(['--help'])
          .stdout.split('\n')
          .map((l) => l.length),
      ),
    ).toBeLessThanOrEqual(80);
  });

  it('holds the domain and native modules a command imports: a start reads none of their files', () => {
    const q = newQueue();
    const opened = (env: NodeJS.ProcessEnv) => {
      const r = run('strace', ['-f', '-qq', '-e', 'trace=open,openat', IPCCTL, 'msgq', 'stat', String(q)], { env });
      expect(r.code, r.stderr).toBe(0);
      return [...r.stderr.matchAll(/"([^"]*\/dist\/[^"]*\.js)"/g)].map((m) => m[1]!.slice(m[1]!.indexOf('/dist/') + 1));
    };
    // The plain start reads them (the check can see them)...
    expect(opened({ IPCCTL_NO_SNAPSHOT: '1' })).toEqual(expect.arrayContaining(['dist/ipc/sysv/msgq.js', 'dist/native/bind.js', 'dist/native/library.js']));
    // ...the snapshot's start reads no file of ours at all.
    expect(opened({})).toEqual([]);
  });

  describe('a copy of the package', () => {
    const copy = join(scratch, 'copy');
    cpSync(join(ROOT, 'bin'), join(copy, 'bin'), { recursive: true });
    cpSync(join(ROOT, 'dist'), join(copy, 'dist'), { recursive: true });
    cpSync(join(ROOT, 'package.json'), join(copy, 'package.json'));
    symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
    const launcher = join(copy, 'bin', 'ipcctl');

    it("moved elsewhere, runs its own files (the snapshot's paths are the old place's)", () => {
      const q = newQueue();
      const r = run(launcher, ['--json', 'msgq', 'stat', String(q)]);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ id: q });
      // The copy's own package.json, not the one the snapshot was made beside.
      const pkg = JSON.parse(readFileSync(join(copy, 'package.json'), 'utf8')) as { version: string };
      writeFileSync(join(copy, 'package.json'), JSON.stringify({ ...pkg, version: '9.9.9-copy' }));
      expect(run(launcher, ['--version']).stdout).toBe('9.9.9-copy\n');
    });

    it('starts the plain way when dist/cli.js is newer than the snapshots', async () => {
      const later = new Date(Date.now() + 60_000);
      utimesSync(join(copy, 'dist', 'cli.js'), later, later);
      const set = newSet();
      expect(await commandLineOf(['sem', 'op', String(set), '0:-1'], {}, launcher)).not.toContain('--snapshot-blob');
    });

    it('refuses, when made, a module that reads the environment, the clock or a file at its top level', { timeout: 60_000 }, () => {
      const xdr = join(copy, 'dist', 'commands', 'xdr.js');
      const clean = readFileSync(xdr, 'utf8');
      for (const [read, says] of [
        ['process.env.HOME;', 'reads process.env.HOME at build time'],
        ['Date.now();', 'reads Date.now() at build time'],
        ['require("node:fs").readFileSync("/proc/sys/kernel/msgmax");', 'reads /proc/sys/kernel/msgmax (fs.readFileSync) at build time'],
        ['process.cwd();', 'reads process.cwd() at build time'],
        ['process.pid;', 'reads process.pid at build time'],
      ] as const) {
        writeFileSync(xdr, clean);
        appendFileSync(xdr, `\n${read}\n`);
        const r = run(process.execPath, [join(copy, 'dist', 'snapshot', 'make.js'), 'xdr'], { timeout: 50_000 });
        expect(r.code).toBe(0);
        expect(r.stderr).toBe(`ipcctl: no start-up snapshot for xdr (${says}): those starts compile the CLI (slower)\n`);
        expect(existsSync(join(copy, 'dist', 'snapshots', 'xdr.blob'))).toBe(false);
      }
      writeFileSync(xdr, clean);
      const r = run(process.execPath, [join(copy, 'dist', 'snapshot', 'make.js'), 'xdr'], { timeout: 50_000 });
      expect(r.stderr).toBe('');
      expect(existsSync(join(copy, 'dist', 'snapshots', 'xdr.blob'))).toBe(true);
    });

    it('leaves to run time a domain module that reads the run at its top level, and the group keeps its snapshot', { timeout: 60_000 }, () => {
      const domain = join(copy, 'dist', 'ipc', 'sysv', 'sem-lock.js');
      const clean = readFileSync(domain, 'utf8');
      try {
        appendFileSync(domain, '\nprocess.getuid();\n');
        const r = run(process.execPath, [join(copy, 'dist', 'snapshot', 'make.js'), 'sem'], { timeout: 50_000, env: { IPCCTL_SNAPSHOT_VERBOSE: '1' } });
        expect(r.code).toBe(0);
        expect(r.stderr).toBe('ipcctl: snapshot sem: left to run time: ipc/sysv/sem-lock.js: reads process.getuid() at build time\n');
        expect(existsSync(join(copy, 'dist', 'snapshots', 'sem.blob'))).toBe(true);
        // It loads when the command runs, from the snapshot's start too.
        const set = newSet(['--value', '1']);
        const lock = run(launcher, ['sem', 'lock', String(set), '--', 'sh', '-c', 'exit 7']);
        expect(lock, lock.stderr).toMatchObject({ code: 7, stderr: '' });
      } finally {
        writeFileSync(domain, clean);
      }
    });
  });
});

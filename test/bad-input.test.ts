// The generated bad-input corpus: every command and option of the real
// program (test/bad-input-corpus.ts makes the cases from buildFullProgram),
// each invocation run against the real kernel with a time bound, in private
// IPC, mount and network namespaces (test/helpers/corpus-worker.mjs). The
// promise checked for every case: no stack trace, no `internal error`, no
// hang, no object left behind by a failure, an exit code of the table, and a
// failure says so on exactly one `ipcctl: ` line.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildFullProgram } from '../src/cli.js';
import { type Case, generateCorpus } from './bad-input-corpus.js';
import { IPCCTL, ROOT } from './helpers/run.js';

const TABLE = new Set([0, 1, 2, 3, 4, 5, 124, 130]);
/** Namespaces run side by side; each runs its share one case at a time. */
const WORKERS = 3;
const CASE_TIMEOUT_MS = 15_000;

interface Result {
  name: string;
  args: string[];
  code: number | null;
  signal: string | null;
  hung: boolean;
  stderr: string;
  leaked: string[];
  expected?: number;
}

function runShare(cases: Case[], dir: string, n: number): Promise<Result[]> {
  const casesFile = join(dir, `cases-${n}.json`);
  const resultsFile = join(dir, `results-${n}.json`);
  writeFileSync(casesFile, JSON.stringify(cases));
  return new Promise((resolve, reject) => {
    const child = spawn(
      'unshare',
      [
        '--ipc',
        '--mount',
        '--net',
        '--propagation',
        'private',
        process.execPath,
        `${ROOT}test/helpers/corpus-worker.mjs`,
        IPCCTL,
        casesFile,
        resultsFile,
        String(CASE_TIMEOUT_MS),
      ],
      { stdio: ['ignore', 'inherit', 'pipe'] },
    );
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(JSON.parse(readFileSync(resultsFile, 'utf8'))) : reject(new Error(`corpus worker ${n} exited ${code}: ${err}`)),
    );
  });
}

/** What is wrong with one result; empty when it keeps the promise. */
export function problems(r: Result): string[] {
  const out: string[] = [];
  const words = r.args.filter((a) => !a.startsWith('-'));
  // `sem lock` runs CMD and exits with its status, 126 or 127 when CMD cannot
  // run (as flock(1)); with -k/-f it makes its set when none has the key, and
  // leaves it for the next holder, as flock leaves its lock file.
  const runsCommand = words[0] === 'sem' && words[1] === 'lock';
  // -x/--hexdump writes its dump to stderr when no FILE is given: that is its output.
  const dumps = r.args.some((a) => a === '-x' || a.startsWith('--hexdump'));
  if (r.hung) out.push(`hung (killed after ${CASE_TIMEOUT_MS / 1000}s)`);
  else if (r.code === null) out.push(`killed by ${r.signal}`);
  else if (!TABLE.has(r.code) && !(runsCommand && (r.code === 126 || r.code === 127))) out.push(`exit ${r.code} is not in the table`);
  if (r.expected !== undefined && r.code !== r.expected && !r.hung) out.push(`exit ${r.code}, expected ${r.expected}`);
  if (/internal error/.test(r.stderr)) out.push('internal error');
  if (/^\s+at .+:\d+:\d+\)?$/m.test(r.stderr) || /^\w*Error: /m.test(r.stderr)) out.push('stack trace');
  if (/TimeoutOverflowWarning|Warning:/.test(r.stderr)) out.push('node warning');
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  if (!(dumps && r.code === 0) && lines.some((l) => !l.startsWith('ipcctl: '))) out.push('a stderr line not starting "ipcctl: "');
  if (r.code !== 0 && !r.hung && lines.length !== 1) out.push(`${lines.length} stderr lines on failure`);
  if (r.leaked.length > 0 && !(runsCommand && r.leaked.every((l) => l.startsWith('sem:')))) out.push(`left behind ${r.leaked.join(', ')}`);
  return out;
}

describe('generated bad-input corpus', async () => {
  const program = await buildFullProgram();
  const { cases, skipped } = generateCorpus(program);

  it('is generated from the program: at least 500 invocations, every leaf command', () => {
    expect(cases.length).toBeGreaterThanOrEqual(500);
    const leaves: string[] = [];
    const walk = (c: typeof program, path: string[]) => {
      const subs = c.commands.filter((s) => s.name() !== 'help');
      if (subs.length === 0 && path.length > 0) leaves.push(path.join(' '));
      for (const s of subs) walk(s, [...path, s.name()]);
    };
    walk(program, []);
    for (const leaf of leaves)
      expect(
        cases.some((c) => c.args.join(' ').includes(leaf)),
        leaf,
      ).toBe(true);
  });

  it.skipIf(skipped.length === 0)(`skips only with a reason: ${skipped.map((s) => `${s.name} (${s.reason})`).join('; ')}`, () => {
    for (const s of skipped) expect(s.reason.length).toBeGreaterThan(10);
  });

  it('every invocation: no trace, no internal error, no hang, no leak, one ipcctl: line, exit from the table', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ipcctl-bad-input-'));
    try {
      const shares: Case[][] = Array.from({ length: WORKERS }, () => []);
      cases.forEach((c, i) => shares[i % WORKERS]!.push(c));
      const results = (await Promise.all(shares.map((s, n) => runShare(s, dir, n)))).flat();
      expect(results).toHaveLength(cases.length);
      // CORPUS_DUMP=file keeps every result, to read what the corpus saw.
      if (process.env.CORPUS_DUMP) writeFileSync(process.env.CORPUS_DUMP, JSON.stringify(results, null, 1));
      const bad = results.map((r) => ({ r, p: problems(r) })).filter((x) => x.p.length > 0);
      const report = bad.map(({ r, p }) => `${r.name}: ${p.join('; ')} [exit ${r.code}] ${r.stderr.trim().split('\n').slice(0, 3).join(' | ')}`);
      expect(report, report.slice(0, 60).join('\n')).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 900_000);
});

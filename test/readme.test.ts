// README.md works as written: every ```sh block runs, in order, in one bash
// session (variables carry from block to block), with bin/ipcctl as
// `ipcctl` on PATH, in a temp dir, inside private IPC, mount, network and
// pid namespaces (a private /tmp, /dev/shm and loopback, so fixed keys,
// ports and paths clash with nothing; background servers die with it).
// Any failing line fails the test, named by its README line. A block may be
// left out only with a visible marker on the line before its fence:
//   <!-- readme-test: skip: REASON -->
// so sections added later are run unless someone says why not.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/run.js';

export interface Block {
  /** README line of the first command in the block (1-based). */
  line: number;
  lines: string[];
  /** Why the block is not run, from its marker; null: it runs. */
  skip: string | null;
}

const MARKER = /^<!--\s*readme-test:\s*skip:\s*(\S.*?)\s*-->$/;

/** The ```sh blocks of a markdown text, with their skip markers. */
export function shellBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() !== '```sh') continue;
    let prev = i - 1;
    while (prev >= 0 && lines[prev]!.trim() === '') prev--;
    const m = prev >= 0 ? MARKER.exec(lines[prev]!.trim()) : null;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && lines[j]!.trim() !== '```'; j++) body.push(lines[j]!);
    blocks.push({ line: i + 2, lines: body, skip: m ? m[1]! : null });
    i = j;
  }
  return blocks;
}

/**
 * One bash script of the blocks that run. An ERR trap names the failing
 * line; `lineMap[scriptLine]` is its README line. Conditions (`||`, `&&`,
 * `if`, `until`) do not trip it: a line that says `|| echo ...` is meant.
 */
export function scriptOf(blocks: Block[]): { script: string; lineMap: number[] } {
  const out: string[] = ['set -u -o pipefail -E', 'trap \'echo "README_FAILED $LINENO exit $?: $BASH_COMMAND" >&2; exit 1\' ERR'];
  const lineMap: number[] = [0, 0, 0];
  for (const b of blocks.filter((b) => b.skip === null)) {
    b.lines.forEach((l, k) => {
      out.push(l);
      lineMap.push(b.line + k);
    });
  }
  out.push('wait', 'echo README_DONE');
  return { script: out.join('\n') + '\n', lineMap };
}

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

describe('README.md', () => {
  const blocks = shellBlocks(README);

  it('finds its shell blocks, and every skipped one says why', () => {
    expect(blocks.length).toBeGreaterThan(5);
    for (const b of blocks.filter((b) => b.skip !== null)) expect(b.skip!.length, `block at line ${b.line}`).toBeGreaterThan(10);
  });

  it('a skip marker without a reason is not a skip marker', () => {
    const md = '<!-- readme-test: skip: -->\n```sh\nfalse\n```\n<!-- readme-test: skip: needs a terminal -->\n```sh\nls\n```\n';
    const b = shellBlocks(md);
    expect(b.map((x) => x.skip)).toEqual([null, 'needs a terminal']);
    const { script, lineMap } = scriptOf(b);
    expect(script).toContain('false');
    expect(script).not.toContain('\nls\n');
    expect(lineMap[3]).toBe(3);
  });

  it('a failing line stops the run and is named by its README line; || and && lines are meant', () => {
    const md = 'text\n```sh\ntrue\nfalse || echo fine\nfalse && echo no\nfalse\necho after\n```\n';
    const { script, lineMap } = scriptOf(shellBlocks(md));
    const r = spawnSync('bash', ['-c', script], { encoding: 'utf8' });
    const m = /README_FAILED (\d+)/.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    expect(lineMap[Number(m![1])]).toBe(6);
    expect(r.stdout).toContain('fine');
    expect(r.stdout).not.toContain('after');
  });

  it('every block runs as written, in order, in a fresh private namespace', () => {
    const { script, lineMap } = scriptOf(blocks);
    const dir = mkdtempSync(join(tmpdir(), 'ipcctl-readme-'));
    try {
      const file = join(dir, 'readme.sh');
      writeFileSync(file, script);
      // The script goes in on fd 3, opened before /tmp is replaced.
      const fd = openSync(file, 'r');
      // `ipcctl` on PATH is this tree's launcher, linked from the private /tmp.
      // The tree may itself live under /tmp (a CI clone): it is bound to /mnt
      // first, so the private /tmp does not hide it.
      const setup =
        'ip link set lo up && mkdir -p /mnt && mount --bind "$IPCCTL_ROOT" /mnt && IPCCTL_BIN=/mnt/bin/ipcctl && mount -t tmpfs tmpfs /tmp && mount -t tmpfs tmpfs /run && mount -t tmpfs tmpfs /dev/shm && mkdir -p /dev/mqueue && mount -t mqueue none /dev/mqueue && mkdir /tmp/bin && ln -s "$IPCCTL_BIN" /tmp/bin/ipcctl && ' +
        'export PATH="/tmp/bin:$PATH" && cd "$(mktemp -d)" && exec bash /dev/fd/3';
      const r = spawnSync('unshare', ['--ipc', '--mount', '--net', '--pid', '--fork', '--kill-child', '--propagation', 'private', 'bash', '-c', setup], {
        stdio: ['ignore', 'pipe', 'pipe', fd],
        env: { ...process.env, NO_COLOR: '1', IPCCTL_ROOT: ROOT, IPCCTL_DEBUG: '' },
        timeout: 240_000,
        maxBuffer: 1 << 26,
      });
      closeSync(fd);
      const stderr = r.stderr.toString();
      const failed = /README_FAILED (\d+) (exit \d+: .*)/.exec(stderr);
      const where = failed ? `README.md line ${lineMap[Number(failed[1])]}: ${failed[2]}` : '';
      expect(where, stderr.slice(-3000)).toBe('');
      expect(r.stdout.toString(), stderr.slice(-3000)).toContain('README_DONE');
      expect(r.status, stderr.slice(-3000)).toBe(0);
      // No stack trace or internal error anywhere on the way.
      expect(stderr).not.toMatch(/internal error|^\s+at .+:\d+:\d+\)?$/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});

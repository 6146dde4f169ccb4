// The bash completion script, loaded into a real bash: what completes after
// `ipcctl ms`, `ipcctl msgq r`, an option prefix, and the ids of queues.
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { trackName, uniqueName } from './helpers/posix.js';
import { ipcctl, newQueue, run } from './helpers/run.js';

const dir = mkdtempSync(join(tmpdir(), 'ipcctl-completion-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const script = join(dir, 'ipcctl.bash');

/** What bash offers for the command line `line` (the last word is completed). */
function complete(line: string): string[] {
  const r = run(
    'bash',
    [
      '-c',
      `source ${script}
read -ra COMP_WORDS <<< "$LINE"
[[ $LINE == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$((\${#COMP_WORDS[@]} - 1))
_ipcctl
printf '%s\\n' "\${COMPREPLY[@]}"`,
    ],
    { env: { LINE: line } },
  );
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.split('\n').filter(Boolean);
}

describe('ipcctl completion bash', () => {
  const gen = ipcctl(['completion', 'bash']);
  writeFileSync(script, gen.stdout);

  it('is generated and parses', () => {
    expect(gen.code).toBe(0);
    expect(run('bash', ['-n', script]).code).toBe(0);
  });

  it('completes command groups and subcommands', () => {
    expect(complete('ipcctl ms')).toEqual(['msgq']);
    expect(complete('ipcctl msgq r').sort()).toEqual(['recv', 'rm']);
  });

  it('completes options of a subcommand', () => {
    expect(complete('ipcctl msgq recv --ti')).toEqual(['--timeout']);
    expect(complete('ipcctl msgq send --l')).toEqual(['--lines']);
  });

  it('completes the ids of existing queues', () => {
    const id = newQueue();
    expect(complete('ipcctl msgq stat ')).toContain(String(id));
  });

  it('completes the names of existing POSIX segments and semaphores, and POSIX kinds after rm', () => {
    const seg = trackName('pshm', uniqueName('c'));
    const sem = trackName('psem', uniqueName('c'));
    expect(ipcctl(['pshm', 'create', seg, '--size', '1']).code).toBe(0);
    expect(ipcctl(['psem', 'create', sem]).code).toBe(0);
    expect(complete(`ipcctl pshm stat ${seg.slice(0, -2)}`)).toEqual([seg]);
    expect(complete(`ipcctl psem wait ${sem.slice(0, -2)}`)).toEqual([sem]);
    expect(complete(`ipcctl rm psem ${sem.slice(0, -2)}`)).toEqual([sem]);
    expect(complete('ipcctl rm ps').sort()).toEqual(['psem', 'pshm']);
    expect(complete('ipcctl pmq send --pr')).toEqual(['--priority']);
  });

  it('refuses an unknown shell with exit 2', () => {
    const r = ipcctl(['completion', 'tcsh']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown shell 'tcsh'/);
  });

  it('fish and zsh scripts are generated', () => {
    expect(ipcctl(['completion', 'fish']).stdout).toMatch(/complete -c ipcctl .* -a msgq/);
    expect(ipcctl(['completion', 'zsh']).stdout).toMatch(/bashcompinit[\s\S]*complete -F _ipcctl ipcctl/);
  });
});

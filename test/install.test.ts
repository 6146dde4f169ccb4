// Installed as users will: `npm pack`, then a global install of that tarball
// into a temporary prefix (production dependencies only, no dev tools):
// `ipcctl --version` runs from PATH and `man ipcctl` finds the page.
import { mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, run } from './helpers/run.js';

const dir = mkdtempSync(join(tmpdir(), 'ipcctl-install-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

describe('npm pack and a global install', () => {
  it('runs from PATH and has its man page', { timeout: 180_000 }, () => {
    // dist/ is already built (npm ci ran `prepare`); --ignore-scripts keeps the
    // pack from rebuilding it under the feet of tests running in parallel.
    const pack = run('npm', ['pack', ROOT, '--ignore-scripts', '--pack-destination', dir, '--json'], { timeout: 120_000 });
    expect(pack.code, pack.stderr).toBe(0);
    const tarball = join(dir, (JSON.parse(pack.stdout) as Array<{ filename: string }>)[0]!.filename);
    const prefix = join(dir, 'prefix');
    const inst = run('npm', ['install', '--global', '--prefix', prefix, '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline', tarball], {
      timeout: 150_000,
    });
    expect(inst.code, inst.stderr).toBe(0);
    // No dev dependency came along.
    const modules = run('ls', [join(prefix, 'lib/node_modules/ipcctl/node_modules')]).stdout;
    expect(modules).not.toMatch(/vitest|typescript/);

    const env = { PATH: `${join(prefix, 'bin')}:/usr/bin:/bin`, MANPATH: join(prefix, 'share/man') };
    const v = run('sh', ['-c', 'cd / && ipcctl --version'], { env });
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout.trim()).toBe(version);
    const st = run('sh', ['-c', 'cd / && ipcctl selftest --json'], { env });
    expect(JSON.parse(st.stdout).results.length).toBeGreaterThan(0);
    const man = run('man', ['-w', 'ipcctl'], { env });
    expect(man.code, man.stderr).toBe(0);
    // npm links share/man/man1/ipcctl.1 to the package's man/ipcctl.1; man resolves it.
    expect(realpathSync(man.stdout.trim())).toBe(realpathSync(join(prefix, 'share/man/man1/ipcctl.1')));
  });
});

// Runs every bench/*.bench.mjs (or those named on the command line) one after
// another; each prints its own figures and ratios against the peers.
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const wanted = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.mjs'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.startsWith(w)))
  .sort();
// NODE_EXTRA_CA_CERTS makes every Node process parse a certificate bundle at
// start (tens of ms here, more than a bare `node -e 0` needs otherwise), and
// that flatters every ratio against `node -e 0`. Some machines set it; a
// user's shell usually does not. The benchmarks run without it; the msgq
// start-up figures also show the difference it makes.
const env = { ...process.env };
if (env.NODE_EXTRA_CA_CERTS) {
  env.BENCH_SANDBOX_CA_CERTS = env.NODE_EXTRA_CA_CERTS;
  delete env.NODE_EXTRA_CA_CERTS;
  console.log('(NODE_EXTRA_CA_CERTS is unset for the benchmarks: it adds its cost to every Node start-up)');
}
let failed = 0;
for (const f of files) {
  console.log(`\n== ${f}`);
  const r = spawnSync(process.execPath, [dir + f], { stdio: 'inherit', env });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);

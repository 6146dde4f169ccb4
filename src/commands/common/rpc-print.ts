// What `rpc ls` and `rpc ping` print: JSON, or the text rpcinfo prints.
import type { dump, protoName as ProtoName } from '../../ipc/rpc/portmap.js';
import type { programName as ProgramName } from '../../ipc/rpc/names.js';
import type { ping } from '../../ipc/rpc/call.js';
import { printJson } from '../../output/json.js';
import { writeStderr, writeStdout } from '../../output/sink.js';
import { settings } from '../../output/style.js';

type Mapping = Awaited<ReturnType<typeof dump>>[number];
type PingResult = Awaited<ReturnType<typeof ping>>[number];

/** The portmapper's table; the name lookups come from the modules `rpc ls` loaded. */
export function printPortmap(maps: Mapping[], protoName: typeof ProtoName, programName: typeof ProgramName): void {
  if (settings.json) {
    printJson(maps.map((m) => ({ program: m.prog, version: m.vers, protocol: protoName(m.prot), port: m.port, name: programName(m.prog) || null })));
    return;
  }
  // rpcinfo -p's own columns, so that the two can be compared line by line.
  let out = '   program vers proto   port  service\n';
  for (const m of maps) {
    const name = programName(m.prog);
    out += `${String(m.prog).padStart(10)}${String(m.vers).padStart(5)}${protoName(m.prot).padStart(6)}${String(m.port).padStart(7)}${name ? `  ${name}` : ''}\n`;
  }
  writeStdout(out);
}

/** One line per version asked; a version that failed also says why on stderr. */
export function printPing(prog: number, proto: string, results: PingResult[]): void {
  if (settings.json)
    printJson({
      program: prog,
      protocol: proto,
      versions: results.map((r) => ({ version: r.vers, ok: r.ok, ...(r.ok ? { rtt_ms: Math.round(r.rttMs! * 1000) / 1000 } : { error: r.error }) })),
    });
  else {
    let out = '';
    for (const r of results) {
      if (r.ok) out += `program ${prog} version ${r.vers} ready and waiting (${r.rttMs!.toFixed(3)} ms)\n`;
      else {
        writeStderr(`ipcctl: ${r.error}\n`);
        out += `program ${prog} version ${r.vers} is not available\n`;
      }
    }
    writeStdout(out);
  }
}

// What `rpc ls`, `rpc ping` and `rpc call` print: JSON, or the text rpcinfo
// prints (ls, ping), or the results (call).
import type { dump, protoName as ProtoName } from '../../ipc/rpc/portmap.js';
import type { programName as ProgramName } from '../../ipc/rpc/names.js';
import type { ping } from '../../ipc/rpc/call.js';
import { printJson } from '../../output/json.js';
import { writeStderr, writeStdout } from '../../output/sink.js';
import { settings } from '../../output/style.js';
import type { XdrValue } from '../../ipc/rpc/xdr.js';
import type { XdrType } from '../../ipc/rpc/xdr-types.js';
import { hexText, valuesJson, valuesText } from './xdr-print.js';

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

/** What was called, where, and how many times in how long. */
export interface CallFacts {
  op: string;
  proto: string;
  where: string;
  port: number | null;
  prog: number;
  vers: number;
  proc: number;
  count: number;
  seconds: number;
}

/**
 * The first call's results: decoded (--returns), raw (--raw) or as a hexdump;
 * with --verbose the round trip (and the rate of --count calls) on stderr.
 */
export function printCall(
  c: CallFacts,
  first: { results: Buffer; rttMs: number },
  decoded: { types: XdrType[]; values: XdrValue[] } | undefined,
  f: { raw: boolean; verbose: boolean },
): void {
  if (f.verbose) {
    writeStderr(
      `ipcctl: ${c.op}: ${c.proto} ${c.where} program ${c.prog} version ${c.vers} procedure ${c.proc}: ${first.results.length} result bytes, round trip ${first.rttMs.toFixed(3)} ms\n`,
    );
    if (c.count > 1) writeStderr(`ipcctl: ${c.op}: ${c.count} calls in ${c.seconds.toFixed(3)} s, ${Math.round(c.count / c.seconds)} calls/s\n`);
  }
  if (settings.json) {
    printJson({
      program: c.prog,
      version: c.vers,
      procedure: c.proc,
      protocol: c.proto,
      port: c.port,
      calls: c.count,
      rtt_ms: Math.round(first.rttMs * 1000) / 1000,
      ...(c.count > 1 ? { calls_per_second: Math.round(c.count / c.seconds) } : {}),
      ...(decoded ? { results: valuesJson(decoded.types, decoded.values) } : { hex: first.results.toString('hex') }),
    });
  } else if (decoded) writeStdout(valuesText(decoded.types, decoded.values));
  else if (f.raw) writeStdout(first.results);
  else writeStdout(hexText(first.results));
}

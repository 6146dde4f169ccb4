// What `rpc serve` reports: with --json one line per endpoint and per call
// on stdout; else a line on stderr when it listens and, with --verbose, per
// call and per TCP connection.
import type { ServeOptions } from '../../ipc/rpc/server.js';
import { jsonLine } from '../../output/json.js';
import { writeStderr, writeStdout } from '../../output/sink.js';
import { settings } from '../../output/style.js';

/** Async: the address helpers load with the server, not with `rpc --help`. */
export async function serveEvents(op: string, prog: number, versions: number[], verbose: boolean): Promise<ServeOptions['events']> {
  const { addressFields, formatAddress } = await import('../../ipc/net/address.js');
  const json = settings.json;
  return {
    listening(endpoints, registered) {
      if (json) {
        for (const e of endpoints)
          writeStdout(
            jsonLine({
              event: 'listening',
              protocol: e.proto,
              ...addressFields(e.local),
              program: prog,
              versions,
              registered: registered.some((m) => m.port === (e.local as { port: number }).port),
            }),
          );
        return;
      }
      const where = endpoints.map((e) => `${e.proto} ${formatAddress(e.local)}`).join(', ');
      writeStderr(
        `ipcctl: ${op}: program ${prog} version ${versions.join(',')} on ${where}${registered.length > 0 ? ', registered with the portmapper' : ''}\n`,
      );
    },
    call(proto, peer, log) {
      if (json)
        writeStdout(
          jsonLine({
            event: 'call',
            protocol: proto,
            client: peer,
            xid: log.xid,
            program: log.prog,
            version: log.vers,
            procedure: log.proc,
            auth: log.auth,
            ...(log.uid !== undefined ? { uid: log.uid, gid: log.gid } : {}),
            arg_bytes: log.argBytes,
            status: log.status,
            result_bytes: log.resultBytes,
          }),
        );
      else if (verbose)
        writeStderr(
          `ipcctl: ${op}: ${proto} ${peer} xid 0x${log.xid.toString(16).padStart(8, '0')} program ${log.prog} version ${log.vers} procedure ${log.proc} ${log.auth}${log.uid !== undefined ? ` uid ${log.uid}` : ''}: ${log.argBytes} argument bytes -> ${log.status}${log.status === 'SUCCESS' ? `, ${log.resultBytes} result bytes` : ''}\n`,
        );
    },
    connection(peer, open, error) {
      if (verbose && !json) writeStderr(`ipcctl: ${op}: tcp ${peer} ${open ? 'connected' : `closed${error ? ` (${error})` : ''}`}\n`);
    },
  };
}

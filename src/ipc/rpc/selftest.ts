// The RPC round trip of `ipcctl selftest`: XDR values encoded and decoded,
// then a real call over UDP and over TCP on loopback to a server of our own
// (not registered: no portmapper is needed), whose echo must bring the
// arguments back byte for byte.
import type { SockAddr } from '../../native/net/sockaddr.js';
import { formatAddress } from '../net/address.js';
import { Caller } from './call.js';
import { NO_AUTH } from './message.js';
import { serve } from './server.js';
import { decodeAll, encodeAll, type XdrValue } from './xdr.js';
import { parseType } from './xdr-types.js';

export async function rpcRoundTrip(): Promise<string> {
  const types = ['int', 'uhyper', 'string', 'opaque', 'double', 'int[]'].map(parseType);
  const values: XdrValue[] = [-2147483648, 2n ** 64n - 1n, `selftest ${process.pid} \u00e9`, Buffer.from([1, 2, 3]), 0.5, [1, -1]];
  const args = encodeAll(types.map((type, i) => ({ type, value: values[i]! })));
  const back = decodeAll(args, types);
  const bigintsAsText = (_k: string, v: unknown): unknown => (typeof v === 'bigint' ? String(v) : v);
  if (JSON.stringify(back, bigintsAsText) !== JSON.stringify(values, bigintsAsText)) throw new Error('XDR values came back different');

  const prog = 0x20000000 + (process.pid % 0x100000);
  let stop = false;
  let local: SockAddr | null = null;
  const server = serve({
    op: 'selftest rpc serve',
    bind: { family: 'inet', address: '127.0.0.1', port: 0 },
    prog,
    versions: [1],
    udp: true,
    tcp: true,
    register: false,
    requireAuthSys: false,
    idleMs: 10_000,
    until: () => stop,
    events: { listening: (eps) => (local = eps[0]!.local) },
  });
  try {
    for (let i = 0; i < 200 && !local; i++) await new Promise((r) => setTimeout(r, 5));
    if (!local) throw new Error('the RPC server did not start');
    const done: string[] = [];
    for (const proto of ['udp', 'tcp'] as const) {
      const c = await Caller.open({
        op: 'selftest rpc call',
        host: local,
        port: (local as { port: number }).port,
        proto,
        prog,
        vers: 1,
        proc: 1,
        args,
        cred: NO_AUTH,
        timeoutMs: 5000,
        retryMs: 500,
      });
      try {
        const r = await c.call();
        if (!r.results.equals(args)) throw new Error(`the echo over ${proto} came back different`);
        done.push(`${proto} ${r.rttMs.toFixed(2)}ms`);
      } finally {
        c.close();
      }
    }
    return `echo of ${args.length} XDR bytes via ${formatAddress(local)}: ${done.join(', ')}`;
  } finally {
    stop = true;
    await server;
  }
}

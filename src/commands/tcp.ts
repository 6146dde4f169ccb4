// ipcctl tcp serve|connect: a TCP server on 127.0.0.1 (unless --bind says
// otherwise) that writes what clients send to stdout or echoes it, and a
// client that sends stdin, half-closes, and prints the reply until the peer
// closes. The domain layer is imported inside the actions.
// Options come from program.createOption: commander is resolved once, by cli.ts.
import type { Command } from 'commander';
import { OutputClosedError, writeStderr, writeStdout } from '../output/sink.js';
import { jsonLine, payloadFields } from '../output/json.js';
import { preloadSpinner } from '../output/spinner.js';
import { settings } from '../output/style.js';
import { ConnectFeedback, ServeFeedback } from './common/feedback.js';
import { addConnectOptions, addStreamServeOptions, checkServeFlags, serveReporter, type StreamServeFlags } from './common/sockets.js';

interface ServeFlags extends StreamServeFlags {
  port: string;
  bind: string;
  reuseaddr?: boolean;
}

/** A closed stdout ends a stream command quietly, as the contract says. */
export async function quietOnClosedOutput(work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (e) {
    if (e instanceof OutputClosedError) return;
    throw e;
  }
}

async function serve(opts: ServeFlags) {
  checkServeFlags('tcp serve', opts);
  const spinnerReady = preloadSpinner();
  const { parseHost, parsePort, formatAddress, addressFields } = await import('../ipc/address.js');
  const port = parsePort(opts.port, true);
  const address = await parseHost(opts.bind, port);
  const { serve } = await import('../ipc/stream.js');
  const feedback = new ServeFeedback('tcp serve', opts.progress, Boolean(opts.keepOpen), formatAddress);
  await spinnerReady;
  try {
    await quietOnClosedOutput(() =>
      serve({
        op: 'tcp serve',
        address,
        backlog: opts.backlog,
        reuseaddr: Boolean(opts.reuseaddr),
        linger: opts.linger,
        keepOpen: Boolean(opts.keepOpen),
        maxConns: opts.maxConns,
        echo: Boolean(opts.echo),
        idleMs: opts.timeout,
        output: settings.json ? null : 1,
        events: feedback.wrap(serveReporter('tcp serve', Boolean(opts.verbose), port === 0, formatAddress, addressFields)),
        meter: feedback.meter,
      }),
    );
  } finally {
    feedback.end();
  }
}

interface ConnectFlags {
  send?: string;
  timeout?: number;
  zero?: boolean;
  linger?: number;
  verbose?: boolean;
  progress?: boolean;
}

/** The client side, shared with `unix connect` (which passes its own address). */
export async function runConnect(op: string, address: import('../ipc/address.js').SockAddr, opts: ConnectFlags) {
  const spinnerReady = preloadSpinner();
  const { formatAddress, addressFields } = await import('../ipc/address.js');
  const { connect } = await import('../ipc/stream.js');
  const json = settings.json;
  await spinnerReady;
  const feedback = new ConnectFeedback(op, formatAddress(address), opts.progress && !opts.zero);
  try {
    await quietOnClosedOutput(async () => {
      const r = await connect(
        {
          op,
          address,
          timeoutMs: opts.timeout,
          input: opts.zero ? null : opts.send !== undefined ? Buffer.from(opts.send) : 0,
          output: json ? null : 1,
          onData: json ? (chunk) => writeStdout(jsonLine({ event: 'data', size: chunk.length, ...payloadFields(chunk) })) : undefined,
          zero: Boolean(opts.zero),
          linger: opts.linger,
          meter: feedback.meter,
        },
        ({ local }) => {
          feedback.connected();
          if (json) writeStdout(jsonLine({ event: 'connected', ...addressFields(address), local: addressFields(local) }));
          else if (opts.verbose || opts.zero) {
            if (opts.zero && !opts.verbose) return;
            writeStderr(`ipcctl: ${op}: connected to ${formatAddress(address)}${local.family !== 'unix' ? ` from ${formatAddress(local)}` : ''}\n`);
          }
        },
      );
      feedback.end();
      if (json) writeStdout(jsonLine({ event: 'closed', sent: r.sent, received: r.received }));
      else if (opts.verbose && !opts.zero) writeStderr(`ipcctl: ${op}: closed, ${r.sent} bytes sent, ${r.received} received\n`);
    });
  } finally {
    feedback.end();
  }
}

async function connect(host: string, portText: string, opts: ConnectFlags) {
  const { parseHost, parsePort } = await import('../ipc/address.js');
  const address = await parseHost(host, parsePort(portText, false));
  await runConnect('tcp connect', address, opts);
}

export function register(program: Command): void {
  const tcp = program
    .command('tcp')
    .description('TCP: serve (listen) and connect; bytes from stdin to the peer and from the peer to stdout')
    .addHelpText('after', '\nExample:\n  ipcctl tcp serve --port 9000 > got.bin &  ipcctl tcp connect 127.0.0.1 9000 < file.bin');

  addStreamServeOptions(
    tcp
      .command('serve')
      .description('listen on a port (127.0.0.1 unless --bind); what clients send goes to stdout')
      .addOption(program.createOption('-p, --port <port>', 'port to listen on (0: any free port, printed on stderr)').makeOptionMandatory())
      .addOption(program.createOption('-b, --bind <addr>', 'address to listen on: 0.0.0.0 or :: for every interface').default('127.0.0.1'))
      .option('--reuseaddr', 'SO_REUSEADDR: bind even while old connections linger in TIME_WAIT'),
  )
    .addHelpText('after', '\nExamples:\n  ipcctl tcp serve --port 9000 > received.bin\n  ipcctl tcp serve --port 9000 --echo --keep-open --max-conns 100 -v')
    .action((opts) => serve(opts));

  addConnectOptions(
    tcp
      .command('connect')
      .description('connect, send stdin (or --send), half-close at its end, print the reply until the peer closes')
      .argument('<host>', 'numeric address: 127.0.0.1, ::1')
      .argument('<port>', 'port'),
  )
    .addHelpText('after', '\nExamples:\n  printf "GET / HTTP/1.0\\r\\n\\r\\n" | ipcctl tcp connect 127.0.0.1 8080\n  ipcctl tcp connect -z --timeout 1s 127.0.0.1 22 && echo open')
    .action((host, port, opts) => connect(host, port, opts));
}

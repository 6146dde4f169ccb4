// ipcctl tcp serve|connect: a TCP server on 127.0.0.1 (unless --bind says
// otherwise) that writes what clients send to stdout or echoes it, and a
// client that sends stdin, half-closes, and prints the reply until the peer
// closes. The domain layer is imported inside the actions.
// Options come from program.createOption: commander is resolved once, by cli.ts.
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { preloadSpinner } from '../output/spinner.js';
import { settings } from '../output/style.js';
import { ServeFeedback } from './common/feedback.js';
import { type ConnectFlags, quietOnClosedOutput, runConnect } from './common/connect.js';
import { checkModeFlags, type ModeFlags, runMode, wantsMode } from './common/serve-modes.js';
import { hexdumpBeforeOperands, withHexdump } from './common/sockets.js';
import { addConnectOptions, addStreamServeOptions, checkServeFlags, serveReporter } from './common/sockets.js';

interface ServeFlags extends ModeFlags {
  hexdump?: string | boolean;
  port: string;
  bind: string;
  reuseaddr?: boolean;
}

async function serve(opts: ServeFlags) {
  checkServeFlags('tcp serve', opts);
  checkModeFlags('tcp serve', opts);
  const spinnerReady = preloadSpinner();
  const { parseHost, parsePort, formatAddress, addressFields } = await import('../ipc/net/address.js');
  const port = parsePort(opts.port, true);
  const address = await parseHost(opts.bind, port);
  const mode = wantsMode(opts);
  if (mode) return quietOnClosedOutput(() => runMode(mode, { op: 'tcp serve', address, reuseaddr: Boolean(opts.reuseaddr), showListening: port === 0 }, opts));
  const { TrafficDump } = await import('../output/traffic.js');
  const dump = opts.hexdump !== undefined ? new TrafficDump(opts.hexdump as string) : null;
  const { serve } = await import('../ipc/net/stream.js');
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
        events: feedback.wrap(
          withHexdump(serveReporter('tcp serve', Boolean(opts.verbose), port === 0, formatAddress, addressFields), dump, Boolean(opts.echo)),
        ),
        meter: feedback.meter,
      }),
    );
  } finally {
    feedback.end();
    dump?.close();
  }
}

async function connect(host: string, portText: string, opts: ConnectFlags) {
  const { parseHost, parsePort } = await import('../ipc/net/address.js');
  const address = await parseHost(host, parsePort(portText, false));
  await runConnect('tcp connect', address, opts);
}

function parseSourcePort(v: string): number {
  const t = v.trim();
  if (!/^[0-9]+$/.test(t) || Number(t) < 1 || Number(t) > 65535) throw new UsageError(`invalid source port '${v}': a number from 1 to 65535`);
  return Number(t);
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
    .addHelpText(
      'after',
      "\nExamples:\n  ipcctl tcp serve --port 9000 > received.bin\n  ipcctl tcp serve --port 9000 --echo --keep-open --max-conns 100 -v\n  ipcctl tcp serve --port 9000 --keep-open --exec cat\n  ipcctl tcp serve --port 9000 -k --sh 'echo hello $IPCCTL_PEER_ADDR'\n  ipcctl tcp serve --port 9000 --chat -v",
    )
    .action(serve);

  hexdumpBeforeOperands(
    addConnectOptions(
      tcp
        .command('connect')
        .description('connect, send stdin (or --send), half-close at its end, print the reply until the peer closes')
        .argument('<host>', 'numeric address: 127.0.0.1, ::1')
        .argument('<port>', 'port')
        .option('-s, --source <addr>', 'connect from this local address (bind before connect)')
        .addOption(program.createOption('--source-port <port>', 'connect from this local port').argParser((v: string) => parseSourcePort(v))),
    ),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  printf "GET / HTTP/1.0\\r\\n\\r\\n" | ipcctl tcp connect 127.0.0.1 8080\n  printf "GET / HTTP/1.0\\n\\n" | ipcctl tcp connect --crlf 127.0.0.1 8080\n  ipcctl tcp connect -z --timeout 1s 127.0.0.1 22 && echo open\n  ipcctl tcp connect --no-shutdown 127.0.0.1 9000 < /dev/null   # a broker subscriber\n  ipcctl tcp connect 127.0.0.1 9000 --send hello -x',
    )
    .action(connect);
}

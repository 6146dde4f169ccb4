// ipcctl rpc ls|ping|call|serve: ONC RPC version 2 from the shell. ls is
// rpcinfo -p, ping is rpcinfo -u/-t, call makes any call with XDR arguments
// written TYPE:VALUE and decodes the results with --returns, serve is a
// server in one command. The protocol lives in src/ipc/rpc/; this file
// parses, calls it, and prints.
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { asCount, asDuration, parseInteger } from './common/args.js';
import { addTransportOptions, asUint, hostOf, protoOf, transportOf, type TransportFlags } from './common/rpc-options.js';
import { credentialOf, requiresAuthSys, versionsOf, type CredentialFlags } from './common/rpc-args.js';
import { printCall, printPing, printPortmap } from './common/rpc-print.js';
import { serveEvents } from './common/rpc-serve-print.js';

// ---- rpc ls ----------------------------------------------------------------

async function ls(host: string | undefined, f: TransportFlags) {
  const address = await hostOf(host);
  const { dump, protoName } = await import('../ipc/rpc/portmap.js');
  const { programName } = await import('../ipc/rpc/names.js');
  const maps = await dump({ op: 'rpc ls', host: address, proto: protoOf(f, 'tcp'), timeoutMs: f.timeout });
  printPortmap(maps, protoName, programName);
}

// ---- rpc ping --------------------------------------------------------------

async function ping(host: string, progText: string, versText: string | undefined, f: TransportFlags) {
  const { parseProgram } = await import('../ipc/rpc/names.js');
  const prog = parseProgram(progText);
  const vers = versText === undefined ? undefined : asUint('version')(versText);
  const address = await hostOf(host);
  const { ping } = await import('../ipc/rpc/call.js');
  const { NO_AUTH } = await import('../ipc/rpc/message.js');
  const transport = transportOf('rpc ping', f, 'udp');
  const results = await ping({ ...transport, host: address, prog, vers, cred: NO_AUTH });
  const failed = results.find((r) => !r.ok);
  printPing(prog, transport.proto, results);
  if (failed) process.exitCode = failed.exitCode ?? 1;
}

// ---- rpc call --------------------------------------------------------------

interface CallFlags extends TransportFlags, CredentialFlags {
  returns?: string[];
  raw?: boolean;
  auth: string;
  uid?: number;
  gid?: number;
  gids?: string;
  machine?: string;
  count?: number;
  rpcvers?: number;
}

async function call(host: string, progText: string, versText: string, procText: string, argTexts: string[], f: CallFlags) {
  const { parseProgram } = await import('../ipc/rpc/names.js');
  const prog = parseProgram(progText);
  const vers = asUint('version')(versText);
  const proc = asUint('procedure')(procText);
  const { parseType } = await import('../ipc/rpc/xdr-types.js');
  const returns = f.returns?.map(parseType);
  if (returns && f.raw) throw new UsageError('rpc call: give --returns or --raw, not both');
  const { encodeArguments, decodeAll } = await import('../ipc/rpc/xdr.js');
  const args = await encodeArguments(argTexts);
  const cred = await credentialOf(f);
  const address = await hostOf(host);
  const transport = transportOf('rpc call', f, 'udp');
  const { op, proto } = transport;
  const { callRepeatedly } = await import('../ipc/rpc/call.js');
  const count = f.count ?? 1;
  const { first, address: to, seconds } = await callRepeatedly({ ...transport, host: address, prog, vers, proc, args, cred, rpcvers: f.rpcvers }, count);
  const values = returns && decodeAll(first.results, returns, `${op}: the results do not decode as --returns ${f.returns!.join(' ')}`);
  const { formatAddress } = await import('../ipc/net/address.js');
  printCall(
    { op, proto, where: formatAddress(to), port: (to as { port?: number }).port ?? null, prog, vers, proc, count, seconds },
    first,
    returns && { types: returns, values: values! },
    { raw: Boolean(f.raw), verbose: Boolean(f.verbose) },
  );
}

// ---- rpc serve -------------------------------------------------------------

interface ServeFlags {
  prog: string;
  vers: string;
  udp?: boolean;
  tcp?: boolean;
  port: number;
  bind: string;
  register: boolean;
  exec?: string;
  args?: string[];
  auth: string;
  timeout?: number;
  verbose?: boolean;
}

async function serve(f: ServeFlags) {
  const { parseProgram } = await import('../ipc/rpc/names.js');
  const prog = parseProgram(f.prog);
  const versions = versionsOf(f.vers);
  const requireAuthSys = requiresAuthSys(f.auth);
  const { parseType } = await import('../ipc/rpc/xdr-types.js');
  const argTypes = f.args?.map(parseType);
  const { parseHost } = await import('../ipc/net/address.js');
  const bind = await parseHost(f.bind, f.port);
  const both = !f.udp && !f.tcp;
  const { serve } = await import('../ipc/rpc/server.js');
  const op = 'rpc serve';
  await serve({
    op,
    bind,
    prog,
    versions,
    udp: both || Boolean(f.udp),
    tcp: both || Boolean(f.tcp),
    register: f.register,
    requireAuthSys,
    argTypes,
    exec: f.exec,
    idleMs: f.timeout,
    events: await serveEvents(op, prog, versions, Boolean(f.verbose)),
  });
}

// ---- registration ------------------------------------------------------------

export function register(program: Command): void {
  const rpc = program
    .command('rpc')
    .description('ONC RPC (RFC 5531) with the portmapper: ls, ping, call, serve')
    .addHelpText(
      'after',
      '\nExamples:\n  ipcctl rpc ls\n  ipcctl rpc ping 127.0.0.1 portmapper\n  ipcctl rpc call 127.0.0.1 portmapper 2 3 uint:100000 uint:2 uint:17 uint:0 --returns uint',
    );

  addTransportOptions(
    rpc
      .command('ls')
      .description("the portmapper's list of programs (PMAPPROC_DUMP), like rpcinfo -p")
      .argument('[host]', 'numeric address of the portmapper (default 127.0.0.1)'),
    'tcp',
    false,
  )
    .addHelpText('after', '\nExamples:\n  ipcctl rpc ls\n  ipcctl --json rpc ls 127.0.0.1')
    .action(ls);

  addTransportOptions(
    rpc
      .command('ping')
      .description('call the NULL procedure, like rpcinfo -u/-t; with no VERS, every version the server has')
      .argument('<host>', 'numeric address: 127.0.0.1, ::1')
      .argument('<prog>', 'program number or /etc/rpc name (portmapper, rstatd, rusersd)')
      .argument('[vers]', 'version (default: every version the server reports)'),
    'udp',
  )
    .addHelpText('after', '\nExamples:\n  ipcctl rpc ping 127.0.0.1 portmapper\n  ipcctl rpc ping 127.0.0.1 100000 2 --tcp')
    .action(ping);

  addTransportOptions(
    rpc
      .command('call')
      .description('call any procedure: arguments as TYPE:VALUE, results decoded by --returns (hex dump without)')
      .argument('<host>', 'numeric address: 127.0.0.1, ::1')
      .argument('<prog>', 'program number or /etc/rpc name')
      .argument('<vers>', 'version')
      .argument('<proc>', 'procedure number')
      .argument('[args...]', 'arguments in XDR notation: int:3 string:hi opaque:0a0b (see ipcctl xdr encode)')
      .option('--returns <type...>', 'decode the results as these XDR types, in order')
      .option('--raw', 'write the result bytes as they are (for ipcctl xdr decode)')
      .addOption(program.createOption('--auth <flavour>', 'credential: none, sys (AUTH_SYS), or a flavour number').default('none'))
      .addOption(program.createOption('--uid <uid>', 'AUTH_SYS uid (default: yours)').argParser(asUint('uid')))
      .addOption(program.createOption('--gid <gid>', 'AUTH_SYS gid (default: yours)').argParser(asUint('gid')))
      .option('--gids <list>', 'AUTH_SYS groups, comma-separated (default: yours, at most 16)')
      .option('--machine <name>', 'AUTH_SYS machine name (default: the host name)')
      .addOption(program.createOption('-n, --count <n>', 'make the call N times on one socket (results shown once)').argParser(asCount))
      .addOption(
        program.createOption('--rpcvers <n>', 'RPC protocol version in the call (2; others to see RPC_MISMATCH)').argParser(asUint('RPC version')).default(2),
      ),
    'udp',
  )
    .addHelpText(
      'after',
      '\nExamples:\n  ipcctl rpc call 127.0.0.1 portmapper 2 3 uint:100000 uint:2 uint:17 uint:0 --returns uint\n  ipcctl rpc call 127.0.0.1 rstatd 3 1 --returns "int[4]" "int[4]" uint uint uint uint uint int int int int int uint "int[3]" int int int int',
    )
    .action(call);

  rpc
    .command('serve')
    .description('an ONC RPC server: procedure 0 NULL, 1 echo, others run --exec CMD; registered with the portmapper')
    .addOption(program.createOption('--prog <prog>', 'program number (0x20000000-0x3fffffff are for users) or /etc/rpc name').makeOptionMandatory())
    .addOption(program.createOption('--vers <list>', 'versions served: 1, 1,2 or 1-3').default('1'))
    .option('--udp', 'serve UDP (default: UDP and TCP)')
    .option('--tcp', 'serve TCP (default: UDP and TCP)')
    .addOption(
      program
        .createOption('-p, --port <port>', 'port for both (0: any free port)')
        .argParser((v) => parseInteger(v, 'port', 0, 65535))
        .default(0),
    )
    .addOption(program.createOption('-b, --bind <addr>', 'address to serve on').default('127.0.0.1'))
    .option('--no-register', 'do not register with the portmapper')
    .option('--exec <cmd>', 'run CMD (sh -c) for each call of procedures 2 and up: arguments on stdin, stdout is the result, non-zero exit SYSTEM_ERR')
    .option('--args <type...>', 'arguments of procedures 1 and up must decode as these XDR types (else GARBAGE_ARGS)')
    .addOption(program.createOption('--auth <mode>', 'none: accept AUTH_NONE and AUTH_SYS; sys: require AUTH_SYS (AUTH_TOOWEAK otherwise)').default('none'))
    .addOption(program.createOption('--timeout <dur>', 'exit 124 after DUR without a call').argParser(asDuration))
    .option('-v, --verbose', 'log each call and connection on stderr')
    .addHelpText(
      'after',
      '\nExamples:\n  ipcctl rpc serve --prog 0x20000001 -v\n  ipcctl rpc serve --prog 0x20000001 --no-register --port 5555 --exec \'ipcctl xdr encode string:"$(date)"\'',
    )
    .action(serve);
}

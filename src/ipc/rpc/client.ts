// An ONC RPC client over ipcctl's own sockets. UDP: each call is one
// datagram, sent again on a timer (the interval doubling, as clnt_dg does)
// until a reply with the same XID comes or --timeout ends; replies with
// another XID (a late answer to an earlier try, or noise) are ignored, not
// taken. TCP: record marking (RFC 5531 section 11), a call is one record of
// one fragment, a reply may come in any number of fragments and is put back
// together. One socket serves every call of a client (--count N).
import { OperationError, TimeoutError } from '../../errors.js';
import { IoBuffer } from '../../native/io-buffer.js';
import { POLLIN, POLLOUT, PollSet } from '../../native/poll.js';
import { familyNumber, type SockAddr } from '../../native/net/sockaddr.js';
import * as sock from '../../native/net/socket.js';
import { AGAIN } from '../../native/net/socket.js';
import { formatAddress } from '../net/address.js';
import { Reactor } from '../net/reactor.js';
import { rethrowSocketError } from '../net/sockerr.js';
import { formatMs } from '../wait.js';
import { type CallHeader, decodeReply, encodeCall, peekXid, REPLY, type Reply } from './message.js';
import { LAST_FRAGMENT, RecordReader } from './record.js';
import { XdrDecodeError } from './xdr.js';

export type Proto = 'udp' | 'tcp';

export interface ClientOptions {
  /** Names the operation in messages ("rpc call"). */
  op: string;
  address: SockAddr;
  proto: Proto;
  /** No reply within this long: TimeoutError (exit 124). */
  timeoutMs: number;
  /** UDP: first retransmission after this long, then doubling (at most 4 s apart). */
  retryMs: number;
  /** A datagram or record that was not our reply (wrong XID, not a reply, too short). */
  onIgnored?: (why: string) => void;
  onRetransmit?: (attempt: number) => void;
}

export interface CallResult {
  reply: Reply;
  /** From the last send to the reply, in milliseconds. */
  rttMs: number;
  retransmits: number;
}

/** Largest reply record we put together over TCP (libtirpc's servers send far less). */
const MAX_RECORD = 64 << 20;
const UDP_MAX = 65536;
/** How long a wait may block the main thread before it goes through the event loop. */
const QUICK_MS = 5;

let nextXid = (Math.random() * 0xffffffff) >>> 0;

export class RpcClient {
  private readonly where: string;
  private readonly what: string;
  private readonly reactor = new Reactor();
  private readonly quick = new PollSet(1);
  private readonly rx = new IoBuffer(UDP_MAX);
  private tx = new IoBuffer(4096);
  /** TCP: bytes received, cut into records. */
  private readonly records: RecordReader;
  private closed = false;

  private constructor(
    private readonly fd: number,
    private readonly opts: ClientOptions,
  ) {
    this.where = `${opts.proto} ${formatAddress(opts.address)}`;
    this.what = `${opts.op} ${this.where}`;
    this.records = new RecordReader(this.what, MAX_RECORD);
  }

  /** A socket connected to the server (UDP: connect only fixes the peer; ICMP errors then come back). */
  static async open(opts: ClientOptions): Promise<RpcClient> {
    const type = opts.proto === 'udp' ? sock.SOCK_DGRAM : sock.SOCK_STREAM;
    const fd = sock.socket(familyNumber(opts.address), type);
    const c = new RpcClient(fd, opts);
    try {
      if (!sock.connectStart(fd, opts.address)) {
        const deadline = Date.now() + opts.timeoutMs;
        if (!(await c.wait(POLLOUT, deadline))) throw new TimeoutError(`${c.what}: could not connect within ${formatMs(opts.timeoutMs)}`);
        sock.connectResult(fd);
      }
      if (opts.proto === 'tcp') sock.setIntOption(fd, sock.IPPROTO_TCP, sock.TCP_NODELAY, 1);
    } catch (e) {
      c.close();
      if (e instanceof TimeoutError) throw e;
      rethrowSocketError(e, opts.op, c.where, opts.address);
    }
    return c;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    sock.close(this.fd);
    this.rx.free();
    this.tx.free();
    this.quick.free();
  }

  /** Wait until fd is ready for `events` or `deadline` passes (false). SIGINT/SIGTERM throw. */
  private async wait(events: number, deadline: number): Promise<boolean> {
    // A loopback reply comes within microseconds: one poll(2) of at most
    // QUICK_MS on this thread catches it without a turn of the event loop
    // (a signal then waits those few milliseconds at most).
    this.quick.clear();
    this.quick.add(this.fd, events);
    if (this.quick.wait(Math.max(0, Math.min(QUICK_MS, deadline - Date.now()))) > 0) return true;
    let ready = false;
    const p = { interests: (): Array<[number, number]> => (ready ? [] : [[this.fd, events]]), ready: () => (ready = true) };
    this.reactor.add(p);
    try {
      await this.reactor.run({ what: this.what, done: () => ready || Date.now() >= deadline });
    } finally {
      this.reactor.remove(p);
    }
    return ready;
  }

  private stage(msg: Buffer, header: boolean): number {
    const len = msg.length + (header ? 4 : 0);
    if (this.tx.size < len) {
      this.tx.free();
      this.tx = new IoBuffer(len);
    }
    let at = 0;
    if (header) {
      this.tx.view().writeUInt32BE((LAST_FRAGMENT | msg.length) >>> 0, 0);
      at = 4;
    }
    this.tx.load(msg, at);
    return len;
  }

  async call(h: Omit<CallHeader, 'xid'>, args: Buffer): Promise<CallResult> {
    const xid = nextXid;
    nextXid = (nextXid + 1) >>> 0;
    const msg = encodeCall({ ...h, xid }, args);
    try {
      return this.opts.proto === 'udp' ? await this.callUdp(xid, msg) : await this.callTcp(xid, msg);
    } catch (e) {
      if (e instanceof TimeoutError || e instanceof OperationError || e instanceof XdrDecodeError) throw e;
      return rethrowSocketError(e, this.opts.op, this.where, this.opts.address);
    }
  }

  /** Is this message our reply? Say why not when it is not. */
  private ours(xid: number, msg: Buffer): boolean {
    const p = peekXid(msg);
    if (!p) this.opts.onIgnored?.(`a ${msg.length}-byte message, too short for a reply`);
    else if (p.xid !== xid)
      this.opts.onIgnored?.(`a message with XID 0x${p.xid.toString(16).padStart(8, '0')}, not ours (0x${xid.toString(16).padStart(8, '0')})`);
    else if (p.type !== REPLY) this.opts.onIgnored?.(`a message of type ${p.type} with our XID, not a reply`);
    else return true;
    return false;
  }

  private decode(msg: Buffer): Reply {
    try {
      return decodeReply(msg);
    } catch (e) {
      if (e instanceof XdrDecodeError) throw new OperationError(`${this.what}: malformed reply at byte ${e.offset}: ${e.detail}`);
      throw e;
    }
  }

  private async callUdp(xid: number, msg: Buffer): Promise<CallResult> {
    if (msg.length > UDP_MAX - 8) throw new OperationError(`${this.what}: the call is ${msg.length} bytes, too large for one datagram (use --tcp)`);
    const len = this.stage(msg, false);
    const start = Date.now();
    const deadline = start + this.opts.timeoutMs;
    let interval = this.opts.retryMs;
    let retransmits = 0;
    let sentAt = performance.now();
    sock.send(this.fd, this.tx, 0, len);
    let nextSend = Date.now() + interval;
    // The reply cannot be there the moment the call left: wait first, then read.
    await this.wait(POLLIN, Math.min(deadline, nextSend));
    for (;;) {
      const n = sock.recv(this.fd, this.rx, 0, UDP_MAX);
      if (n !== AGAIN) {
        const reply = this.rx.copyOut(0, n);
        if (this.ours(xid, reply)) return { reply: this.decode(reply), rttMs: performance.now() - sentAt, retransmits };
        continue;
      }
      const now = Date.now();
      if (now >= deadline) break;
      if (now >= nextSend) {
        retransmits++;
        this.opts.onRetransmit?.(retransmits);
        sentAt = performance.now();
        sock.send(this.fd, this.tx, 0, len);
        interval = Math.min(interval * 2, 4000);
        nextSend = now + interval;
      }
      await this.wait(POLLIN, Math.min(deadline, nextSend));
    }
    throw new TimeoutError(`${this.what}: no reply within ${formatMs(this.opts.timeoutMs)} (${retransmits + 1} tr${retransmits === 0 ? 'y' : 'ies'})`);
  }

  private async callTcp(xid: number, msg: Buffer): Promise<CallResult> {
    const len = this.stage(msg, true);
    const deadline = Date.now() + this.opts.timeoutMs;
    const timedOut = () => new TimeoutError(`${this.what}: no reply within ${formatMs(this.opts.timeoutMs)}`);
    const sentAt = performance.now();
    for (let at = 0; at < len;) {
      const n = sock.send(this.fd, this.tx, at, len - at);
      if (n === AGAIN) {
        if (!(await this.wait(POLLOUT, deadline))) throw timedOut();
      } else at += n;
    }
    for (;;) {
      const record = this.records.take();
      if (record) {
        if (this.ours(xid, record)) return { reply: this.decode(record), rttMs: performance.now() - sentAt, retransmits: 0 };
        continue;
      }
      const n = sock.recv(this.fd, this.rx, 0, UDP_MAX);
      if (n === 0) throw new OperationError(`${this.what}: the server closed the connection before replying`);
      if (n === AGAIN) {
        if (!(await this.wait(POLLIN, deadline))) throw timedOut();
        continue;
      }
      this.records.push(this.rx.view(0, n));
    }
  }
}

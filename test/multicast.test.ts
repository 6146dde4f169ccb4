// Multicast and broadcast: one sender, several receivers. Each scenario runs
// whole inside its own network namespace (unshare --net), so groups, routes
// and ports are private and vanish with it: lo up with a multicast route for
// IPv4; IPv6 multicast and broadcast over a veth pair made in the namespace
// (lo carries no IPv6 multicast).
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { IPCCTL } from './helpers/run.js';

function inNetNamespace(script: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('unshare', ['--net', '--', 'bash', '-c', `set -u\n${script}`], {
    env: { ...process.env, NO_COLOR: '1', IPCCTL },
    timeout: 90_000,
    maxBuffer: 1 << 26,
  });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

// Start 3 listeners, wait until all three are bound, run the sender, wait
// for the listeners (each exits after N datagrams), print each one's output
// between markers.
const threeListeners = (listen: string, port: number, send: string, n: number) => `
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT
for i in 1 2 3; do $IPCCTL ${listen} -n ${n} --lines --timeout 30s > $D/l$i.out 2> $D/l$i.err & done
for t in $(seq 400); do [ "$(ss -ulnH "sport = :${port}" | wc -l)" -ge 3 ] && break; sleep 0.025; done
${send}
wait
for i in 1 2 3; do echo "@@$i"; cat $D/l$i.out; cat $D/l$i.err >&2; done
`;

function sections(stdout: string): string[] {
  return stdout.split(/^@@\d\n/m).slice(1);
}

const seq = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `${from + i}\n`).join('');

describe('udp multicast in a private network namespace', () => {
  const v4 = 'ip link set lo up && ip route add 224.0.0.0/4 dev lo';

  it('IPv4: 3 `udp listen --group` processes each receive all 1,000 datagrams of `udp send --ttl 1 --loop`', () => {
    const r = inNetNamespace(
      `${v4}\n${threeListeners('udp listen --port 5007 --group 239.1.2.3', 5007, 'seq 1000 | $IPCCTL udp send 239.1.2.3 5007 --lines --ttl 1 --loop', 1000)}`,
    );
    expect(r.code, r.stderr).toBe(0);
    const outs = sections(r.stdout);
    expect(outs).toHaveLength(3);
    for (const o of outs) expect(o).toBe(seq(1, 1000));
  });

  it('IPv4: the same from socat (one process per datagram) to the group', () => {
    const send = 'for i in $(seq 1000); do echo -n $i | socat -u - UDP4-DATAGRAM:239.1.2.3:5007 || exit 9; done';
    const r = inNetNamespace(`${v4}\n${threeListeners('udp listen --port 5007 --group 239.1.2.3 --iface 127.0.0.1', 5007, send, 1000)}`);
    expect(r.code, r.stderr).toBe(0);
    const outs = sections(r.stdout);
    expect(outs).toHaveLength(3);
    for (const o of outs) expect(o).toBe(seq(1, 1000));
  }, 120_000);

  const veth = `ip link set lo up
sysctl -qw net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0
ip link add v0 type veth peer name v1
ip addr add 10.9.0.1/24 brd + dev v0
ip link set v0 up && ip link set v1 up`;

  it('IPv6: 3 listeners on ff05::1:3 via --iface each receive all 1,000 datagrams', () => {
    const r = inNetNamespace(
      `${veth}\n${threeListeners('udp listen --port 5008 --group ff05::1:3 --iface v0', 5008, 'seq 1000 | $IPCCTL udp send ff05::1:3 5008 --lines --iface v0 --ttl 1', 1000)}`,
    );
    expect(r.code, r.stderr).toBe(0);
    const outs = sections(r.stdout);
    expect(outs).toHaveLength(3);
    for (const o of outs) expect(o).toBe(seq(1, 1000));
  });

  it('--no-loop: a sender on this machine (through a real interface) reaches none of its own listeners', () => {
    const r = inNetNamespace(`${veth}
D=$(mktemp -d); trap 'rm -rf "$D"' EXIT
for loop in --no-loop --loop; do
  ( $IPCCTL udp listen --port 5007 --group 239.1.2.3 --iface 10.9.0.1 --timeout 1s > $D/out 2> $D/err; echo "rc=$?" > $D/rc ) &
  for t in $(seq 400); do [ "$(ss -ulnH "sport = :5007" | wc -l)" -ge 1 ] && break; sleep 0.025; done
  $IPCCTL udp send 239.1.2.3 5007 --iface 10.9.0.1 $loop hello
  wait; echo "$loop $(cat $D/rc) $(wc -c < $D/out)"
done`);
    // The contrast shows the listener would have heard it.
    expect(r.stdout).toBe('--no-loop rc=124 0\n--loop rc=124 5\n');
  });

  it('broadcast, the course example: one `udp send --broadcast`, three receivers each get every datagram', () => {
    const r = inNetNamespace(
      `${veth}\n${threeListeners('udp listen --port 5010 --bind 0.0.0.0 --reuseaddr', 5010, 'seq 200 | $IPCCTL udp send 10.9.0.255 5010 --lines --broadcast', 200)}`,
    );
    expect(r.code, r.stderr).toBe(0);
    const outs = sections(r.stdout);
    expect(outs).toHaveLength(3);
    for (const o of outs) expect(o).toBe(seq(1, 200));
  });

  it('bad groups and options: one line, exit 2', () => {
    for (const args of [
      ['udp', 'listen', '--port', '0', '--group', '10.1.2.3'],
      ['udp', 'listen', '--port', '0', '--group', 'nonsense'],
      ['udp', 'listen', '--port', '0', '--iface', 'lo'],
      ['udp', 'listen', '--port', '0', '--group', '239.1.1.1', '--iface', 'no-such-if0'],
      ['udp', 'send', '127.0.0.1', '9', '--ttl', '1', 'x'],
      ['udp', 'send', '239.1.1.1', '9', '--ttl', '300', 'x'],
    ]) {
      const r = spawnSync(IPCCTL, args, { encoding: 'utf8', timeout: 10_000 });
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^ipcctl: [^\n]+\n$/);
    }
  });
});

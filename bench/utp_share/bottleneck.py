#!/usr/bin/python3
"""A shared bottleneck for one TCP flow and one UDP (uTP) flow, on loopback (issue 12).

    bottleneck.py --tcp-listen 127.0.0.9:7001 --tcp-target 127.0.0.3:6881
                  --udp-listen 127.0.0.9:7000 --udp-target 127.0.0.2:6881
                  [--rate-kbps 16000] [--queue-ms 300] [--delay-ms 10]
                  [--tcp-chunk 16384] [--seconds 60]

It measures how uTP's congestion control (LEDBAT, RFC 6817, as BEP 29 prescribes: a
100 ms target for the queuing delay the sender's own traffic adds) shares a link with a
TCP bulk flow. Loopback has no queue of its own, so this relay makes one:

- TCP: a proxy. Connections accepted on --tcp-listen are joined to a new connection to
  --tcp-target. Bytes from the target (the seeder: the data direction) go through the
  bottleneck; bytes towards the target (requests) only get the base delay.
- UDP: datagrams arriving on --udp-listen from any address go to --udp-target after the
  base delay; datagrams from --udp-target (the seeder's data and ACKs) go through the
  bottleneck back to the address that last sent one towards it.
- The bottleneck: ONE first-in first-out queue for both flows, drained at --rate-kbps
  (kilobits per second, 1000 bits; 16000 = 2 MB/s), then --delay-ms of base delay. An
  item's wait is the bytes ahead of it over the rate. A UDP datagram that would wait
  longer than --queue-ms is dropped (drop-tail). TCP bytes are never dropped: the proxy
  reads from the target only when at least --tcp-chunk bytes of room are left below
  --queue-ms, and reads no more than that room, so the target's socket buffers fill and
  TCP's own flow control holds it back. A bulk TCP flow thus keeps the queue nearly full,
  as a loss-based TCP does with a drop-tail router queue.
- Only the seeder-to-leecher direction is rate-limited and queued; the other direction
  (requests, uTP ACKs, TCP's ACKs stay on each loopback leg) gets --delay-ms only.

Every second it prints one sample line, and at the end (after --seconds, or at SIGINT /
SIGTERM) a summary:

    sample T UDP_BYTES TCP_BYTES QUEUE_MS     (bytes that left the queue in second T)
    bottleneck: udp B bytes (N datagrams, D dropped: B bytes, the largest L), tcp B bytes
                (C connections), queue max Q ms

Memory is bounded: the queue holds at most --queue-ms of data plus --delay-ms in the base
delay; TCP reading pauses while the leecher's side has 4 MiB unsent; at most 16 TCP
connections at once. Exit 0, 2 bad usage. Standard library only.
"""
import argparse
import asyncio
import collections
import signal
import sys

MAX_TCP = 16
TCP_WRITE_CAP = 4 << 20


def hostport(text):
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host.strip("[]"), int(port)


class DelayLine:
    """Calls each function queued with put() `delay` seconds later, in order."""

    def __init__(self, loop, delay):
        self.loop, self.delay = loop, delay
        self.items = collections.deque()

    def put(self, fn):
        self.items.append(fn)
        # Every callback runs the oldest item, so the order holds even when two
        # callbacks fall due at the same instant.
        self.loop.call_later(self.delay, self._pop)

    def _pop(self):
        fn = self.items.popleft()
        fn()


class Bottleneck:
    """A FIFO drained at `rate` bytes/s, then a base delay."""

    def __init__(self, loop, rate, limit, delay):
        self.loop, self.rate, self.limit, self.delay = loop, rate, limit, delay
        self.busy_until = 0.0  # loop time at which everything queued has left
        self.items = collections.deque()
        self.bytes = {"udp": 0, "tcp": 0}
        self.max_wait = 0.0

    def backlog(self):
        return max(0.0, self.busy_until - self.loop.time())

    def room(self):
        """Bytes that would still leave within the queue limit."""
        return max(0, int((self.limit - self.backlog()) * self.rate))

    def fits(self, n):
        return self.backlog() + n / self.rate <= self.limit

    def put(self, kind, n, fn):
        now = self.loop.time()
        depart = max(now, self.busy_until) + n / self.rate
        self.busy_until = depart
        self.max_wait = max(self.max_wait, depart - now)
        self.items.append((kind, n, fn))
        self.loop.call_at(depart + self.delay, self._pop)

    def _pop(self):
        kind, n, fn = self.items.popleft()
        self.bytes[kind] += n
        fn()


class UdpRelay(asyncio.DatagramProtocol):
    def __init__(self, args, link, up):
        self.target = args.udp_target
        self.link, self.up = link, up
        self.client = None
        self.transport = None
        self.datagrams = self.dropped = 0
        self.dropped_bytes = self.dropped_max = 0

    def connection_made(self, transport):
        self.transport = transport

    def send(self, data, dest):
        try:
            self.transport.sendto(data, dest)
        except OSError:
            pass

    def datagram_received(self, data, addr):
        if addr[:2] == self.target:
            if self.client is None:
                return
            if not self.link.fits(len(data)):
                self.dropped += 1
                self.dropped_bytes += len(data)
                self.dropped_max = max(self.dropped_max, len(data))
                return
            self.datagrams += 1
            dest = self.client
            self.link.put("udp", len(data), lambda: self.send(data, dest))
        else:
            self.client = addr
            self.up.put(lambda: self.send(data, self.target))


class TcpRelay:
    def __init__(self, args, loop, link, up):
        self.args, self.loop, self.link, self.up = args, loop, link, up
        self.open = 0
        self.connections = 0
        self.tasks = set()

    async def handle(self, creader, cwriter):
        if self.open >= MAX_TCP:
            cwriter.close()
            return
        self.open += 1
        self.connections += 1
        try:
            treader, twriter = await asyncio.wait_for(
                asyncio.open_connection(*self.args.tcp_target), 10)
        except (OSError, asyncio.TimeoutError):
            self.open -= 1
            cwriter.close()
            return
        up = asyncio.ensure_future(self.upstream(creader, twriter))
        down = asyncio.ensure_future(self.downstream(treader, cwriter))
        self.tasks.update((up, down))
        try:
            await asyncio.wait((up, down), return_when=asyncio.FIRST_COMPLETED)
            await asyncio.sleep(self.args.queue_ms / 1000 + self.args.delay_ms / 1000 + 0.1)
        finally:
            for t in (up, down):
                t.cancel()
                self.tasks.discard(t)
            for w in (cwriter, twriter):
                w.close()
            self.open -= 1

    async def upstream(self, reader, writer):
        """Leecher to seeder: the base delay only."""
        def write(data):
            if not writer.is_closing():
                writer.write(data)
        while True:
            data = await reader.read(65536)
            if not data:
                return
            self.up.put(lambda d=data: write(d))

    async def downstream(self, reader, writer):
        """Seeder to leecher: through the bottleneck, never dropped."""
        chunk = self.args.tcp_chunk
        rate = self.link.rate

        def write(data):
            if not writer.is_closing():
                writer.write(data)
        while True:
            room = self.link.room()
            if room < chunk:
                await asyncio.sleep(max(0.001, (chunk - room) / rate))
                continue
            if writer.transport.get_write_buffer_size() > TCP_WRITE_CAP:
                await asyncio.sleep(0.01)
                continue
            data = await reader.read(min(room, 65536))
            if not data:
                return
            self.link.put("tcp", len(data), lambda d=data: write(d))


async def sampler(link, udp, out, period=1.0):
    loop = asyncio.get_running_loop()
    start = loop.time()
    last = dict(link.bytes)
    t = 0
    while True:
        t += 1
        await asyncio.sleep(max(0.0, start + t * period - loop.time()))
        now = dict(link.bytes)
        print(f"sample {t} {now['udp'] - last['udp']} {now['tcp'] - last['tcp']} "
              f"{link.backlog() * 1000:.0f}", file=out, flush=True)
        last = now


async def run(args):
    loop = asyncio.get_running_loop()
    link = Bottleneck(loop, args.rate_kbps * 1000 / 8, args.queue_ms / 1000, args.delay_ms / 1000)
    up_udp = DelayLine(loop, args.delay_ms / 1000)
    up_tcp = DelayLine(loop, args.delay_ms / 1000)
    transport, udp = await loop.create_datagram_endpoint(
        lambda: UdpRelay(args, link, up_udp), local_addr=args.udp_listen)
    tcp = TcpRelay(args, loop, link, up_tcp)
    server = await asyncio.start_server(tcp.handle, *args.tcp_listen)
    samples = asyncio.ensure_future(sampler(link, udp, sys.stdout))
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await asyncio.wait_for(stop.wait(), args.seconds)
    except asyncio.TimeoutError:
        pass
    finally:
        samples.cancel()
        server.close()
        transport.close()
        for t in list(tcp.tasks):
            t.cancel()
    print(f"bottleneck: udp {link.bytes['udp']} bytes ({udp.datagrams} datagrams, "
          f"{udp.dropped} dropped: {udp.dropped_bytes} bytes, the largest {udp.dropped_max}), "
          f"tcp {link.bytes['tcp']} bytes ({tcp.connections} connections), "
          f"queue max {link.max_wait * 1000:.0f} ms", flush=True)


def main():
    ap = argparse.ArgumentParser(description="A shared FIFO bottleneck for a TCP and a UDP flow.")
    ap.add_argument("--tcp-listen", type=hostport, required=True)
    ap.add_argument("--tcp-target", type=hostport, required=True)
    ap.add_argument("--udp-listen", type=hostport, required=True)
    ap.add_argument("--udp-target", type=hostport, required=True)
    ap.add_argument("--rate-kbps", type=float, default=16000.0)
    ap.add_argument("--queue-ms", type=float, default=300.0)
    ap.add_argument("--delay-ms", type=float, default=10.0)
    ap.add_argument("--tcp-chunk", type=int, default=16384)
    ap.add_argument("--seconds", type=float, default=60.0)
    args = ap.parse_args()
    if not (args.rate_kbps > 0 and args.queue_ms > 0 and args.delay_ms >= 0
            and 0 < args.tcp_chunk <= 65536 and args.seconds > 0):
        print("bottleneck: bad --rate-kbps/--queue-ms/--delay-ms/--tcp-chunk/--seconds",
              file=sys.stderr)
        return 2
    if args.tcp_chunk > args.rate_kbps * 1000 / 8 * args.queue_ms / 1000:
        print("bottleneck: --tcp-chunk is larger than the queue", file=sys.stderr)
        return 2
    asyncio.run(run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())

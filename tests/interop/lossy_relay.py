#!/usr/bin/python3
"""A lossy UDP relay for uTP interop tests, kept on loopback (issue 12).

    lossy_relay.py --listen 127.0.0.9:7000 --target 127.0.0.2:6881 [--delay-ms 25]
                   [--jitter-ms 10] [--loss 0.01] [--dup 0.01] [--seconds 120] [--seed N]

Datagrams that arrive on --listen from any address go to --target; datagrams from
--target go back to the address that last sent one towards it. Each is delayed by
--delay-ms plus up to --jitter-ms (so some overtake others: reordering), a fraction --loss
is dropped and a fraction --dup sent twice. One way, so a round trip sees twice the delay.
Stops after --seconds (or at SIGINT/SIGTERM) and prints one summary line:

    relay: N forwarded, D dropped, U duplicated

Exit 0, 2 bad usage. The kernel's netem is not available on these machines: this stands
in for a lossy link between two peers that dial the relay instead of each other.
"""
import argparse
import asyncio
import random
import signal
import sys


def hostport(text):
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host.strip("[]"), int(port)


class Relay(asyncio.DatagramProtocol):
    def __init__(self, args, rng):
        self.args = args
        self.rng = rng
        self.target = args.target
        self.client = None
        self.transport = None
        self.forwarded = self.dropped = self.duplicated = 0

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        if addr[:2] == self.target:
            if self.client is None:
                return
            dest = self.client
        else:
            self.client = addr
            dest = self.target
        if self.rng.random() < self.args.loss:
            self.dropped += 1
            return
        copies = 1
        if self.rng.random() < self.args.dup:
            copies = 2
            self.duplicated += 1
        loop = asyncio.get_running_loop()
        for _ in range(copies):
            delay = (self.args.delay_ms + self.rng.uniform(0, self.args.jitter_ms)) / 1000.0
            loop.call_later(delay, self.send, data, dest)

    def send(self, data, dest):
        self.forwarded += 1
        try:
            self.transport.sendto(data, dest)
        except OSError:
            pass


async def run(args):
    rng = random.Random(args.seed)
    loop = asyncio.get_running_loop()
    transport, relay = await loop.create_datagram_endpoint(
        lambda: Relay(args, rng), local_addr=args.listen)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await asyncio.wait_for(stop.wait(), args.seconds)
    except asyncio.TimeoutError:
        pass
    finally:
        transport.close()
    print(f"relay: {relay.forwarded} forwarded, {relay.dropped} dropped, "
          f"{relay.duplicated} duplicated", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", type=hostport, required=True)
    ap.add_argument("--target", type=hostport, required=True)
    ap.add_argument("--delay-ms", type=float, default=25.0)
    ap.add_argument("--jitter-ms", type=float, default=10.0)
    ap.add_argument("--loss", type=float, default=0.01)
    ap.add_argument("--dup", type=float, default=0.01)
    ap.add_argument("--seconds", type=float, default=120.0)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    if not (0 <= args.loss < 1 and 0 <= args.dup < 1 and args.delay_ms >= 0 and args.jitter_ms >= 0):
        print("lossy_relay: bad --loss/--dup/--delay-ms/--jitter-ms", file=sys.stderr)
        return 2
    asyncio.run(run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())

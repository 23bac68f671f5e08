#!/usr/bin/python3
"""A connection flood against a BitTorrent peer, kept on loopback (issue 14).

    flood.py --target 127.0.0.2:6881 --info-hash HEX [--count 3000] [--seconds 30]
             [--handshake-share 0.5] [--src 127.1] [--reconnect-delay 0.5]

Opens --count TCP connections to --target, each from its own source address
(SRC.x.y, x and y counted from 0.1: the target sees --count distinct peers). A share of
them (--handshake-share) send a valid BitTorrent handshake for --info-hash and then
nothing (reading and discarding what comes back); the others send nothing at all. A
connection the target closes is opened again after --reconnect-delay seconds (0: never),
so the pressure lasts --seconds. Then it prints one summary line:

    flood: N connects (F failed), H handshakes answered, C closed by the target, peak P open

Exit 0 (a flood has no failure of its own), 2 bad usage. Bounded: it stops after
--seconds whatever happens, or earlier on SIGTERM (still printing the summary).
"""
import argparse
import asyncio
import os
import resource
import signal
import sys


def parse_args():
    ap = argparse.ArgumentParser()
    ap.add_argument("--target", required=True)
    ap.add_argument("--info-hash", required=True)
    ap.add_argument("--count", type=int, default=3000)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--handshake-share", type=float, default=0.5)
    ap.add_argument("--src", default="127.1")
    ap.add_argument("--reconnect-delay", type=float, default=0.5)
    a = ap.parse_args()
    host, _, port = a.target.rpartition(":")
    if not host or not port.isdigit() or len(a.info_hash) != 40:
        ap.error("--target HOST:PORT and a 40-hex --info-hash are required")
    a.host, a.port = host, int(port)
    return a


class Stats:
    connects = 0
    failed = 0
    answered = 0
    closed = 0
    open_now = 0
    peak = 0


def source(prefix, i):
    return f"{prefix}.{i // 250}.{i % 250 + 1}"


async def one(a, i, handshake, stats, deadline):
    loop = asyncio.get_running_loop()
    src = source(a.src, i)
    while loop.time() < deadline:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(a.host, a.port, local_addr=(src, 0)),
                timeout=max(0.1, deadline - loop.time()))
        except (OSError, asyncio.TimeoutError):
            stats.failed += 1
            await asyncio.sleep(1)
            continue
        stats.connects += 1
        stats.open_now += 1
        stats.peak = max(stats.peak, stats.open_now)
        try:
            if handshake:
                peer_id = (b"-FL0001-" + f"{i:012d}".encode())[:20]
                writer.write(b"\x13BitTorrent protocol" + bytes(8) +
                             bytes.fromhex(a.info_hash) + peer_id)
                await writer.drain()
            got = 0
            while True:
                left = deadline - loop.time()
                if left <= 0:
                    break
                try:
                    data = await asyncio.wait_for(reader.read(65536), timeout=left)
                except asyncio.TimeoutError:
                    break
                if not data:
                    stats.closed += 1
                    break
                if got < 68 <= got + len(data):
                    stats.answered += 1
                got += len(data)
        except OSError:
            stats.closed += 1
        finally:
            stats.open_now -= 1
            writer.close()
        if a.reconnect_delay <= 0:
            return
        await asyncio.sleep(a.reconnect_delay)


async def main(a):
    stats = Stats()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + a.seconds
    n_hs = int(a.count * a.handshake_share)
    # Interleaved, so both kinds arrive from the start.
    kinds = [(i * n_hs) // a.count != ((i + 1) * n_hs) // a.count for i in range(a.count)]
    tasks = [asyncio.create_task(one(a, i, kinds[i], stats, deadline)) for i in range(a.count)]
    # SIGTERM ends the flood early (the summary is still printed).
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    stopper = asyncio.create_task(stop.wait())
    everything = asyncio.ensure_future(asyncio.wait(tasks, timeout=a.seconds + 5))
    await asyncio.wait([everything, stopper], return_when=asyncio.FIRST_COMPLETED)
    for t in tasks:
        t.cancel()
    stopper.cancel()
    print(f"flood: {stats.connects} connects ({stats.failed} failed), {stats.answered} handshakes "
          f"answered, {stats.closed} closed by the target, peak {stats.peak} open", flush=True)


if __name__ == "__main__":
    args = parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, args.count + 256))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    if want < args.count + 64:
        print(f"flood: descriptor limit {hard} is too low for {args.count} connections", file=sys.stderr)
        sys.exit(2)
    asyncio.run(main(args))
    os._exit(0)

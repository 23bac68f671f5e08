#!/usr/bin/python3
"""A connection flood against a BitTorrent peer, kept on loopback (issue 14).

    flood.py --target 127.0.0.2:6881 --info-hash HEX [--count 3000] [--seconds 30]
             [--handshake-share 0.5] [--src 127.1] [--reconnect-delay 0.5]
             [--utp [--hold 10]]

Opens --count TCP connections to --target, each from its own source address
(SRC.x.y, x and y counted from 0.1: the target sees --count distinct peers). A share of
them (--handshake-share) send a valid BitTorrent handshake for --info-hash and then
nothing (reading and discarding what comes back); the others send nothing at all. A
connection the target closes is opened again after --reconnect-delay seconds (0: never),
so the pressure lasts --seconds.

With --utp the connections are uTP ones (BEP 29) over UDP, one socket per source
address: a SYN, then (for the handshake share) the handshake in one DATA packet, and
then nothing: nothing sent by the target is acknowledged. A connection counts as open
from the target's STATE answer until it sends FIN or RESET; one the target goes quiet on
is given up after --hold seconds and opened again (a new connection id). A SYN without
an answer within 1 s counts as failed (tried again 1 s later). Then it prints one
summary line:

    flood: N connects (F failed), H handshakes answered, C closed by the target, peak P open

Exit 0 (a flood has no failure of its own), 2 bad usage. Bounded: it stops after
--seconds whatever happens, or earlier on SIGTERM (still printing the summary).
"""
import argparse
import asyncio
import os
import random
import resource
import signal
import struct
import sys
import time


def parse_args():
    ap = argparse.ArgumentParser()
    ap.add_argument("--target", required=True)
    ap.add_argument("--info-hash", required=True)
    ap.add_argument("--count", type=int, default=3000)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--handshake-share", type=float, default=0.5)
    ap.add_argument("--src", default="127.1")
    ap.add_argument("--reconnect-delay", type=float, default=0.5)
    ap.add_argument("--utp", action="store_true")
    ap.add_argument("--hold", type=float, default=10)
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


# BEP 29 packet types, and the header: type/version, extension, connection id,
# timestamp, timestamp difference, window, seq_nr, ack_nr.
ST_DATA, ST_FIN, ST_STATE, ST_RESET, ST_SYN = 0, 1, 2, 3, 4
UTP_HEADER = struct.Struct(">BBHIIIHH")


def utp_packet(kind, conn_id, seq, ack, payload=b""):
    stamp = int(time.monotonic() * 1e6) & 0xFFFFFFFF
    return UTP_HEADER.pack(kind << 4 | 1, 0, conn_id, stamp, 0, 1 << 20, seq, ack) + payload


class UtpSocket(asyncio.DatagramProtocol):
    """One source address's UDP socket: datagrams from the target, queued."""

    def __init__(self):
        self.queue = asyncio.Queue(maxsize=64)
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        if len(data) >= UTP_HEADER.size and not self.queue.full():
            self.queue.put_nowait(data)


async def one_utp(a, i, handshake, stats, deadline):
    loop = asyncio.get_running_loop()
    try:
        transport, sock = await loop.create_datagram_endpoint(
            UtpSocket, local_addr=(source(a.src, i), 0), remote_addr=(a.host, a.port))
    except OSError:
        stats.failed += 1
        return
    try:
        while loop.time() < deadline:
            recv_id = random.randrange(0x10000)
            seq = random.randrange(1, 0x10000)
            transport.sendto(utp_packet(ST_SYN, recv_id, seq, 0))
            their_seq = None
            until = min(deadline, loop.time() + 1)
            while their_seq is None and loop.time() < until:
                try:
                    data = await asyncio.wait_for(sock.queue.get(), until - loop.time())
                except asyncio.TimeoutError:
                    break
                kind, _, conn, _, _, _, s, _ = UTP_HEADER.unpack_from(data)
                if kind >> 4 == ST_STATE and conn == recv_id:
                    their_seq = s
            if their_seq is None:
                stats.failed += 1
                await asyncio.sleep(max(0, min(1, deadline - loop.time())))
                continue
            stats.connects += 1
            stats.open_now += 1
            stats.peak = max(stats.peak, stats.open_now)
            if handshake:
                peer_id = (b"-FL0001-" + f"{i:012d}".encode())[:20]
                transport.sendto(utp_packet(
                    ST_DATA, (recv_id + 1) & 0xFFFF, (seq + 1) & 0xFFFF, their_seq,
                    b"\x13BitTorrent protocol" + bytes(8) + bytes.fromhex(a.info_hash) + peer_id))
            got = 0
            until = min(deadline, loop.time() + a.hold)
            while loop.time() < until:
                try:
                    data = await asyncio.wait_for(sock.queue.get(), until - loop.time())
                except asyncio.TimeoutError:
                    break
                kind, _, conn, _, _, _, _, _ = UTP_HEADER.unpack_from(data)
                if conn != recv_id:
                    continue  # an earlier connection's late packet
                if kind >> 4 in (ST_FIN, ST_RESET):
                    stats.closed += 1
                    break
                if kind >> 4 == ST_DATA:
                    n = len(data) - UTP_HEADER.size
                    if got < 68 <= got + n:
                        stats.answered += 1
                    got += n
            stats.open_now -= 1
            if a.reconnect_delay <= 0:
                return
            await asyncio.sleep(a.reconnect_delay)
    finally:
        transport.close()


async def main(a):
    stats = Stats()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + a.seconds
    n_hs = int(a.count * a.handshake_share)
    # Interleaved, so both kinds arrive from the start.
    kinds = [(i * n_hs) // a.count != ((i + 1) * n_hs) // a.count for i in range(a.count)]
    run = one_utp if a.utp else one
    tasks = [asyncio.create_task(run(a, i, kinds[i], stats, deadline)) for i in range(a.count)]
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

#!/usr/bin/env python3
"""A fake NAT-PMP (RFC 6886) gateway, optionally speaking PCP (RFC 6887) too, for the
interop tests: answers on 127.0.0.1:PORT, grants every mapping as asked (external port =
suggested port, or the internal one), reports the external address 203.0.113.7, and writes
one line per request to its log:

    address from 127.0.0.2
    map TCP internal 6881 suggested 6881 lifetime 7200 from 127.0.0.2
    pcp map TCP internal 6881 suggested 6881 lifetime 7200 nonce 0011..ff client ::ffff:127.0.0.2 from 127.0.0.2
    unsupported version 2 from 127.0.0.2

Without --pcp it is a NAT-PMP-only gateway: a request of another version gets NAT-PMP's
"unsupported version" reply (version 0, result 1; RFC 6886 section 3.5). With --pcp a
version 2 MAP request is granted by PCP (the answer carries the request's nonce, the
assigned port and the IPv4-mapped external address); one whose client address is not its
source address gets ADDRESS_MISMATCH (RFC 6887 section 8.3).

Usage: fake_natpmp.py PORT LOGFILE [--lifetime-cap S] [--pcp]. Runs until killed."""
import ipaddress
import socket
import struct
import sys
import time

PCP_MAP = 1
PCP_ADDRESS_MISMATCH = 12
PCP_UNSUPP_OPCODE = 4


def main():
    port, log_path = int(sys.argv[1]), sys.argv[2]
    args = sys.argv[3:]
    cap = int(args[args.index("--lifetime-cap") + 1]) if "--lifetime-cap" in args else 7200
    pcp = "--pcp" in args
    start = time.monotonic()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", port))
    log = open(log_path, "a", buffering=1)
    log.write("listening\n")
    external = socket.inet_aton("203.0.113.7")
    while True:
        data, peer = sock.recvfrom(2048)
        epoch = int(time.monotonic() - start) + 1
        if len(data) < 2:
            log.write("bad request of %d bytes from %s\n" % (len(data), peer[0]))
            continue
        if data[0] == 2 and pcp:
            answer_pcp(sock, log, data, peer, epoch, external, cap)
            continue
        if data[0] != 0:
            log.write("unsupported version %d from %s\n" % (data[0], peer[0]))
            sock.sendto(struct.pack("!BBHI", 0, (128 + data[1]) & 0xff, 1, epoch), peer)
            continue
        op = data[1]
        if op == 0 and len(data) == 2:
            log.write("address from %s\n" % peer[0])
            sock.sendto(struct.pack("!BBHI4s", 0, 128, 0, epoch, external), peer)
        elif op in (1, 2) and len(data) == 12:
            _, _, _, internal, suggested, lifetime = struct.unpack("!BBHHHI", data)
            log.write("map %s internal %d suggested %d lifetime %d from %s\n"
                      % ("UDP" if op == 1 else "TCP", internal, suggested, lifetime, peer[0]))
            granted = (suggested or internal) if lifetime else 0
            sock.sendto(struct.pack("!BBHIHHI", 0, 128 + op, 0, epoch, internal, granted,
                                    min(lifetime, cap)), peer)
        else:
            log.write("unsupported opcode %d from %s\n" % (op, peer[0]))
            sock.sendto(struct.pack("!BBHI", 0, 128 + op, 5, epoch), peer)


def answer_pcp(sock, log, data, peer, epoch, external, cap):
    """A PCP request: MAP is granted; anything else gets UNSUPP_OPCODE (header only)."""
    if len(data) < 24 or len(data) % 4 or len(data) > 1100 or data[1] != PCP_MAP or len(data) < 60:
        log.write("pcp unsupported request of %d bytes from %s\n" % (len(data), peer[0]))
        sock.sendto(struct.pack("!BBBBII12x", 2, 0x80 | (data[1] & 0x7f), 0, PCP_UNSUPP_OPCODE,
                                0, epoch), peer)
        return
    lifetime = struct.unpack("!I", data[4:8])[0]
    client = ipaddress.IPv6Address(data[8:24])
    nonce, proto = data[24:36], data[36]
    internal, suggested = struct.unpack("!HH", data[40:44])
    name = {6: "TCP", 17: "UDP"}.get(proto, "protocol %d" % proto)
    shown = "::ffff:%s" % client.ipv4_mapped if client.ipv4_mapped is not None else str(client)
    log.write("pcp map %s internal %d suggested %d lifetime %d nonce %s client %s from %s\n"
              % (name, internal, suggested, lifetime, nonce.hex(), shown, peer[0]))
    if client.ipv4_mapped is None or str(client.ipv4_mapped) != peer[0]:
        result, granted, life, addr = PCP_ADDRESS_MISMATCH, 0, 30, bytes(16)
    else:
        result = 0
        granted = (suggested or internal) if lifetime else 0
        life = min(lifetime, cap)
        addr = bytes(10) + b"\xff\xff" + external
    payload = nonce + bytes([proto, 0, 0, 0]) + struct.pack("!HH", internal, granted) + addr
    sock.sendto(struct.pack("!BBBBII12x", 2, 0x80 | PCP_MAP, 0, result, life, epoch) + payload, peer)


if __name__ == "__main__":
    main()

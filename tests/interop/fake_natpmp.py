#!/usr/bin/env python3
"""A fake NAT-PMP gateway (RFC 6886) for the interop tests: answers on 127.0.0.1:PORT,
grants every mapping as asked (external port = suggested port, or the internal one),
reports the external address 203.0.113.7, and writes one line per request to its log:

    address from 127.0.0.2
    map TCP internal 6881 suggested 6881 lifetime 7200 from 127.0.0.2

Usage: fake_natpmp.py PORT LOGFILE [--lifetime-cap S]. Runs until killed."""
import socket
import struct
import sys
import time


def main():
    port, log_path = int(sys.argv[1]), sys.argv[2]
    cap = int(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[3] == "--lifetime-cap" else 7200
    start = time.monotonic()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", port))
    log = open(log_path, "a", buffering=1)
    log.write("listening\n")
    while True:
        data, peer = sock.recvfrom(2048)
        epoch = int(time.monotonic() - start) + 1
        if len(data) < 2 or data[0] != 0:
            log.write("bad request of %d bytes from %s\n" % (len(data), peer[0]))
            continue
        op = data[1]
        if op == 0 and len(data) == 2:
            log.write("address from %s\n" % peer[0])
            sock.sendto(struct.pack("!BBHI4s", 0, 128, 0, epoch, socket.inet_aton("203.0.113.7")), peer)
        elif op in (1, 2) and len(data) == 12:
            _, _, _, internal, suggested, lifetime = struct.unpack("!BBHHHI", data)
            log.write("map %s internal %d suggested %d lifetime %d from %s\n"
                      % ("UDP" if op == 1 else "TCP", internal, suggested, lifetime, peer[0]))
            external = (suggested or internal) if lifetime else 0
            sock.sendto(struct.pack("!BBHIHHI", 0, 128 + op, 0, epoch, internal, external,
                                    min(lifetime, cap)), peer)
        else:
            log.write("unsupported opcode %d from %s\n" % (op, peer[0]))
            sock.sendto(struct.pack("!BBHI", 0, 128 + op, 5, epoch), peer)


if __name__ == "__main__":
    main()

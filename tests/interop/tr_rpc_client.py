#!/usr/bin/python3
"""A second Transmission front-end for `piecewise daemon`: Debian's python3-transmissionrpc
(transmissionrpc 0.11, a third-party client library, not Transmission's own code).

  tr_rpc_client.py HOST PORT add TORRENT DOWNLOAD_DIR NAME SIZE WAIT_S
      add (file:// -> base64 metainfo), list, files, stop, start, then wait until complete
  tr_rpc_client.py HOST PORT remove NAME
      remove (data kept) and check it is no longer listed

Prints one line per step; exits 1 with the reason on the first failure. Every wait is
bounded.
"""
import sys
import time

import transmissionrpc


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def wait_for(what, cond, limit):
    end = time.time() + limit
    while time.time() < end:
        if cond():
            return
        time.sleep(0.5)
    fail("timed out after %d s waiting for %s" % (limit, what))


def find(c, name):
    for t in c.get_torrents():
        if t.name == name:
            return t
    return None


def add(c, torrent, down, name, size, wait):
    t = c.add_torrent("file://" + torrent, download_dir=down)
    tid = t.id
    print("added id %d" % tid)
    listed = find(c, name)
    if listed is None or listed.id != tid:
        fail("get_torrents does not list %s" % name)
    print("listed: %s status %s" % (listed.name, listed.status))
    files = c.get_files(tid)[tid]
    if len(files) != 1 or files[0]["name"] != name or files[0]["size"] != size:
        fail("get_files: %r" % files)
    print("files: %s %d bytes" % (files[0]["name"], files[0]["size"]))
    c.stop_torrent(tid)
    wait_for("stopped", lambda: c.get_torrent(tid).status == "stopped", 20)
    print("stopped")
    c.start_torrent(tid)
    wait_for("started", lambda: c.get_torrent(tid).status in ("downloading", "seeding"), 20)
    print("started")
    wait_for("complete", lambda: c.get_torrent(tid).percentDone == 1, wait)
    t = c.get_torrent(tid)
    print("complete: status %s, %d bytes left" % (t.status, t.leftUntilDone))


def remove(c, name):
    t = find(c, name)
    if t is None:
        fail("%s not listed before remove" % name)
    c.remove_torrent(t.id, delete_data=False)
    wait_for("removed", lambda: find(c, name) is None, 20)
    print("removed")


def main():
    host, port, cmd = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    c = transmissionrpc.Client(host, port=port, timeout=30)
    print("connected: rpc version %s" % c.rpc_version)
    if cmd == "add":
        torrent, down, name, size, wait = sys.argv[4:9]
        add(c, torrent, down, name, int(size), int(wait))
    elif cmd == "remove":
        remove(c, sys.argv[4])
    else:
        fail("unknown command " + cmd)


if __name__ == "__main__":
    try:
        main()
    except transmissionrpc.TransmissionError as e:
        fail("transmissionrpc: %s" % e)

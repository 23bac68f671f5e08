#!/usr/bin/python3
"""bench/stream: time to first byte of a Range at 90% of a file while it downloads.

One libtorrent seeder (tests/interop/lt_peer.py, upload limited to RATE bytes/s, its
local peer class included) and one piecewise daemon that has nothing of the torrent,
found through `piecewise tracker` on 127.0.0.1. Right after torrent-add, a GET
/stream/<info-hash>/0 with `Range: bytes=X-(X+1MiB-1)`, X at 90% of the file, is timed:
to the response's first body byte and to its last; the bytes are compared with the
source. Then the time until the whole download is verified. Run it inside a fresh
network namespace (bench/stream/run does).

  run.py PW_BIN LT_PEER WORKDIR SIZE_MIB RATE
"""
import base64, http.client, json, os, re, signal, subprocess, sys, time, urllib.request

RPC_HOST, RPC_PORT = "127.0.0.1", 9193
TRACKER = "127.0.0.1:6970"


def rpc(method, params):
    body = json.dumps({"jsonrpc": "2.0", "method": method, "params": params, "id": 1}).encode()
    sid = ""
    for _ in range(3):
        req = urllib.request.Request(f"http://{RPC_HOST}:{RPC_PORT}/transmission/rpc", body,
                                     {"X-Transmission-Session-Id": sid})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as e:
            if e.code != 409:
                raise
            sid = e.headers["X-Transmission-Session-Id"]
    raise RuntimeError("no session id")


def wait(pred, limit, what):
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.05)
    raise SystemExit(f"bench/stream: {what} within {limit} s")


def metric(text, name):
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def metrics():
    with urllib.request.urlopen(f"http://{RPC_HOST}:{RPC_PORT}/metrics", timeout=10) as r:
        return r.read().decode()


def main():
    pw, lt_peer, work, size_mib, rate = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    src = os.path.join(work, "seed")
    os.makedirs(src, exist_ok=True)
    payload = os.path.join(src, "movie.mkv")
    torrent = os.path.join(work, "movie.torrent")
    size = size_mib << 20
    if not os.path.exists(payload) or os.path.getsize(payload) != size:
        with open(payload, "wb") as f:
            for _ in range(size_mib):
                f.write(os.urandom(1 << 20))
        if os.path.exists(torrent):
            os.remove(torrent)
    if not os.path.exists(torrent):
        subprocess.run([pw, "create", "-o", torrent, "--piece-size", str(1 << 20), "-t",
                        f"http://{TRACKER}/announce", payload], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    ih = json.loads(subprocess.run([pw, "info", "--json", torrent], check=True,
                                   capture_output=True, text=True).stdout)["info_hash"]
    state = os.path.join(work, "run")
    subprocess.run(["rm", "-rf", state])
    os.makedirs(state)
    procs = []
    try:
        procs.append(subprocess.Popen([pw, "tracker", "--http", TRACKER, "--interval", "5"],
                                      stdout=open(os.path.join(state, "tracker.log"), "w"), stderr=subprocess.STDOUT))
        seed_log = os.path.join(state, "lt-seed.log")
        procs.append(subprocess.Popen(["/usr/bin/python3", lt_peer, "seed", torrent, "--dir", src, "--seed-mode",
                                       "--listen", "127.0.0.2:6881", "--upload-limit", str(rate), "--timeout", "3600",
                                       "--quiet"], stdout=open(seed_log, "w"), stderr=subprocess.STDOUT))
        wait(lambda: re.search(r"seeding", open(seed_log).read()), 120, "the libtorrent seeder did not start")
        time.sleep(2)  # its first announce
        procs.append(subprocess.Popen([pw, "daemon", "--no-dht", "--rpc", f"{RPC_HOST}:{RPC_PORT}",
                                       "--listen", "127.0.0.3:6881", "--state-dir", os.path.join(state, "dstate"),
                                       "--download-dir", os.path.join(state, "down")],
                                      stdout=open(os.path.join(state, "daemon.log"), "w"), stderr=subprocess.STDOUT))

        def up():
            try:
                metrics()
                return True
            except OSError:
                return False
        wait(up, 30, "the daemon did not answer")
        meta = base64.b64encode(open(torrent, "rb").read()).decode()
        t0 = time.monotonic()
        added = rpc("torrent_add", {"metainfo": meta})
        assert "torrent_added" in added["result"], added
        first = size * 9 // 10 + 12345
        length = 1 << 20
        conn = http.client.HTTPConnection(RPC_HOST, RPC_PORT, timeout=300)
        conn.request("GET", f"/stream/{ih}/0", headers={"Range": f"bytes={first}-{first + length - 1}"})
        resp = conn.getresponse()
        got = resp.read(1)
        t_first = time.monotonic() - t0
        got += resp.read()
        t_range = time.monotonic() - t0
        text = metrics()
        have = metric(text, "piecewise_pieces_passed_total") or 0
        with open(payload, "rb") as f:
            f.seek(first)
            same = f.read(length) == got
        if resp.status != 206 or not same:
            raise SystemExit(f"bench/stream: HTTP {resp.status}, bytes {'match' if same else 'DIFFER'}")
        wait(lambda: 'piecewise_torrents{state="seeding"} 1' in metrics(), 3600, "the download did not finish")
        t_all = time.monotonic() - t0
        pieces = (size + (1 << 20) - 1) >> 20
        print(json.dumps({"size_mib": size_mib, "seeder_rate": rate, "range_at": first,
                          "first_byte_s": round(t_first, 2), "range_1mib_s": round(t_range, 2),
                          "pieces_passed_then": int(have), "pieces": pieces,
                          "whole_download_s": round(t_all, 2)}))
    finally:
        for p in reversed(procs):
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()


if __name__ == "__main__":
    main()

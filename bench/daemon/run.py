#!/usr/bin/env python3
"""bench/daemon: N small torrents (data present) added through the RPC to one daemon.

Reports: seconds from the first torrent-add until every torrent is seeding, the daemon's
peak RSS (VmHWM), torrent-get latency for all N torrents x 26 list-view fields (median of
10), and idle CPU (percent of one core) over IDLE seconds with N seeding torrents and no
peers. Run it inside a fresh network namespace (bench/daemon/run does); the daemons talk
only to 127.0.0.1 and have no DHT, no LSD, no port forwarding.

  run.py piecewise BIN WORKDIR [N] [IDLE]
  run.py transmission BIN WORKDIR [N] [IDLE]     # transmission-daemon 3.00
"""
import base64, json, os, subprocess, sys, time, urllib.request, urllib.error, statistics

LIST_FIELDS = ["id", "name", "status", "error", "errorString", "eta", "isFinished", "isStalled",
               "leftUntilDone", "metadataPercentComplete", "peersConnected", "peersGettingFromUs",
               "peersSendingToUs", "percentDone", "queuePosition", "rateDownload", "rateUpload",
               "recheckProgress", "seedRatioMode", "seedRatioLimit", "sizeWhenDone", "totalSize",
               "uploadRatio", "uploadedEver", "downloadDir", "hashString"]
assert len(LIST_FIELDS) == 26
RPC = "http://127.0.0.1:9191/transmission/rpc"


class Rpc:
    def __init__(self):
        self.sid = ""

    def call(self, method, args, timeout=60):
        body = json.dumps({"method": method, "arguments": args}).encode()
        for _ in range(3):
            req = urllib.request.Request(RPC, body, {"X-Transmission-Session-Id": self.sid,
                                                     "Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=timeout) as r:
                    return json.loads(r.read())
            except urllib.error.HTTPError as e:
                if e.code == 409:
                    self.sid = e.headers["X-Transmission-Session-Id"]
                    continue
                raise
        raise RuntimeError("no session id")


def make_payloads(work, n):
    src = os.path.join(work, "data")
    tor = os.path.join(work, "torrents")
    os.makedirs(src, exist_ok=True)
    os.makedirs(tor, exist_ok=True)
    if len(os.listdir(tor)) == n:
        return src, tor
    for i in range(n):
        p = os.path.join(src, "f%04d.bin" % i)
        with open(p, "wb") as f:
            f.write(os.urandom(16384 + i))
        subprocess.run(["mktorrent", "-l", "15", "-o", os.path.join(tor, "t%04d.torrent" % i), p],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return src, tor


def rss_peak_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")


def wait_rpc(rpc, limit=60):
    end = time.time() + limit
    while time.time() < end:
        try:
            rpc.call("session-get", {}, timeout=5)
            return
        except Exception:
            time.sleep(0.2)
    raise RuntimeError("the daemon's RPC never answered")


def main():
    kind, binary, work = sys.argv[1], sys.argv[2], os.path.abspath(sys.argv[3])
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 1000
    idle = int(sys.argv[5]) if len(sys.argv) > 5 else 60
    src, tor = make_payloads(work, n)
    state = os.path.join(work, "state-" + kind)
    subprocess.run(["rm", "-rf", state], check=True)
    os.makedirs(state)
    log = open(os.path.join(work, kind + ".log"), "w")
    if kind == "piecewise":
        cmd = [binary, "daemon", "--no-dht", "--rpc", "127.0.0.1:9191", "--state-dir", state,
               "--download-dir", src, "--listen", "127.0.0.1:51413"]
    else:
        # The same settings: no DHT/LPD/PEX/uTP/port forwarding, no queue, data present.
        settings = {"dht-enabled": False, "lpd-enabled": False, "pex-enabled": False,
                    "utp-enabled": False, "port-forwarding-enabled": False,
                    "rpc-port": 9191, "rpc-bind-address": "127.0.0.1", "rpc-whitelist": "127.0.0.1",
                    "rpc-authentication-required": False, "peer-port": 51413,
                    "bind-address-ipv4": "127.0.0.1", "download-dir": src,
                    "download-queue-enabled": False, "seed-queue-enabled": False,
                    "queue-stalled-enabled": False, "message-level": 1}
        with open(os.path.join(state, "settings.json"), "w") as f:
            json.dump(settings, f)
        cmd = [binary, "-f", "-g", state]
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    rpc = Rpc()
    try:
        wait_rpc(rpc)
        t0 = time.time()
        for name in sorted(os.listdir(tor)):
            with open(os.path.join(tor, name), "rb") as f:
                meta = base64.b64encode(f.read()).decode()
            r = rpc.call("torrent-add", {"metainfo": meta, "download-dir": src})
            assert r["result"] == "success", r
        t_added = time.time() - t0
        deadline = time.time() + 1800
        while True:
            r = rpc.call("torrent-get", {"fields": ["id", "status"]})
            seeding = sum(1 for t in r["arguments"]["torrents"] if t["status"] == 6)
            if seeding == n:
                break
            if time.time() > deadline:
                raise RuntimeError("only %d of %d seeding after 30 minutes" % (seeding, n))
            time.sleep(0.2)
        t_seed = time.time() - t0
        lat = []
        for _ in range(10):
            s = time.perf_counter()
            r = rpc.call("torrent-get", {"fields": LIST_FIELDS})
            lat.append((time.perf_counter() - s) * 1000)
            assert len(r["arguments"]["torrents"]) == n
        time.sleep(5)  # settle after the adds
        c0, w0 = cpu_seconds(proc.pid), time.time()
        time.sleep(idle)
        c1, w1 = cpu_seconds(proc.pid), time.time()
        out = {"daemon": kind, "torrents": n, "add_s": round(t_added, 2),
               "all_seeding_s": round(t_seed, 2), "peak_rss_mib": round(rss_peak_kib(proc.pid) / 1024, 1),
               "torrent_get_26_fields_ms_median": round(statistics.median(lat), 1),
               "torrent_get_26_fields_ms_max": round(max(lat), 1),
               "idle_cpu_percent_of_a_core": round(100 * (c1 - c0) / (w1 - w0), 2), "idle_s": idle}
        print(json.dumps(out))
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Summary of a bench/e2e results file: medians per case and label, and
piecewise/libtorrent ratios computed run by run (a ratio uses only runs where both
sides succeeded) and then taken as the median.

    report.py RESULTS.tsv [COLD_NOTE]

Each line of RESULTS.tsv: run, case, label, ok, wall s, downloader CPU s, downloader RSS
KiB, server CPU s, server RSS KiB, bytes moved[, extra[, phases]]; phases: "name=s,..."
(piecewise get --timing, seconds since the leecher's start). Exit 1 when any run failed.
"""
import statistics
import sys

med = statistics.median


def load(path):
    by = {}
    for line in open(path):
        f = line.rstrip("\n").split("\t")
        if len(f) < 10:
            continue
        r = dict(run=f[0], case=f[1], label=f[2], ok=f[3], wall=float(f[4]), cpu=float(f[5]),
                 rss=int(f[6] or 0), scpu=float(f[7]), srss=int(f[8] or 0), bytes=int(f[9]),
                 extra=float(f[10]) if len(f) > 10 and f[10] else 0.0,
                 phases=dict((k, float(v)) for k, _, v in
                             (x.partition("=") for x in f[11].split(",") if "=" in x))
                 if len(f) > 11 else {})
        by.setdefault(r["case"], {}).setdefault(r["label"], []).append(r)
    return by


def good(rs):
    return [r for r in rs if r["ok"] == "ok"]


def ratio(a, b, key, inverse=False):
    """Median over runs of a[key]/b[key] (b/a with inverse) where both runs are ok."""
    xs = []
    for ra in good(a):
        for rb in good(b):
            if ra["run"] == rb["run"] and rb[key] > 0 and ra[key] > 0:
                xs.append(rb[key] / ra[key] if inverse else ra[key] / rb[key])
    return f"{med(xs):.2f}" if xs else "n/a"


def failed_line(name, rs, width):
    return (f"{name:{width}} {0:>2}/{len(rs):<2} all runs failed: "
            f"{', '.join(r['ok'] for r in rs)}")


def transfer_table(rows, width, lead="pair", what=("leech", "seed")):
    """rows: list of (name, runs). Columns as bench/e2e has always printed them."""
    print(f"{lead:{width}} {'ok':>5} {'wall s':>8} {'MB/s':>8} {what[0] + ' cpu s':>12} "
          f"{what[0] + ' RSS MiB':>14} {what[1] + ' cpu s':>11} {what[1] + ' RSS MiB':>13}")
    for name, rs in rows:
        g = good(rs)
        if not g:
            print(failed_line(name, rs, width))
            continue
        w = med(r["wall"] for r in g)
        b = med(r["bytes"] for r in g)
        print(f"{name:{width}} {len(g):>2}/{len(rs):<2} {w:8.2f} {b / w / 1e6:8.0f} "
              f"{med(r['cpu'] for r in g):12.2f} {med(r['rss'] for r in g) / 1024:14.1f} "
              f"{med(r['scpu'] for r in g):11.2f} {med(r['srss'] for r in g) / 1024:13.1f}")


def report_pairs(by, set_name, ceiling, with_ceiling_row):
    pairs = by.get(set_name)
    if not pairs:
        return
    print(f"\n-- pairs, set {set_name} "
          f"({'one file' if set_name == 'single' else '64 files'}; seeder -> leecher)")
    rows = list(pairs.items())
    if ceiling and with_ceiling_row:
        rows.append(("ceiling", ceiling))
    transfer_table(rows, 8)
    print()
    print("piecewise/libtorrent (median of per-run ratios; < 1 means piecewise is faster/leaner):")
    for a, b, what in (("pw-pw", "lt-lt", "both sides"), ("lt-pw", "lt-lt", "leecher only"),
                       ("pw-lt", "lt-lt", "seeder only")):
        if a in pairs and b in pairs:
            A, B = pairs[a], pairs[b]
            print(f"  {a} vs {b} ({what}): wall {ratio(A, B, 'wall')}, leecher cpu "
                  f"{ratio(A, B, 'cpu')}, leecher RSS {ratio(A, B, 'rss')}, "
                  f"seeder RSS {ratio(A, B, 'srss')}")
    if ceiling and "pw-pw" in pairs:
        print(f"  pw-pw vs ceiling: wall {ratio(pairs['pw-pw'], ceiling, 'wall')} "
              f"(throughput {ratio(pairs['pw-pw'], ceiling, 'wall', inverse=True)} of the ceiling)")


def report_encrypted(by):
    plain, rc4 = by.get("enc-plain", {}), by.get("enc-rc4", {})
    if not plain and not rc4:
        return
    print("\n-- encrypted: the single file, MSE with RC4 forced on both sides, next to plaintext")
    rows = [(f"{k} {enc}", d[k]) for k in ("pw-pw", "lt-lt")
            for enc, d in (("plain", plain), ("rc4", rc4)) if k in d]
    transfer_table(rows, 12)
    print()
    if "pw-pw" in rc4 and "pw-pw" in plain:
        print(f"  pw-pw rc4 vs plaintext: throughput {ratio(rc4['pw-pw'], plain['pw-pw'], 'wall', inverse=True)}, "
              f"leecher cpu {ratio(rc4['pw-pw'], plain['pw-pw'], 'cpu')}")
    if "lt-lt" in rc4 and "lt-lt" in plain:
        print(f"  lt-lt rc4 vs plaintext: throughput {ratio(rc4['lt-lt'], plain['lt-lt'], 'wall', inverse=True)}")
    if "pw-pw" in rc4 and "lt-lt" in rc4:
        print(f"  pw-pw rc4 vs lt-lt rc4: throughput {ratio(rc4['pw-pw'], rc4['lt-lt'], 'wall', inverse=True)}, "
              f"leecher cpu {ratio(rc4['pw-pw'], rc4['lt-lt'], 'cpu')}")


def report_utp(by):
    tcp, utp = by.get("utp-tcp", {}), by.get("utp-utp", {})
    if not utp:
        return
    print("\n-- utp: the single file over uTP only (BEP 29), next to pw-pw over TCP")
    rows = [(f"{k} utp", utp[k]) for k in ("pw-pw", "lt-lt") if k in utp]
    if "pw-pw" in tcp:
        rows.append(("pw-pw tcp", tcp["pw-pw"]))
    transfer_table(rows, 12)
    print()
    for k in ("pw-pw", "lt-lt"):
        g = good(utp.get(k, []))
        if g:
            gib = med(r["bytes"] for r in g) / 2**30
            print(f"  {k} utp: leecher cpu per GiB {med(r['cpu'] for r in g) / gib:.2f} s, "
                  f"seeder {med(r['scpu'] for r in g) / gib:.2f} s")
    if "pw-pw" in utp and "lt-lt" in utp:
        print(f"  pw-pw utp vs lt-lt utp: throughput {ratio(utp['pw-pw'], utp['lt-lt'], 'wall', inverse=True)}")
    if "pw-pw" in utp and "pw-pw" in tcp:
        print(f"  pw-pw utp vs pw-pw tcp: throughput {ratio(utp['pw-pw'], tcp['pw-pw'], 'wall', inverse=True)}")


def report_swarm(by, case):
    labels = by.get(case)
    if not labels:
        return
    shape = case.split("-")[1]
    print(f"\n-- {case}: {shape.split('x')[0]} seeder(s) -> {shape.split('x')[1]} leecher(s), "
          "until all are done; MB/s = all bytes received / wall")
    print("   (leech cpu: summed over leechers; leech RSS: the largest; seed cpu: summed over "
          "seeders during the transfer)")
    transfer_table(list(labels.items()), 8, lead="swarm")
    if "pw" in labels and "lt" in labels:
        A, B = labels["pw"], labels["lt"]
        print(f"  pw/lt: wall {ratio(A, B, 'wall')}, leecher cpu {ratio(A, B, 'cpu')}, "
              f"leecher RSS {ratio(A, B, 'rss')}, seeder cpu {ratio(A, B, 'scpu')}")


def report_user_clock(by):
    labels = by.get("user-clock")
    if not labels:
        return
    print("\n-- user-clock: the single file, seeder ready; the leecher timed from its process's "
          "start to its exit")
    transfer_table(list(labels.items()), 8)
    if "pw-pw" in labels and "lt-lt" in labels:
        A, B = labels["pw-pw"], labels["lt-lt"]
        print(f"  pw-pw vs lt-lt: wall {ratio(A, B, 'wall')}, rate "
              f"{ratio(A, B, 'wall', inverse=True)}x")
    g = [r for r in good(labels.get("pw-pw", [])) if r["phases"]]
    if not g:
        return
    print("  piecewise's phases (get --timing; medians, seconds since its start):")
    names = ["session", "checked", "announced", "first-block", "complete", "stopped", "exit"]
    print("    " + "  ".join(f"{n} {med(r['phases'][n] for r in g if n in r['phases']):.3f}"
                             for n in names if any(n in r["phases"] for r in g)))
    def span(a, b):
        xs = [r["phases"][b] - r["phases"][a] for r in g if a in r["phases"] and b in r["phases"]]
        return f"{med(xs):.3f}" if xs else "n/a"
    outside = [r["wall"] - r["phases"]["exit"] for r in g if "exit" in r["phases"]]
    print(f"    start-up (start -> first block) "
          f"{med(r['phases']['first-block'] for r in g if 'first-block' in r['phases']):.3f} s; "
          f"transfer (first block -> complete) {span('first-block', 'complete')} s; "
          f"finish (complete -> exit) {span('complete', 'exit')} s, of which the session's "
          f"stop {span('complete', 'stopped')} s; outside main (exec, exit) "
          f"{med(outside) if outside else 0:.3f} s")


def report_recheck(by, cold_note):
    sha = by.get("sha1", {})
    x1, x2 = sha.get("openssl-x1", []), sha.get("openssl-x2", [])
    if not any(c.startswith("recheck-") for c in by):
        return
    print("\n-- recheck: full check of the single file "
          "(pw: piecewise verify; lt: libtorrent, hashing_threads 1 (default) and 2)")
    if x1 or x2:
        print(f"   openssl speed -evp sha1, 1 MiB: one core "
              f"{med(r['extra'] for r in x1) / 1e9 if x1 else 0:.2f} GB/s, two processes "
              f"{med(r['extra'] for r in x2) / 1e9 if x2 else 0:.2f} GB/s")
    for mode in ("warm", "cold"):
        labels = by.get(f"recheck-{mode}")
        if not labels:
            if mode == "cold" and cold_note:
                print(f"   cold: {cold_note}")
            continue
        print(f"{'check ' + mode:12} {'ok':>5} {'s':>8} {'GB/s':>8} {'cpu s':>8} {'RSS MiB':>9}")
        for name, rs in labels.items():
            g = good(rs)
            if not g:
                print(failed_line(name, rs, 12))
                continue
            s = med(r["wall"] for r in g)
            b = med(r["bytes"] for r in g)
            print(f"{name:12} {len(g):>2}/{len(rs):<2} {s:8.3f} {b / s / 1e9:8.2f} "
                  f"{med(r['cpu'] for r in g):8.2f} {med(r['rss'] for r in g) / 1024:9.1f}")
        pw = labels.get("pw", [])
        for other in ("lt", "lt-2t"):
            if pw and other in labels:
                print(f"  pw vs {other}: time {ratio(pw, labels[other], 'wall')}, rate "
                      f"{ratio(pw, labels[other], 'wall', inverse=True)}x, cpu "
                      f"{ratio(pw, labels[other], 'cpu')}")
        if pw and x2:
            xs = [(r["bytes"] / r["wall"]) / s2["extra"] for r in good(pw) for s2 in x2
                  if r["run"] == s2["run"] and r["wall"] > 0 and s2["extra"] > 0]
            if xs:
                print(f"  pw rate / two cores' SHA-1 rate (openssl -multi 2): {med(xs):.2f}")


def main():
    by = load(sys.argv[1])
    cold_note = sys.argv[2] if len(sys.argv) > 2 else ""
    ceiling = by.get("ceiling", {}).get("ceiling")
    sets = [s for s in ("single", "files64") if s in by]
    for set_name in sets:
        report_pairs(by, set_name, ceiling, set_name == sets[0])
    if ceiling and not sets:
        print()
        transfer_table([("ceiling", ceiling)], 8)
    report_encrypted(by)
    report_user_clock(by)
    report_utp(by)
    for case in ("swarm-1x8", "swarm-8x1"):
        report_swarm(by, case)
    report_recheck(by, cold_note)
    bad = [r for labels in by.values() for rs in labels.values() for r in rs if r["ok"] != "ok"]
    if bad:
        print(f"\n{len(bad)} run(s) failed: " +
              ", ".join(f"{r['case']} {r['label']} run {r['run']}: {r['ok']}" for r in bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

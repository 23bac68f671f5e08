#!/usr/bin/python3
"""A libtorrent peer for interop tests and benchmarks, kept on loopback.

    lt_peer.py seed TORRENT --dir DIR --listen 127.0.0.2:6881 [--peer H:P]... [--timeout S]
                    [--upload-limit BYTES_PER_S] [--download-limit BYTES_PER_S]
    lt_peer.py get  TORRENT|MAGNET --dir DIR --listen 127.0.0.3:6881 [--peer H:P]... [--timeout S]
    lt_peer.py check TORRENT --dir DIR [--hashing-threads N] [--timeout S]
    lt_peer.py infohash TORRENT [--v2]
    lt_peer.py create SRC --out TORRENT --format v2|hybrid|v1 [--piece-size N]

`seed` checks DIR/<name> (or trusts it with --seed-mode) and serves until SIGINT/SIGTERM
or the timeout. `get` downloads into DIR and exits 0 once every piece is verified
(--linger S keeps it seeding S seconds more). Trackers come from the torrent; --peer
makes libtorrent dial that address directly (connect_peer). Once the start-up check is
over it prints "<tag>: checked H/N pieces in S s, seeding|downloading". Progress goes to
stdout every --interval seconds; tracker and peer errors are printed as they come.

`get` also takes a magnet link (btih, btmh or both): libtorrent fetches the metadata
(and, for v2, the piece layers by BEP 52 hash requests) from its peers first; --peer
addresses are dialled at once.

`check` adds the torrent with its data already in DIR (no resume data, so libtorrent
hashes everything), waits for torrent_checked_alert and prints
"lt-check: checked H/N pieces in S s" (timed from add_torrent); it never contacts a
tracker or peer. --hashing-threads sets libtorrent's hashing_threads (default 1).

`infohash --v2` prints the v2 info-hash (64 hex; "none" for a v1 torrent). `create` makes
a torrent of SRC (file or directory) with libtorrent's own creator (BEP 52 v2-only or
hybrid with lt.create_torrent's flags), no tracker, creation date 0.

Exit: 0 done (or seeder stopped by a signal; for `check`: every piece good), 1 failure or
timeout, 2 bad usage.
Must run under Debian's /usr/bin/python3, which has the libtorrent 2.0 bindings.
"""
import argparse
import signal
import sys
import time

import libtorrent as lt


def parse_hostport(text):
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host.strip("[]"), int(port)


def make_session(listen, utp, encrypt, hashing_threads=0, plaintext_only=False):
    host, port = listen
    # An IPv6 address is bracketed in listen_interfaces ("[::1]:6881").
    bracketed = f"[{host}]" if ":" in host else host
    settings = {
        "listen_interfaces": f"{bracketed}:{port}",
        # Outgoing peer connections leave from the listen address, so that the other
        # side sees this peer at its own 127.0.0.x.
        "outgoing_interfaces": host,
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "enable_ip_notifier": False,
        "allow_multiple_connections_per_ip": True,
        "enable_incoming_utp": utp,
        "enable_outgoing_utp": utp,
        "enable_incoming_tcp": True,
        "enable_outgoing_tcp": True,
        "alert_mask": lt.alert.category_t.error_notification
        | lt.alert.category_t.status_notification
        | lt.alert.category_t.tracker_notification
        | lt.alert.category_t.peer_notification
        | lt.alert.category_t.connect_notification,
        "announce_to_all_trackers": True,
        "user_agent": "lt_peer/2.0",
    }
    if hashing_threads > 0:
        settings["hashing_threads"] = hashing_threads
    if encrypt:
        settings.update(
            {
                "out_enc_policy": int(lt.enc_policy.forced),
                "in_enc_policy": int(lt.enc_policy.forced),
                "allowed_enc_level": int(lt.enc_level.rc4),
            }
        )
    if plaintext_only:
        # INTEROP.md: plaintext only is policies 2 (pe_disabled), level 1 (pe_plaintext).
        settings.update(
            {
                "out_enc_policy": int(lt.enc_policy.disabled),
                "in_enc_policy": int(lt.enc_policy.disabled),
                "allowed_enc_level": int(lt.enc_level.plaintext),
            }
        )
    return lt.session(settings)


def describe(st):
    return (
        f"{st.progress * 100:6.2f}% {st.num_pieces} pieces "
        f"down {st.download_rate / 1e6:7.2f} MB/s up {st.upload_rate / 1e6:7.2f} MB/s "
        f"peers {st.num_peers} state {st.state}"
    )


def check(info, args):
    """Times libtorrent's full check of data already in args.dir."""
    ses = make_session((args.listen[0], 0), False, False, args.hashing_threads)
    atp = lt.add_torrent_params()
    # The torrent without its trackers, so that only the check runs (libtorrent does not
    # check a paused torrent, so it cannot be kept paused instead).
    with open(args.torrent, "rb") as f:
        meta = lt.bdecode(f.read())
    meta.pop(b"announce", None)
    meta.pop(b"announce-list", None)
    info = lt.torrent_info(meta)
    atp.ti = info
    atp.save_path = args.dir
    atp.flags = atp.flags & ~lt.torrent_flags.paused & ~lt.torrent_flags.auto_managed
    start = time.monotonic()
    h = ses.add_torrent(atp)
    deadline = start + args.timeout
    checked_at = None
    while checked_at is None:
        if time.monotonic() > deadline:
            print(f"lt_peer: check not finished after {args.timeout:.0f} s", file=sys.stderr)
            return 1
        ses.wait_for_alert(50)
        for a in ses.pop_alerts():
            if isinstance(a, lt.torrent_checked_alert):
                checked_at = time.monotonic()
            elif isinstance(a, (lt.file_error_alert, lt.torrent_error_alert)):
                print(f"lt_peer: {a.message()}", file=sys.stderr)
                return 1
    st = h.status()
    print(f"lt-check: checked {st.num_pieces}/{info.num_pieces()} pieces in "
          f"{checked_at - start:.3f} s", flush=True)
    return 0 if st.num_pieces == info.num_pieces() else 1


def create(args):
    """Writes a torrent of args.torrent (the source path) made by libtorrent itself."""
    import os
    src = os.path.abspath(args.torrent)
    fs = lt.file_storage()
    lt.add_files(fs, src)
    flags = {"v1": lt.create_torrent.v1_only, "v2": lt.create_torrent.v2_only, "hybrid": 0}
    ct = lt.create_torrent(fs, args.piece_size, flags=flags[args.format])
    lt.set_piece_hashes(ct, os.path.dirname(src))
    meta = ct.generate()
    meta[b"creation date"] = 0
    with open(args.out, "wb") as f:
        f.write(lt.bencode(meta))
    ih = lt.torrent_info(args.out).info_hashes()
    print(f"lt-create: {args.format} v1 {ih.v1 if ih.has_v1() else 'none'} "
          f"v2 {ih.v2.to_bytes().hex() if ih.has_v2() else 'none'}", flush=True)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("mode", choices=["seed", "get", "check", "infohash", "create"])
    ap.add_argument("--v2", action="store_true", help="infohash: print the v2 info-hash")
    ap.add_argument("--out", help="create: the .torrent to write")
    ap.add_argument("--format", choices=["v1", "v2", "hybrid"], default="v2")
    ap.add_argument("--piece-size", type=int, default=0)
    ap.add_argument("torrent")
    ap.add_argument("--dir", default=".")
    ap.add_argument("--listen", type=parse_hostport, default=("127.0.0.1", 6881))
    ap.add_argument("--peer", type=parse_hostport, action="append", default=[])
    ap.add_argument("--timeout", type=float, default=120.0)
    ap.add_argument("--interval", type=float, default=1.0)
    ap.add_argument("--linger", type=float, default=0.0)
    ap.add_argument("--seed-mode", action="store_true", help="skip the initial check")
    ap.add_argument("--super-seed", action="store_true", help="seed: super-seeding (BEP 16)")
    ap.add_argument("--utp", action="store_true", help="allow uTP (TCP only otherwise)")
    ap.add_argument("--encrypt", action="store_true", help="force MSE/RC4")
    ap.add_argument("--plaintext-only", action="store_true",
                    help="no MSE at all: encrypted handshakes are refused")
    ap.add_argument("--quiet", action="store_true", help="no periodic progress lines")
    ap.add_argument("--utp-only", action="store_true", help="uTP only: TCP off both ways")
    ap.add_argument("--upload-limit", type=int, default=0,
                    help="bytes/s this peer sends at most, loopback peers included (0: no limit)")
    ap.add_argument("--download-limit", type=int, default=0,
                    help="bytes/s this peer receives at most, loopback peers included (0: no limit)")
    ap.add_argument("--hashing-threads", type=int, default=0,
                    help="libtorrent hashing_threads (0: libtorrent's default)")
    args = ap.parse_args()

    if args.mode == "create":
        return create(args)
    magnet = args.torrent.startswith("magnet:")
    if magnet and args.mode != "get":
        print("lt_peer: only get takes a magnet link", file=sys.stderr)
        return 2
    info = None
    if not magnet:
        try:
            info = lt.torrent_info(args.torrent)
        except RuntimeError as e:
            print(f"lt_peer: cannot load {args.torrent}: {e}", file=sys.stderr)
            return 2
    if args.mode == "infohash":
        ih = info.info_hashes()
        if args.v2:
            print(ih.v2.to_bytes().hex() if ih.has_v2() else "none")
        else:
            print(str(ih.v1))
        return 0

    stop = {"signal": None}

    def on_signal(signum, _frame):
        stop["signal"] = signum

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    if args.mode == "check":
        return check(info, args)

    ses = make_session(args.listen, args.utp or args.utp_only, args.encrypt, args.hashing_threads,
                       args.plaintext_only)
    if args.utp_only:
        ses.apply_settings({"enable_incoming_tcp": False, "enable_outgoing_tcp": False})
    if args.upload_limit > 0:
        # 127.x peers are in libtorrent's local peer class, which the session-wide
        # upload_rate_limit does not cover: limit that class too.
        ses.apply_settings({"upload_rate_limit": args.upload_limit})
        pc = ses.get_peer_class(ses.local_peer_class_id)
        pc["upload_limit"] = args.upload_limit
        ses.set_peer_class(ses.local_peer_class_id, pc)
    if args.download_limit > 0:
        ses.apply_settings({"download_rate_limit": args.download_limit})
        pc = ses.get_peer_class(ses.local_peer_class_id)
        pc["download_limit"] = args.download_limit
        ses.set_peer_class(ses.local_peer_class_id, pc)
    if magnet:
        try:
            atp = lt.parse_magnet_uri(args.torrent)
        except RuntimeError as e:
            print(f"lt_peer: bad magnet link: {e}", file=sys.stderr)
            return 2
    else:
        atp = lt.add_torrent_params()
        atp.ti = info
    atp.save_path = args.dir
    flags = atp.flags & ~lt.torrent_flags.paused & ~lt.torrent_flags.auto_managed
    if args.mode == "seed" and args.seed_mode:
        flags |= lt.torrent_flags.seed_mode
    if args.mode == "seed" and args.super_seed:
        flags |= lt.torrent_flags.super_seeding
    atp.flags = flags
    h = ses.add_torrent(atp)
    tag = f"lt-{args.mode}@{args.listen[0]}:{args.listen[1]}"
    if magnet:
        print(f"{tag}: magnet {args.torrent}", flush=True)
    else:
        print(f"{tag}: {info.name()} {info.total_size()} bytes, {info.num_pieces()} pieces, "
              f"info-hash {info.info_hashes().v1}", flush=True)

    start = time.monotonic()
    deadline = start + args.timeout
    next_report = start
    peers_added = False
    # A magnet has nothing to check before it has its metadata: dial peers at once.
    checked = (args.mode == "seed" and args.seed_mode) or magnet
    done_at = None
    failed = None
    while True:
        now = time.monotonic()
        if stop["signal"] is not None:
            print(f"{tag}: stopped by signal {stop['signal']}", flush=True)
            break
        if now > deadline:
            failed = f"timeout after {args.timeout:.0f} s"
            break
        for a in ses.pop_alerts():
            if isinstance(a, (lt.tracker_error_alert, lt.tracker_warning_alert,
                              lt.peer_error_alert, lt.file_error_alert,
                              lt.torrent_error_alert, lt.hash_failed_alert,
                              lt.listen_failed_alert, lt.peer_disconnected_alert,
                              lt.tracker_reply_alert, lt.peer_connect_alert,
                              lt.listen_succeeded_alert, lt.metadata_received_alert,
                              lt.metadata_failed_alert)):
                print(f"{tag}: {type(a).__name__}: {a.message()}", flush=True)
            if isinstance(a, (lt.file_error_alert, lt.torrent_error_alert)):
                failed = a.message()
            if isinstance(a, lt.torrent_checked_alert):
                checked = True
        if failed:
            break
        st = h.status()
        if checked and not peers_added:
            if args.mode == "seed" and not st.is_seeding:
                failed = f"data does not match the torrent ({st.progress * 100:.1f}% valid)"
                break
            for peer in args.peer:
                h.connect_peer(peer)
            peers_added = True
            # One line that harnesses wait for: the start-up check is over (it announces
            # to the trackers and dials --peer addresses from now on).
            total = info.num_pieces() if info else "?"
            print(f"{tag}: checked {st.num_pieces}/{total} pieces in "
                  f"{now - start:.2f} s, {'seeding' if st.is_seeding else 'downloading'}",
                  flush=True)
        if args.mode == "get" and st.is_seeding and done_at is None:
            done_at = now
            print(f"{tag}: complete in {now - start:.2f} s", flush=True)
        if done_at is not None and now - done_at >= args.linger:
            break
        if now >= next_report and not args.quiet:
            print(f"{tag}: {describe(st)}", flush=True)
            next_report = now + args.interval
        ses.wait_for_alert(100)

    st = h.status()
    print(f"{tag}: final {describe(st)}; uploaded {st.total_payload_upload} "
          f"downloaded {st.total_payload_download}", flush=True)
    if failed:
        print(f"lt_peer: {failed}", file=sys.stderr, flush=True)
        return 1
    if args.mode == "get" and done_at is None:
        print("lt_peer: stopped before the download completed", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

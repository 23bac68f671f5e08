# Interop cases: the DHT node, magnets over the DHT, and local service discovery.
# Sourced by tests/interop/cases.sh, which holds the shared helpers and addresses.
# shellcheck shell=bash

# DHT (BEP 5) ---------------------------------------------------------------------

DHT_NODE=127.0.0.5:6881

# write_lt_dht: $T/lt_dht.py MODE TORRENT DIR LISTEN BOOTSTRAP TIMEOUT, a libtorrent peer
# with DHT on, bootstrapped only from BOOTSTRAP, with libtorrent's guards against loopback
# DHT nodes off (INTEROP.md). It re-announces to the DHT every 2 s. `seed` runs until
# SIGTERM; `get` exits 0 once complete.
write_lt_dht() {
    cat >"$T/lt_dht.py" <<'EOF'
import signal, sys, time
import libtorrent as lt
mode, torrent, save, listen, boot, timeout = sys.argv[1:7]
host = listen.rpartition(":")[0].strip("[]")
ses = lt.session({
    "listen_interfaces": listen, "outgoing_interfaces": host,
    "enable_dht": True, "dht_bootstrap_nodes": boot,
    "dht_restrict_routing_ips": False, "dht_restrict_search_ips": False,
    "dht_ignore_dark_internet": False, "dht_prefer_verified_node_ids": False,
    "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
    "enable_ip_notifier": False, "allow_multiple_connections_per_ip": True,
    "enable_incoming_utp": False, "enable_outgoing_utp": False,
    "alert_mask": lt.alert.category_t.error_notification | lt.alert.category_t.status_notification
    | lt.alert.category_t.dht_notification | lt.alert.category_t.peer_notification,
})
stop = []
signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
signal.signal(signal.SIGINT, lambda *a: stop.append(1))
atp = lt.add_torrent_params()
atp.ti = lt.torrent_info(torrent)
atp.save_path = save
atp.flags &= ~lt.torrent_flags.paused & ~lt.torrent_flags.auto_managed
h = ses.add_torrent(atp)
tag = f"lt-dht-{mode}@{listen}"
start = time.monotonic()
next_announce = 0
while not stop:
    now = time.monotonic()
    if now - start > float(timeout):
        print(f"{tag}: timeout", flush=True)
        sys.exit(1)
    for a in ses.pop_alerts():
        if type(a).__name__ in ("dht_reply_alert", "dht_announce_alert", "dht_bootstrap_alert",
                                "peer_connect_alert", "torrent_error_alert", "dht_error_alert"):
            print(f"{tag}: {type(a).__name__}: {a.message()}", flush=True)
    st = h.status()
    if now >= next_announce:
        h.force_dht_announce()
        next_announce = now + 2
        print(f"{tag}: {st.progress * 100:.1f}% peers {st.num_peers} state {st.state} "
              f"dht nodes {ses.status().dht_nodes}", flush=True)
    if mode == "get" and st.is_seeding:
        print(f"{tag}: complete in {now - start:.2f} s", flush=True)
        sys.exit(0)
    ses.wait_for_alert(200)
print(f"{tag}: stopped", flush=True)
EOF
}

dht_node_start() {
    spawn "$T/dht-node.log" "$PW_BIN" dht-node --listen "$DHT_NODE" --state "$T/dht.state" --log-interval 1
    DHT_PID=$SPAWNED
    wait_alive "$DHT_PID" "$START_WAIT" grep -q 'listening on' "$T/dht-node.log" ||
        { kill -0 "$DHT_PID" 2>/dev/null || fail "piecewise dht-node exited early"; fail "piecewise dht-node did not start"; }
}

# dht_node_lines_above N: the node has printed more than N status lines.
dht_node_lines_above() { (($(grep -c 'routing table' "$T/dht-node.log") > $1)); }

# dht_node_has_peer: true once the node's status line (every second) shows a stored peer.
dht_node_has_peer() { grep -q 'peers stored [1-9]' "$T/dht-node.log"; }

# Two libtorrent sessions, no tracker, meet through a `piecewise dht-node`: the seeder
# announces itself to the DHT, the downloader's get_peers finds it, the transfer completes.
case_lt_dht_via_pw_node() {
    need_piecewise
    single_payload "$LT_MIB"; pw_create   # no tracker in the torrent
    dht_node_start
    seed_dir_with_payload; write_lt_dht
    spawn "$T/lt-seed.log" "$PW_PY" "$T/lt_dht.py" seed "$TORRENT" "$T/seed" "$SEEDER" "$DHT_NODE" $((WAIT + 60))
    SEED_PID=$SPAWNED
    wait_seed_ready "libtorrent DHT seeder" "$T/lt-seed.log" 'state seeding'
    wait_alive "$SEED_PID" "$ANNOUNCE_WAIT" dht_node_has_peer ||
        fail "the seeder's announce never reached the piecewise DHT node"
    mkdir -p "$T/down"
    "$PW_PY" "$T/lt_dht.py" get "$TORRENT" "$T/down" "$LEECHER" "$DHT_NODE" "$WAIT" >"$T/lt-get.log" 2>&1 || fail "libtorrent download through the DHT failed"
    check_same
    grep -m1 'complete in' "$T/lt-get.log"
    local lines
    lines=$(grep -c 'routing table' "$T/dht-node.log")
    kill -USR1 "$DHT_PID"   # SIGUSR1: one more status line now
    wait_until 10 dht_node_lines_above "$lines"
    grep 'routing table' "$T/dht-node.log" | tail -n 1
    stop_pid "$SEED_PID" 10
    stop_pid "$DHT_PID" 10
    local rc=$?
    [[ $rc == 0 ]] || fail "piecewise dht-node exited $rc after SIGTERM (expected 0)"
    [[ -s $T/dht.state ]] || fail "piecewise dht-node did not save its state file"
    echo "PASS: transfer through the DHT; dht-node saved $(wc -c <"$T/dht.state") bytes of state"
}

# A libtorrent downloader for a magnet link whose peers come from the DHT only.
write_lt_magnet() {
    cat >"$T/lt_magnet.py" <<'EOF'
import sys, time
import libtorrent as lt
uri, save, listen, boot, timeout = sys.argv[1:6]
host = listen.rpartition(":")[0].strip("[]")
ses = lt.session({
    "listen_interfaces": listen, "outgoing_interfaces": host,
    "enable_dht": True, "dht_bootstrap_nodes": boot,
    "dht_restrict_routing_ips": False, "dht_restrict_search_ips": False,
    "dht_ignore_dark_internet": False, "dht_prefer_verified_node_ids": False,
    "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
    "enable_ip_notifier": False, "allow_multiple_connections_per_ip": True,
    "enable_incoming_utp": False, "enable_outgoing_utp": False,
})
atp = lt.parse_magnet_uri(uri)
atp.save_path = save
atp.flags &= ~lt.torrent_flags.paused & ~lt.torrent_flags.auto_managed
h = ses.add_torrent(atp)
start = time.monotonic()
next_announce = 0
while True:
    now = time.monotonic()
    if now - start > float(timeout):
        print("lt-magnet: timeout", flush=True)
        sys.exit(1)
    st = h.status()
    if now >= next_announce:
        h.force_dht_announce()
        next_announce = now + 2
        print(f"lt-magnet: {st.progress * 100:.1f}% peers {st.num_peers} metadata {st.has_metadata} "
              f"dht nodes {ses.status().dht_nodes}", flush=True)
    if st.is_seeding:
        print(f"lt-magnet: complete in {now - start:.2f} s", flush=True)
        sys.exit(0)
    ses.wait_for_alert(200)
EOF
}

# libtorrent seeds with no tracker and announces to the DHT (a `piecewise dht-node`);
# `piecewise get MAGNET` finds it through the DHT alone, fetches the metadata (BEP 9)
# and downloads.
case_lt_seed_pw_magnet_dht() {
    need_piecewise
    single_payload "$LT_MIB"; pw_create
    dht_node_start
    seed_dir_with_payload; write_lt_dht
    spawn "$T/lt-seed.log" "$PW_PY" "$T/lt_dht.py" seed "$TORRENT" "$T/seed" "$SEEDER" "$DHT_NODE" $((WAIT + 60))
    SEED_PID=$SPAWNED
    wait_seed_ready "libtorrent DHT seeder" "$T/lt-seed.log" 'state seeding'
    wait_alive "$SEED_PID" "$ANNOUNCE_WAIT" dht_node_has_peer ||
        fail "the seeder's announce never reached the piecewise DHT node"
    mkdir -p "$T/down"
    local ih rc
    ih=$(info_hash "$TORRENT")
    timeout -k 5 "$WAIT" "$PW_BIN" get "${PW_VERBOSE[@]}" --dht-bootstrap "$DHT_NODE" -o "$T/down" \
        --listen "$LEECHER" --no-seed --save-torrent "$T/fetched.torrent" "magnet:?xt=urn:btih:$ih" \
        >"$T/pw-get.log" 2>&1
    rc=$?
    [[ $rc == 0 ]] || fail "piecewise get MAGNET exited $rc"
    check_same
    [[ $(info_hash "$T/fetched.torrent") == "$ih" ]] || fail "the saved .torrent has another info-hash"
    stop_pid "$SEED_PID" 10
    stop_pid "$DHT_PID" 10
}

# The reverse: only piecewise seeds, announcing itself to the DHT; libtorrent downloads
# the magnet, fetching the metadata from piecewise.
case_pw_seed_lt_magnet_dht() {
    need_piecewise
    single_payload "$LT_MIB"; pw_create
    dht_node_start
    seed_dir_with_payload
    spawn "$T/pw-seed.log" "$PW_BIN" seed "${PW_VERBOSE[@]}" --dht-bootstrap "$DHT_NODE" --listen "$SEEDER" -d "$T/seed" "$TORRENT"
    SEED_PID=$SPAWNED
    wait_seed_ready "piecewise seed" "$T/pw-seed.log" "$PW_CHECKED_RE"
    wait_alive "$SEED_PID" "$ANNOUNCE_WAIT" dht_node_has_peer ||
        fail "the piecewise seeder never announced itself to the DHT"
    write_lt_magnet
    mkdir -p "$T/down"
    "$PW_PY" "$T/lt_magnet.py" "magnet:?xt=urn:btih:$(info_hash "$TORRENT")" "$T/down" "$LEECHER" "$DHT_NODE" "$WAIT" \
        >"$T/lt-get.log" 2>&1 || fail "libtorrent magnet download through the DHT failed"
    check_same
    grep -m1 'complete in' "$T/lt-get.log"
    stop_pw_seed
    stop_pid "$DHT_PID" 10
}

# Local service discovery (BEP 14), inside this case's own network namespace only: a
# piecewise seeder and downloader with no tracker, no DHT and no peer address find each
# other by multicast on the namespace's loopback.
case_pw_lsd() {
    need_piecewise
    ip link set lo multicast on
    ip route add 239.0.0.0/8 dev lo 2>/dev/null || true
    single_payload 8; pw_create
    seed_dir_with_payload
    spawn "$T/pw-seed.log" "$PW_BIN" seed "${PW_VERBOSE[@]}" --no-dht --lsd --listen "$SEEDER" -d "$T/seed" "$TORRENT"
    SEED_PID=$SPAWNED
    wait_seed_ready "piecewise seed" "$T/pw-seed.log" "$PW_CHECKED_RE"
    pw_get --lsd
    check_same
    stop_pw_seed
}

# Interop cases: protocol encryption (MSE/PE) with libtorrent and Transmission, checked
# through a relay.
# Sourced by tests/interop/cases.sh, which holds the shared helpers and addresses.
# shellcheck shell=bash

# Protocol encryption (MSE, RC4) ----------------------------------------------------
# libtorrent forced to RC4 both ways (INTEROP.md: policies 0, level 2) against
# `piecewise --encryption require`; lt_peer.py --plaintext-only is policies 2, level 1.

RELAY=127.0.0.6:6881

# relay_start TO: a TCP relay on $RELAY to TO that records each direction of every
# connection in $T/relay.{up,down} (bytes towards TO / bytes back), for capture checks.
relay_start() {
    cat >"$T/relay.py" <<'EOF'
import socket, sys, threading
listen, to, out = sys.argv[1], sys.argv[2], sys.argv[3]
def hp(s):
    h, _, p = s.rpartition(":")
    return h, int(p)
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(hp(listen))
srv.listen(16)
lock = threading.Lock()
def pump(a, b, path):
    with open(path, "ab") as f:
        while True:
            try:
                data = a.recv(65536)
            except OSError:
                data = b""
            if not data:
                break
            with lock:
                f.write(data)
                f.flush()
            try:
                b.sendall(data)
            except OSError:
                break
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
while True:
    c, _ = srv.accept()
    u = socket.create_connection(hp(to), timeout=10)
    u.settimeout(None)
    threading.Thread(target=pump, args=(c, u, out + ".up"), daemon=True).start()
    threading.Thread(target=pump, args=(u, c, out + ".down"), daemon=True).start()
EOF
    spawn "$T/relay.log" "$PW_PY" "$T/relay.py" "$RELAY" "$1" "$T/relay"
    RELAY_PID=$SPAWNED
    wait_alive "$RELAY_PID" "$START_WAIT" port_listening "${RELAY%:*}" "${RELAY#*:}" ||
        fail "the relay did not listen on $RELAY"
}

# relay_check_opaque: neither direction shows the BitTorrent handshake or a 64-byte
# sample of the payload in clear, and the relay carried at least the payload.
relay_check_opaque() {
    "$PW_PY" - "$T/relay" "$T/src/$SRC_NAME" <<'PY' || fail "the capture shows plaintext"
import os, sys
cap, src = sys.argv[1], sys.argv[2]
payload = open(src, "rb").read()
samples = [payload[o:o + 64] for o in (0, len(payload) // 2, len(payload) - 64)]
total = 0
for d in ("up", "down"):
    data = open(f"{cap}.{d}", "rb").read() if os.path.exists(f"{cap}.{d}") else b""
    total += len(data)
    if b"BitTorrent protocol" in data:
        sys.exit(f"'BitTorrent protocol' in the {d} direction")
    for s in samples:
        if s in data:
            sys.exit(f"a payload sample in the {d} direction")
    print(f"capture {d}: {len(data)} bytes, no handshake string, no payload sample")
if total < len(payload):
    sys.exit(f"the relay carried only {total} bytes")
PY
}

# libtorrent (forced RC4) seeds, `piecewise get --encryption require` downloads through
# a recording relay: byte-identical result, and nothing readable on the wire.
case_lt_to_pw_enc() {
    need_piecewise
    single_payload "$LT_MIB"; pw_create
    lt_seed --encrypt
    relay_start "$SEEDER"
    pw_get --encryption require --peer "$RELAY"; check_same
    relay_check_opaque
    stop_pid "$RELAY_PID" 5 || true   # the relay dies of the SIGTERM
    echo "PASS: encrypted download, nothing readable on the wire"
}

# `piecewise seed --encryption require` seeds, libtorrent (forced RC4) downloads.
case_pw_to_lt_enc() {
    need_piecewise
    single_payload "$LT_MIB"; pw_create
    PW_OPTS+=(--encryption require)
    pw_seed; lt_get --encrypt --peer "$SEEDER"; check_same; stop_pw_seed
}

# Transmission with "encryption": 2 (required) seeds; `piecewise get --encryption require`
# dials it (Transmission only accepts connections on loopback) and downloads.
case_tr_to_pw_enc() {
    need_piecewise
    single_payload "$TR_MIB"; mktorrent_for "http://$TRACKER_HOST:$TRACKER_PORT/announce"
    tracker; seed_dir_with_payload
    TR_ENCRYPTION=2 tr_start "$T/tr" "$TR_ADDR" "$TR_PORT" 9091
    tr_add "$TORRENT" "$T/seed"
    tr_wait_seeding "$(check_wait)" || fail "Transmission did not seed: $(tr_progress_line)"
    tracker_lists "$TR_ADDR:$TR_PORT" "Transmission"
    pw_get --encryption require; check_same
}

# `piecewise seed --encryption require` seeds, Transmission (encryption required)
# downloads: it announces first, the seeder's `started` announce returns it and the
# seeder dials it.
case_pw_to_tr_enc() {
    need_piecewise
    single_payload "$TR_MIB"; pw_create -t "http://$TRACKER_HOST:$TRACKER_PORT/announce"
    tracker
    TR_ENCRYPTION=2 tr_start "$T/tr" "$TR_ADDR" "$TR_PORT" 9091
    mkdir -p "$T/down"; tr_add "$TORRENT" "$T/down"
    tracker_lists "$TR_ADDR:$TR_PORT" "Transmission"
    PW_OPTS+=(--encryption require)
    pw_seed
    tr_wait_complete "$WAIT" || fail "Transmission did not complete: $(tr_progress_line)"
    check_same; stop_pw_seed
}

# allocated_bytes DIR: bytes of disk actually allocated to the files under DIR.
allocated_bytes() {
    "$PW_PY" -c 'import os, sys
print(sum(os.stat(os.path.join(r, f)).st_blocks * 512 for r, _, fs in os.walk(sys.argv[1]) for f in fs))' "$1"
}

# `piecewise --encryption require` and a plaintext-only libtorrent never transfer, in
# either direction: bounded waits, then no payload moved.
case_pw_require_lt_plaintext() {
    need_piecewise
    single_payload 4; pw_create
    local short=20 rc
    lt_seed --plaintext-only
    mkdir -p "$T/down"
    timeout -k 5 "$short" "$PW_BIN" get "${PW_VERBOSE[@]}" "${PW_OPTS[@]}" -o "$T/down" --listen "$LEECHER" \
        --no-seed --encryption require --peer "$SEEDER" "$TORRENT" >"$T/pw-get.log" 2>&1
    rc=$?
    [[ $rc == 124 ]] || fail "piecewise get --encryption require exited $rc against a plaintext-only seeder"
    [[ $(allocated_bytes "$T/down") == 0 ]] || fail "piecewise wrote data it should never have received"
    stop_pid "$SEED_PID" 10
    grep -q 'uploaded 0 ' "$T/lt-seed.log" || fail "the plaintext-only seeder uploaded: $(grep final "$T/lt-seed.log")"
    echo "lt (plaintext only) -> pw (require): nothing moved in ${short}s"

    # The reverse: piecewise seeds requiring RC4, libtorrent downloads in plaintext only.
    rm -rf "${T:?}/down" "${T:?}/seed"
    PW_OPTS+=(--encryption require)
    pw_seed
    mkdir -p "$T/down"
    "$PW_PY" "$LT_PEER" get "$TORRENT" --dir "$T/down" --listen "$LEECHER" --timeout "$short" \
        --plaintext-only --peer "$SEEDER" >"$T/lt-get.log" 2>&1 &&
        fail "libtorrent (plaintext only) completed a download from piecewise (require)"
    [[ $(allocated_bytes "$T/down") == 0 ]] || fail "libtorrent received data from a require-only seeder"
    stop_pw_seed
    echo "PASS: pw (require) -> lt (plaintext only): nothing moved in ${short}s"
}

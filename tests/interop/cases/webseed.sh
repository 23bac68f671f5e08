# Interop cases: web seeds (BEP 19) from a local HTTP server.
# Sourced by tests/interop/cases.sh, which holds the shared helpers and addresses.
# shellcheck shell=bash

# Web seeds (BEP 19) -----------------------------------------------------------------

# http_mirror DIR: python's http.server serving DIR on 127.0.0.5:8080 (HTTP_PID). It has
# no range support (every GET is a 200 with the whole file), which web seed clients must
# cope with too.
http_mirror() {
    spawn "$T/http.log" "$PW_PY" -m http.server --bind 127.0.0.5 --directory "$1" 8080
    HTTP_PID=$SPAWNED
    wait_alive "$HTTP_PID" "$START_WAIT" port_listening 127.0.0.5 8080 ||
        fail "http.server did not listen on 127.0.0.5:8080"
}

# Piecewise downloads a multi-file torrent it made with --web-seed from the mirror alone:
# no tracker, no peers, no DHT.
case_webseed_only() {
    need_piecewise
    multi_payload 8; seed_dir_with_payload
    http_mirror "$T/seed"
    pw_create --web-seed "http://127.0.0.5:8080/"
    "$PW_BIN" info "$TORRENT" | grep -q '^  http://127.0.0.5:8080/$' ||
        fail "info does not list the web seed: $("$PW_BIN" info "$TORRENT" | tr '\n' ' ')"
    pw_get; check_same
}

# libtorrent downloads a single-file torrent piecewise made with --web-seed (the URL of
# the file itself) from the mirror alone: what we write is what libtorrent reads.
case_webseed_lt() {
    need_piecewise
    single_payload 16; seed_dir_with_payload
    http_mirror "$T/seed"
    pw_create --web-seed "http://127.0.0.5:8080/payload.bin"
    lt_get; check_same
}

# Interop cases: controls: the harness against libtorrent and Transmission alone, without
# piecewise.
# Sourced by tests/interop/cases.sh, which holds the shared helpers and addresses.
# shellcheck shell=bash

# Controls: the harness against real clients only, without piecewise.
case_control_lt_to_lt() {
    multi_payload "$LT_MIB"; mktorrent_for "http://$TRACKER_HOST:$TRACKER_PORT/announce"
    tracker; lt_seed; seeder_announced; lt_get; check_same
}

case_control_tr_to_lt() {
    single_payload "$TR_MIB"; mktorrent_for "http://$TRACKER_HOST:$TRACKER_PORT/announce"
    tracker; seed_dir_with_payload
    tr_start "$T/tr" "$TR_ADDR" "$TR_PORT" 9091
    tr_add "$TORRENT" "$T/seed"
    tr_wait_seeding "$(check_wait)" || fail "Transmission did not seed: $(tr_progress_line)"
    tracker_lists "$TR_ADDR:$TR_PORT" "Transmission"
    lt_get; check_same
}

case_control_lt_to_tr() {
    single_payload "$TR_MIB"; mktorrent_for "http://$TRACKER_HOST:$TRACKER_PORT/announce"
    tracker
    tr_start "$T/tr" "$TR_ADDR" "$TR_PORT" 9091
    mkdir -p "$T/down"; tr_add "$TORRENT" "$T/down"
    tracker_lists "$TR_ADDR:$TR_PORT" "Transmission"
    lt_seed
    tr_wait_complete "$WAIT" || fail "Transmission did not complete: $(tr_progress_line)"
    check_same
}

# The harness's tracker probe with an info-hash that holds a 0x20 byte (about one random
# torrent in 13 does): the probe must ask about that torrent, not one with 0x2b there
# (form encoding's "+" for a space), or it never sees the seeder.
case_control_hash_with_space() {
    single_payload 1; mktorrent_for "http://$TRACKER_HOST:$TRACKER_PORT/announce"
    # Rename the torrent's file until its info-hash has a 0x20 byte (P(none in 2000) < 1e-60).
    local name
    name=$("$PW_PY" - "$TORRENT" <<'PY'
import hashlib, sys
import libtorrent as lt
path = sys.argv[1]
with open(path, "rb") as f:
    meta = lt.bdecode(f.read())
for n in range(2000):
    meta[b"info"][b"name"] = f"payload-{n}.bin".encode()
    if b"\x20" in hashlib.sha1(lt.bencode(meta[b"info"])).digest():
        with open(path, "wb") as f:
            f.write(lt.bencode(meta))
        print(f"payload-{n}.bin")
        break
PY
) || fail "could not rewrite $TORRENT"
    [[ -n $name ]] || fail "no name gave an info-hash with a 0x20 byte"
    mv "$T/src/$SRC_NAME" "$T/src/$name"; SRC_NAME=$name
    echo "info-hash $(info_hash "$TORRENT") (name $SRC_NAME)"
    tracker; lt_seed; seeder_announced; lt_get; check_same
}

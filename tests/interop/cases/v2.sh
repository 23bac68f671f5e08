# Interop cases: BitTorrent v2 and hybrid torrents (BEP 52) with libtorrent.
# Sourced by tests/interop/cases.sh, which holds the shared helpers and addresses.
# shellcheck shell=bash

# BEP 52 v2 and hybrid torrents --------------------------------------------------------

# v2_payload MIB: $T/src/v2set/ with uneven files, one smaller than a piece, an empty one
# and one in a subfolder (SRC_NAME=v2set).
v2_payload() {
    local mib=$1
    mkdir -p "$T/src/v2set/sub"
    head -c $((mib * 1048576 / 2 + 12345)) /dev/urandom >"$T/src/v2set/one.bin"
    head -c 7 /dev/urandom >"$T/src/v2set/tiny.txt"
    : >"$T/src/v2set/empty.dat"
    head -c $((mib * 1048576 / 2 - 777)) /dev/urandom >"$T/src/v2set/sub/two.bin"
    SRC_NAME=v2set
    PAYLOAD_MIB=$mib
}

# info_agrees: piecewise info --json and libtorrent give the same v1 and v2 info-hashes
# for $TORRENT, and the format FORMAT (info_hash is null for a v2-only torrent).
info_agrees() {
    local format=$1 ours lt1 lt2
    ours=$("$PW_BIN" info --json "$TORRENT" | "$PW_PY" -c '
import json, sys
j = json.load(sys.stdin)
print(j["format"], j["info_hash"] or "none", j["info_hash_v2"] or "none")') ||
        fail "piecewise info --json failed on $TORRENT"
    lt1=$(info_hash "$TORRENT") || fail "libtorrent cannot load $TORRENT"
    lt2=$("$PW_PY" "$LT_PEER" infohash --v2 "$TORRENT") || fail "libtorrent cannot load $TORRENT"
    [[ $format == v2 ]] && lt1=none
    [[ $ours == "$format $lt1 $lt2" ]] ||
        fail "info --json says '$ours', libtorrent says '$format $lt1 $lt2'"
    echo "info --json agrees with libtorrent: $ours"
}

# lt_create FORMAT: $TORRENT made by libtorrent from $T/src/$SRC_NAME (256 KiB pieces).
lt_create() {
    TORRENT=$T/lt.torrent
    "$PW_PY" "$LT_PEER" create "$T/src/$SRC_NAME" --out "$TORRENT" --format "$1" \
        --piece-size 262144 >"$T/lt-create.log" 2>&1 || fail "libtorrent could not create a $1 torrent"
}

# pw_create_format FORMAT: $TORRENT made by piecewise, checked against libtorrent.
pw_create_format() {
    TORRENT=$T/pw.torrent
    "$PW_BIN" create -o "$TORRENT" --piece-size 262144 --format "$1" "$T/src/$SRC_NAME" \
        >"$T/pw-create.log" 2>&1 || fail "piecewise create --format $1 failed"
    info_agrees "$1"
}

# libtorrent makes and seeds a v2-only torrent; piecewise downloads it byte-identical
# (the empty file included).
case_lt_to_pw_v2() {
    need_piecewise
    v2_payload "$LT_MIB"; lt_create v2; info_agrees v2
    lt_seed; pw_get --peer "$SEEDER"; check_same
    [[ -f $T/down/$SRC_NAME/empty.dat ]] || fail "the empty file was not created"
    [[ -z $(find "$T/down" -path '*.pad*') ]] || fail "pad files were written to disk"
}

# piecewise makes and seeds a v2-only torrent; libtorrent downloads it.
case_pw_to_lt_v2() {
    need_piecewise
    v2_payload "$LT_MIB"; pw_create_format v2
    pw_seed; lt_get --peer "$SEEDER"; check_same; stop_pw_seed
}

# piecewise makes and seeds a hybrid torrent; libtorrent downloads it.
case_pw_to_lt_hybrid() {
    need_piecewise
    v2_payload "$LT_MIB"; pw_create_format hybrid
    pw_seed; lt_get --peer "$SEEDER"; check_same; stop_pw_seed
}

# info --json against libtorrent on torrents libtorrent made in all three formats, and
# the same payload made by piecewise has the same info-hashes.
case_pw_info_v2_agrees() {
    need_piecewise
    v2_payload 2
    local f lt_json pw_json
    for f in v1 v2 hybrid; do
        lt_create "$f"; info_agrees "$f"
        [[ $f == v1 ]] && continue   # libtorrent's v1 file order is its own
        lt_json=$("$PW_BIN" info --json "$TORRENT" | "$PW_PY" -c 'import json,sys; j=json.load(sys.stdin); print(j["info_hash"], j["info_hash_v2"])')
        pw_create_format "$f"
        pw_json=$("$PW_BIN" info --json "$TORRENT" | "$PW_PY" -c 'import json,sys; j=json.load(sys.stdin); print(j["info_hash"], j["info_hash_v2"])')
        [[ $lt_json == "$pw_json" ]] || fail "$f: libtorrent made $lt_json, piecewise made $pw_json"
    done
    echo "PASS"
}

# v2_magnet: a btmh magnet link (BEP 52 / BEP 9) for $TORRENT, naming only its v2 hash.
v2_magnet() {
    local v2
    v2=$("$PW_BIN" info --json "$TORRENT" | "$PW_PY" -c 'import json,sys; print(json.load(sys.stdin)["info_hash_v2"])') ||
        fail "piecewise info --json failed on $TORRENT"
    [[ $v2 =~ ^[0-9a-f]{64}$ ]] || fail "no v2 info-hash for $TORRENT: $v2"
    echo "magnet:?xt=urn:btmh:1220$v2&dn=$SRC_NAME"
}

# piecewise seeds a v2-only torrent; libtorrent, given only its btmh magnet link, fetches
# the info dictionary (ut_metadata) and then every piece layer by BEP 52 hash requests
# from piecewise: without them it could not check a single piece of the larger files.
case_pw_to_lt_v2_magnet() {
    need_piecewise
    v2_payload "$LT_MIB"; pw_create_format v2
    pw_seed
    TORRENT=$(v2_magnet); echo "magnet: $TORRENT"
    lt_get --peer "$SEEDER"; check_same
    grep -q 'metadata_received_alert' "$T/lt-get.log" || fail "libtorrent never got the metadata"
    stop_pw_seed
    # The seed's --verbose summary counts the hash requests it answered.
    grep -Eq 'BEP 52 hash requests: [1-9][0-9]* served, 0 rejected' "$T/pw-seed.log" ||
        fail "piecewise served no piece layers: $(grep 'hash requests' "$T/pw-seed.log")"
    grep 'hash requests' "$T/pw-seed.log"
}

# libtorrent seeds a v2-only torrent; piecewise, given only its btmh magnet link, checks
# the metadata by SHA-256, fetches every piece layer by BEP 52 hash requests (each checked
# against its file's pieces root), downloads byte-identical, and --save-torrent writes a
# .torrent with the layers that libtorrent loads with the same v2 info-hash.
case_lt_to_pw_v2_magnet() {
    need_piecewise
    v2_payload "$LT_MIB"; lt_create v2
    local file=$TORRENT want saved
    lt_seed
    TORRENT=$(v2_magnet); echo "magnet: $TORRENT"
    pw_get --peer "$SEEDER" --save-torrent "$T/saved.torrent"; check_same
    [[ -f $T/down/$SRC_NAME/empty.dat ]] || fail "the empty file was not created"
    want=$("$PW_PY" "$LT_PEER" infohash --v2 "$file")
    saved=$("$PW_PY" "$LT_PEER" infohash --v2 "$T/saved.torrent") ||
        fail "libtorrent cannot load the saved torrent"
    [[ $saved == "$want" ]] || fail "saved torrent's v2 info-hash $saved, expected $want"
    "$PW_BIN" verify -d "$T/down" "$T/saved.torrent" >"$T/verify.log" 2>&1 ||
        fail "piecewise verify of the download against the saved torrent failed"
    echo "PASS: saved torrent (with piece layers) verifies the download"
}

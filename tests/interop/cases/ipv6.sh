# Interop cases: peers over IPv6 on ::1 (BEP 7 addresses, BEP 10 "ipv6"), against
# libtorrent. Piecewise listens on both families at once (--listen given twice).
# Sourced by tests/interop/cases.sh, which holds the shared helpers and addresses.
# shellcheck shell=bash

# ipv6_loopback: the namespace's lo carries ::1 (added when the kernel left it off).
ipv6_loopback() {
    ip -6 addr show dev lo 2>/dev/null | grep -q 'inet6 ::1/128' ||
        ip -6 addr add ::1/128 dev lo 2>/dev/null ||
        fail "no ::1 on lo in the test namespace"
}

# listening_v6 HOST PORT (wait_seed_ready's probe, HOST "[::1]"): a TCP socket listens
# at [::1]:PORT (ss shows it as "[::1]%lo:PORT"; port_listening's pattern would take
# HOST's brackets as a regular expression's).
listening_v6() { ss -Hltn "sport = :$2" 2>/dev/null | awk '{ print $4 }' | grep -qxE "\[::1\](%[^:]*)?:$2"; }

# libtorrent seeds on [::1]:6881 only; piecewise (127.0.0.3 and ::1, port 6882) is told
# the seeder's IPv6 endpoint and downloads over IPv6 (the seeder has no other address),
# byte-identical.
case_lt_to_pw_ipv6() {
    need_piecewise
    ipv6_loopback
    single_payload "$LT_MIB"; pw_create   # no tracker in the torrent
    SEEDER="[::1]:6881"
    SEED_PROBE=listening_v6 lt_seed
    LEECHER=127.0.0.3:6882
    pw_get --listen "[::1]:6882" --peer "$SEEDER"
    check_same
}

# piecewise seeds on 127.0.0.2 and [::1] (port 6881); libtorrent, listening on
# [::1]:6882 only, dials [::1]:6881 and downloads over IPv6, byte-identical.
case_pw_to_lt_ipv6() {
    need_piecewise
    ipv6_loopback
    single_payload "$LT_MIB"; mktorrent_for "http://$TRACKER_HOST:9/announce"
    PW_OPTS+=(--listen "[::1]:6881")
    pw_seed
    lt_get --listen "[::1]:6882" --peer "[::1]:6881"
    check_same
    stop_pw_seed
}

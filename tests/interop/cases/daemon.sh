# Interop cases: `piecewise daemon` driven by transmission-remote and a second front-end:
# files, limits, settings, moves, queues.
# Sourced by tests/interop/cases.sh, which holds the shared helpers and addresses.
# shellcheck shell=bash

# piecewise daemon driven by Transmission's own transmission-remote: add a torrent that a
# libtorrent seeder serves (found through the tracker), list, details, stop/start, a
# kill -9 and restart that keeps the torrent in the same (stopped) state without a
# re-hash, remove. Then the RPC's HTTP checks with curl: 409 session-id handshake, Basic
# auth (401), the client allow-list (403), the Host check (421) and the body limit (413).
DAEMON_RPC=127.0.0.1:9092
daemon_start() {   # daemon_start [piecewise daemon options]
    spawn "$T/daemon.log" "$PW_BIN" daemon --no-dht --rpc "$DAEMON_RPC" --state-dir "$T/dstate" \
        --download-dir "$T/down" --listen "$LEECHER" "$@"
    DAEMON_PID=$SPAWNED
    wait_alive "$DAEMON_PID" "$START_WAIT" port_listening "${DAEMON_RPC%:*}" "${DAEMON_RPC#*:}"
    (($? == 0)) || fail "piecewise daemon did not listen on $DAEMON_RPC"
}
remote() { timeout 30 transmission-remote "$DAEMON_RPC" "$@" 2>&1; }
remote_status() { remote -l | awk '$1 == "1" { print $(NF-1) }'; }   # single-word name
remote_field() { remote -t 1 -i | awk -F': *' -v k="$1" '$1 ~ "^ *"k"$" { print $2 }'; }
rpc_http() {   # rpc_http [curl options]: prints the HTTP status
    curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X POST "http://$DAEMON_RPC/transmission/rpc" "$@" \
        -d '{"method":"session-get"}'
}
session_id() {
    curl -s -i --max-time 10 -X POST "http://$DAEMON_RPC/transmission/rpc" "$@" -d '{}' |
        awk -F': *' 'tolower($1) == "x-transmission-session-id" { sub(/\r$/, "", $2); print $2 }'
}

case_daemon_remote() {
    need_piecewise
    command -v transmission-remote >/dev/null || { echo "SKIP: transmission-remote missing"; exit 77; }
    single_payload "$TR_MIB"; mktorrent_for "http://$TRACKER_HOST:$TRACKER_PORT/announce"
    tracker; lt_seed; seeder_announced
    local ih out; ih=$(info_hash "$TORRENT")
    daemon_start
    mkdir -p "$T/down"
    out=$(remote -a "$TORRENT" -w "$T/down")
    [[ $out == *success* ]] || fail "transmission-remote -a: $out"
    remote -l | grep -q "$SRC_NAME" || fail "-l does not list $SRC_NAME: $(remote -l)"
    wait_until "$WAIT" bash -c "[[ \$(timeout 30 transmission-remote $DAEMON_RPC -t 1 -i | grep 'Percent Done') == *'100%'* ]]" ||
        fail "the download did not complete within $WAIT s: $(remote -t 1 -i | grep -E 'State|Percent')"
    check_same
    [[ $(remote_field Name) == "$SRC_NAME" ]] || fail "-i name: $(remote_field Name)"
    [[ $(remote_field Hash) == "$ih" ]] || fail "-i hash: $(remote_field Hash), expected $ih"
    remote -t 1 -f | grep -q "$SRC_NAME" || fail "-f does not list the file: $(remote -t 1 -f)"

    remote -t 1 -S >/dev/null
    wait_until 20 bash -c "[[ \$(timeout 30 transmission-remote $DAEMON_RPC -l | awk '\$1 == \"1\"') == *Stopped* ]]" ||
        fail "-S: not stopped: $(remote -l)"
    remote -t 1 -s >/dev/null
    wait_until 20 bash -c "[[ \$(timeout 30 transmission-remote $DAEMON_RPC -l | awk '\$1 == \"1\"') =~ (Seeding|Idle) ]]" ||
        fail "-s: not seeding again: $(remote -l)"

    # Stopped, then killed without warning: the restart lists it, still stopped, complete.
    remote -t 1 -S >/dev/null
    wait_until 20 bash -c "[[ \$(timeout 30 transmission-remote $DAEMON_RPC -l | awk '\$1 == \"1\"') == *Stopped* ]]" ||
        fail "-S before kill: $(remote -l)"
    kill -9 "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null
    daemon_start
    out=$(remote -l | awk '$1 == "1"')
    [[ $out == *Stopped* && $out == *100%* && $out == *"$SRC_NAME"* ]] || fail "after kill -9 and restart: $out"
    remote -t 1 -s >/dev/null
    wait_until 20 bash -c "[[ \$(timeout 30 transmission-remote $DAEMON_RPC -l | awk '\$1 == \"1\"') =~ (Seeding|Idle) ]]" ||
        fail "after restart, -s: $(remote -l)"
    [[ $(remote_field 'Percent Done') == 100% ]] || fail "after restart: $(remote_field 'Percent Done')"

    # Protocol encryption through the session settings, as front-ends switch it.
    remote -si | grep -q 'Encryption: preferred' || fail "-si: $(remote -si | grep -i encryption)"
    remote --encryption-required >/dev/null
    remote -si | grep -q 'Encryption: required' || fail "--encryption-required: $(remote -si | grep -i encryption)"

    out=$(remote -t 1 -r)
    [[ $out == *success* ]] || fail "-r: $out"
    remote -l | awk '$1 == "1"' | grep -q . && fail "-r: still listed: $(remote -l)"
    [[ -f $T/down/$SRC_NAME ]] || fail "-r (without --remove-and-delete) deleted the data"

    # HTTP checks.
    local code sid
    code=$(rpc_http); [[ $code == 409 ]] || fail "no session id: HTTP $code, expected 409"
    sid=$(session_id); [[ ${#sid} -ge 32 ]] || fail "409 without a usable X-Transmission-Session-Id ($sid)"
    code=$(rpc_http -H "X-Transmission-Session-Id: $sid"); [[ $code == 200 ]] || fail "with the id: HTTP $code"
    code=$(rpc_http -H "X-Transmission-Session-Id: wrong"); [[ $code == 409 ]] || fail "wrong id: HTTP $code"
    code=$(rpc_http -H "X-Transmission-Session-Id: $sid" -H "Host: evil.example:9092")
    [[ $code == 421 ]] || fail "Host evil.example: HTTP $code, expected 421"
    head -c $((11 * 1048576)) /dev/zero >"$T/big.json"
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 20 -X POST -H "X-Transmission-Session-Id: $sid" \
        --data-binary @"$T/big.json" "http://$DAEMON_RPC/transmission/rpc")
    [[ $code == 413 ]] || fail "an 11 MiB body: HTTP $code, expected 413"
    code=$(rpc_http -H "X-Transmission-Session-Id: $sid"); [[ $code == 200 ]] || fail "after the 413: HTTP $code"
    stop_pid "$DAEMON_PID" 15 || fail "piecewise daemon exited $? after SIGTERM (expected 0)"

    daemon_start --rpc-auth alice:s3cret
    code=$(rpc_http); [[ $code == 401 ]] || fail "auth on, no credentials: HTTP $code, expected 401"
    code=$(rpc_http -u alice:wrong); [[ $code == 401 ]] || fail "auth on, wrong password: HTTP $code"
    sid=$(session_id -u alice:s3cret)
    code=$(rpc_http -u alice:s3cret -H "X-Transmission-Session-Id: $sid"); [[ $code == 200 ]] || fail "auth ok: HTTP $code"
    remote -n alice:s3cret -l | grep -q "^Sum:" || fail "transmission-remote -n: $(remote -n alice:s3cret -l)"
    stop_pid "$DAEMON_PID" 15 || fail "piecewise daemon exited $? after SIGTERM (expected 0)"

    daemon_start --rpc-allow 127.0.0.9
    code=$(rpc_http); [[ $code == 403 ]] || fail "client not on the allow-list: HTTP $code, expected 403"
    stop_pid "$DAEMON_PID" 15 || fail "piecewise daemon exited $? after SIGTERM (expected 0)"
    echo "PASS: transmission-remote add/list/info/files/stop/start/kill -9 restart/remove; HTTP 409/421/413/401/403"
}

# transmission-remote -G/-g (files unwanted/wanted) against piecewise daemon: added while
# no seeder is up, one file skipped, then the seeder starts: the others complete and the
# skipped one is absent; -g all fetches it too, and the whole folder matches.
case_daemon_remote_files() {
    need_piecewise
    command -v transmission-remote >/dev/null || { echo "SKIP: transmission-remote missing"; exit 77; }
    multi_payload "$TR_MIB"; mktorrent_for "http://$TRACKER_HOST:$TRACKER_PORT/announce"
    tracker
    local skip out
    skip=$(file_indices two.bin); [[ $skip =~ ^[0-9]+$ ]] || fail "file index: '$skip'"
    daemon_start
    mkdir -p "$T/down"
    out=$(remote -a "$TORRENT" -w "$T/down")
    [[ $out == *success* ]] || fail "transmission-remote -a: $out"
    out=$(remote -t 1 -G "$skip"); [[ $out == *success* ]] || fail "-G $skip: $out"
    remote -t 1 -f | awk -v i="$skip:" '$1 == i' | grep -q ' No ' || fail "-f does not show file $skip unwanted: $(remote -t 1 -f)"
    lt_seed; seeder_announced
    remote -t 1 --reannounce >/dev/null
    wait_until "$WAIT" bash -c "[[ \$(timeout 30 transmission-remote $DAEMON_RPC -t 1 -i | grep 'Percent Done') == *'100%'* ]]" ||
        fail "the wanted files did not complete within $WAIT s: $(remote -t 1 -i | grep -E 'State|Percent|Left')"
    cmp "$T/src/album/one.bin" "$T/down/album/one.bin" || fail "one.bin differs"
    cmp "$T/src/album/tiny.txt" "$T/down/album/tiny.txt" || fail "tiny.txt differs"
    [[ -e "$T/down/album/disc 2/two.bin" ]] && fail "the unwanted file was created: $(remote -t 1 -f)"
    # The selection survives a kill -9.
    kill -9 "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null
    daemon_start
    remote -t 1 -f | awk -v i="$skip:" '$1 == i' | grep -q ' No ' || fail "after restart, -f: $(remote -t 1 -f)"
    out=$(remote -t 1 -g all); [[ $out == *success* ]] || fail "-g all: $out"
    wait_until "$WAIT" bash -c "[[ -f '$T/down/album/disc 2/two.bin' && \$(timeout 30 transmission-remote $DAEMON_RPC -t 1 -i | grep 'Percent Done') == *'100%'* ]]" ||
        fail "after -g all, not complete within $WAIT s: $(remote -t 1 -i | grep -E 'State|Percent|Left')"
    check_same
    stop_pid "$DAEMON_PID" 15 || fail "piecewise daemon exited $? after SIGTERM (expected 0)"
    echo "PASS: transmission-remote -G/-g: file $skip skipped (absent), then fetched; restart kept the selection"
}

# sl_rpc_call JSON: one RPC request to the daemon (with its session id); prints the answer.
sl_rpc_call() {
    local sid; sid=$(session_id)
    curl -s --max-time 10 -X POST -H "X-Transmission-Session-Id: $sid" "http://$DAEMON_RPC/transmission/rpc" -d "$1"
}
# sl_rpc_arg JSON PYEXPR: evaluates PYEXPR on the answer's `arguments` (as `a`).
sl_rpc_arg() { sl_rpc_call "$1" | "$PW_PY" -c "import json,sys; a=json.load(sys.stdin)['arguments']; print($2)"; }
sl_torrent_down() { sl_rpc_arg '{"method":"torrent-get","arguments":{"ids":[1],"fields":["downloadedEver"]}}' "a['torrents'][0]['downloadedEver']"; }
# sl_daemon_rate WARM WINDOW: bytes/s the daemon's torrent 1 received over WINDOW s after WARM s.
sl_daemon_rate() {
    sleep "$1"
    local b0 t0 b1 t1
    b0=$(sl_torrent_down); t0=$(date +%s.%N)
    sleep "$2"
    b1=$(sl_torrent_down); t1=$(date +%s.%N)
    "$PW_PY" -c "print(int(($b1 - $b0) / ($t1 - $t0)))"
}
sl_near() {   # sl_near VALUE TARGET: within 25 %
    "$PW_PY" -c "import sys; sys.exit(0 if abs($1 - $2) <= 0.25 * $2 else 1)"
}

# Speed limits driven by transmission-remote: global -d/-u, alt speed and its schedule,
# per torrent -t -d/-D and -HL, what session-get and torrent-get report, a restart that
# keeps them, and a download from libtorrent that runs at the limit.
case_daemon_speed_limits() {
    need_piecewise
    command -v transmission-remote >/dev/null || { echo "SKIP: transmission-remote missing"; exit 77; }
    single_payload 16; mktorrent_for "http://$TRACKER_HOST:$TRACKER_PORT/announce"
    tracker; lt_seed; seeder_announced
    daemon_start --max-up 300k
    local sess='{"method":"session-get"}' out rate
    [[ $(sl_rpc_arg "$sess" "a['speed-limit-up'], a['speed-limit-up-enabled']") == "300 True" ]] ||
        fail "--max-up 300k: $(sl_rpc_call "$sess")"
    remote -d 1000 -u 200 >/dev/null
    remote -asd 7 -asu 8 >/dev/null
    remote --alt-speed-time-begin 0130 --alt-speed-time-end 0245 --alt-speed-days 1-5 >/dev/null
    out=$(sl_rpc_arg "$sess" "a['speed-limit-down'], a['speed-limit-down-enabled'], a['speed-limit-up'], a['alt-speed-down'], a['alt-speed-up'], a['alt-speed-time-begin'], a['alt-speed-time-end'], a['alt-speed-time-day'], a['units']['speed-bytes']")
    [[ $out == "1000 True 200 7 8 90 165 62 1000" ]] || fail "session-get after -d/-u/-asd/-asu/times: $out"
    remote --alt-speed >/dev/null
    [[ $(sl_rpc_arg "$sess" "a['alt-speed-enabled']") == True ]] || fail "--alt-speed: $(sl_rpc_call "$sess")"
    remote --no-alt-speed -U >/dev/null
    [[ $(sl_rpc_arg "$sess" "a['alt-speed-enabled'], a['speed-limit-up-enabled'], a['speed-limit-up']") == "False False 200" ]] ||
        fail "--no-alt-speed -U: $(sl_rpc_call "$sess")"
    # A schedule window covering every minute of every day switches alt speed on at once.
    remote --alt-speed-time-begin 0000 --alt-speed-time-end 0000 --alt-speed-days 1-7 -asc >/dev/null
    [[ $(sl_rpc_arg "$sess" "a['alt-speed-enabled'], a['alt-speed-time-enabled']") == "True True" ]] ||
        fail "-asc over the whole week: $(sl_rpc_call "$sess")"
    remote -ASC --no-alt-speed >/dev/null

    # The download: global limit 1000 kB/s.
    mkdir -p "$T/down"
    out=$(remote -a "$TORRENT" -w "$T/down"); [[ $out == *success* ]] || fail "-a: $out"
    rate=$(sl_daemon_rate 3 6)
    sl_near "$rate" 1000000 || fail "global -d 1000: downloaded at $rate B/s"
    echo "global limit 1000 kB/s: $rate B/s"
    # This torrent's own limit, under the global one, and not honouring the session's.
    remote -t 1 -d 400 >/dev/null
    local tget='{"method":"torrent-get","arguments":{"ids":[1],"fields":["downloadLimit","downloadLimited","uploadLimited","honorsSessionLimits"]}}'
    [[ $(sl_rpc_arg "$tget" "a['torrents'][0]['downloadLimit'], a['torrents'][0]['downloadLimited']") == "400 True" ]] ||
        fail "-t 1 -d 400: $(sl_rpc_call "$tget")"
    rate=$(sl_daemon_rate 2 4)
    sl_near "$rate" 400000 || fail "-t 1 -d 400 under -d 1000: downloaded at $rate B/s"
    echo "torrent limit 400 kB/s: $rate B/s"
    remote -t 1 -HL -u 50 >/dev/null
    [[ $(sl_rpc_arg "$tget" "a['torrents'][0]['honorsSessionLimits'], a['torrents'][0]['uploadLimited']") == "False True" ]] ||
        fail "-t 1 -HL -u 50: $(sl_rpc_call "$tget")"

    # kill -9 and restart: every limit is still there.
    kill -9 "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null
    daemon_start
    out=$(sl_rpc_arg "$sess" "a['speed-limit-down'], a['speed-limit-down-enabled'], a['alt-speed-down'], a['alt-speed-time-day']")
    [[ $out == "1000 True 7 127" ]] || fail "after kill -9: session $out"
    out=$(sl_rpc_arg "$tget" "a['torrents'][0]['downloadLimit'], a['torrents'][0]['downloadLimited'], a['torrents'][0]['honorsSessionLimits']")
    [[ $out == "400 True False" ]] || fail "after kill -9: torrent $out"
    # Limits off: the rest arrives at full speed.
    remote -t 1 -D -hl >/dev/null
    remote -D >/dev/null
    wait_until "$WAIT" bash -c "[[ \$(timeout 30 transmission-remote $DAEMON_RPC -t 1 -i | grep 'Percent Done') == *'100%'* ]]" ||
        fail "no completion after the limits were lifted: $(remote -t 1 -i | grep -E 'State|Percent')"
    check_same
    stop_pid "$DAEMON_PID" 15 || fail "piecewise daemon exited $? after SIGTERM (expected 0)"
    echo "PASS: transmission-remote speed limits (global, alt speed, schedule, per torrent) reported, enforced and kept across kill -9"
}

# The daemon's watch dir and per-torrent settings as transmission-remote drives them:
# a .torrent dropped into --watch-dir is added (data present: it seeds) and renamed
# .added, a hostile one .invalid; -sr 0 stops the seed at its ratio limit, -SR lifts it;
# -L labels, -td/-tr trackers; all kept across kill -9.
case_daemon_settings() {
    need_piecewise
    command -v transmission-remote >/dev/null || { echo "SKIP: transmission-remote missing"; exit 77; }
    single_payload 2; mktorrent_for "http://$TRACKER_HOST:$TRACKER_PORT/announce"
    tracker
    mkdir -p "$T/watch" "$T/down"; cp "$T/src/$SRC_NAME" "$T/down/"   # data present: seeds
    daemon_start --watch-dir "$T/watch"
    cp "$TORRENT" "$T/watch/a.torrent"
    printf 'd4:infoi5ee' >"$T/watch/evil.torrent"
    wait_until 20 test -f "$T/watch/a.torrent.added" || fail "watch dir: not added: $(ls "$T/watch")"
    wait_until 20 test -f "$T/watch/evil.torrent.invalid" || fail "watch dir: hostile file not .invalid: $(ls "$T/watch")"
    grep -q 'evil.torrent is invalid' "$T/daemon.log" || fail "watch dir: the reason is not logged"
    wait_until 30 bash -c "[[ \$(timeout 30 transmission-remote $DAEMON_RPC -l | awk '\$1 == \"1\"') =~ (Seeding|Idle) ]]" ||
        fail "watch dir torrent does not seed: $(remote -l)"

    remote -t 1 -sr 0 >/dev/null
    wait_until 20 bash -c "[[ \$(timeout 30 transmission-remote $DAEMON_RPC -l | awk '\$1 == \"1\"') == *Finished* || \$(timeout 30 transmission-remote $DAEMON_RPC -l | awk '\$1 == \"1\"') == *Stopped* ]]" ||
        fail "-sr 0: the seed did not stop: $(remote -l)"
    remote -t 1 -i | grep -q 'Ratio Limit: 0' || fail "-i after -sr 0: $(remote -t 1 -i | grep -i ratio)"
    remote -t 1 -L tv,hd >/dev/null
    remote -t 1 -i | grep -q 'Labels: tv, hd' || fail "-L: $(remote -t 1 -i | grep -i label)"
    remote -t 1 -td "http://127.0.0.1:7/announce" >/dev/null
    [[ $(remote -t 1 -it | grep -c '^ *Tracker [0-9]') == 2 ]] || fail "-td: $(remote -t 1 -it)"
    remote -t 1 -it | grep -q 'Active in tier 1' || fail "-td: not a tier of its own: $(remote -t 1 -it)"
    remote -gsr 3 >/dev/null
    # transmission-remote 3.00 shows limits (-si) only with the speed-limit keys too: asked directly.
    ratio_get() {
        curl -s --max-time 10 -X POST -H "X-Transmission-Session-Id: $(session_id)" "http://$DAEMON_RPC/transmission/rpc" \
            -d '{"method":"session-get","arguments":{"fields":["seedRatioLimit","seedRatioLimited"]}}'
    }
    [[ $(ratio_get) == *'"seedRatioLimit":3'* && $(ratio_get) == *'"seedRatioLimited":true'* ]] || fail "-gsr 3: $(ratio_get)"
    sleep 2   # the stop at the limit is stored by the daemon's housekeeping (1 s)
    kill -9 "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null
    daemon_start --watch-dir "$T/watch"
    sleep 2
    [[ $(remote -l | awk '$1 == "1"') =~ (Finished|Stopped) ]] || fail "after kill -9: not stopped: $(remote -l)"
    remote -t 1 -i | grep -q 'Labels: tv, hd' || fail "after kill -9: labels $(remote -t 1 -i | grep -i label)"
    [[ $(remote -t 1 -it | grep -c '^ *Tracker [0-9]') == 2 ]] || fail "after kill -9: trackers $(remote -t 1 -it)"
    [[ $(ratio_get) == *'"seedRatioLimit":3'* ]] || fail "after kill -9: $(ratio_get)"
    remote -t 1 -tr 1 >/dev/null
    [[ $(remote -t 1 -it | grep -c '^ *Tracker [0-9]') == 1 ]] || fail "-tr 1: $(remote -t 1 -it)"
    remote -t 1 -SR >/dev/null
    remote -t 1 -s >/dev/null
    wait_until 20 bash -c "[[ \$(timeout 30 transmission-remote $DAEMON_RPC -l | awk '\$1 == \"1\"') =~ (Seeding|Idle) ]]" ||
        fail "-SR -s: not seeding: $(remote -l)"
    sleep 2
    [[ $(remote -l | awk '$1 == "1"') =~ (Seeding|Idle) ]] || fail "-SR: stopped again: $(remote -l)"
    stop_pid "$DAEMON_PID" 15 || fail "piecewise daemon exited $? after SIGTERM (expected 0)"
    echo "PASS: watch dir .added/.invalid; -sr 0 stops the seed, -L, -td/-tr, -gsr, kept across kill -9; -SR -s seeds"
}

# transmission-remote --incomplete-dir / --torrent-done-script, then --move / --find
# against piecewise daemon: the torrent downloads into the incomplete dir and reaches the
# download dir once finished (the done script runs there); a downloaded torrent moves
# to another directory (bytes identical there, gone from the old one) and keeps seeding
# from there to a libtorrent leecher that knows only the daemon; --find points it at a
# copy and verifies it. Then a kill -9 in the middle of a cross-file-system move (ext4 ->
# tmpfs) of a large torrent: the restart lists it complete at one of the two places,
# without a download (there is no seeder for it), and a new move completes.
case_daemon_remote_move() {
    need_piecewise
    command -v transmission-remote >/dev/null || { echo "SKIP: transmission-remote missing"; exit 77; }
    single_payload "$TR_MIB"; mktorrent_for "http://$TRACKER_HOST:$TRACKER_PORT/announce"
    tracker; lt_seed --upload-limit $((TR_MIB * 1048576 / 3)); seeder_announced
    daemon_start
    mkdir -p "$T/down"
    local out loc
    # Downloaded into --incomplete-dir as payload.bin.part (rename-partial-files), moved to
    # the download dir once finished under its own name; then the --torrent-done-script
    # runs there.
    printf '#!/bin/sh\nenv | grep "^TR_" >"%s.tmp" && mv "%s.tmp" "%s"\n' "$T/done.env" "$T/done.env" "$T/done.env" >"$T/done.sh"
    chmod +x "$T/done.sh"
    out=$(remote --incomplete-dir "$T/inc" --torrent-done-script "$T/done.sh"); [[ $out == *success* ]] || fail "-c: $out"
    out=$(sl_rpc_call '{"method":"session-set","arguments":{"rename-partial-files":true}}')
    [[ $out == *success* ]] || fail "session-set rename-partial-files: $out"
    out=$(remote -a "$TORRENT" -w "$T/down"); [[ $out == *success* ]] || fail "-a: $out"
    [[ $(remote_field Location) == "$T/down" ]] || fail "-c: location $(remote_field Location)"
    wait_until 60 test -f "$T/inc/$SRC_NAME.part" || fail "no $SRC_NAME.part in the incomplete dir while downloading: $(ls -la "$T/inc" 2>&1)"
    wait_until "$WAIT" test -f "$T/done.env" || fail "the done script did not run within $WAIT s: $(remote -t 1 -i | grep -E 'State|Percent')"
    [[ -e $T/down/$SRC_NAME.part ]] && fail "$SRC_NAME.part left after the download"
    grep -qx "TR_TORRENT_DIR=$T/down" "$T/done.env" || fail "done script: $(cat "$T/done.env")"
    [[ -e $T/inc/$SRC_NAME ]] && fail "-c: the data stayed in the incomplete dir"
    check_same
    out=$(remote -C --no-torrent-done-script); [[ $out == *success* ]] || fail "-C: $out"
    out=$(sl_rpc_call '{"method":"session-get","arguments":{"fields":["incomplete-dir-enabled","script-torrent-done-enabled"]}}')
    [[ $out == *'"incomplete-dir-enabled":false'* && $out == *'"script-torrent-done-enabled":false'* ]] || fail "-C: $out"
    out=$(remote -t 1 --move "$T/moved"); [[ $out == *success* ]] || fail "--move: $out"
    wait_until 60 bash -c "[[ \$(timeout 30 transmission-remote $DAEMON_RPC -t 1 -i | grep 'Location:') == *'$T/moved' ]]" ||
        fail "--move: location still $(remote_field Location)"
    cmp "$T/src/$SRC_NAME" "$T/moved/$SRC_NAME" || fail "--move: the moved data differs"
    [[ -e $T/down/$SRC_NAME ]] && fail "--move: the data is still in $T/down"
    wait_until 30 bash -c "[[ \$(timeout 30 transmission-remote $DAEMON_RPC -l | awk '\$1 == \"1\"') =~ (Seeding|Idle) ]]" ||
        fail "--move: not seeding again: $(remote -l)"
    [[ $(remote_field 'Percent Done') == 100% ]] || fail "--move: $(remote_field 'Percent Done')"
    # A bad target: refused, nothing moves.
    out=$(remote -t 1 --move relative/dir); [[ $out == *success* ]] && fail "--move relative/dir: $out"

    # Only the daemon serves now: a libtorrent leecher that knows only it completes.
    kill "$SEED_PID" 2>/dev/null; wait "$SEED_PID" 2>/dev/null
    mkdir -p "$T/lt"
    "$PW_PY" "$LT_PEER" get "$TORRENT" --dir "$T/lt" --listen 127.0.0.5:6881 --peer "$LEECHER" \
        --timeout "$WAIT" >"$T/lt-get.log" 2>&1 || fail "libtorrent could not download from the moved torrent"
    cmp "$T/src/$SRC_NAME" "$T/lt/$SRC_NAME" || fail "libtorrent's copy differs"

    # --find: the data is looked for (and verified) elsewhere; nothing moves.
    mkdir -p "$T/found"; cp "$T/moved/$SRC_NAME" "$T/found/"
    out=$(remote -t 1 --find "$T/found"); [[ $out == *success* ]] || fail "--find: $out"
    wait_until 60 bash -c "[[ \$(timeout 30 transmission-remote $DAEMON_RPC -t 1 -i | grep 'Location:') == *'$T/found' && \$(timeout 30 transmission-remote $DAEMON_RPC -t 1 -i | grep 'Percent Done') == *'100%'* ]]" ||
        fail "--find: $(remote -t 1 -i | grep -E 'Location|Percent')"
    [[ -f $T/moved/$SRC_NAME ]] || fail "--find moved the data"

    # kill -9 mid-move: a 512 MiB torrent already on disk, moved across file systems.
    mkdir -p "$T/big"
    head -c $((512 * 1048576)) /dev/urandom >"$T/big/big.bin"
    mktorrent -l 22 -a "http://$TRACKER_HOST:$TRACKER_PORT/announce" -o "$T/big.torrent" "$T/big/big.bin" \
        >/dev/null 2>&1 || fail "mktorrent (big) failed"
    local big_ih shm
    big_ih=$(info_hash "$T/big.torrent")
    shm=$(mktemp -d /dev/shm/pw-move.XXXXXX) || { echo "SKIP: no /dev/shm"; exit 77; }
    PW_TMPDIRS+=("$shm")   # removed by cleanup_all, as $T
    out=$(remote -a "$T/big.torrent" -w "$T/big"); [[ $out == *success* ]] || fail "-a big: $out"
    wait_until 120 bash -c "[[ \$(timeout 30 transmission-remote $DAEMON_RPC -t 2 -i | grep 'Percent Done') == *'100%'* ]]" ||
        fail "big: not verified: $(remote -t 2 -i | grep -E 'State|Percent')"
    out=$(remote -t 2 --move "$shm/dst"); [[ $out == *success* ]] || fail "--move big: $out"
    local i
    for ((i = 0; i < 3000; i++)); do
        [[ -d $shm/dst/.$big_ih.moving ]] && break
        sleep 0.01
    done
    kill -9 "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null
    ((i < 3000)) || fail "never saw the move's staging folder (the move did not start within 30 s)"
    echo "killed during the copy (after $((i * 10)) ms)"
    daemon_start
    wait_until 60 bash -c "[[ \$(timeout 30 transmission-remote $DAEMON_RPC -t 2 -i | grep 'Percent Done') == *'100%'* ]]" ||
        fail "after kill -9 mid-move: $(remote -t 2 -i | grep -E 'State|Percent|Location')"
    loc=$(remote -t 2 -i | awk -F': *' '$1 ~ /^ *Location$/ { print $2 }')
    [[ $loc == "$T/big" || $loc == "$shm/dst" ]] || fail "after kill -9: location $loc"
    [[ $(remote -t 2 -i | grep -E '^ *Downloaded:') == *'None'* ]] || fail "downloaded after the restart: $(remote -t 2 -i | grep -E '^ *Downloaded:')"
    [[ -e $shm/dst/.$big_ih.moving ]] && fail "the staging folder survived the restart"
    [[ -f $loc/big.bin ]] || fail "after kill -9: no data at $loc"
    echo "after kill -9 mid-move: complete at $loc"
    out=$(remote -t 2 --move "$shm/dst2"); [[ $out == *success* ]] || fail "--move big again: $out"
    wait_until 120 bash -c "[[ \$(timeout 30 transmission-remote $DAEMON_RPC -t 2 -i | grep 'Location:') == *'$shm/dst2' ]]" ||
        fail "the second big move did not finish: $(remote_field Location)"
    cmp "$T/big/big.bin" "$shm/dst2/big.bin" 2>/dev/null && fail "the source stayed after the move"
    [[ $(stat -c %s "$shm/dst2/big.bin") == $((512 * 1048576)) ]] || fail "big.bin at dst2 has the wrong size"
    wait_until 30 bash -c "[[ \$(timeout 30 transmission-remote $DAEMON_RPC -t 2 -i | grep 'Percent Done') == *'100%'* ]]" ||
        fail "after the second big move: $(remote -t 2 -i | grep -E 'State|Percent')"
    stop_pid "$DAEMON_PID" 15 || fail "piecewise daemon exited $? after SIGTERM (expected 0)"
    echo "PASS: rename-partial-files, -c/--torrent-done-script (moved when finished, script saw it there), --move (bytes identical, served to libtorrent), --find, kill -9 mid-move kept the data complete"
}

# A second front-end, not Transmission's own code: Debian's python3-transmissionrpc drives
# piecewise daemon (tests/interop/tr_rpc_client.py): add a torrent a libtorrent seeder
# serves, list, files, stop/start, the download completes byte-identical, remove.
case_daemon_second_frontend() {
    need_piecewise
    /usr/bin/python3 -c 'import transmissionrpc' 2>/dev/null ||
        { echo "SKIP: python3-transmissionrpc missing (scripts/setup installs it)"; exit 77; }
    single_payload "$TR_MIB"; mktorrent_for "http://$TRACKER_HOST:$TRACKER_PORT/announce"
    tracker; lt_seed; seeder_announced
    daemon_start
    mkdir -p "$T/down"
    local size out; size=$(stat -c %s "$T/src/$SRC_NAME")
    out=$(timeout $((WAIT + 120)) /usr/bin/python3 "$HERE/tr_rpc_client.py" "${DAEMON_RPC%:*}" \
        "${DAEMON_RPC#*:}" add "$TORRENT" "$T/down" "$SRC_NAME" "$size" "$WAIT" 2>&1) ||
        fail "transmissionrpc: $(echo "$out" | tail -5 | tr '\n' ' ')"
    echo "$out"
    check_same
    out=$(timeout 60 /usr/bin/python3 "$HERE/tr_rpc_client.py" "${DAEMON_RPC%:*}" "${DAEMON_RPC#*:}" \
        remove "$SRC_NAME" 2>&1) || fail "transmissionrpc remove: $(echo "$out" | tail -3 | tr '\n' ' ')"
    echo "$out"
    [[ -f $T/down/$SRC_NAME ]] || fail "remove (data kept) deleted the data"
}

# Download queue driven over the RPC (transmission-remote 3.00 has no queue options, so
# the queue keys and queue-move-* go by curl in both dialects; adding and listing by
# transmission-remote): three torrents, each from its own slow libtorrent seeder, with
# download-queue-size 1. One downloads, the others show "Queued" (status 3); the last
# one moved to the top goes second; all three arrive byte-identical.
q_rpc() { sl_rpc_call "$1"; }
q_status() {   # q_status: "id:status:percentDone:queuePosition ..." of every torrent
    q_rpc '{"method":"torrent-get","arguments":{"fields":["id","status","percentDone","queuePosition"]}}' |
        "$PW_PY" -c 'import json,sys; print(" ".join("%d:%d:%g:%d" % (t["id"], t["status"], t["percentDone"], t["queuePosition"]) for t in json.load(sys.stdin)["arguments"]["torrents"]))'
}
case_daemon_queue() {
    need_piecewise
    command -v transmission-remote >/dev/null || { echo "SKIP: transmission-remote missing"; exit 77; }
    local i hashes=() addrs=(127.0.0.2 127.0.0.5 127.0.0.6) pids=() out
    mkdir -p "$T/src" "$T/seed" "$T/down"
    for i in 1 2 3; do
        make_payload "$T/src/q$i.bin" 4
        mktorrent -l 18 -a "http://$TRACKER_HOST:$TRACKER_PORT/announce" -o "$T/q$i.torrent" "$T/src/q$i.bin" \
            >"$T/mktorrent.out" 2>&1 || fail "mktorrent failed"
        hashes+=("$(info_hash "$T/q$i.torrent")")
        cp "$T/src/q$i.bin" "$T/seed/"
    done
    PAYLOAD_MIB=4
    ot_start "$T/ot" "$TRACKER_HOST" "$TRACKER_PORT" "${hashes[@]}"
    for i in 0 1 2; do   # 1.5 MB/s each: a download lasts about 3 s
        spawn "$T/lt-seed$i.log" "$PW_PY" "$LT_PEER" seed "$T/q$((i + 1)).torrent" --dir "$T/seed" \
            --listen "${addrs[$i]}:6881" --upload-limit 1500000 --timeout $((WAIT * 3 + 120))
        pids+=("$SPAWNED")
    done
    for i in 0 1 2; do
        wait_alive "${pids[$i]}" "$(( START_WAIT + $(check_wait) ))" grep -qE ': checked [0-9]+/[0-9]+ pieces in .* seeding' "$T/lt-seed$i.log" ||
            fail "libtorrent seeder $i not ready: $(tail -3 "$T/lt-seed$i.log")"
        ot_wait_peer "$TRACKER_HOST" "$TRACKER_PORT" "${hashes[$i]}" "${addrs[$i]}:6881" "$ANNOUNCE_WAIT" ||
            fail "seeder $i never announced itself"
    done
    daemon_start
    out=$(q_rpc '{"jsonrpc":"2.0","method":"session_set","params":{"download_queue_size":1,"download_queue_enabled":true},"id":1}')
    [[ $out == *'"result"'* ]] || fail "session_set download_queue_size: $out"
    [[ $(sl_rpc_arg '{"method":"session-get"}' "a['download-queue-enabled'], a['download-queue-size']") == "True 1" ]] ||
        fail "session-get after session_set: $(sl_rpc_call '{"method":"session-get"}')"
    for i in 1 2 3; do
        out=$(remote -a "$T/q$i.torrent" -w "$T/down"); [[ $out == *success* ]] || fail "-a q$i: $out"
    done
    wait_until 20 bash -c "[[ \$(timeout 30 transmission-remote $DAEMON_RPC -l | grep -c Queued) == 2 ]]" ||
        fail "two torrents should be queued: $(remote -l) / $(q_status)"
    out=" $(q_status) "
    [[ $out == *" 2:3:"* && $out == *" 3:3:"* && $out != *" 1:3:"* ]] || fail "statuses with a queue of 1: $out"
    out=$(q_rpc '{"method":"queue-move-top","arguments":{"ids":[3]}}')
    [[ $out == *success* ]] || fail "queue-move-top: $out"
    [[ " $(q_status)" == *" 3:3:0:0"* ]] || fail "queue-move-top: 3 not at position 0: $(q_status)"
    # Completion order and, at every look, at most one torrent between 0 and 100 %
    # that is not queued.
    local order="" st end=$((SECONDS + WAIT * 3)) tid code pct active
    while ((SECONDS < end)) && [[ $order != *3* || $order != *2* || $order != *1* ]]; do
        st=$(q_status); active=0
        for i in $st; do
            IFS=: read -r tid code pct _ <<<"$i"
            [[ $code == 4 && $pct != 1 ]] && active=$((active + 1))
            [[ $pct == 1 && $order != *$tid* ]] && order+=$tid
        done
        ((active <= 1)) || fail "more than one torrent downloading: $st"
        sleep 0.3
    done
    [[ $order == 132 ]] || fail "completion order $order, expected 132 (1, then 3 moved to the top, then 2): $(q_status)"
    for i in 1 2 3; do cmp -s "$T/src/q$i.bin" "$T/down/q$i.bin" || fail "q$i.bin differs"; done
    # The order and the queue size survive a restart.
    stop_pid "$DAEMON_PID" 15 || fail "piecewise daemon exited $? after SIGTERM (expected 0)"
    daemon_start
    [[ $(sl_rpc_arg '{"method":"session-get"}' "a['download-queue-size']") == 1 ]] || fail "queue size lost on restart"
    [[ $(sl_rpc_arg '{"method":"torrent-get","arguments":{"ids":[1,2,3],"fields":["id","queuePosition"]}}' \
        "' '.join('%d:%d' % (t['id'], t['queuePosition']) for t in a['torrents'])") == "1:1 2:2 3:0" ]] ||
        fail "queue positions after restart: $(q_status)"
    stop_pid "$DAEMON_PID" 15 || fail "piecewise daemon exited $? after SIGTERM (expected 0)"
    echo "PASS: download queue of 1: statuses 3/4, queue-move-top, completion order 1 3 2, 3 files identical, kept across restart"
}

# blocklist-update driven by transmission-remote: blocklist-url set over the RPC to a list an
# HTTP server on 127.0.0.1 serves, `--blocklist-update` answers its size, session-get
# reports url/enabled/size, and a restart keeps the downloaded list.
case_daemon_blocklist() {
    need_piecewise
    command -v transmission-remote >/dev/null || { echo "SKIP: transmission-remote missing"; exit 77; }
    mkdir -p "$T/www"
    printf 'a:10.1.0.0-10.1.0.255\nb:10.2.0.0-10.2.0.255\n' > "$T/www/list.p2p"
    spawn "$T/http.log" "$PW_PY" -m http.server --bind 127.0.0.1 --directory "$T/www" 9094
    local http_pid=$SPAWNED out
    wait_alive "$http_pid" "$START_WAIT" port_listening 127.0.0.1 9094 || fail "http.server did not listen"
    daemon_start
    sl_rpc_call '{"method":"session-set","arguments":{"blocklist-url":"http://127.0.0.1:9094/list.p2p","blocklist-enabled":true}}' >/dev/null
    out=$(remote --blocklist-update); [[ $out == *success* || $out == *2* ]] || fail "--blocklist-update: $out"
    local sess='{"method":"session-get","arguments":{"fields":["blocklist-url","blocklist-enabled","blocklist-size"]}}'
    out=$(sl_rpc_arg "$sess" "a['blocklist-enabled'], a['blocklist-size']")
    [[ $out == "True 2" ]] || fail "session-get after --blocklist-update: $out"
    remote -si | grep -qi blocklist || fail "-si shows no blocklist: $(remote -si)"
    stop_pid "$DAEMON_PID" 15 || fail "piecewise daemon exited $? after SIGTERM (expected 0)"
    daemon_start
    out=$(sl_rpc_arg "$sess" "a['blocklist-enabled'], a['blocklist-size']")
    [[ $out == "True 2" ]] || fail "session-get after restart: $out"
    stop_pid "$DAEMON_PID" 15 || fail "piecewise daemon exited $? after SIGTERM (expected 0)"
    echo "PASS: transmission-remote --blocklist-update: 2 rules, kept across a restart"
}

# dht-enabled, utp-enabled and lpd-enabled driven by transmission-remote (--dht/--no-dht,
# --utp/--no-utp, --lpd/--no-lpd): each takes effect in the running daemon (a KRPC ping and
# a uTP SYN to the peer port are answered or not), session-get reports it, and a restart
# with the same command line keeps what was set. The DHT bootstraps from 127.0.0.1:9 only;
# LSD multicast stays on this namespace's lo (routed there below).
case_daemon_network_toggles() {
    need_piecewise
    command -v transmission-remote >/dev/null || { echo "SKIP: transmission-remote missing"; exit 77; }
    [[ ${PW_NETNS:-} == 1 ]] || { echo "SKIP: LSD multicast needs the case's own network namespace"; exit 77; }
    ip link set lo multicast on && ip route add 239.0.0.0/8 dev lo || fail "cannot route multicast to lo"
    local host=${LEECHER%:*} port=${LEECHER#*:} out
    # udp_probe KIND: "yes" when the peer port answers a KRPC ping (dht) or a uTP SYN (utp).
    udp_probe() {
        "$PW_PY" - "$host" "$port" "$1" <<'PY'
import socket, struct, sys
host, port, kind = sys.argv[1], int(sys.argv[2]), sys.argv[3]
if kind == "dht":
    msg = b"d1:ad2:id20:" + b"q" * 20 + b"e1:q4:ping1:t2:pw1:y1:qe"
else:  # ST_SYN, version 1: type 4 << 4 | 1, no extension, conn id, ts, diff, wnd, seq 1, ack 0
    msg = struct.pack(">BBHIIIHH", 0x41, 0, 777, 0, 0, 1 << 20, 1, 0)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.sendto(msg, (host, port))
try:
    data = s.recv(2048)
except socket.timeout:
    print("no"); sys.exit(0)
ok = b"1:y1:r" in data if kind == "dht" else (data[0] >> 4) == 2
print("yes" if ok else "no")
PY
    }
    local sess='{"method":"session-get","arguments":{"fields":["dht-enabled","utp-enabled","lpd-enabled"]}}'
    local fields="a['dht-enabled'], a['utp-enabled'], a['lpd-enabled']"
    daemon_start --dht-bootstrap 127.0.0.1:9
    [[ $(udp_probe dht) == no && $(udp_probe utp) == yes ]] || fail "at start (--no-dht): dht $(udp_probe dht), utp $(udp_probe utp)"
    out=$(remote --dht); [[ $out == *success* ]] || fail "--dht: $out"
    out=$(remote --no-utp); [[ $out == *success* ]] || fail "--no-utp: $out"
    out=$(remote --lpd); [[ $out == *success* ]] || fail "--lpd: $out"
    out=$(sl_rpc_arg "$sess" "$fields"); [[ $out == "True False True" ]] || fail "session-get after the switches: $out"
    [[ $(udp_probe dht) == yes ]] || fail "--dht: the DHT does not answer a ping"
    [[ $(udp_probe utp) == no ]] || fail "--no-utp: a uTP SYN is still answered"
    stop_pid "$DAEMON_PID" 15 || fail "piecewise daemon exited $? after SIGTERM (expected 0)"
    daemon_start --dht-bootstrap 127.0.0.1:9
    out=$(sl_rpc_arg "$sess" "$fields"); [[ $out == "True False True" ]] || fail "session-get after restart: $out"
    [[ $(udp_probe dht) == yes && $(udp_probe utp) == no ]] || fail "after restart: dht $(udp_probe dht), utp $(udp_probe utp)"
    out=$(remote --no-dht --utp --no-lpd); [[ $out == *success* ]] || fail "--no-dht --utp --no-lpd: $out"
    out=$(sl_rpc_arg "$sess" "$fields"); [[ $out == "False True False" ]] || fail "session-get after switching back: $out"
    [[ $(udp_probe dht) == no && $(udp_probe utp) == yes ]] || fail "switched back: dht $(udp_probe dht), utp $(udp_probe utp)"
    stop_pid "$DAEMON_PID" 15 || fail "piecewise daemon exited $? after SIGTERM (expected 0)"
    echo "PASS: transmission-remote --dht/--no-utp/--lpd take effect live, kept across a restart, and back"
}

# peer-port driven by transmission-remote --port: the daemon listens on the new port at once
# (the old one closed), session-get and -si report it, a restart keeps it, and a port that
# another process holds answers an error while the port in use stays.
case_daemon_peer_port() {
    need_piecewise
    command -v transmission-remote >/dev/null || { echo "SKIP: transmission-remote missing"; exit 77; }
    local host=${LEECHER%:*} old=${LEECHER#*:} new=51413 busy=51414 out
    local sess='{"method":"session-get","arguments":{"fields":["peer-port"]}}'
    daemon_start
    port_listening "$host" "$old" || fail "not listening on $LEECHER at start"
    out=$(remote --port "$new"); [[ $out == *success* ]] || fail "--port $new: $out"
    [[ $(sl_rpc_arg "$sess" "a['peer-port']") == "$new" ]] || fail "session-get peer-port: $(sl_rpc_arg "$sess" "a")"
    port_listening "$host" "$new" || fail "not listening on $host:$new after --port"
    port_listening "$host" "$old" && fail "still listening on the old port $old"
    remote -si | grep -q "$new" || fail "-si does not show port $new: $(remote -si)"
    stop_pid "$DAEMON_PID" 15 || fail "piecewise daemon exited $? after SIGTERM (expected 0)"
    daemon_start
    [[ $(sl_rpc_arg "$sess" "a['peer-port']") == "$new" ]] || fail "peer-port after restart: $(sl_rpc_arg "$sess" "a")"
    port_listening "$host" "$new" || fail "not listening on $host:$new after restart"
    # A port held by another listener: an error, and the port in use stays.
    spawn "$T/holder.log" "$PW_PY" -c "import socket,time; s=socket.socket(); s.bind(('$host',$busy)); s.listen(); time.sleep(60)"
    local holder=$SPAWNED
    wait_alive "$holder" "$START_WAIT" port_listening "$host" "$busy" || fail "the holder did not listen"
    out=$(remote --port "$busy"); [[ $out != *success* && $out == *"stays $new"* ]] || fail "--port $busy (taken): $out"
    [[ $(sl_rpc_arg "$sess" "a['peer-port']") == "$new" ]] || fail "peer-port after a failed change: $(sl_rpc_arg "$sess" "a")"
    port_listening "$host" "$new" || fail "no longer listening on $host:$new after a failed change"
    stop_pid "$holder" 15
    stop_pid "$DAEMON_PID" 15 || fail "piecewise daemon exited $? after SIGTERM (expected 0)"
    echo "PASS: transmission-remote --port: moved live, kept across a restart, a taken port refused"
}

# port-forwarding-enabled driven by transmission-remote (-m/--portmap, -M/--no-portmap)
# against the fake NAT-PMP gateway (tests/interop/fake_natpmp.py) on 127.0.0.1: nothing is
# mapped until -m; -m maps TCP and UDP 6881; --port moves the mappings (the old ones
# deleted, the new port mapped); -M deletes them; a restart keeps what was set.
case_daemon_portmap() {
    need_piecewise
    command -v transmission-remote >/dev/null || { echo "SKIP: transmission-remote missing"; exit 77; }
    local glog=$T/gateway-requests.log out gw=5351
    spawn "$T/fake-natpmp.log" "$PW_PY" "$HERE/fake_natpmp.py" "$gw" "$glog"
    local gw_pid=$SPAWNED
    wait_until 10 grep -q '^listening' "$glog" 2>/dev/null || fail "the fake gateway did not start"
    local from=${LEECHER%:*} old=${LEECHER#*:} new=51413
    daemon_start --natpmp-gateway "127.0.0.1:$gw"
    sleep 1
    grep -q "from $from" "$glog" && fail "the gateway was asked before -m: $(cat "$glog")"
    out=$(remote -m); [[ $out == *success* ]] || fail "-m: $out"
    [[ $(sl_rpc_arg '{"method":"session-get"}' "a['port-forwarding-enabled']") == True ]] || fail "session-get after -m"
    wait_until 20 grep -q "^map TCP internal $old suggested $old lifetime 7200 from $from\$" "$glog" ||
        fail "-m: no TCP mapping of $old: $(cat "$glog")"
    wait_until 20 grep -q "^map UDP internal $old suggested $old lifetime 7200 from $from\$" "$glog" ||
        fail "-m: no UDP mapping of $old"
    out=$(remote --port "$new"); [[ $out == *success* ]] || fail "--port $new: $out"
    wait_until 20 grep -q "^map TCP internal $old suggested 0 lifetime 0 from $from\$" "$glog" ||
        fail "--port: the mapping of $old was not deleted: $(cat "$glog")"
    wait_until 20 grep -q "^map TCP internal $new suggested $new lifetime 7200 from $from\$" "$glog" ||
        fail "--port: no TCP mapping of $new: $(cat "$glog")"
    out=$(remote -M); [[ $out == *success* ]] || fail "-M: $out"
    wait_until 20 grep -q "^map TCP internal $new suggested 0 lifetime 0 from $from\$" "$glog" ||
        fail "-M: the mapping of $new was not deleted: $(cat "$glog")"
    [[ $(sl_rpc_arg '{"method":"session-get"}' "a['port-forwarding-enabled']") == False ]] || fail "session-get after -M"
    remote -m >/dev/null
    stop_pid "$DAEMON_PID" 15 || fail "piecewise daemon exited $? after SIGTERM (expected 0)"
    : > "$glog"
    daemon_start --natpmp-gateway "127.0.0.1:$gw"
    [[ $(sl_rpc_arg '{"method":"session-get"}' "a['port-forwarding-enabled']") == True ]] || fail "not kept across a restart"
    wait_until 20 grep -q "^map TCP internal $new suggested $new lifetime 7200 from $from\$" "$glog" ||
        fail "after restart: no mapping of $new: $(cat "$glog")"
    stop_pid "$DAEMON_PID" 15 || fail "piecewise daemon exited $? after SIGTERM (expected 0)"
    stop_pid "$gw_pid" 5
    echo "PASS: transmission-remote -m/-M map and unmap through the fake gateway, --port moves the mapping, kept across a restart"
}

# cache-size-mb driven by transmission-remote -e: session-get and -si report it, a restart
# keeps it, and a negative size is refused.
case_daemon_cache() {
    need_piecewise
    command -v transmission-remote >/dev/null || { echo "SKIP: transmission-remote missing"; exit 77; }
    local sess='{"method":"session-get","arguments":{"fields":["cache-size-mb"]}}' out
    daemon_start
    [[ $(sl_rpc_arg "$sess" "a['cache-size-mb']") == 32 ]] || fail "default cache-size-mb: $(sl_rpc_arg "$sess" "a")"
    out=$(remote -e 8); [[ $out == *success* ]] || fail "-e 8: $out"
    [[ $(sl_rpc_arg "$sess" "a['cache-size-mb']") == 8 ]] || fail "cache-size-mb after -e 8: $(sl_rpc_arg "$sess" "a")"
    remote -si | grep -i cache | grep -q 8 || fail "-si does not show the cache: $(remote -si)"
    out=$(sl_rpc_call '{"method":"session-set","arguments":{"cache-size-mb":-1}}')
    [[ $out == *cache-size-mb* && $out != *'"success"'* ]] || fail "a negative cache size was not refused: $out"
    stop_pid "$DAEMON_PID" 15 || fail "piecewise daemon exited $? after SIGTERM (expected 0)"
    daemon_start
    [[ $(sl_rpc_arg "$sess" "a['cache-size-mb']") == 8 ]] || fail "cache-size-mb after restart: $(sl_rpc_arg "$sess" "a")"
    stop_pid "$DAEMON_PID" 15 || fail "piecewise daemon exited $? after SIGTERM (expected 0)"
    echo "PASS: transmission-remote -e 8: cache-size-mb 8, kept across a restart; -1 refused"
}

# Transmission 3.00 (transmission-daemon) on loopback. Needs scripts/lib.sh sourced first.
#
# tr_start DIR ADDR PEERPORT RPCPORT: writes DIR/config/settings.json (no DHT/LPD/PEX/
#   port forwarding, peers bound to ADDR, RPC on 127.0.0.1:RPCPORT without auth, no
#   speed limits or queues), starts `transmission-daemon -f -g DIR/config`, waits for
#   its RPC. Sets TR_PID and TR_RPC (the transmission-remote address). TR_ENCRYPTION
#   (0-2, default 1) and TR_UTP (true/false, default false) set those settings.
# tr_add TORRENT DOWNLOAD_DIR: adds and starts a torrent (files in DOWNLOAD_DIR/<name>).
# tr_percent: the first torrent's "Percent Done" as an integer (empty if unknown).
# tr_wait_complete TIMEOUT_S: until the first torrent is complete (state Seeding/Idle).
# tr_wait_seeding TIMEOUT_S: until the first torrent finished verifying and is seeding.
#
# Transmission never dials peers at 127.x; it only accepts their connections. It sends
# its tracker requests from ADDR (bind-address-ipv4), so the tracker hands out ADDR.

tr_start() {
    local dir=$1 addr=$2 pport=$3 rport=$4
    mkdir -p "$dir/config" "$dir/incomplete"
    cat >"$dir/config/settings.json" <<JSON
{
  "alt-speed-enabled": false,
  "bind-address-ipv4": "$addr",
  "bind-address-ipv6": "::1",
  "blocklist-enabled": false,
  "dht-enabled": false,
  "download-dir": "$dir",
  "download-queue-enabled": false,
  "encryption": ${TR_ENCRYPTION:-1},
  "idle-seeding-limit-enabled": false,
  "incomplete-dir-enabled": false,
  "lpd-enabled": false,
  "message-level": ${TR_MSGLEVEL:-2},
  "peer-limit-global": 200,
  "peer-limit-per-torrent": 60,
  "peer-port": $pport,
  "peer-port-random-on-start": false,
  "pex-enabled": false,
  "port-forwarding-enabled": false,
  "queue-stalled-enabled": false,
  "ratio-limit-enabled": false,
  "rename-partial-files": false,
  "rpc-authentication-required": false,
  "rpc-bind-address": "127.0.0.1",
  "rpc-enabled": true,
  "rpc-host-whitelist-enabled": false,
  "rpc-port": $rport,
  "rpc-whitelist": "127.0.0.1",
  "rpc-whitelist-enabled": true,
  "seed-queue-enabled": false,
  "speed-limit-down-enabled": false,
  "speed-limit-up-enabled": false,
  "start-added-torrents": true,
  "utp-enabled": ${TR_UTP:-false}
}
JSON
    spawn "$dir/transmission.log" transmission-daemon -f -g "$dir/config"
    TR_PID=$SPAWNED
    TR_RPC=127.0.0.1:$rport
    if ! wait_alive "$TR_PID" "${START_WAIT:-60}" tr_remote -l; then
        show_log transmission "$dir/transmission.log"
        die "transmission-daemon RPC did not come up on $TR_RPC"
    fi
}

tr_remote() { transmission-remote "$TR_RPC" "$@" >/dev/null 2>&1; }

tr_add() {
    transmission-remote "$TR_RPC" -a "$1" -w "$2" >/dev/null || die "transmission-remote -a $1 failed"
}

tr_info() { transmission-remote "$TR_RPC" -t 1 -i 2>/dev/null; }

tr_percent() {
    tr_info | awk -F': *' '/^ *Percent Done:/ { sub(/%.*/, "", $2); print int($2) }'
}

tr_state() { tr_info | awk -F': *' '/^ *State:/ { print $2 }'; }

# Transmission shows a seeding torrent without peers as "Idle".
tr_is_seeding() { [[ $(tr_percent) == 100 ]] && [[ $(tr_state) =~ ^(Seeding|Idle)$ ]]; }

# "Percent Done" rounds (99.96% shows as 100%), so completion is read from the state.
tr_wait_complete() { wait_until "$1" tr_is_seeding; }
tr_wait_seeding() { wait_until "$1" tr_is_seeding; }

# tr_progress_line: one line for logs.
tr_progress_line() {
    tr_info | awk -F': *' '/^ *(State|Percent Done|Download Speed|Upload Speed|Peers):/ {
        printf "%s=%s ", $1, $2 } END { print "" }' | sed 's/  */ /g'
}

# opentracker on loopback (Debian's build: allow-list mode, HTTP and UDP).
# Needs scripts/lib.sh sourced first.
#
# ot_start DIR HOST PORT HASH...: writes DIR/whitelist.txt with the info-hashes, starts
#   opentracker chrooted in DIR (made world-readable: it drops privileges), waits until
#   it serves announces for the listed hashes. Sets OT_PID and OT_URL (the announce URL).
# ot_allow DIR HASH...: adds info-hashes to the allow-list, makes it reload (SIGHUP) and
#   waits until opentracker accepts them.
#
# opentracker opens its ports before it reads the allow-list, and reads it on a thread
# of its own (at start and on SIGHUP). Until that thread has run, every announce gets
# "Requested download is not authorized", and a client that hears that waits its full
# retry interval (libtorrent 2.0: 30 minutes) before it announces again. On a loaded
# machine the thread can run late, so an open port is not enough: ot_start and ot_allow
# wait until an announce for the hashes is accepted.

OT_READY_WAIT=${OT_READY_WAIT:-30}   # bound on start-up and on each allow-list reload

ot_start() {
    local dir=$1 host=$2 port=$3; shift 3
    mkdir -p "$dir"
    chmod 755 "$dir"
    : >"$dir/whitelist.txt"
    local h
    for h in "$@"; do echo "$h" >>"$dir/whitelist.txt"; done
    chmod 644 "$dir/whitelist.txt"
    spawn "$dir/../opentracker.log" opentracker -i "$host" -p "$port" -P "$port" \
        -d "$dir" -w whitelist.txt
    OT_PID=$SPAWNED
    OT_URL="http://$host:$port/announce"
    OT_HOST=$host OT_PORT=$port
    if ! wait_alive "$OT_PID" "$OT_READY_WAIT" port_open "$host" "$port"; then
        show_log opentracker "$dir/../opentracker.log"
        die "opentracker did not open $host:$port"
    fi
    # The list is swapped in whole, so one listed hash tells that it has been read.
    if (($#)) && ! wait_alive "$OT_PID" "$OT_READY_WAIT" ot_accepts "$host" "$port" "$1"; then
        show_log opentracker "$dir/../opentracker.log"
        die "opentracker on $host:$port did not accept $1 within ${OT_READY_WAIT}s"
    fi
}

ot_allow() {
    local dir=$1; shift
    local h
    for h in "$@"; do echo "$h" >>"$dir/whitelist.txt"; done
    kill -HUP "$OT_PID"
    wait_alive "$OT_PID" "$OT_READY_WAIT" ot_accepts "$OT_HOST" "$OT_PORT" "$@" ||
        die "opentracker did not accept $* within ${OT_READY_WAIT}s of SIGHUP"
}

# _ot_probe MODE HOST PORT HASH...: the announces below as a throw-away leecher at port 1
# (opentracker gives a seeder no other seeders), each followed by `stopped` so that the
# probe is not handed out to the real peers.
#   MODE peers: prints the peers held for the one HASH ("ip:port" a line, the probe left
#     out); exit 3 (reason on stderr) when the tracker answers with a failure.
#   MODE accepts: exit 0 when every HASH is accepted, 3 when one is refused; silent.
# Exit 1 when the tracker cannot be reached (or answers garbage).
_ot_probe() {
    "$PW_PY" - "$@" <<'PY'
import sys, urllib.request, urllib.parse
mode, host, port, hashes = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]

def announce(ih, event):
    q = {"info_hash": ih, "peer_id": b"-XX0000-probeprobe00", "port": 1, "uploaded": 0,
         "downloaded": 0, "left": 1, "compact": 1, "numwant": 200}
    if event:
        q["event"] = event
    # quote, not urlencode's default quote_plus: that sends a 0x20 byte of the hash as
    # "+", which trackers read as 0x2b, so the probe would ask about another torrent.
    url = f"http://{host}:{port}/announce?{urllib.parse.urlencode(q, quote_via=urllib.parse.quote)}"
    return urllib.request.urlopen(url, timeout=5).read()

def failure(body):
    i = body.find(b"14:failure reason")
    if i < 0:
        return None
    j = body.index(b":", i + 17)
    n = int(body[i + 17:j])
    return body[j + 1:j + 1 + n].decode(errors="replace")

def peers(body):
    i = body.find(b"5:peers")
    if i < 0:
        return []
    j = body.index(b":", i + 7)
    raw = body[j + 1:j + 1 + int(body[i + 7:j])]
    out = []
    for k in range(0, len(raw) - 5, 6):
        ip = ".".join(str(b) for b in raw[k:k + 4])
        port = int.from_bytes(raw[k + 4:k + 6], "big")
        if port != 1:
            out.append(f"{ip}:{port}\n")
    return out

try:
    out = []
    for h in hashes:
        ih = bytes.fromhex(h)
        body = announce(ih, "")
        why = failure(body)
        if why is not None:
            if mode == "peers":
                print(f"opentracker refused {h}: {why}", file=sys.stderr)
            sys.exit(3)
        announce(ih, "stopped")
        if mode == "peers":
            out = peers(body)
except (OSError, ValueError) as e:   # URLError, timeouts, a reply that does not parse
    if mode == "peers":
        print(f"opentracker probe: {e}", file=sys.stderr)
    sys.exit(1)
sys.stdout.write("".join(out))
PY
}

# ot_peers HOST PORT HASH: the peers opentracker holds for HASH (one "ip:port" a line).
# Exit 3 when it refuses HASH, 1 when it cannot be asked.
ot_peers() { _ot_probe peers "$@"; }

# ot_accepts HOST PORT HASH...: opentracker serves announces for every HASH.
ot_accepts() { _ot_probe accepts "$@"; }

# ot_wait_peer HOST PORT HASH PEER TIMEOUT_S: until the tracker lists PEER (ip:port).
# Every poll is a fresh probe, so one that fails (a timeout on a loaded machine) is
# simply retried.
ot_wait_peer() {
    local host=$1 port=$2 ih=$3 peer=$4 limit=$5
    wait_until "$limit" _ot_has_peer "$host" "$port" "$ih" "$peer"
}

# The list is read whole before it is searched: `grep -q` in a pipe exits at the first
# match and closes the pipe while the lister may still be writing.
_ot_has_peer() {
    local peers
    peers=$(ot_peers "$1" "$2" "$3" 2>/dev/null) || return 1
    grep -qx -- "$4" <<<"$peers"
}

# opentracker on loopback (Debian's build: allow-list mode, HTTP and UDP).
# Needs scripts/lib.sh sourced first.
#
# ot_start DIR HOST PORT HASH...: writes DIR/whitelist.txt with the info-hashes, starts
#   opentracker chrooted in DIR (made world-readable: it drops privileges), waits until
#   its HTTP port accepts connections. Sets OT_PID and OT_URL (the announce URL).
# ot_allow DIR HASH...: adds info-hashes to the allow-list and makes it reload (SIGHUP).

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
    if ! wait_until 10 port_open "$host" "$port"; then
        show_log opentracker "$dir/../opentracker.log"
        die "opentracker did not open $host:$port"
    fi
}

ot_allow() {
    local dir=$1; shift
    local h
    for h in "$@"; do echo "$h" >>"$dir/whitelist.txt"; done
    kill -HUP "$OT_PID"
    sleep 0.3
}

# ot_peers HOST PORT HASH: the peers opentracker holds for HASH (one "ip:port" a line).
# Asks as a throw-away leecher at port 1 (opentracker gives a seeder no other seeders)
# and then announces `stopped`, so that it is not handed out to the real peers.
ot_peers() {
    "$PW_PY" - "$@" <<'PY'
import sys, urllib.request, urllib.parse
host, port, ih = sys.argv[1], sys.argv[2], bytes.fromhex(sys.argv[3])
def announce(event):
    q = {"info_hash": ih, "peer_id": b"-XX0000-probeprobe00", "port": 1, "uploaded": 0,
         "downloaded": 0, "left": 1, "compact": 1, "numwant": 50}
    if event:
        q["event"] = event
    url = f"http://{host}:{port}/announce?{urllib.parse.urlencode(q)}"
    return urllib.request.urlopen(url, timeout=5).read()
body = announce("")
announce("stopped")
i = body.find(b"5:peers")
if i < 0:
    sys.exit(0)
j = body.index(b":", i + 7)
n = int(body[i + 7:j])
raw = body[j + 1:j + 1 + n]
for k in range(0, len(raw) - 5, 6):
    peer = ".".join(str(b) for b in raw[k:k + 4]) + ":" + str(int.from_bytes(raw[k + 4:k + 6], "big"))
    if not peer.endswith(":1"):
        print(peer)
PY
}

# ot_wait_peer HOST PORT HASH PEER TIMEOUT_S: until opentracker lists PEER (ip:port).
ot_wait_peer() {
    local host=$1 port=$2 ih=$3 peer=$4 limit=$5
    wait_until "$limit" _ot_has_peer "$host" "$port" "$ih" "$peer"
}
_ot_has_peer() { ot_peers "$1" "$2" "$3" | grep -qx "$4"; }

// The public face of the Piecewise engine.
//
// A Session owns one network thread (all protocol state lives there) and a small
// disk/hash worker pool. Calls on Session never block on the network and never run
// user code on the network thread: commands are posted, state comes back as status
// snapshots (copies) and as events pulled from a queue.
#pragma once

#include <chrono>
#include <functional>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace piecewise {

// Message Stream Encryption (protocol encryption, RC4) of peer connections.
//   prefer:  accept both; dial encrypted first and retry in plaintext if that fails;
//            offer plaintext|RC4 and pick RC4 when a peer offers both.
//   require: never a plaintext connection, in or out; RC4 only.
//   disable: plaintext only; encrypted incoming handshakes are closed.
enum class Encryption { prefer, require, disable };

// Global transfer limits in bytes/s (0: none), shared fairly by every peer connection of
// the session, and Transmission's alternative ("turtle mode") limits, in force while
// alt_speed_enabled: switched by hand, or on and off by the schedule (a window from
// alt_speed_time_begin to alt_speed_time_end, minutes after local midnight, on the days
// of alt_speed_time_day: bit 0 Sunday ... bit 6 Saturday; end <= begin runs past midnight).
// Payload and protocol bytes after the handshake count.
struct RateLimits {
    std::int64_t download_rate_limit = 0;
    std::int64_t upload_rate_limit = 0;
    std::int64_t alt_download_rate_limit = 0;
    std::int64_t alt_upload_rate_limit = 0;
    bool alt_speed_enabled = false;
    bool alt_speed_time_enabled = false;
    int alt_speed_time_begin = 540;  // 09:00
    int alt_speed_time_end = 1020;   // 17:00
    int alt_speed_time_day = 127;    // every day
};

struct Settings {
    // Address and port of the TCP peer listener ("0.0.0.0:6881", "127.0.0.2:7000",
    // "[::1]:6881"). Port 0 picks a free port. Outgoing connections and tracker requests
    // bind to this address when it is not a wildcard.
    std::string listen = "0.0.0.0:6881";
    // A second listener, of the other address family than `listen` (an IPv6 address beside
    // an IPv4 one, or the reverse), on the same port (or port 0: the one `listen` got);
    // empty: none. TCP and uTP are accepted on both; the IPv6 socket is then IPv6-only.
    // The IPv4 address is the main one: the DHT (IPv4 only, no BEP 32) and local service
    // discovery use its UDP socket. Outgoing connections leave from the listen address of
    // the peer's family (uTP through that family's socket); tracker requests and web
    // seeds are then not bound to a source address (a tracker may have either family).
    std::string listen2;
    // Where fast-resume files are kept; empty: $XDG_STATE_HOME/piecewise/resume
    // (or ~/.local/state/piecewise/resume).
    std::string resume_dir;
    int max_peers_per_torrent = 60;
    int unchoke_slots = 8;
    // Upper bound on piece data held in memory while downloading (bytes).
    std::int64_t cache_bytes = 32ll << 20;
    unsigned disk_threads = 0;  // 0: one per core, at least 2
    // Partial names (Transmission's rename-partial-files): a file created before it is
    // complete is named "<name>.part" and gets its own name once every piece of it is
    // verified. Off: files have their own names from the start. Either way a file is found
    // under either name, so switching this never loses a download.
    bool part_files = false;
    std::chrono::seconds tracker_timeout{15};
    // https:// trackers: a PEM bundle of CA certificates trusted besides the system store
    // (empty: none), read when first used.
    std::string tracker_ca_file;
    // https:// trackers: check the certificate chain and host name. false is INSECURE (any
    // certificate is accepted, so anyone on the path can pose as the tracker): for tests
    // and self-signed private setups only.
    bool tracker_verify_tls = true;
    int numwant = 50;
    // BEP 12: announce to the first tier that answers (false), or to every tier (true).
    bool announce_to_all_tiers = false;
    bool pex = true;  // BEP 11 peer exchange (never on private torrents)
    // The mainline DHT (BEP 5), on a UDP socket bound like the peer listener. Never used
    // for private torrents. The default bootstrap is the well-known public routers.
    bool dht = true;
    std::vector<std::string> dht_bootstrap = {"router.bittorrent.com:6881", "dht.transmissionbt.com:6881",
                                              "router.utorrent.com:6881"};
    std::string dht_state_file;  // empty: <state dir>/dht.state
    // BEP 42 enforcement: a DHT node whose id does not fit its address (local networks and
    // loopback exempt) never enters the routing table. On by default; off for networks
    // whose nodes do not follow BEP 42.
    bool dht_enforce_node_id = true;
    // Local service discovery (BEP 14): multicast on the local network; off by default.
    bool lsd = false;
    // Port mapping by PCP (RFC 6887), or NAT-PMP (RFC 6886) when the gateway answers PCP
    // "unsupported version"; off by default, and nothing is probed unless on.
    // Asks the gateway to forward the peer port (TCP, and UDP when the UDP socket is open)
    // to this host, renews the mappings at half their lifetime, maps again when the gateway
    // lost them, and deletes them when the session stops. Reported as port_mapped and
    // port_mapping_error events. The gateway is natpmp_gateway ("IP" or "IP:PORT", IPv4;
    // for tests) or, when empty, the default IPv4 gateway of /proc/net/route (port 5351).
    bool natpmp = false;
    std::string natpmp_gateway;
    // Port mapping by UPnP IGD (WANIPConnection / WANPPPConnection); off by default, and
    // nothing is sent unless on. Finds the gateway by SSDP (M-SEARCH to 239.255.255.250:1900)
    // or, when upnp_igd is set, fetches that description URL (http://...) directly; maps the
    // peer port like natpmp (both may be on), with a 3600 s lease renewed at half (permanent
    // when the gateway only takes those), and deletes the mappings when the session stops.
    // Same events as natpmp, with "port mapping (UPnP): ..." messages. A malformed upnp_igd
    // is a SettingsError.
    bool upnp = false;
    std::string upnp_igd;
    Encryption encryption = Encryption::prefer;
    // An IP blocklist (P2P plaintext or eMule DAT, either optionally gzip-compressed):
    // peers in its ranges are never dialled, are disconnected as they connect, and are
    // dropped from tracker, DHT, PEX and LSD results. Read by the Session constructor;
    // empty: none.
    std::string blocklist_file;
    // Keep every socket (peer listener and connections, the DHT's UDP socket, tracker
    // requests, local service discovery) on this network interface (SO_BINDTODEVICE), e.g. a VPN's "wg0"; empty:
    // any. An interface that does not exist makes the Session constructor throw.
    std::string bind_interface;
    // A SOCKS5 proxy, "socks5://[USER:PASS@]HOST:PORT" (empty: none). Outgoing peer
    // connections and every tracker request (HTTP/HTTPS by CONNECT, UDP by UDP ASSOCIATE)
    // go through it, tracker host names resolved by the proxy; when the proxy fails, the
    // connection or request fails with a "proxy: ..." reason and is never made directly.
    // The DHT is off while a proxy is set (it would reveal this address). Incoming
    // connections are still accepted on `listen`. The constructor throws Error for a
    // malformed URL.
    std::string proxy;
    // Download and upload limits of the whole session and the alt-speed ones.
    RateLimits rate_limits;
    // Peer connections open at once over all torrents, incoming ones still handshaking and
    // outgoing connects included. Lowered at start when the descriptor limit (whose soft
    // value the Session raises to the hard one) would not hold it beside files and other
    // sockets. An incoming connection beyond it is closed as it is accepted, unless one
    // that has not sent its handshake for 0.5 s can be closed in its place.
    int max_connections = 500;
    // Outgoing connects in progress at once, over all torrents (<= 0: no limit).
    int max_half_open = 50;
    // Connections with one IP address (in and out, all torrents; <= 0: no limit).
    int max_connections_per_ip = 8;
    // Transports for peers. uTP (BEP 29) shares the UDP socket of `listen` with the DHT;
    // outgoing connections use uTP to peers known to speak it and TCP otherwise, either
    // falling back to the other. No uTP while a proxy is set. tcp = false (for tests):
    // uTP only, incoming TCP connections refused. Not both off.
    bool utp = true;
    bool tcp = true;
    // For tests: behave as if behind a NAT that lets in only what we asked for. Incoming
    // TCP connections are closed as they are accepted, and an incoming uTP SYN is dropped
    // unless it comes from an endpoint we sent a uTP SYN to in the last two minutes (the
    // hole a NAT opens for an outgoing flow, which BEP 55 holepunching relies on).
    bool simulate_nat = false;
};

// Thrown by Session calls for bad input (malformed torrent, bad address).
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Thrown by the Session constructor when a file named in Settings is unusable (a
// blocklist that cannot be read or yields no range): bad input rather than a runtime failure.
class SettingsError : public Error {
public:
    using Error::Error;
};

using TorrentId = int;

struct AddTorrentParams {
    std::string torrent_file;      // path to a .torrent, or
    std::string torrent_data;      // a .torrent's bytes, or
    std::string magnet;            // a magnet link (BEP 9): the metadata is fetched from peers
    std::string save_torrent;      // with a magnet: write the fetched metadata here as a .torrent
    std::string save_path = ".";   // parent directory of the torrent's name
    std::vector<std::string> peers;  // "HOST:PORT" to connect to at start
    bool upload_only = false;      // serve what is on disk, download nothing
    double seed_ratio = -1;        // stop at this share ratio (swarm/seed_ratio.hpp); <0: never
    // Added stopped: no check, no peers, no announces until resume(); what is on disk is
    // taken from matching resume data only (never hashed while paused).
    bool paused = false;
    // Per-file priority, in metainfo order: 0 = do not download (the file is not created;
    // bytes of it in pieces shared with wanted files go to a parts file in save_path),
    // 1 low, 4 normal, 7 high (libtorrent's levels; values are clamped to 0..7). Missing
    // entries are normal; empty: every file normal. A magnet's so= (BEP 53) applies when
    // this is empty.
    std::vector<int> file_priorities;
    // Fetch pieces in order (lowest index first within a priority) instead of rarest first.
    bool sequential = false;
    // Super-seeding (BEP 16) while it has every piece: peers that connect from then on see
    // a peer with no data that announces a piece or two at a time, the rarest ones, and
    // has to see each passed on before it offers more. For a torrent's first seed only.
    bool super_seeding = false;
    // This torrent's own limits in bytes/s (0: none); with honors_session_limits the
    // session's limits apply to it too.
    std::int64_t download_limit = 0;
    std::int64_t upload_limit = 0;
    bool honors_session_limits = true;
    // Transmission's bandwidthPriority: -1 low, 0 normal, 1 high (clamped). Under a rate
    // limit, the connections of a higher-priority torrent are given bandwidth first; what
    // they cannot use goes to the others.
    int bandwidth_priority = 0;
    // Connected peers at most (Transmission's peer-limit); <= 0: the session's
    // Settings::max_peers_per_torrent, which incoming peers may exceed by a few.
    int max_peers = 0;
    // With stop_at_seed_limit, the torrent pauses itself once seeding reaches seed_ratio
    // (the share ratio reaches it, when >= 0) or has moved no payload for
    // seed_idle_minutes (when > 0); see Session::set_seed_limits.
    bool stop_at_seed_limit = false;
    int seed_idle_minutes = -1;
    // Replaces the .torrent's announce tiers when set (an empty list: no tracker).
    std::optional<std::vector<std::vector<std::string>>> trackers;
    // Renames made by Session::rename_path before, as (path, new name) in the order made:
    // applied to the metainfo's file names before anything is read (add_torrent throws
    // Error for one that does not apply).
    std::vector<std::pair<std::string, std::string>> renames;
    // For a client's download/seed queue: once checked, the torrent pauses itself (as
    // pause() would) instead of starting when it still needs wanted pieces
    // (hold_if_incomplete) or has them all (hold_if_complete). Used once: resume() and
    // later checks start it normally.
    bool hold_if_incomplete = false;
    bool hold_if_complete = false;
    // Its bandwidth group (Session::set_bandwidth_group); empty: none.
    std::string bandwidth_group;
    // Totals from earlier runs (a daemon's stored downloadedEver, uploadedEver, corruptEver):
    // TorrentStatus's downloaded, uploaded and corrupt count on from these, and the seed
    // ratio is measured with them.
    std::int64_t downloaded_before = 0, uploaded_before = 0, corrupt_before = 0;
};

enum class TorrentState { metadata, checking, downloading, seeding, stopped, error };

struct TrackerStatus {
    std::string url;
    std::string last_error;  // empty when the last announce worked
    std::string warning;
    int peers_returned = 0;
    std::int64_t seeders = -1;
    std::int64_t leechers = -1;
    std::int64_t next_announce_s = 0;
    int tier = 0;  // BEP 12 tier, from 0
};

struct FileStatus {
    std::string path;  // relative to save_path ('/'-separated)
    std::int64_t size = 0;
    std::int64_t bytes_done = 0;  // bytes of verified pieces inside this file
    int priority = 4;             // 0 skip, 1 low, 4 normal, 7 high (AddTorrentParams)
};

struct PeerStatus {
    std::string address;  // IP
    int port = 0;
    std::string client;
    bool outgoing = false;
    bool downloading_from = false;  // we are interested and it unchoked us
    bool uploading_to = false;      // it is interested and we unchoked it
    double down_rate = 0;           // bytes/s
    double up_rate = 0;
    double progress = 0;  // 0..1, its share of the pieces
};

struct TorrentStatus {
    std::string name;
    std::string info_hash;  // hex
    TorrentState state = TorrentState::checking;
    std::string error;      // set in state error
    int num_pieces = 0;
    int pieces_have = 0;
    std::int64_t total_size = 0;
    std::int64_t bytes_have = 0;   // verified and written
    // Payload bytes received / sent since added (AddTorrentParams::*_before included); kept
    // across pause/resume and recheck.
    std::int64_t downloaded = 0;
    std::int64_t uploaded = 0;
    double down_rate = 0;          // bytes/s
    double up_rate = 0;
    int peers = 0;                 // connected
    int seeds = 0;                 // connected peers that have everything
    int known_peers = 0;
    int hash_failures = 0;
    int banned_peers = 0;
    double check_progress = 0;     // 0..1 while checking
    bool seed_ratio_reached = false;
    std::vector<TrackerStatus> trackers;
    bool paused = false;           // pause() or added paused: state is `stopped`
    std::string save_path;         // absolute download directory
    std::int64_t piece_length = 0;
    std::int64_t added_time = 0;   // unix seconds when added to this session
    std::vector<FileStatus> files;
    std::vector<PeerStatus> peer_list;
    // The wanted set (files of priority > 0): bytes of the pieces it needs, of those not yet
    // verified, and of those not verified that a connected peer has. A torrent whose
    // wanted pieces are all verified is finished (state seeding) even if files are skipped.
    std::int64_t size_when_done = 0;
    std::int64_t left_until_done = 0;
    std::int64_t desired_available = 0;
    bool sequential = false;
    // Its own limits (bytes/s, 0: none) and whether the session's apply too.
    std::int64_t download_limit = 0;
    std::int64_t upload_limit = 0;
    bool honors_session_limits = true;
    int bandwidth_priority = 0;  // AddTorrentParams::bandwidth_priority
    int max_peers = 0;           // the peer limit in force
    // BEP 3 bitfield of the verified pieces (high bit of the first byte is piece 0); filled
    // by status(id) only (not by status_all()), empty before the metadata.
    std::string pieces;
    // Session::move_storage: files being moved now (the torrent is stopped meanwhile and
    // resumes after), and why the last move or rename failed (empty: it did not).
    bool moving = false;
    std::string move_error;
    // Never set by the Session: a client that queues torrents (the daemon) marks a paused
    // torrent that waits for a slot of its download or seed queue.
    bool queued = false;
    // Connected peers (past the handshake) we upload to / download from now; filled by
    // status(id) and status_all() alike (a list view asks for them for every torrent).
    int peers_getting_from_us = 0;
    int peers_sending_to_us = 0;
    std::int64_t corrupt = 0;  // bytes of pieces that failed their hash check (as downloaded)
    // Bytes asked for again after hash failures: of a v2 or hybrid piece narrowed to its bad
    // 16 KiB blocks by BEP 52 leaf hashes only those blocks, otherwise the whole piece.
    std::int64_t refetched = 0;
    int failures_narrowed = 0;  // failed pieces narrowed to their bad blocks that way
};

// A named bandwidth group (Transmission 4's): every torrent in it shares its limits
// (bytes/s, 0: none), inside the session's limits when honors_session_limits.
struct BandwidthGroup {
    std::string name;
    std::int64_t download_limit = 0;
    std::int64_t upload_limit = 0;
    bool honors_session_limits = true;
};

enum class EventType {
    metadata_received,  // a magnet's metadata arrived and verified
    torrent_checked,    // resume data or hashing decided what is on disk
    torrent_finished,   // every piece verified and on disk
    piece_failed,       // a piece failed its hash check and will be fetched again
    peer_banned,        // a peer sent bad data or broke the protocol badly
    peer_disconnected,  // with the reason
    tracker_error,
    tracker_reply,
    storage_error,      // the torrent stopped: disk full, permission, ...; or a file
                        // could not be written or renamed (the torrent goes on)
    listen_failed,
    blocklist_loaded,   // at start: "blocklist: N ranges from FILE (M lines skipped)"
    seed_limit_reached, // the torrent paused itself: seed ratio or idle limit reached
    // move_storage finished: the message is the new download directory.
    storage_moved,
    // move_storage failed: the data stayed where it was; the message says why.
    storage_move_failed,
    // rename_path finished: "OLD -> NEW".
    path_renamed,
    // NAT-PMP (Settings::natpmp): "port mapping: external address 203.0.113.7", "port
    // mapping: TCP 6881 -> external 203.0.113.7:6881, lifetime 7200 s", "port mapping: TCP
    // 6881 removed". UPnP (Settings::upnp): the same with "port mapping (UPnP): " and
    // "lease 3600 s" or "permanent".
    port_mapped,
    // NAT-PMP or UPnP failed, or the gateway lost the mappings: "port mapping: ..." or
    // "port mapping (UPnP): ..." with the reason.
    port_mapping_error,
    // BEP 55 holepunching: "holepunch: relayed A <-> B", "holepunch: connecting to B (relay
    // C)", "holepunch: asked C to introduce B", "holepunch: C answered NotConnected for B".
    holepunch,
};

struct Event {
    EventType type;
    TorrentId torrent = -1;
    std::string message;
};

// Session-wide figures for monitoring (Session::session_stats). Counters count from the
// session's start and include torrents removed since; the rest are gauges read now.
struct SessionStats {
    std::uint64_t payload_downloaded = 0;  // piece data received (bytes)
    std::uint64_t payload_uploaded = 0;    // piece data sent (bytes)
    std::uint64_t hash_failures = 0;       // pieces that failed their hash check
    std::uint64_t peers_banned = 0;
    std::uint64_t announces_ok = 0;        // tracker announces answered without failure
    std::uint64_t announces_failed = 0;    // failure reason, timeout or unreachable
    int torrents_by_state[6] = {};         // indexed by TorrentState
    int peers_connected = 0;
    int half_open = 0;                     // outgoing peer connections not yet established
    std::int64_t cache_bytes = 0;          // piece data held in memory
    std::uint64_t disk_queue = 0;          // jobs waiting for a disk worker
    bool dht = false;                      // the DHT runs (the dht_* figures mean something)
    std::uint64_t dht_nodes = 0;           // routing table size
    std::uint64_t dht_queries_sent = 0, dht_queries_served = 0, dht_responses = 0, dht_timeouts = 0;
    std::uint64_t pieces_picked = 0;  // pieces the picker started downloading
    std::uint64_t pieces_passed = 0;  // pieces downloaded, verified and written
    std::uint64_t hash_requests_served = 0;    // BEP 52 hash requests answered with hashes
    std::uint64_t hash_requests_rejected = 0;  // BEP 52 hash requests answered with a reject
    // Bytes asked for again after hash failures (TorrentStatus::refetched), and failed
    // pieces narrowed to their bad blocks by BEP 52 leaf hashes.
    std::uint64_t refetched_bytes = 0;
    std::uint64_t failures_narrowed = 0;
};

// Streaming (Session::stream_open and the calls after it): a reader of one file that
// moves the pieces it needs to the front of the download queue.
using StreamId = int;
struct StreamInfo {
    enum class Status { ok, no_torrent, no_metadata, no_file };
    Status status = Status::no_torrent;
    StreamId id = -1;   // with ok
    std::string path;   // as TorrentStatus::files lists it
    std::int64_t size = 0;
    int priority = 4;   // the file's priority (0: skipped, never fetched for a reader)
};
struct StreamRead {
    // ok: `data` holds verified bytes from the offset asked (empty: at or past the end of
    // the file); closed: the stream or its torrent is gone, or the session stopped;
    // not_wanted: the piece is neither verified nor wanted (its file is skipped);
    // failed: the disk read failed (`error`).
    enum class Status { ok, closed, not_wanted, failed };
    Status status = Status::ok;
    std::string data;
    std::string error;
};

class Session {
public:
    // Throws Error if the listen address is malformed or cannot be bound, or the bind
    // interface does not exist; SettingsError for an unusable blocklist. Sets SIGPIPE to
    // be ignored if the process left it at its default (uploads by splice can raise it).
    explicit Session(Settings settings);
    ~Session();  // stops everything (see stop())
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    // The actual listen port (after binding port 0).
    std::uint16_t listen_port() const;

    // Throws Error (malformed torrent or magnet: its reason; already added).
    TorrentId add_torrent(const AddTorrentParams& params);
    std::optional<TorrentStatus> status(TorrentId id) const;
    std::vector<Event> pop_events();
    // Blocks until an event is waiting to be popped or `timeout` passed; true if one is.
    bool wait_for_events(std::chrono::milliseconds timeout);

    // Ids of every torrent (and magnet still fetching its metadata), ascending.
    std::vector<TorrentId> list() const;
    // The calls below return false for an unknown id. They post to the network thread
    // and return once it took the command (the work itself, announces and disk jobs,
    // continues in the background).
    // Stops the torrent (announces `stopped`, closes peers and files) and forgets it:
    // its resume data is removed and, with delete_data, its files (only the torrent's own
    // files and the now-empty folders of a multi-file torrent, never anything else).
    bool remove_torrent(TorrentId id, bool delete_data);
    // Paused: no peers, no announces but `stopped`, state `stopped`; resume data saved.
    bool pause(TorrentId id);
    // Starts a paused torrent again: re-announces and continues from the resume data
    // saved at pause (no re-hash when the files did not change).
    bool resume(TorrentId id);
    // Hashes every piece again (the resume data is dropped); a paused torrent stays paused.
    bool recheck(TorrentId id);
    // Announces to the trackers now (and looks the torrent up in the DHT).
    bool reannounce(TorrentId id);
    // Replaces the IP blocklist (Settings::blocklist_file) with the union of `lists`, each
    // the bytes of a blocklist in any format Settings::blocklist_file takes; no list: no
    // blocklist. Connected peers now in it are closed, and from now on its addresses are
    // never dialled nor let in. Parsed on the caller's thread; throws Error (naming the
    // list by its index in `lists`) for a list that is unusable or holds no range, the
    // blocklist in force then unchanged. Returns the number of ranges (after merging).
    std::size_t set_blocklist(const std::vector<std::string>& lists);
    // The ranges in one such list (after merging); throws Error as set_blocklist does.
    static std::size_t check_blocklist(const std::string& list);
    // PEX (Settings::pex) on or off for the peers that connect from now on. false once
    // the session stopped.
    bool set_pex(bool on);
    // The DHT (Settings::dht) on or off while the session runs. Off: the node stops (its
    // routing table is saved to the state file), answers no query, and torrents neither
    // announce to it nor look peers up in it. On: it starts again from Settings::
    // dht_bootstrap (and the saved table), opening the UDP socket if uTP had not, and
    // running torrents look themselves up at once. Throws Error when it cannot run (a
    // proxy is set, the UDP port cannot be bound), the DHT then unchanged. false once the
    // session stopped.
    bool set_dht(bool on);
    // Local service discovery (Settings::lsd) on or off: off leaves the multicast group and
    // stops announcing; on joins it and announces every running public torrent. Throws
    // Error when the group cannot be joined. false once the session stopped.
    bool set_lsd(bool on);
    // uTP (Settings::utp) on or off: off, no new uTP connection is made or accepted (open
    // ones go on until they end); on, both again. Throws Error when TCP is off too
    // (Settings::tcp) or the UDP port cannot be bound. false once the session stopped.
    bool set_utp(bool on);
    // Moves the peer port to `port` (1-65535) on the same listen address(es): new TCP
    // listeners and UDP sockets (DHT, uTP) are bound first, and only when all of them
    // could be are the old ones closed, so a port that cannot be taken throws Error and
    // the old port stays in use. Established TCP connections go on (uTP ones end: their
    // socket changed); torrents re-announce to trackers and the DHT with the new port, LSD
    // announces it, and a NAT-PMP/UPnP mapping is replaced by one of the new port. false
    // once the session stopped.
    bool set_listen_port(std::uint16_t port);
    // Port forwarding (Settings::natpmp and Settings::upnp together, as Transmission's
    // port-forwarding-enabled) on or off while the session runs. On: NAT-PMP (gateway as
    // Settings::natpmp_gateway says, else the default route's) and UPnP (Settings::upnp_igd,
    // else SSDP discovery) map the peer port; failures come as port_mapping_error events.
    // Off: the mappings are deleted (bounded, in the background). Nothing changes when one
    // of them already runs and `on`. Throws Error for a malformed natpmp_gateway or
    // upnp_igd. false once the session stopped.
    bool set_port_forwarding(bool on);
    // Settings::cache_bytes (>= 0) from now on: each downloading torrent starts no new
    // piece while the pieces it holds in memory would exceed it (one is always allowed).
    // false once the session stopped.
    bool set_cache_bytes(std::int64_t bytes);
    // Settings::part_files for every torrent, for the files created from now on (files on
    // disk keep their names until complete). false once the session stopped.
    bool set_part_files(bool on);
    // Changes Settings::encryption for the connections made or accepted from now on (open
    // connections keep what they negotiated). false once the session stopped.
    bool set_encryption(Encryption policy);

    // Announces `stopped` to trackers (bounded wait), saves resume data and the DHT's
    // routing table (both on disk when it returns), closes every connection and file.
    // Idempotent.
    void stop(std::chrono::milliseconds announce_timeout = std::chrono::seconds(3));

    // File priorities (see AddTorrentParams::file_priorities; one per file, missing
    // entries normal). A file set back to wanted is fetched; a skipped file's pieces are no
    // longer requested. For a magnet still fetching its metadata they apply once it
    // arrives. The torrent's state follows: downloading while a wanted piece is missing.
    bool set_file_priorities(TorrentId id, std::vector<int> priorities);
    // Sequential download (lowest piece index first) on or off.
    bool set_sequential(TorrentId id, bool on);
    // Replaces Settings::rate_limits, from now on for every connection. Enabling the
    // schedule (or changing its window) switches alt speed as the window says now; the
    // limits must be >= 0 and the minutes within a day (Error otherwise). false once
    // the session stopped.
    bool set_rate_limits(const RateLimits& limits);
    // The limits in force; alt_speed_enabled as the schedule or set_rate_limits last set it.
    RateLimits rate_limits() const;
    // A torrent's own limits (bytes/s, 0: none) and whether the session's apply to it too;
    // kept across pause/resume and recheck. false for an unknown id.
    bool set_torrent_limits(TorrentId id, std::int64_t download, std::int64_t upload, bool honors_session_limits);
    // AddTorrentParams::bandwidth_priority and max_peers, from now on (lowering the peer
    // limit closes the peers over it, those longest without payload first). Kept across
    // pause/resume. false for an unknown id.
    bool set_bandwidth_priority(TorrentId id, int priority);
    bool set_peer_limit(TorrentId id, int max_peers);
    // Settings::max_connections (fitted to the descriptor limit, as at start) and
    // Settings::max_peers_per_torrent (for torrents without their own limit), from now
    // on; peers over a lowered limit are closed, those longest without payload first. A value <= 0 leaves that one
    // as it is. false once the session stopped.
    bool set_peer_limits(int max_connections, int max_peers_per_torrent);
    // Seeding limits (Transmission's seedRatioLimit / seedIdleLimit): once the torrent is
    // complete and its upload reaches ratio x size (ratio >= 0), or it moved no payload
    // for idle_minutes (> 0) while seeding, it pauses itself and is reported by
    // take_seed_limit_stops(). ratio < 0 and idle_minutes <= 0: no limit. Kept across
    // pause/resume. false for an unknown id.
    bool set_seed_limits(TorrentId id, double ratio, int idle_minutes);
    // Ids paused by a seed limit since the last call (each reported once).
    std::vector<TorrentId> take_seed_limit_stops();
    // Replaces the torrent's trackers: one list of announce URLs per tier (BEP 12), in
    // order; the next announce uses them. Kept across pause/resume. false for an unknown
    // id; throws Error for a URL that is not http(s):// or udp://.
    bool set_trackers(TorrentId id, std::vector<std::vector<std::string>> tiers);

    // Moves the torrent's data into `new_dir` (absolute; created when missing), as
    // libtorrent's move_storage and Transmission's torrent-set-location. The torrent stops
    // (no disk I/O, no peers) while its files (and its parts file) move on a disk thread:
    // rename(2) on one file system, copy + fsync + remove across file systems. Nothing at
    // the destination is replaced: a file of the torrent already there fails the move. On
    // failure the data stays complete at the old place and the torrent goes on there; on
    // success it goes on from the new place without hashing again. Either way it comes
    // back as it was (a paused torrent stays paused) and reports storage_moved or
    // storage_move_failed. With move_data false nothing moves: the torrent looks for its
    // data in `new_dir` from now on and checks it there. false for an unknown id; throws
    // Error for a relative path, a target inside the torrent's own folder, or a torrent
    // already moving.
    bool move_storage(TorrentId id, std::string new_dir, bool move_data = true);
    // Renames one file or folder of the torrent (Transmission's torrent-rename-path):
    // `path` as status().files shows it ("Name/sub/file.bin", or the top folder "Name":
    // then the torrent's name changes too), `new_name` one path component. Renamed on disk
    // when it is there (never replacing an existing entry); from then on the file is read
    // and written under its new name, and status() shows it. Blocks until done (at most
    // ~20 s); false for an unknown id; throws Error with the reason (a bad name, no such
    // path, a name taken, a torrent checking, moving or without metadata yet, an I/O error).
    bool rename_path(TorrentId id, const std::string& path, const std::string& new_name);

    struct Impl;

    // Session-wide counters and gauges, read on the network thread (see SessionStats).
    // All zero once the session stopped.
    SessionStats session_stats() const;
    // Every torrent's status in one round trip to the network thread: what status(id)
    // gives without `files`, `peer_list` and `pieces` (cheap for thousands of torrents).
    std::vector<std::pair<TorrentId, TorrentStatus>> status_all() const;

    // Bandwidth groups (session_groups.cpp). Creates or changes the group `g.name`
    // (non-empty; Error otherwise, or for a negative limit); its torrents follow at once.
    // A torrent's bucket sits inside its group's, so the torrent's own limits still apply
    // and honors_session_limits = false takes it out of the group's limits too (as in
    // Transmission, where the group is the torrent's parent). false once stopped.
    bool set_bandwidth_group(const BandwidthGroup& g);
    // Puts the torrent in group `name` (created without limits when unknown; empty: no
    // group). Kept across pause/resume. false for an unknown id.
    bool set_torrent_group(TorrentId id, const std::string& name);
    // Streaming a file while it downloads (session_stream.cpp). `file_index` counts files
    // as TorrentStatus::files lists them (BEP 47 pad files left out). Several streams may
    // be open at once, on one file or many. A stream's window (the bytes its reader needs
    // now plus a read-ahead that grows with the download rate) is fetched before anything
    // else, rarest-first and priorities notwithstanding; a skipped file (priority 0) is
    // never fetched for a reader, its verified pieces are still read. stream_open blocks
    // for a round trip to the network thread; the other calls only post to it.
    StreamInfo stream_open(TorrentId id, int file_index);
    // The reader needs bytes [offset, offset + length) of the file now.
    void set_stream_window(StreamId stream, std::int64_t offset, std::int64_t length);
    // Ends the stream: its window stops counting, its pending reads end with `closed`.
    void stream_close(StreamId stream);
    // Reads up to max_len bytes of the file at `offset` once the piece holding `offset` is
    // verified (never unverified bytes): as many as the verified pieces from there hold.
    // Moves the stream's window to [offset, offset + max_len). Waits as long as it takes
    // (the caller bounds its wait and closes the stream). `done` runs once, on a disk
    // worker or the network thread; it must not block.
    void stream_read(StreamId stream, std::int64_t offset, std::size_t max_len,
                     std::function<void(StreamRead)> done);
    // Streams open now (0 once the session stopped).
    std::size_t stream_count() const;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace piecewise

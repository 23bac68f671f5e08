// The public face of the Piecewise engine.
//
// A Session owns one network thread (all protocol state lives there) and a small
// disk/hash worker pool. Calls on Session never block on the network and never run
// user code on the network thread: commands are posted, state comes back as status
// snapshots (copies) and as events pulled from a queue.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace piecewise {

// Message Stream Encryption (protocol encryption, RC4) of peer connections.
//   prefer:  accept both; dial encrypted first and retry in plaintext if that fails;
//            offer plaintext|RC4 and pick RC4 when a peer offers both.
//   require: never a plaintext connection, in or out; RC4 only.
//   disable: plaintext only; encrypted incoming handshakes are closed.
enum class Encryption { prefer, require, disable };

struct Settings {
    // Address and port of the TCP peer listener ("0.0.0.0:6881", "127.0.0.2:7000",
    // "[::1]:6881"). Port 0 picks a free port. Outgoing connections and tracker requests
    // bind to this address when it is not a wildcard.
    std::string listen = "0.0.0.0:6881";
    // Where fast-resume files are kept; empty: $XDG_STATE_HOME/piecewise/resume
    // (or ~/.local/state/piecewise/resume).
    std::string resume_dir;
    int max_peers_per_torrent = 60;
    int unchoke_slots = 8;
    // Upper bound on piece data held in memory while downloading (bytes).
    std::int64_t cache_bytes = 32ll << 20;
    unsigned disk_threads = 0;  // 0: one per core, at least 2
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
    // Local service discovery (BEP 14): multicast on the local network; off by default.
    bool lsd = false;
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
    // Transports for peers. uTP (BEP 29) shares the UDP socket of `listen` with the DHT;
    // outgoing connections use uTP to peers known to speak it and TCP otherwise, either
    // falling back to the other. No uTP while a proxy is set. tcp = false (for tests):
    // uTP only, incoming TCP connections refused. Not both off.
    bool utp = true;
    bool tcp = true;
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
    double seed_ratio = -1;        // stop when uploaded/size reaches this; <0: never
    // Added stopped: no check, no peers, no announces until resume(); what is on disk is
    // taken from matching resume data only (never hashed while paused).
    bool paused = false;
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
};

struct FileStatus {
    std::string path;  // relative to save_path ('/'-separated)
    std::int64_t size = 0;
    std::int64_t bytes_done = 0;  // bytes of verified pieces inside this file
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
    std::int64_t downloaded = 0;   // payload bytes received this session
    std::int64_t uploaded = 0;     // payload bytes sent this session
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
    storage_error,      // the torrent stopped: disk full, permission, ...
    listen_failed,
    blocklist_loaded,   // at start: "blocklist: N ranges from FILE (M lines skipped)"
};

struct Event {
    EventType type;
    TorrentId torrent = -1;
    std::string message;
};

class Session {
public:
    // Throws Error if the listen address is malformed or cannot be bound, or the bind
    // interface does not exist; SettingsError for an unusable blocklist.
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
    // Changes Settings::encryption for the connections made or accepted from now on (open
    // connections keep what they negotiated). false once the session stopped.
    bool set_encryption(Encryption policy);

    // Announces `stopped` to trackers (bounded wait), saves resume data, closes every
    // connection and file. Idempotent.
    void stop(std::chrono::milliseconds announce_timeout = std::chrono::seconds(3));

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace piecewise

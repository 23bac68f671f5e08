// One connection to a peer (BEP 3 peer wire protocol, BEP 10 extension handshake).
//
// A PeerConnection owns the socket and does the protocol's I/O: it reads, parses and
// checks messages and hands each one to its PeerHandler (the torrent), and it queues
// and writes outgoing messages. The swarm decisions (what to request, whom to unchoke)
// live in the torrent. Everything runs on the network thread as coroutines.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/container/deque.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "peer/bandwidth_limiter.hpp"
#include "peer/mse_stream.hpp"
#include "peer/peer_stream.hpp"
#include "storage/splice_pipe.hpp"
#include "swarm/bitfield.hpp"
#include "swarm/holepunch.hpp"
#include "swarm/rate.hpp"
#include "swarm/super_seed.hpp"
#include "wire/messages.hpp"

namespace pw::peer {

using tcp = boost::asio::ip::tcp;
using Clock = std::chrono::steady_clock;

class PeerConnection;

// Receives what a connection learns; implemented by the torrent. Handlers may close
// the connection (PeerConnection::close); the connection checks after each message.
class PeerHandler {
public:
    virtual ~PeerHandler() = default;
    // After both handshakes; return false to refuse the peer (duplicate, limits).
    virtual bool on_handshake(PeerConnection& p) = 0;
    virtual void on_message(PeerConnection& p, const wire::Message& m) = 0;
    // Called once, after the socket is closed.
    virtual void on_closed(PeerConnection& p, const std::string& reason) = 0;
    // The send queue drained below the low-water mark (upload can continue).
    virtual void on_send_drained(PeerConnection& p) = 0;
};

// One block we asked this peer for.
struct OutRequest {
    std::uint32_t piece;
    std::uint32_t begin;
    std::uint32_t length;
    Clock::time_point sent;
};

// One block the peer asked us for.
struct InRequest {
    std::uint32_t piece;
    std::uint32_t begin;
    std::uint32_t length;
};

class PeerConnection : public std::enable_shared_from_this<PeerConnection> {
public:
    PeerConnection(PeerStream socket, std::weak_ptr<PeerHandler> handler, bool outgoing, int num_pieces,
                   std::uint32_t max_message);

    // Runs the connection to its end. For outgoing connections `ours` is sent first and
    // the peer's handshake read; for incoming ones `theirs` was already read by the
    // listener and `ours` is sent in reply.
    void start(wire::Handshake ours, std::optional<wire::Handshake> theirs,
               Sha1Digest expected_hash);
    // Before start(): the connection went through MSE (an RC4 pair, or plaintext after
    // the handshake), with bytes already received past it.
    void set_transport(Transport t);
    bool encrypted() const { return enc_.has_value(); }
    // Before start(): what this connection reads and writes after the handshake goes
    // through `bucket` of `limiter` (its torrent's limits, nested in the session's).
    void set_bandwidth(std::shared_ptr<BandwidthLimiter> limiter, BandwidthLimiter::BucketId bucket);
    // True while an upload limit applies to this connection (serve() queues less).
    bool upload_limited() const { return bw_ && bw_->limited(BandwidthLimiter::up, bw_bucket_); }

    void close(const std::string& reason);
    bool closed() const { return closed_; }

    // Outgoing messages (queued; written by the writer coroutine).
    void send_raw(std::string_view bytes);
    void send_simple(wire::MsgId id);
    void send_have(std::uint32_t piece);
    void send_bitfield(const swarm::Bitfield& b);
    void send_request(const OutRequest& r);
    void send_cancel(std::uint32_t piece, std::uint32_t begin, std::uint32_t length);
    // BEP 6 (only to a peer that set the fast bit too).
    void send_reject(std::uint32_t piece, std::uint32_t begin, std::uint32_t length);
    void send_allowed_fast(std::uint32_t piece);
    // Queues a PIECE message whose payload `data` lives in `owner` (no copy: the
    // writer hands it to the socket straight from there).
    void send_piece(std::uint32_t piece, std::uint32_t begin, std::shared_ptr<const char[]> owner,
                    std::string_view data);
    // Whether send_spliced may be used: a TCP connection without MSE encryption.
    bool can_splice() const { return !enc_ && !socket_.is_utp(); }
    // Queues `bytes` bytes of whole messages that are in `pipe` (PIECE messages put there
    // by a disk worker, storage/splice_pipe.hpp), `payload` of them block payload; the
    // writer splices them to the socket.
    void send_spliced(std::unique_ptr<storage::SplicePipe> pipe, std::size_t bytes,
                      std::size_t payload);
    void send_extended(std::uint8_t id, std::string_view payload);
    void flush();  // wakes the writer after a batch of sends
    std::size_t send_queue_bytes() const { return wbuf_.size() + queued_bytes_; }

    const tcp::endpoint& remote() const { return remote_; }
    bool outgoing() const { return outgoing_; }
    const wire::Handshake& their_handshake() const { return theirs_; }
    std::string client_name() const;
    bool utp() const { return socket_.is_utp(); }  // over uTP (BEP 29), not TCP

    // ---- State the torrent keeps per peer (touched on the network thread only) ----
    swarm::Bitfield has;
    bool seed = false;
    bool got_bitfield = false;
    bool am_choking = true;
    bool am_interested = false;
    bool peer_choking = true;
    bool peer_interested = false;
    bool snubbed = false;
    int interesting = 0;           // pieces it has that we lack
    std::uint64_t pick_failed_epoch = ~0ull;  // picker epoch at which pick() found nothing
    std::uint64_t endgame_failed_epoch = ~0ull;  // torrent's endgame epoch of a fruitless scan
    int current_piece = -1;        // the piece this peer was last given blocks of
    // Queues are Boost.Container deques: an empty one holds no memory (libstdc++'s
    // std::deque allocates about 570 bytes at construction), and most connections keep
    // most of their queues empty most of the time (idle peers, seeds, a flood).
    template <class T>
    using Queue = boost::container::deque<T>;
    Queue<OutRequest> requests_out;
    Queue<OutRequest> cancelled;  // released requests whose blocks may still arrive
    Queue<InRequest> requests_in;
    int reads_in_flight = 0;
    // BEP 6 fast extension: both handshakes set the bit.
    bool fast = false;
    std::vector<std::uint32_t> allowed_fast_out;  // pieces we serve it while choking it
    std::vector<std::uint32_t> allowed_fast_in;   // pieces it serves us while choking us (bounded)
    Queue<std::uint32_t> suggested;               // its SUGGEST PIECEs, oldest first (bounded)
    // BEP 16 super-seeding: introduced to it as a peer with no data (see
    // swarm/super_seed.hpp); the pieces offered to it now, with the 16 KiB blocks of each
    // we sent it, and every piece we told it of.
    bool super_seed = false;
    std::vector<swarm::SuperOffer> super_offers;
    swarm::Bitfield super_told;
    int dropped_requests = 0;      // its requests we rejected or ignored since we last unchoked it
    int stray_rejects = 0;         // its rejects of requests we never sent
    std::int64_t reqq = 250;       // what the peer accepts (BEP 10 `reqq`)
    std::uint16_t listen_port = 0; // BEP 10 `p`
    std::string ext_client;        // BEP 10 `v`
    std::uint8_t ext_ut_metadata = 0;  // the peer's id for ut_metadata (BEP 9), 0: unsupported
    std::uint8_t ext_ut_pex = 0;       // the peer's id for ut_pex (BEP 11), 0: unsupported
    std::uint8_t ext_ut_holepunch = 0; // the peer's id for ut_holepunch (BEP 55), 0: unsupported
    swarm::HolepunchRate holepunch_in; // its rendezvous and connect messages (bounded)
    int metadata_requests = 0;         // ut_metadata requests it made of us
    int leaf_reads = 0;                // its BEP 52 leaf hash requests being read from disk
    std::vector<tcp::endpoint> pex_sent;  // peers we told it about (BEP 11 `added`)
    Clock::time_point last_pex_in{};
    swarm::RateMeter down;         // payload we receive
    swarm::RateMeter up;           // payload we send
    Clock::time_point last_block = Clock::now();
    Clock::time_point connected_at = Clock::now();
    Clock::time_point last_unchoked_us = Clock::now();
    int optimistic_rounds = 0;
    int choke_id = 0;              // handle for the choker
    int hash_failures = 0;
    int unwanted_blocks = 0;
    tcp::endpoint peer_key;        // address used for the peer list (listen port when known)
    // Connection caps and idle-peer eviction (issue 14):
    std::shared_ptr<void> slot;     // its place in the session's connection budget, until close()
    int messages_in = 0;            // messages after the handshake (keep-alives not counted)
    Clock::time_point last_payload{};  // a block moved either way; epoch: never

private:
    boost::asio::awaitable<void> run(wire::Handshake ours, std::optional<wire::Handshake> theirs,
                                     Sha1Digest expected);
    boost::asio::awaitable<void> writer();
    boost::asio::awaitable<void> watchdog();
    bool dispatch_buffer();  // parses and hands over every whole message; false on error

    PeerStream socket_;
    std::weak_ptr<PeerHandler> handler_;  // the torrent may go away before its connections
    bool outgoing_;
    std::uint32_t max_message_;
    tcp::endpoint remote_;
    wire::Handshake theirs_{};
    bool closed_ = false;
    bool handshake_done_ = false;
    std::string close_reason_;

    // MSE RC4 (both or neither): received bytes are decrypted in place right after each
    // read; outgoing bytes are encrypted as they are sealed into the send queue, in order.
    std::optional<crypto::Rc4> enc_, dec_;
    bool handshake_sent_ = false;
    boost::asio::awaitable<bool> read_more();  // one read into rbuf_ (decrypted); false: closed

    std::vector<char> rbuf_;
    std::size_t rstart_ = 0, rend_ = 0;
    Clock::time_point last_receive_ = Clock::now();
    Clock::time_point last_full_{};  // a read last filled rbuf_ (it grows, see read_chunk)
    Clock::time_point last_send_ = Clock::now();
    Clock::time_point flood_window_ = Clock::now();
    std::uint32_t flood_count_ = 0;
    std::uint32_t flood_limit_;

    // Outgoing bytes, in order: the segments of outq_ (the first ones possibly being
    // written), then wbuf_, where small messages accumulate. A segment owns its bytes,
    // refers to a payload kept alive by `owner`, or holds a pipe its bytes are in.
    struct Segment {
        std::string bytes;
        std::shared_ptr<const char[]> owner;
        std::string_view ref;
        std::unique_ptr<storage::SplicePipe> pipe;  // set: the segment's bytes are in it
        std::size_t spliced = 0;                    // how many (pipe set)
        std::string_view view() const { return owner ? ref : std::string_view(bytes); }
        std::size_t size() const { return pipe ? spliced : view().size(); }
    };
    // Splices `len` bytes from the pipe to the socket; waits while the socket is full.
    boost::asio::awaitable<boost::system::error_code> splice_out(int pipe_fd, std::size_t len);
    int splice_sock_ = -1;  // the socket's descriptor, once made non-blocking for splice_out
    void seal_wbuf();  // moves wbuf_ to the end of outq_
    std::string wbuf_;
    Queue<Segment> outq_;
    std::size_t queued_bytes_ = 0;  // bytes in outq_ not written yet
    std::size_t head_written_ = 0;  // bytes of outq_.front() already written (a limited write)
    boost::asio::steady_timer wake_;

    // Rate limits (null: never limited). Payload and protocol bytes after the handshake
    // count; the handshakes (BitTorrent, MSE) do not.
    std::shared_ptr<BandwidthLimiter> bw_;
    BandwidthLimiter::BucketId bw_bucket_ = BandwidthLimiter::none;
    std::unique_ptr<BandwidthLimiter::Slot> bw_down_, bw_up_;
};

}  // namespace pw::peer

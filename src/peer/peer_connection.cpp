#include "peer/peer_connection.hpp"

#include <fcntl.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstring>
#include <tuple>

#include "session/endpoint.hpp"

namespace pw::peer {

namespace asio = boost::asio;
using asio::awaitable;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

namespace {
// The receive buffer starts small (an idle or slow peer holds 32 KiB, not 256) and
// doubles, up to read_chunk, while reads keep filling it; a connection that has not
// filled it for a while goes back to the small one between messages.
constexpr std::size_t first_read = 32 * 1024;
constexpr std::size_t read_chunk = 256 * 1024;
constexpr auto shrink_after = std::chrono::seconds(30);
constexpr std::size_t send_low_water = 512 * 1024;
constexpr std::size_t max_gather = 64;           // segments per write
constexpr std::size_t max_write = 2u << 20;      // bytes per write (whole segments)
constexpr auto handshake_timeout = std::chrono::seconds(20);
constexpr auto idle_timeout = std::chrono::seconds(180);
constexpr auto keepalive_interval = std::chrono::seconds(110);
}  // namespace

PeerConnection::PeerConnection(PeerStream socket, std::weak_ptr<PeerHandler> handler, bool outgoing,
                               int num_pieces, std::uint32_t max_message)
    : has(num_pieces),
      socket_(std::move(socket)),
      handler_(std::move(handler)),
      outgoing_(outgoing),
      max_message_(max_message),
      flood_limit_(static_cast<std::uint32_t>(std::max(5000, num_pieces + 1000))),
      wake_(socket_.get_executor(), Clock::time_point::max()) {
    boost::system::error_code ec;
    // An IPv4 peer reached on a dual-stack socket is keyed by its IPv4 address.
    remote_ = session::unmapped(socket_.remote_endpoint(ec));
    peer_key = remote_;
    rbuf_.resize(first_read);
    socket_.set_option(tcp::no_delay(true), ec);
}

void PeerConnection::start(wire::Handshake ours, std::optional<wire::Handshake> theirs,
                           Sha1Digest expected_hash) {
    auto self = shared_from_this();
    asio::co_spawn(socket_.get_executor(), run(ours, theirs, expected_hash),
                   [self](std::exception_ptr e) {
                       if (e) {
                           try {
                               std::rethrow_exception(e);
                           } catch (const std::exception& ex) {
                               self->close(std::string("internal error: ") + ex.what());
                           }
                       }
                   });
}

std::string PeerConnection::client_name() const {
    if (!ext_client.empty()) return ext_client;
    // Azureus-style peer ids: -XX1234-
    const auto& id = theirs_.peer_id;
    if (id[0] == '-' && id[7] == '-') return std::string(reinterpret_cast<const char*>(id.data()), 8);
    return "unknown";
}

void PeerConnection::close(const std::string& reason) {
    if (closed_) return;
    closed_ = true;
    close_reason_ = reason;
    boost::system::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
    slot.reset();  // the descriptor is gone: give its place back now
    for (auto& seg : outq_) seg.pipe.reset();  // nothing more is written: pipes go back now
    wake_.cancel();
    if (bw_) {
        bw_->cancel(BandwidthLimiter::down, *bw_down_);
        bw_->cancel(BandwidthLimiter::up, *bw_up_);
    }
    // Tell the handler from a fresh stack frame: the caller may be iterating its peers.
    auto self = shared_from_this();
    asio::post(wake_.get_executor(), [self] {
        if (auto h = self->handler_.lock()) h->on_closed(*self, self->close_reason_);
    });
}

void PeerConnection::set_bandwidth(std::shared_ptr<BandwidthLimiter> limiter, BandwidthLimiter::BucketId bucket) {
    bw_ = std::move(limiter);
    bw_bucket_ = bucket;
    bw_down_ = std::make_unique<BandwidthLimiter::Slot>(socket_.get_executor());
    bw_up_ = std::make_unique<BandwidthLimiter::Slot>(socket_.get_executor());
}

void PeerConnection::set_transport(Transport t) {
    enc_ = std::move(t.enc);
    dec_ = std::move(t.dec);
    handshake_sent_ = t.handshake_sent;
    if (t.pending.size() > rbuf_.size()) rbuf_.resize(t.pending.size());
    std::memcpy(rbuf_.data(), t.pending.data(), t.pending.size());
    rstart_ = 0;
    rend_ = t.pending.size();
}

awaitable<bool> PeerConnection::read_more() {
    if (rend_ == rbuf_.size()) {
        std::memmove(rbuf_.data(), rbuf_.data() + rstart_, rend_ - rstart_);
        rend_ -= rstart_;
        rstart_ = 0;
    }
    auto [ec, n] = co_await socket_.async_read_some(
        asio::buffer(rbuf_.data() + rend_, rbuf_.size() - rend_), use_nothrow);
    if (closed_) co_return false;
    if (ec) {
        close(ec == asio::error::eof ? "closed during handshake"
                                     : "handshake read: " + ec.message());
        co_return false;
    }
    if (dec_) dec_->process(rbuf_.data() + rend_, n);
    rend_ += n;
    co_return true;
}

awaitable<void> PeerConnection::run(wire::Handshake ours, std::optional<wire::Handshake> theirs,
                                    Sha1Digest expected) {
    auto self = shared_from_this();
    asio::co_spawn(socket_.get_executor(), watchdog(), asio::detached);
    if (outgoing_) {
        if (!handshake_sent_) {
            std::string hs = wire::encode_handshake(ours);
            if (enc_) enc_->process(hs.data(), hs.size());
            auto [wec, wn] = co_await asio::async_write(socket_, asio::buffer(hs), use_nothrow);
            if (wec) {
                close("handshake write: " + wec.message());
                co_return;
            }
        }
        while (rend_ - rstart_ < wire::handshake_size)
            if (!co_await read_more()) co_return;
        auto h =
            wire::decode_handshake(std::string_view(rbuf_.data() + rstart_, wire::handshake_size));
        rstart_ += wire::handshake_size;
        if (!h) {
            close("not a BitTorrent handshake");
            co_return;
        }
        if (h->info_hash != expected) {
            close("handshake for another torrent");
            co_return;
        }
        theirs_ = *h;
    } else {
        theirs_ = *theirs;
        if (!handshake_sent_) {  // the listener may have answered it already
            std::string hs = wire::encode_handshake(ours);
            if (enc_) enc_->process(hs.data(), hs.size());
            auto [wec, wn] = co_await asio::async_write(socket_, asio::buffer(hs), use_nothrow);
            if (wec) {
                close("handshake write: " + wec.message());
                co_return;
            }
        }
    }
    if (closed_) co_return;
    handshake_done_ = true;
    last_receive_ = Clock::now();
    auto h = handler_.lock();
    if (!h || !h->on_handshake(*this)) {
        if (!closed_) close("refused");
        co_return;
    }
    asio::co_spawn(socket_.get_executor(), writer(), asio::detached);
    // Messages that arrived with the handshake (or with MSE's last step).
    if (rend_ > rstart_ && !dispatch_buffer()) co_return;
    if (rstart_ == rend_) rstart_ = rend_ = 0;

    while (!closed_) {
        if (rend_ == rbuf_.size()) {
            if (rstart_ > 0) {
                std::memmove(rbuf_.data(), rbuf_.data() + rstart_, rend_ - rstart_);
                rend_ -= rstart_;
                rstart_ = 0;
            } else {
                // One message larger than the buffer (a big bitfield or extension message):
                // grow up to the message limit, which parse_message has already checked.
                rbuf_.resize(std::min<std::size_t>(rbuf_.size() * 2, std::size_t(max_message_) + 4));
            }
        }
        if (rend_ == 0 && rbuf_.size() > first_read && last_receive_ - last_full_ > shrink_after)
            std::vector<char>(first_read).swap(rbuf_);  // gone quiet: give the memory back
        std::size_t room = rbuf_.size() - rend_;
        std::int64_t grant = 0;
        if (bw_ && bw_->limited(BandwidthLimiter::down, bw_bucket_)) {
            // Data first, then the grant: a silent peer holds no share of the budget. (A uTP
            // stream has no readiness wait: it takes its grant before the read.)
            boost::system::error_code wec;
            if (!socket_.is_utp()) std::tie(wec) = co_await socket_.async_wait_readable(use_nothrow);
            if (closed_) break;
            if (!wec) {
                grant = co_await bw_->acquire(BandwidthLimiter::down, bw_bucket_,
                                              static_cast<std::int64_t>(room), *bw_down_);
                if (closed_) break;
                if (grant > 0) room = std::min(room, static_cast<std::size_t>(grant));
            }
        }
        auto [ec, n] = co_await socket_.async_read_some(asio::buffer(rbuf_.data() + rend_, room), use_nothrow);
        if (grant > static_cast<std::int64_t>(n))
            bw_->give_back(BandwidthLimiter::down, bw_bucket_, grant - static_cast<std::int64_t>(n));
        if (closed_) break;
        if (ec) {
            close(ec == asio::error::eof ? "peer closed the connection" : "read: " + ec.message());
            break;
        }
        if (dec_) dec_->process(rbuf_.data() + rend_, n);
        rend_ += n;
        last_receive_ = Clock::now();
        if (n == room && grant == 0) {
            // The read took all the room it had: more is waiting (a busy peer).
            last_full_ = last_receive_;
            if (rbuf_.size() < read_chunk) rbuf_.resize(std::min(rbuf_.size() * 2, read_chunk));
        }
        if (!dispatch_buffer()) break;
        if (rstart_ == rend_) rstart_ = rend_ = 0;
    }
}

bool PeerConnection::dispatch_buffer() {
    while (!closed_) {
        wire::Message m;
        std::string_view avail(rbuf_.data() + rstart_, rend_ - rstart_);
        auto r = wire::parse_message(avail, max_message_, m);
        if (r.status == wire::ParseStatus::need_more) {
            // Ensure the buffer can hold the whole message once it arrives.
            if (avail.size() >= 4) {
                std::uint32_t len = (std::uint32_t(std::uint8_t(avail[0])) << 24) |
                                    (std::uint32_t(std::uint8_t(avail[1])) << 16) |
                                    (std::uint32_t(std::uint8_t(avail[2])) << 8) |
                                    std::uint32_t(std::uint8_t(avail[3]));
                std::size_t need = std::size_t(len) + 4;
                if (need > rbuf_.size() - rstart_) {
                    std::memmove(rbuf_.data(), rbuf_.data() + rstart_, avail.size());
                    rend_ = avail.size();
                    rstart_ = 0;
                    if (need > rbuf_.size()) rbuf_.resize(need);
                }
            }
            return true;
        }
        if (r.status == wire::ParseStatus::error) {
            close(std::string("protocol error: ") + (r.error ? r.error : "bad message"));
            return false;
        }
        rstart_ += r.consumed;
        // Data-path messages are bounded elsewhere (request queue limit, piece count,
        // unrequested blocks); everything else counts towards the flood limit. Cancels
        // count too: each one searches the queue of the peer's requests, and an honest
        // peer sends at most one per block it asked for.
        bool data_path = m.id == wire::MsgId::piece || m.id == wire::MsgId::request ||
                         m.id == wire::MsgId::have;
        if (!m.keepalive && !data_path) {
            auto now = Clock::now();
            if (now - flood_window_ > std::chrono::seconds(1)) {
                flood_window_ = now;
                flood_count_ = 0;
            }
            if (++flood_count_ > flood_limit_) {
                close("message flood");
                return false;
            }
        }
        if (m.keepalive || !m.known) continue;
        auto h = handler_.lock();
        if (!h) {
            close("torrent removed");
            return false;
        }
        h->on_message(*this, m);
    }
    return false;
}

awaitable<void> PeerConnection::writer() {
    auto self = shared_from_this();
    std::vector<asio::const_buffer> bufs;
    while (!closed_) {
        if (outq_.empty() && wbuf_.empty()) {
            if (auto h = handler_.lock()) h->on_send_drained(*this);
            if (!outq_.empty() || !wbuf_.empty() || closed_) continue;
            wake_.expires_at(Clock::time_point::max());
            co_await wake_.async_wait(use_nothrow);
            continue;
        }
        seal_wbuf();
        // Under a limit, write only what the bucket grants (possibly part of a segment).
        std::size_t allowed = max_write;
        std::int64_t grant = 0;
        if (bw_ && bw_->limited(BandwidthLimiter::up, bw_bucket_)) {
            grant = co_await bw_->acquire(BandwidthLimiter::up, bw_bucket_,
                                          static_cast<std::int64_t>(std::min(queued_bytes_, max_write)), *bw_up_);
            if (closed_) break;
            if (grant > 0) allowed = static_cast<std::size_t>(grant);
            seal_wbuf();
        }
        // One gathered write of the queue's head; later sends append behind it. A pipe
        // segment goes alone, by splice.
        bufs.clear();
        std::size_t count = 0, bytes = 0;
        int pipe_fd = -1;
        for (auto& seg : outq_) {
            if (count == max_gather || bytes >= allowed) break;
            if (seg.pipe) {
                if (count == 0) {
                    pipe_fd = seg.pipe->read_fd();
                    bytes = std::min(seg.spliced - head_written_, allowed);
                }
                break;
            }
            auto v = seg.view();
            if (count == 0) v.remove_prefix(head_written_);
            if (grant > 0 && bytes + v.size() > allowed) v = v.substr(0, allowed - bytes);
            bufs.emplace_back(v.data(), v.size());
            ++count;
            bytes += v.size();
        }
        if (grant > static_cast<std::int64_t>(bytes))
            bw_->give_back(BandwidthLimiter::up, bw_bucket_, grant - static_cast<std::int64_t>(bytes));
        boost::system::error_code ec;
        if (pipe_fd >= 0)
            ec = co_await splice_out(pipe_fd, bytes);
        else
            std::tie(ec, std::ignore) = co_await asio::async_write(socket_, bufs, use_nothrow);
        if (closed_) break;
        if (ec) {
            close("write: " + ec.message());
            break;
        }
        for (std::size_t left = bytes; left > 0;) {
            std::size_t rest = outq_.front().size() - head_written_;
            if (left < rest) {
                head_written_ += left;
                break;
            }
            left -= rest;
            head_written_ = 0;
            outq_.pop_front();
        }
        queued_bytes_ -= bytes;
        last_send_ = Clock::now();
        if (send_queue_bytes() > 0 && send_queue_bytes() < send_low_water)
            if (auto h = handler_.lock()) h->on_send_drained(*this);
    }
}

asio::awaitable<boost::system::error_code> PeerConnection::splice_out(int pipe_fd, std::size_t len) {
    boost::system::error_code ec;
    if (splice_sock_ < 0) {
        splice_sock_ = socket_.native_nonblocking_handle(ec);
        if (ec) co_return ec;
    }
    while (len > 0) {
        ssize_t n = ::splice(pipe_fd, nullptr, splice_sock_, nullptr, len,
                             SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
        if (n > 0) {
            len -= static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        // The pipe holds every byte asked for, so EAGAIN means the socket is full.
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            std::tie(ec) = co_await socket_.async_wait_writable(use_nothrow);
            if (closed_) co_return asio::error::operation_aborted;
            if (ec) co_return ec;
            continue;
        }
        co_return n == 0 ? boost::system::error_code(asio::error::eof)
                         : boost::system::error_code(errno, boost::system::system_category());
    }
    co_return ec;
}

void PeerConnection::send_spliced(std::unique_ptr<storage::SplicePipe> pipe, std::size_t bytes,
                                  std::size_t payload) {
    if (closed_) return;
    seal_wbuf();
    queued_bytes_ += bytes;
    outq_.push_back(Segment{{}, nullptr, {}, std::move(pipe), bytes});
    up.add(static_cast<std::int64_t>(payload));
    flush();
}

void PeerConnection::seal_wbuf() {
    if (wbuf_.empty()) return;
    if (enc_) enc_->process(wbuf_.data(), wbuf_.size());
    queued_bytes_ += wbuf_.size();
    outq_.push_back(Segment{std::move(wbuf_), nullptr, {}, nullptr, 0});
    wbuf_ = std::string();
}

awaitable<void> PeerConnection::watchdog() {
    auto self = shared_from_this();
    asio::steady_timer t(socket_.get_executor());
    while (!closed_) {
        t.expires_after(std::chrono::seconds(5));
        co_await t.async_wait(use_nothrow);
        if (closed_) break;
        auto now = Clock::now();
        if (!handshake_done_) {
            if (now - connected_at > handshake_timeout) close("handshake timed out");
            continue;
        }
        if (now - last_receive_ > idle_timeout) {
            close("inactive for 3 minutes");
            break;
        }
        if (now - last_send_ > keepalive_interval && send_queue_bytes() == 0) {
            wire::put_keepalive(wbuf_);
            flush();
        }
    }
}

void PeerConnection::flush() {
    if (send_queue_bytes() > 0) wake_.cancel();
}

void PeerConnection::send_raw(std::string_view bytes) {
    if (closed_) return;
    wbuf_.append(bytes);
}

void PeerConnection::send_simple(wire::MsgId id) {
    if (closed_) return;
    wire::put_simple(wbuf_, id);
    flush();
}

void PeerConnection::send_have(std::uint32_t piece) {
    if (closed_) return;
    wire::put_have(wbuf_, piece);
    flush();
}

void PeerConnection::send_bitfield(const swarm::Bitfield& b) {
    if (closed_) return;
    wire::put_bitfield(wbuf_, b.wire());
    flush();
}

void PeerConnection::send_request(const OutRequest& r) {
    if (closed_) return;
    wire::put_request(wbuf_, r.piece, r.begin, r.length);
}

void PeerConnection::send_cancel(std::uint32_t piece, std::uint32_t begin, std::uint32_t length) {
    if (closed_) return;
    wire::put_cancel(wbuf_, piece, begin, length);
    flush();
}

void PeerConnection::send_reject(std::uint32_t piece, std::uint32_t begin, std::uint32_t length) {
    if (closed_) return;
    wire::put_reject(wbuf_, piece, begin, length);
    flush();
}

void PeerConnection::send_allowed_fast(std::uint32_t piece) {
    if (closed_) return;
    wire::put_allowed_fast(wbuf_, piece);
    flush();
}

void PeerConnection::send_piece(std::uint32_t piece, std::uint32_t begin,
                                std::shared_ptr<const char[]> owner, std::string_view data) {
    if (closed_) return;
    wire::put_piece_header(wbuf_, piece, begin, static_cast<std::uint32_t>(data.size()));
    seal_wbuf();
    queued_bytes_ += data.size();
    if (enc_) {
        // The payload is shared (other peers, the cache): encrypt a copy of it.
        std::string scratch(data);
        enc_->process(scratch.data(), scratch.size());
        outq_.push_back(Segment{std::move(scratch), nullptr, {}, nullptr, 0});
    } else {
        outq_.push_back(Segment{{}, std::move(owner), data, nullptr, 0});
    }
    up.add(static_cast<std::int64_t>(data.size()));
    flush();
}

void PeerConnection::send_extended(std::uint8_t id, std::string_view payload) {
    if (closed_) return;
    wire::put_extended(wbuf_, id, payload);
    flush();
}

}  // namespace pw::peer

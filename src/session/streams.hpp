// Streaming readers of the session (Session::stream_open and the calls after it), on the
// network thread: which file each stream reads, its window, and reads waiting for a
// piece. The window's pieces become the torrent's picker focus (Torrent::
// set_stream_focus, swarm/stream_window.hpp); a read whose first piece is verified is
// read on the disk pool, never before (unverified bytes are never handed out).
//
// Streams name their torrent by id, not by object: pausing, resuming or rechecking
// replaces a Torrent object, and a once-a-second tick (running while streams are open)
// attaches to the new one, fails reads of a removed torrent with `closed` and of a file
// skipped meanwhile with `not_wanted`. Between ticks, Torrent::on_piece_verified wakes
// reads as soon as their piece is in.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "piecewise/session.hpp"
#include "storage/disk_pool.hpp"

namespace pw::session {

class Torrent;

class StreamRegistry : public std::enable_shared_from_this<StreamRegistry> {
  public:
    using Torrents = std::map<piecewise::TorrentId, std::shared_ptr<Torrent>>;
    // Largest read handed out at once.
    static constexpr std::size_t max_read = 4u << 20;

    StreamRegistry(boost::asio::io_context& io, storage::DiskPool& disk, const Torrents& torrents);
    ~StreamRegistry();  // pending reads end with `closed`

    piecewise::StreamInfo open(piecewise::TorrentId id, int listed_index);
    void set_window(piecewise::StreamId s, std::int64_t offset, std::int64_t length);
    void close(piecewise::StreamId s);
    void read(piecewise::StreamId s, std::int64_t offset, std::size_t max_len,
              std::function<void(piecewise::StreamRead)> done);
    // Ends every stream (the session stops).
    void close_all();
    std::size_t open_streams() const { return streams_.size(); }

  private:
    struct Stream {
        piecewise::TorrentId torrent = -1;
        std::int64_t begin = 0;  // the file's first byte in the torrent stream
        std::int64_t size = 0;
        std::int64_t win_offset = 0, win_length = 0;  // file-relative; length 0: none yet
    };
    struct Read {
        piecewise::StreamId stream;
        std::int64_t offset;
        std::size_t max_len;
        std::function<void(piecewise::StreamRead)> done;
    };
    // Attaches to the torrent's current object and gives it the focus of its streams.
    void refocus(piecewise::TorrentId id);
    // Starts (true) or fails (true) a read, or leaves it waiting (false).
    bool try_read(Read& r);
    void wake(piecewise::TorrentId id);  // tries the reads of this torrent's streams
    void tick();
    void schedule_tick();

    boost::asio::io_context& io_;
    storage::DiskPool& disk_;
    const Torrents& torrents_;
    std::map<piecewise::StreamId, Stream> streams_;
    std::vector<Read> pending_;
    std::map<piecewise::TorrentId, std::weak_ptr<Torrent>> attached_;  // on_piece_verified is ours
    piecewise::StreamId next_id_ = 1;
    boost::asio::steady_timer timer_;
    bool ticking_ = false;
};

}  // namespace pw::session

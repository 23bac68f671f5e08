// Session's streaming calls (see Session::stream_open): each runs on the network thread
// against the session's StreamRegistry (session/streams.hpp).
#include "session/session_impl.hpp"

namespace piecewise {

namespace {
pw::session::StreamRegistry& registry(Session::Impl& d) {
    if (!d.streams)
        d.streams = std::make_shared<pw::session::StreamRegistry>(d.io, d.disk, d.torrents);
    return *d.streams;
}
}  // namespace

StreamInfo Session::stream_open(TorrentId id, int file_index) {
    auto& d = *impl_;
    StreamInfo none;
    if (d.stopped) return none;
    auto done = std::make_shared<std::promise<StreamInfo>>();
    auto fut = done->get_future();
    asio::post(d.io, [&d, done, id, file_index] {
        StreamInfo info;
        if (d.torrents.count(id)) {
            info = registry(d).open(id, file_index);
        } else if (has(d, id)) {
            info.status = StreamInfo::Status::no_metadata;  // a magnet still fetching it
        }
        done->set_value(std::move(info));
    });
    if (fut.wait_for(std::chrono::seconds(10)) != std::future_status::ready) return none;
    auto info = fut.get();
    return info;
}

void Session::set_stream_window(StreamId stream, std::int64_t offset, std::int64_t length) {
    auto& d = *impl_;
    if (d.stopped) return;
    asio::post(d.io,
               [&d, stream, offset, length] { registry(d).set_window(stream, offset, length); });
}

void Session::stream_close(StreamId stream) {
    auto& d = *impl_;
    if (d.stopped) return;
    asio::post(d.io, [&d, stream] { registry(d).close(stream); });
}

void Session::stream_read(StreamId stream, std::int64_t offset, std::size_t max_len,
                          std::function<void(StreamRead)> done) {
    auto& d = *impl_;
    if (d.stopped) return done({StreamRead::Status::closed, {}, {}});
    asio::post(d.io, [&d, stream, offset, max_len, done = std::move(done)]() mutable {
        registry(d).read(stream, offset, max_len, std::move(done));
    });
}

std::size_t Session::stream_count() const {
    auto& d = *impl_;
    if (d.stopped) return 0;
    auto done = std::make_shared<std::promise<std::size_t>>();
    auto fut = done->get_future();
    asio::post(d.io, [&d, done] { done->set_value(d.streams ? d.streams->open_streams() : 0); });
    if (fut.wait_for(std::chrono::seconds(10)) != std::future_status::ready) return 0;
    return fut.get();
}

}  // namespace piecewise

// Server-sent events (HTML Living Standard, "Server-sent events", text/event-stream):
// framing and the bounded per-client queue. Pure.
//
// Framing: `event: NAME` then one `data:` line per line of the payload, then a blank
// line; a payload's CR/LF/CRLF line breaks become separate data lines (a raw newline
// inside one data line would end it early). A comment frame (": ...") keeps idle
// connections (and proxies) alive.
//
// SseQueue: frames waiting to be written to one client, bounded in bytes. A client that
// reads slower than the daemon produces is dropped (push returns false), never buffered
// without bound; frames are shared between clients (one serialisation per tick).
#pragma once

#include <cstddef>
#include <deque>
#include <memory>
#include <string>
#include <string_view>

namespace pw::daemon::events {

std::string sse_frame(std::string_view event, std::string_view data);
std::string sse_comment(std::string_view text);

class SseQueue {
  public:
    explicit SseQueue(std::size_t limit_bytes) : limit_(limit_bytes) {}
    // false: over the limit; the queue is then marked overflowed and takes nothing more.
    bool push(std::shared_ptr<const std::string> frame);
    // The next frame to write (null when empty); it stays counted until pop().
    std::shared_ptr<const std::string> front() const;
    void pop();
    bool empty() const { return frames_.empty(); }
    bool overflowed() const { return overflowed_; }
    std::size_t bytes() const { return bytes_; }

  private:
    std::size_t limit_;
    std::size_t bytes_ = 0;
    bool overflowed_ = false;
    std::deque<std::shared_ptr<const std::string>> frames_;
};

}  // namespace pw::daemon::events

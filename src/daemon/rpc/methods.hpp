// The RPC methods: parse -> calls on the Daemon (which calls Session) -> encode. Both
// Transmission dialects arrive here (see parse/request.hpp) and get answers in their own
// dialect. A method piecewise does not implement answers "method not found"; a known key
// it cannot honour answers an error naming it: never a success that did nothing.
#pragma once

#include <atomic>
#include <string>
#include <string_view>

#include "daemon/daemon.hpp"

namespace pw::daemon::rpc {

class Methods {
  public:
    explicit Methods(Daemon& daemon) : daemon_(daemon) {}

    // The HTTP body of the answer; empty for a JSON-RPC notification.
    std::string handle(std::string_view body);
    // session-close was called: the caller stops the daemon after answering.
    bool close_requested() const { return close_requested_; }
    // The X-Transmission-Session-Id, reported by session-get.
    std::string session_id;
    Daemon& daemon() { return daemon_; }

  private:
    Daemon& daemon_;
    std::atomic<bool> close_requested_{false};
};

}  // namespace pw::daemon::rpc

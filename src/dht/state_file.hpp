// The DHT node's state file (BEP 5 leaves persistence to the implementation): a small
// bencoded snapshot of our id and routing table.
//
// read_state_file() is synchronous; the node calls it from its constructor, which its
// owners (the session, `piecewise dht-node`) run before their io_context does.
//
// StateFileWriter keeps file writes off the network thread: save() hands a snapshot to
// a thread of its own (started on the first save) and returns at once. A snapshot that
// has not been started yet is replaced by a newer one, so at most one waits. Each write
// goes to PATH.tmp and is renamed over PATH. finish() writes what is still queued and
// joins the thread; the destructor calls it. Errors go to `on_error`, called on the
// writer's thread.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace pw::dht {

// The file's contents, or nullopt if it cannot be read or exceeds max_size bytes.
std::optional<std::string> read_state_file(const std::string& path, std::size_t max_size);

class StateFileWriter {
  public:
    StateFileWriter(std::string path, std::function<void(std::string)> on_error);
    ~StateFileWriter();
    StateFileWriter(const StateFileWriter&) = delete;
    StateFileWriter& operator=(const StateFileWriter&) = delete;

    void save(std::string data);
    void finish();  // blocks until every queued snapshot is written; later saves are dropped

    std::size_t writes() const;  // snapshots written so far (successfully or not)

  private:
    void run();
    void write(const std::string& data);

    const std::string path_;
    const std::function<void(std::string)> on_error_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::optional<std::string> queued_;
    bool finishing_ = false;
    std::size_t writes_ = 0;
    std::thread thread_;
};

}  // namespace pw::dht

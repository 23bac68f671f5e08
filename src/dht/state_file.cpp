// The DHT state file: synchronous read at construction, writes on a thread of their own.
#include "dht/state_file.hpp"

#include <cstdio>
#include <fstream>

namespace pw::dht {

std::optional<std::string> read_state_file(const std::string& path, std::size_t max_size) {
    std::ifstream f(path, std::ios::binary);
    if (!f) return std::nullopt;
    f.seekg(0, std::ios::end);
    auto size = f.tellg();
    if (size < 0 || static_cast<std::size_t>(size) > max_size) return std::nullopt;
    f.seekg(0, std::ios::beg);
    std::string data(static_cast<std::size_t>(size), '\0');
    if (!f.read(data.data(), static_cast<std::streamsize>(data.size()))) return std::nullopt;
    return data;
}

StateFileWriter::StateFileWriter(std::string path, std::function<void(std::string)> on_error)
    : path_(std::move(path)), on_error_(std::move(on_error)) {}

StateFileWriter::~StateFileWriter() {
    finish();
}

void StateFileWriter::save(std::string data) {
    std::lock_guard lk(mu_);
    if (finishing_) return;
    queued_ = std::move(data);
    if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
    cv_.notify_one();
}

void StateFileWriter::finish() {
    {
        std::lock_guard lk(mu_);
        finishing_ = true;
        cv_.notify_one();
    }
    if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

std::size_t StateFileWriter::writes() const {
    std::lock_guard lk(mu_);
    return writes_;
}

void StateFileWriter::run() {
    std::unique_lock lk(mu_);
    for (;;) {
        cv_.wait(lk, [&] { return queued_ || finishing_; });
        if (!queued_) return;  // finishing, nothing left
        std::string data = std::move(*queued_);
        queued_.reset();
        lk.unlock();
        write(data);
        lk.lock();
        ++writes_;
    }
}

void StateFileWriter::write(const std::string& data) {
    std::string tmp = path_ + ".tmp";
    {
        std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
        f.write(data.data(), static_cast<std::streamsize>(data.size()));
        f.flush();
        if (!f) {
            if (on_error_) on_error_("cannot write " + tmp);
            return;
        }
    }
    if (std::rename(tmp.c_str(), path_.c_str()) != 0 && on_error_)
        on_error_("cannot rename " + tmp + " to " + path_);
}

}  // namespace pw::dht

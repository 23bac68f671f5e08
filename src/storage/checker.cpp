// Full data check. See checker.hpp for the contract.
//
// The pieces are cut into chunks of consecutive pieces (about 16 MiB each) that worker
// threads take in turn. Within a chunk each run of pieces whose bytes all exist is read
// front to back in 4 MiB extents, so the disk sees large sequential reads whatever the
// piece size, and each piece's SHA-1 is fed as its bytes pass by. Memory stays at one
// extent buffer per thread even for very large pieces. A piece is hashed by
// meta::PieceHasher: SHA-1 (v1), its Merkle root (v2), both (hybrid). The stream of a v2
// torrent holds pads between files; they read as zeros and the v2 hash ignores them.
#include "storage/checker.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "meta/piece_hasher.hpp"

namespace pw::storage {

namespace {

constexpr std::int64_t kExtent = 1 << 20;  // bytes per read
constexpr std::int64_t kChunk = 16 << 20;  // bytes of pieces handed to a thread at a time

class Checker {
  public:
    Checker(const meta::Metainfo& m, Storage& storage, CheckProgress* progress,
            const std::vector<signed char>* known)
        : m_(m),
          storage_(storage),
          progress_(progress),
          known_(known),
          result_(static_cast<std::size_t>(m.num_pieces()), 0) {}

    std::vector<bool> run(unsigned threads) {
        const int n = m_.num_pieces();
        if (m_.piece_length <= 0) {
            if (progress_) progress_->pieces_done += n;
            return std::vector<bool>(static_cast<std::size_t>(n), false);
        }
        find_readable();
        per_chunk_ = static_cast<int>(std::max<std::int64_t>(1, kChunk / m_.piece_length));
        chunks_ = (n + per_chunk_ - 1) / per_chunk_;

        if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
        threads = std::min<unsigned>(threads, static_cast<unsigned>(std::max(chunks_, 1)));
        std::vector<std::thread> pool;
        for (unsigned i = 1; i < threads; ++i) {
            try {
                pool.emplace_back([this] { work(); });
            } catch (const std::system_error&) {
                break;  // fewer threads than asked: the others share the work
            }
        }
        work();
        for (auto& t : pool) t.join();
        if (error_) std::rethrow_exception(error_);
        return std::vector<bool>(result_.begin(), result_.end());
    }

  private:
    std::int64_t piece_start(int p) const { return p * m_.piece_length; }
    std::int64_t piece_size(int p) const {
        return std::clamp<std::int64_t>(m_.total_size - piece_start(p), 0, m_.piece_length);
    }

    // A piece is readable when every file it touches is a regular file at least as long as
    // the bytes needed from it. Pad files are not in the mapping: they read as zeros.
    void find_readable() {
        const auto& files = storage_.files();
        std::vector<std::int64_t> on_disk(files.size(), -1);
        for (std::size_t i = 0; i < files.size(); ++i) {
            if (files[i].pad || files[i].length == 0) continue;
            // In its own file or, for a file not wanted, in the parts file.
            on_disk[i] = storage_.size_on_disk(static_cast<int>(i));
        }
        readable_.assign(result_.size(), 0);
        for (int p = 0; p < m_.num_pieces(); ++p) {
            std::int64_t size = piece_size(p);
            if (size <= 0) continue;
            bool ok = true;
            for (const Slice& s : storage_.map(piece_start(p), size))
                ok = ok && on_disk[static_cast<std::size_t>(s.file)] >= s.file_offset + s.length;
            readable_[static_cast<std::size_t>(p)] = ok;
        }
    }

    bool cancelled() const { return progress_ && progress_->cancel.load(); }

    void decide(int p, bool have) {
        result_[static_cast<std::size_t>(p)] = have;
        if (progress_) ++progress_->pieces_done;
    }

    void work() {
        try {
            std::unique_ptr<char[]> buf;
            for (;;) {
                int c = next_chunk_++;
                if (c >= chunks_ || cancelled()) return;
                int end = std::min(m_.num_pieces(), (c + 1) * per_chunk_);
                for (int p = c * per_chunk_; p < end && !cancelled();) {
                    if (known_ && (*known_)[static_cast<std::size_t>(p)] >= 0) {
                        decide(p, (*known_)[static_cast<std::size_t>(p)] == 1);
                        ++p;
                        continue;
                    }
                    if (!readable_[static_cast<std::size_t>(p)]) {
                        decide(p++, false);
                        continue;
                    }
                    int q = p;
                    while (q < end && readable_[static_cast<std::size_t>(q)] &&
                           !(known_ && (*known_)[static_cast<std::size_t>(q)] >= 0))
                        ++q;
                    // No read is longer than the torrent: a small one gets a small buffer.
                    if (!buf)
                        buf = std::make_unique<char[]>(static_cast<std::size_t>(
                            std::min(kExtent, std::max<std::int64_t>(m_.total_size, 1))));
                    hash_run(p, q, buf.get());
                    p = q;
                }
            }
        } catch (...) {
            std::lock_guard lock(error_mu_);
            if (!error_) error_ = std::current_exception();
            next_chunk_ = chunks_;  // the other threads stop at their next chunk
        }
    }

    // Hashes pieces [first, last), all readable, with sequential extent reads.
    void hash_run(int first, int last, char* buf) {
        int cur = first;
        std::optional<meta::PieceHasher> hasher(std::in_place, m_, cur);
        std::int64_t pos = piece_start(cur);
        std::int64_t piece_end = pos + piece_size(cur);
        const std::int64_t end = piece_start(last - 1) + piece_size(last - 1);
        // After a failed read, no read crosses a piece's end: a file that cannot be read
        // must not take the pieces of its readable neighbours down with it.
        bool by_piece = false;
        while (cur < last && !cancelled()) {
            std::int64_t len = std::min(kExtent, end - pos);
            if (by_piece) len = std::min(len, piece_end - pos);
            if (storage_.read(pos, buf, static_cast<std::size_t>(len))) {
                if (!by_piece && len > piece_end - pos) {
                    by_piece = true;  // read this piece alone again
                    continue;
                }
                // This piece cannot be read; the next one starts a fresh read.
                decide(cur++, false);
                if (cur < last) {
                    pos = piece_start(cur);
                    piece_end = pos + piece_size(cur);
                    hasher.emplace(m_, cur);
                }
                continue;
            }
            for (std::int64_t off = 0; off < len;) {
                std::int64_t take = std::min(len - off, piece_end - (pos + off));
                hasher->update(buf + off, static_cast<std::size_t>(take));
                off += take;
                if (pos + off == piece_end) {
                    decide(cur, hasher->finish());
                    if (++cur < last) {
                        piece_end += piece_size(cur);
                        hasher.emplace(m_, cur);
                    }
                }
            }
            pos += len;
        }
    }

    const meta::Metainfo& m_;
    Storage& storage_;
    CheckProgress* progress_;
    const std::vector<signed char>* known_;  // null: hash every readable piece
    std::vector<char> result_;    // per piece; char, not bool, so threads may write apart
    std::vector<char> readable_;  // per piece
    int per_chunk_ = 1;
    int chunks_ = 0;
    std::atomic<int> next_chunk_{0};
    std::mutex error_mu_;
    std::exception_ptr error_;
};

}  // namespace

std::vector<bool> check_pieces(const meta::Metainfo& m, Storage& storage, unsigned threads,
                               CheckProgress* progress, const std::vector<signed char>* known) {
    if (known && known->size() != static_cast<std::size_t>(m.num_pieces())) known = nullptr;
    return Checker(m, storage, progress, known).run(threads);
}

}  // namespace pw::storage

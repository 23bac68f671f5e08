// What changed in a settled file. See file_change.hpp for the contract.
#include "storage/file_change.hpp"

namespace pw::storage {

std::optional<std::string> file_change(const FileStamp& before, const FileStamp& now,
                                       std::int64_t length) {
    if (now.size == before.size && now.mtime_ns == before.mtime_ns) return std::nullopt;
    if (now.size < 0) return "deleted";
    if (now.size < before.size || now.size < length)
        return "truncated to " + std::to_string(now.size) + " of " + std::to_string(length) +
               " bytes";
    if (now.size > before.size) return "grown to " + std::to_string(now.size) + " bytes";
    return "modified";
}

}  // namespace pw::storage

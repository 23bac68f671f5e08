// libFuzzer target for the rename rules (storage/parse/relocation.hpp), whose inputs come
// straight from torrent-rename-path and torrent-set-location. Input: "path\nname\nrest",
// where `rest` is split on '\n' into the torrent's file paths. Besides "no crash", it
// checks the promises: an accepted plan renames within one folder to a single
// component, every renamed path stays relative with no "." or ".." component (never
// outside the torrent's directory), and no two files end up with the same path.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "storage/parse/relocation.hpp"

using namespace pw::storage;

namespace {
std::vector<std::string_view> split(std::string_view s) {
    std::vector<std::string_view> out;
    while (true) {
        auto nl = s.find('\n');
        out.push_back(s.substr(0, nl));
        if (nl == std::string_view::npos) break;
        s.remove_prefix(nl + 1);
    }
    return out;
}

bool safe_relative(std::string_view p) {
    if (p.empty() || p.front() == '/') return false;
    std::size_t start = 0;
    while (start <= p.size()) {
        auto slash = p.find('/', start);
        auto comp = p.substr(
            start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
        if (comp.empty() || comp == "." || comp == "..") return false;
        if (slash == std::string_view::npos) break;
        start = slash + 1;
    }
    return true;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size > 4096) return 0;
    auto parts = split(std::string_view(reinterpret_cast<const char*>(data), size));
    if (parts.size() < 3) return 0;
    std::vector<std::string> paths;
    std::set<std::string> distinct;
    for (std::size_t i = 2; i < parts.size() && paths.size() < 64; ++i) {
        // The engine's file lists are sanitised and distinct: only such lists are promised.
        if (!safe_relative(parts[i]) || !distinct.insert(std::string(parts[i])).second) return 0;
        paths.emplace_back(parts[i]);
    }
    auto plan = plan_rename(paths, parts[0], parts[1]);
    if (!plan.error.empty()) {
        if (!plan.paths.empty()) __builtin_trap();
        return 0;
    }
    if (!check_new_name(parts[1]).empty()) __builtin_trap();
    if (plan.paths.size() != paths.size()) __builtin_trap();
    std::set<std::string> after(plan.paths.begin(), plan.paths.end());
    if (after.size() != paths.size()) __builtin_trap();
    for (auto& p : plan.paths)
        if (!safe_relative(p)) __builtin_trap();
    // Within the same folder: only the last component changes.
    if (plan.from.substr(0, plan.from.rfind('/') + 1) != plan.to.substr(0, plan.to.rfind('/') + 1))
        __builtin_trap();
    bool same = false;
    (void)check_move_target(parts[0], parts[1], top_entries(paths), same);
    return 0;
}

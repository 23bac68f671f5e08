#include "meta/file_selection.hpp"

#include <algorithm>
#include <charconv>

#include "meta/metainfo.hpp"

namespace pw::meta {

namespace {
constexpr std::size_t max_entries = 10000;

int parse_index(std::string_view s) {
    int v = 0;
    if (s.empty() || s.size() > 10)
        throw MetainfoError("file list: '" + std::string(s) + "' is not a file index");
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || v < 0)
        throw MetainfoError("file list: '" + std::string(s) + "' is not a file index");
    return v;
}
}  // namespace

std::vector<IndexRange> parse_index_list(std::string_view list) {
    std::vector<IndexRange> out;
    if (list.empty()) throw MetainfoError("file list: empty");
    while (true) {
        auto comma = list.find(',');
        std::string_view entry = list.substr(0, comma);
        if (entry.empty()) throw MetainfoError("file list: empty entry");
        if (out.size() >= max_entries) throw MetainfoError("file list: too many entries");
        auto dash = entry.find('-');
        if (dash == std::string_view::npos) {
            int i = parse_index(entry);
            out.emplace_back(i, i);
        } else {
            int a = parse_index(entry.substr(0, dash)), b = parse_index(entry.substr(dash + 1));
            if (b < a)
                throw MetainfoError("file list: range " + std::string(entry) + " runs backwards");
            out.emplace_back(a, b);
        }
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
    return out;
}

std::string format_index_list(const std::vector<IndexRange>& ranges) {
    std::string s;
    for (auto [a, b] : ranges) {
        if (!s.empty()) s += ',';
        s += std::to_string(a);
        if (b != a) s += "-" + std::to_string(b);
    }
    return s;
}

std::vector<int> selection_priorities(const std::vector<IndexRange>& ranges, int num_files,
                                      bool strict) {
    std::vector<int> out(static_cast<std::size_t>(std::max(num_files, 0)), 0);
    for (auto [a, b] : ranges) {
        if (strict && b >= num_files)
            throw MetainfoError("file list: no file " + std::to_string(b) + " (the torrent has " +
                                std::to_string(num_files) +
                                (num_files == 1 ? " file)" : " files)"));
        for (int i = a; i <= b && i < num_files; ++i) out[static_cast<std::size_t>(i)] = 4;
    }
    return out;
}

}  // namespace pw::meta

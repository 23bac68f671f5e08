// libFuzzer target for metainfo parsing (BEP 3, 12, 19, 27, 47). Any input either
// fails with MetainfoError or yields a consistent torrent whose every file path is
// relative and free of "..", "." and empty components.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "meta/metainfo.hpp"

namespace {

void check(bool ok) {
    if (!ok) std::abort();
}

void check_component(std::string_view c, std::size_t max_len) {
    check(!c.empty() && c != "." && c != "..");
    check(c.size() <= max_len + 1);  // a reserved-name suffix may add one byte
    for (char ch : c) check(ch != '\\' && ch != '/' && static_cast<unsigned char>(ch) >= 0x20);
}

void check_path(std::string_view p, std::size_t max_len) {
    check(!p.empty() && p.front() != '/');
    std::size_t start = 0;
    for (;;) {
        std::size_t slash = p.find('/', start);
        check_component(p.substr(start, slash == std::string_view::npos ? p.npos : slash - start),
                        max_len);
        if (slash == std::string_view::npos) break;
        start = slash + 1;
    }
}

void check_metainfo(const pw::meta::Metainfo& m, const pw::meta::ParseLimits& lim) {
    check(m.piece_length > 0 && m.total_size > 0 && !m.files.empty());
    check_component(m.name, lim.max_path_component);
    std::int64_t offset = 0;
    for (const auto& f : m.files) {
        check_path(f.path, lim.max_path_component);
        if (m.multi_file) check(f.path.starts_with(m.name + "/"));
        check(f.length >= 0 && f.offset == offset);
        offset += f.length;
    }
    check(offset == m.total_size);
    std::int64_t sum = 0;
    for (int i = 0; i < m.num_pieces(); ++i) {
        check(m.piece_size(i) > 0 && m.piece_size(i) <= m.piece_length);
        sum += m.piece_size(i);
    }
    check(sum == m.total_size);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    pw::meta::ParseLimits lim;
    lim.max_path_component = 16 + size % 64;  // small limits exercise shortening
    try {
        check_metainfo(pw::meta::parse(in, lim), lim);
    } catch (const pw::meta::MetainfoError& e) {
        check(std::string_view(e.what()).find('\n') == std::string_view::npos);
    }
    try {
        check_metainfo(pw::meta::parse_info(in, lim), lim);
    } catch (const pw::meta::MetainfoError&) {
    }
    std::string c = pw::meta::sanitize_component(in.substr(0, 300), lim.max_path_component);
    if (!c.empty()) check_component(c, lim.max_path_component);
    return 0;
}

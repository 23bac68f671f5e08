// libFuzzer target for metainfo parsing (BEP 3, 12, 19, 27, 47, 52: v2 file trees, piece
// layers and hybrids; the corpus holds libtorrent-made v2 and hybrid torrents). Any input
// either fails with MetainfoError or yields a consistent torrent whose every file path is
// relative and free of "..", "." and empty components, whose v2 pieces each lie inside
// one file, and whose pieces all verify or fail without crashing. A v2 torrent's piece
// layers encoded back parse to the same hashes; an info dictionary parsed for a btmh
// magnet (layers allowed to be missing) is consistent too.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "meta/metainfo.hpp"
#include "meta/piece_hasher.hpp"

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
    if (m.format != pw::meta::Format::v2) check(sum == m.total_size);
    if (m.format == pw::meta::Format::v1) {
        check(!m.info_hash_v2 && m.piece_hashes_v2.empty() && m.v2_spans.empty());
        return;
    }
    check(m.info_hash_v2.has_value());
    check(m.piece_hashes_v2.empty() ||
          static_cast<int>(m.piece_hashes_v2.size()) == m.num_pieces());
    int next = 0;
    for (const auto& s : m.v2_spans) {
        const auto& f = m.files[static_cast<std::size_t>(s.file)];
        check(!f.pad && f.length == s.length &&
              f.offset == std::int64_t(s.first_piece) * m.piece_length);
        check(s.first_piece == next && s.num_pieces > 0);
        next += s.num_pieces;
    }
    check(next == m.num_pieces());
    for (int i = 0; i < m.num_pieces() && i < 64; ++i) {
        auto shape = m.v2_piece(i);
        check(shape.data_len > 0 && shape.data_len <= m.piece_length && shape.leaves > 0);
        if (m.piece_size(i) > (1 << 20)) continue;  // sizes are attacker-chosen; keep RSS small
        std::string zeros(static_cast<std::size_t>(m.piece_size(i)), '\0');
        (void)pw::meta::piece_matches(m, i, zeros);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    pw::meta::ParseLimits lim;
    lim.max_path_component = 16 + size % 64;  // small limits exercise shortening
    try {
        auto m = pw::meta::parse(in, lim);
        check_metainfo(m, lim);
        // The piece layers encoded back (as --save-torrent writes them) parse to the same
        // piece hashes.
        if (m.format == pw::meta::Format::v2 && in.size() < 4096) {
            auto again = pw::meta::parse(
                "d4:info" + m.info_bytes + "12:piece layers" +
                    [&] { auto l = pw::meta::encode_piece_layers(m); return l.empty() ? std::string("de") : l; }() + "e",
                lim);
            check(again.piece_hashes_v2 == m.piece_hashes_v2);
        }
    } catch (const pw::meta::MetainfoError& e) {
        check(std::string_view(e.what()).find('\n') == std::string_view::npos);
    }
    // A btmh magnet's info dictionary: a v2-only one may come without its layers.
    try {
        pw::meta::ParseLimits lax = lim;
        lax.allow_missing_layers = true;
        auto m = pw::meta::parse_info(in, lax);
        if (m.format == pw::meta::Format::v2 && m.piece_hashes_v2.empty()) {
            check(!m.v2_spans.empty() && pw::meta::encode_piece_layers(m).empty());
        } else {
            check_metainfo(m, lax);
        }
    } catch (const pw::meta::MetainfoError&) {
    }
    try {
        check_metainfo(pw::meta::parse_info(in, lim), lim);
    } catch (const pw::meta::MetainfoError&) {
    }
    std::string c = pw::meta::sanitize_component(in.substr(0, 300), lim.max_path_component);
    if (!c.empty()) check_component(c, lim.max_path_component);
    return 0;
}

#include "wire/ext_messages.hpp"

#include <algorithm>
#include <cstring>

#include "bencode/bencode.hpp"

namespace pw::wire {

namespace {

bencode::Limits small_limits() {
    bencode::Limits l;
    l.max_depth = 8;
    l.max_tokens = 64;
    l.max_string = 64 * 1024;
    return l;
}

std::string metadata_header(int type, std::int64_t piece, std::int64_t total_size) {
    bencode::Dict d;
    d["msg_type"] = type;
    d["piece"] = piece;
    if (type == MetadataMsg::piece_data) d["total_size"] = total_size;
    return bencode::encode(d);
}

void append_compact(std::string& v4, std::string& v6, std::string& f4, std::string& f6,
                    const std::vector<PexPeer>& peers, bool with_flags) {
    for (const auto& p : peers) {
        std::string& out = p.v6 ? v6 : v4;
        out.append(reinterpret_cast<const char*>(p.addr.data()), p.v6 ? 16 : 4);
        out += static_cast<char>(p.port >> 8);
        out += static_cast<char>(p.port & 0xff);
        if (with_flags) (p.v6 ? f6 : f4) += static_cast<char>(p.flags);
    }
}

void read_compact(std::string_view bytes, std::string_view flags, bool v6, std::size_t max,
                  std::vector<PexPeer>& out) {
    std::size_t step = v6 ? 18 : 6;
    std::size_t n = bytes.size() / step;
    for (std::size_t i = 0; i < n && i < max; ++i) {
        PexPeer p;
        p.v6 = v6;
        std::memcpy(p.addr.data(), bytes.data() + i * step, v6 ? 16 : 4);
        auto hi = static_cast<std::uint8_t>(bytes[i * step + step - 2]);
        auto lo = static_cast<std::uint8_t>(bytes[i * step + step - 1]);
        p.port = static_cast<std::uint16_t>(hi << 8 | lo);
        if (i < flags.size()) p.flags = static_cast<std::uint8_t>(flags[i]);
        if (p.port == 0) continue;
        bool dup = false;
        for (const auto& q : out) dup = dup || q == p;
        if (!dup) out.push_back(p);
    }
}

}  // namespace

std::optional<MetadataMsg> decode_metadata_msg(std::string_view payload) {
    try {
        std::size_t used = 0;
        auto doc = bencode::decode_prefix(payload, used, small_limits());
        auto root = doc.root();
        if (!root.is_dict()) return std::nullopt;
        auto type = root.find_int("msg_type");
        auto piece = root.find_int("piece");
        if (!type || !piece || *piece < 0) return std::nullopt;
        MetadataMsg m;
        m.type = static_cast<int>(std::clamp<std::int64_t>(*type, -1, 1000));
        m.piece = *piece;
        m.total_size = root.find_int("total_size").value_or(0);
        m.data = payload.substr(used);
        return m;
    } catch (const bencode::DecodeError&) {
        return std::nullopt;
    }
}

std::string encode_metadata_request(std::int64_t piece) {
    return metadata_header(MetadataMsg::request, piece, 0);
}

std::string encode_metadata_reject(std::int64_t piece) {
    return metadata_header(MetadataMsg::reject, piece, 0);
}

std::string encode_metadata_data(std::int64_t piece, std::int64_t total_size, std::string_view data) {
    std::string out = metadata_header(MetadataMsg::piece_data, piece, total_size);
    out.append(data);
    return out;
}

std::optional<PexMsg> decode_pex(std::string_view payload, std::size_t max_entries) {
    try {
        bencode::Limits l = small_limits();
        l.max_string = 1 << 20;
        auto doc = bencode::decode(payload, l);
        auto root = doc.root();
        if (!root.is_dict()) return std::nullopt;
        PexMsg m;
        auto str = [&](const char* k) { return root.find_string(k).value_or(std::string_view()); };
        read_compact(str("added"), str("added.f"), false, max_entries, m.added);
        read_compact(str("added6"), str("added6.f"), true, max_entries, m.added);
        read_compact(str("dropped"), {}, false, max_entries, m.dropped);
        read_compact(str("dropped6"), {}, true, max_entries, m.dropped);
        return m;
    } catch (const bencode::DecodeError&) {
        return std::nullopt;
    }
}

std::string encode_pex(const PexMsg& m) {
    std::string a4, a6, f4, f6, d4, d6, unused4, unused6;
    append_compact(a4, a6, f4, f6, m.added, true);
    append_compact(d4, d6, unused4, unused6, m.dropped, false);
    bencode::Dict d;
    d["added"] = a4;
    d["added.f"] = f4;
    d["dropped"] = d4;
    if (!a6.empty()) {
        d["added6"] = a6;
        d["added6.f"] = f6;
    }
    if (!d6.empty()) d["dropped6"] = d6;
    return bencode::encode(d);
}

}  // namespace pw::wire

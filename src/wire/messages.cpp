// Peer wire codec: the BEP 3 handshake and length-prefixed messages (with BEP 5's
// `port`, BEP 6's fast extension messages and BEP 10's `extended`), and the BEP 10
// extension handshake dictionary.
//
// Every integer on the wire is big-endian. The decoder only ever looks at bytes
// inside the buffer it is given; a message whose prefix announces more bytes than
// the buffer holds is "need_more", never a read past the end.
#include "wire/messages.hpp"

#include <algorithm>
#include <cstring>

#include "net/byte_order.hpp"

#include "bencode/bencode.hpp"

namespace pw::wire {

namespace {

constexpr std::string_view protocol_string =
    "\x13"
    "BitTorrent protocol";

// Limits on what a peer's extension handshake may make us keep.
constexpr std::size_t max_ext_names = 64;               // entries of `m`
constexpr std::size_t max_ext_name_len = 64;            // bytes of one name in `m`
constexpr std::size_t max_client_name = 100;            // bytes of `v`
constexpr std::int64_t max_reqq = 1 << 20;              // larger values are clamped to this
constexpr std::int64_t max_metadata_size = 0x7fffffff;  // larger values are ignored

void put_header(std::string& out, std::uint32_t length, MsgId id) {
    net::put_be32(out, length);
    out += static_cast<char>(id);
}

void put_triple(std::string& out, MsgId id, std::uint32_t a, std::uint32_t b, std::uint32_t c) {
    put_header(out, 13, id);
    net::put_be32(out, a);
    net::put_be32(out, b);
    net::put_be32(out, c);
}

// Checks the length a prefix announces against what the id requires. Returns the
// error reason, or nullptr when the length fits (or the id is unknown).
const char* check_length(std::uint8_t id, std::uint32_t len) {
    switch (id) {
        case static_cast<std::uint8_t>(MsgId::choke):
        case static_cast<std::uint8_t>(MsgId::unchoke):
        case static_cast<std::uint8_t>(MsgId::interested):
        case static_cast<std::uint8_t>(MsgId::not_interested):
        case static_cast<std::uint8_t>(MsgId::have_all):
        case static_cast<std::uint8_t>(MsgId::have_none):
            return len == 1 ? nullptr : "state message with a payload";
        case static_cast<std::uint8_t>(MsgId::suggest):
            return len == 5 ? nullptr : "suggest message is not 5 bytes";
        case static_cast<std::uint8_t>(MsgId::allowed_fast):
            return len == 5 ? nullptr : "allowed fast message is not 5 bytes";
        case static_cast<std::uint8_t>(MsgId::reject):
            return len == 13 ? nullptr : "reject message is not 13 bytes";
        case static_cast<std::uint8_t>(MsgId::have):
            return len == 5 ? nullptr : "have message is not 5 bytes";
        case static_cast<std::uint8_t>(MsgId::bitfield):
            return len >= 1 ? nullptr : "bitfield message too short";
        case static_cast<std::uint8_t>(MsgId::request):
            return len == 13 ? nullptr : "request message is not 13 bytes";
        case static_cast<std::uint8_t>(MsgId::piece):
            return len >= 9 ? nullptr : "piece message too short";
        case static_cast<std::uint8_t>(MsgId::cancel):
            return len == 13 ? nullptr : "cancel message is not 13 bytes";
        case static_cast<std::uint8_t>(MsgId::port):
            return len == 3 ? nullptr : "port message is not 3 bytes";
        case static_cast<std::uint8_t>(MsgId::extended):
            return len >= 2 ? nullptr : "extended message too short";
        case static_cast<std::uint8_t>(MsgId::hash_request):
            return len == 49 ? nullptr : "hash request message is not 49 bytes";
        case static_cast<std::uint8_t>(MsgId::hash_reject):
            return len == 49 ? nullptr : "hash reject message is not 49 bytes";
        case static_cast<std::uint8_t>(MsgId::hashes):
            return len >= 49 && (len - 49) % 32 == 0 ? nullptr
                                                     : "hashes message is not 49 + 32n bytes";
        default:
            return nullptr;
    }
}

}  // namespace

// ---- Handshake ----

std::string encode_handshake(const Handshake& h) {
    std::string out;
    out.reserve(handshake_size);
    out.append(protocol_string);
    out.append(reinterpret_cast<const char*>(h.reserved.data()), h.reserved.size());
    out.append(h.info_hash.view());
    out.append(reinterpret_cast<const char*>(h.peer_id.data()), h.peer_id.size());
    return out;
}

std::optional<Handshake> decode_handshake(std::string_view bytes) {
    if (bytes.size() != handshake_size) return std::nullopt;
    if (bytes.substr(0, protocol_string.size()) != protocol_string) return std::nullopt;
    Handshake h;
    std::size_t pos = protocol_string.size();
    std::memcpy(h.reserved.data(), bytes.data() + pos, h.reserved.size());
    pos += h.reserved.size();
    std::memcpy(h.info_hash.bytes.data(), bytes.data() + pos, h.info_hash.bytes.size());
    pos += h.info_hash.bytes.size();
    std::memcpy(h.peer_id.data(), bytes.data() + pos, h.peer_id.size());
    return h;
}

// ---- Messages ----

ParseResult parse_message(std::string_view buf, std::uint32_t max_length, Message& out) {
    out = Message{};
    if (buf.size() < 4) return {ParseStatus::need_more};
    const std::uint32_t len = net::get_be32(buf.data());
    if (len == 0) {
        out.keepalive = true;
        return {ParseStatus::ok, 4};
    }
    if (len > max_length) return {ParseStatus::error, 0, "message too long"};
    // The id byte alone is enough to reject a length that cannot fit it, so a bad
    // prefix is an error at once rather than after waiting for its bytes.
    if (buf.size() < 5) return {ParseStatus::need_more};
    const auto id = static_cast<std::uint8_t>(buf[4]);
    if (const char* why = check_length(id, len)) return {ParseStatus::error, 0, why};
    if (buf.size() - 4 < len) return {ParseStatus::need_more};

    const char* body = buf.data() + 5;  // after the prefix and the id
    const std::size_t body_len = len - 1;
    out.raw_id = id;
    out.id = static_cast<MsgId>(id);
    switch (id) {
        case static_cast<std::uint8_t>(MsgId::choke):
        case static_cast<std::uint8_t>(MsgId::unchoke):
        case static_cast<std::uint8_t>(MsgId::interested):
        case static_cast<std::uint8_t>(MsgId::not_interested):
        case static_cast<std::uint8_t>(MsgId::have_all):
        case static_cast<std::uint8_t>(MsgId::have_none):
            break;
        case static_cast<std::uint8_t>(MsgId::have):
        case static_cast<std::uint8_t>(MsgId::suggest):
        case static_cast<std::uint8_t>(MsgId::allowed_fast):
            out.index = net::get_be32(body);
            break;
        case static_cast<std::uint8_t>(MsgId::bitfield):
            out.payload = std::string_view(body, body_len);
            break;
        case static_cast<std::uint8_t>(MsgId::request):
        case static_cast<std::uint8_t>(MsgId::cancel):
        case static_cast<std::uint8_t>(MsgId::reject):
            out.index = net::get_be32(body);
            out.begin = net::get_be32(body + 4);
            out.length = net::get_be32(body + 8);
            break;
        case static_cast<std::uint8_t>(MsgId::piece):
            out.index = net::get_be32(body);
            out.begin = net::get_be32(body + 4);
            out.payload = std::string_view(body + 8, body_len - 8);
            break;
        case static_cast<std::uint8_t>(MsgId::port):
            out.port = net::get_be16(body);
            break;
        case static_cast<std::uint8_t>(MsgId::extended):
            out.ext_id = static_cast<std::uint8_t>(body[0]);
            out.payload = std::string_view(body + 1, body_len - 1);
            break;
        case static_cast<std::uint8_t>(MsgId::hash_request):
        case static_cast<std::uint8_t>(MsgId::hashes):
        case static_cast<std::uint8_t>(MsgId::hash_reject):
            out.payload = std::string_view(body, body_len);
            break;
        default:
            out.known = false;
            out.payload = std::string_view(body, body_len);
            break;
    }
    return {ParseStatus::ok, 4 + static_cast<std::size_t>(len)};
}

void put_keepalive(std::string& out) {
    net::put_be32(out, 0);
}

void put_simple(std::string& out, MsgId id) {
    put_header(out, 1, id);
}

void put_have(std::string& out, std::uint32_t index) {
    put_header(out, 5, MsgId::have);
    net::put_be32(out, index);
}

void put_bitfield(std::string& out, std::string_view bits) {
    put_header(out, static_cast<std::uint32_t>(1 + bits.size()), MsgId::bitfield);
    out.append(bits);
}

void put_request(std::string& out, std::uint32_t index, std::uint32_t begin, std::uint32_t length) {
    put_triple(out, MsgId::request, index, begin, length);
}

void put_cancel(std::string& out, std::uint32_t index, std::uint32_t begin, std::uint32_t length) {
    put_triple(out, MsgId::cancel, index, begin, length);
}

void put_piece_header(std::string& out, std::uint32_t index, std::uint32_t begin,
                      std::uint32_t data_len) {
    put_header(out, 9 + data_len, MsgId::piece);
    net::put_be32(out, index);
    net::put_be32(out, begin);
}

void put_port(std::string& out, std::uint16_t port) {
    put_header(out, 3, MsgId::port);
    net::put_be16(out, port);
}

void put_suggest(std::string& out, std::uint32_t index) {
    put_header(out, 5, MsgId::suggest);
    net::put_be32(out, index);
}

void put_reject(std::string& out, std::uint32_t index, std::uint32_t begin, std::uint32_t length) {
    put_triple(out, MsgId::reject, index, begin, length);
}

void put_allowed_fast(std::string& out, std::uint32_t index) {
    put_header(out, 5, MsgId::allowed_fast);
    net::put_be32(out, index);
}

void put_extended(std::string& out, std::uint8_t ext_id, std::string_view payload) {
    put_header(out, static_cast<std::uint32_t>(2 + payload.size()), MsgId::extended);
    out += static_cast<char>(ext_id);
    out.append(payload);
}

// ---- BEP 10 extension handshake ----

std::string encode_ext_handshake(const ExtHandshake& h) {
    bencode::Dict m;
    for (const auto& [name, id] : h.m) m.emplace(name, bencode::Value(id));
    bencode::Dict d;
    d.emplace("m", bencode::Value(std::move(m)));
    if (!h.v.empty()) d.emplace("v", bencode::Value(h.v));
    if (h.p != 0) d.emplace("p", bencode::Value(static_cast<std::int64_t>(h.p)));
    if (h.reqq > 0) d.emplace("reqq", bencode::Value(h.reqq));
    if (h.metadata_size > 0) d.emplace("metadata_size", bencode::Value(h.metadata_size));
    if (!h.yourip.empty()) d.emplace("yourip", bencode::Value(h.yourip));
    if (h.ipv4.size() == 4) d.emplace("ipv4", bencode::Value(h.ipv4));
    if (h.ipv6.size() == 16) d.emplace("ipv6", bencode::Value(h.ipv6));
    return bencode::encode(bencode::Value(std::move(d)));
}

std::optional<ExtHandshake> decode_ext_handshake(std::string_view payload) {
    bencode::Limits limits;
    limits.max_depth = 16;
    // A real handshake has a few dozen values; the bound also keeps the decoder's
    // duplicate-key check (quadratic in a dictionary's unsorted keys) cheap.
    limits.max_tokens = 10'000;
    limits.max_string = payload.size();
    bencode::Document doc;
    try {
        // Only the leading dictionary counts; some clients pad the message.
        std::size_t used = 0;
        doc = bencode::decode_prefix(payload, used, limits);
    } catch (const bencode::DecodeError&) {
        return std::nullopt;
    }
    const bencode::Node root = doc.root();
    if (!root.is_dict()) return std::nullopt;

    ExtHandshake h;
    if (bencode::Node m = root.find("m"); m.is_dict()) {
        for (const auto& [name, id] : m.items()) {
            if (h.m.size() >= max_ext_names) break;
            if (!id.is_int() || id.as_int() < 0 || id.as_int() > 255) continue;
            if (name.empty() || name.size() > max_ext_name_len) continue;
            h.m.emplace_back(std::string(name), static_cast<int>(id.as_int()));
        }
    }
    if (auto v = root.find_string("v")) h.v = std::string(v->substr(0, max_client_name));
    if (auto p = root.find_int("p"); p && *p >= 1 && *p <= 65535)
        h.p = static_cast<std::uint16_t>(*p);
    if (auto q = root.find_int("reqq"); q && *q > 0) h.reqq = std::min(*q, max_reqq);
    if (auto s = root.find_int("metadata_size"); s && *s > 0 && *s <= max_metadata_size)
        h.metadata_size = *s;
    if (auto a = root.find_string("ipv4"); a && a->size() == 4) h.ipv4 = std::string(*a);
    if (auto a = root.find_string("ipv6"); a && a->size() == 16) h.ipv6 = std::string(*a);
    if (auto ip = root.find_string("yourip"); ip && (ip->size() == 4 || ip->size() == 16))
        h.yourip = std::string(*ip);
    return h;
}

}  // namespace pw::wire

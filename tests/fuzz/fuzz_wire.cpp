// libFuzzer target for the peer wire codec: the message parser run over the input as a
// stream (BEP 3, 5, 6, 10 and 52 messages), the BEP 3 handshake decoder, the BEP 10
// extension handshake decoder and the BEP 6 allowed fast set generator.
// Beyond "no crash", it checks that every parsed known message re-encodes to exactly
// the bytes it came from, and that a decoded extension handshake survives a round trip.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "wire/fast.hpp"
#include "wire/messages.hpp"

using namespace pw::wire;

namespace {

void check(bool ok) {
    if (!ok) __builtin_trap();
}

std::string reencode(const Message& m) {
    std::string out;
    if (m.keepalive) {
        put_keepalive(out);
        return out;
    }
    if (!m.known) return out;
    switch (m.id) {
        case MsgId::choke:
        case MsgId::unchoke:
        case MsgId::interested:
        case MsgId::not_interested:
        case MsgId::have_all:
        case MsgId::have_none:
            put_simple(out, m.id);
            break;
        case MsgId::suggest:
            put_suggest(out, m.index);
            break;
        case MsgId::allowed_fast:
            put_allowed_fast(out, m.index);
            break;
        case MsgId::reject:
            put_reject(out, m.index, m.begin, m.length);
            break;
        case MsgId::have:
            put_have(out, m.index);
            break;
        case MsgId::bitfield:
            put_bitfield(out, m.payload);
            break;
        case MsgId::request:
            put_request(out, m.index, m.begin, m.length);
            break;
        case MsgId::cancel:
            put_cancel(out, m.index, m.begin, m.length);
            break;
        case MsgId::piece:
            put_piece_header(out, m.index, m.begin, static_cast<std::uint32_t>(m.payload.size()));
            out.append(m.payload);
            break;
        case MsgId::port:
            put_port(out, m.port);
            break;
        case MsgId::extended:
            put_extended(out, m.ext_id, m.payload);
            break;
        case MsgId::hash_request:  // BEP 52: the body is kept whole (wire/hash_messages.hpp
        case MsgId::hashes:        // decodes it; fuzz_hash_messages covers that)
        case MsgId::hash_reject: {
            auto len = static_cast<std::uint32_t>(m.payload.size() + 1);
            for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(len >> shift));
            out.push_back(static_cast<char>(m.id));
            out.append(m.payload);
            break;
        }
    }
    return out;
}

void fuzz_messages(std::string_view rest, std::uint32_t max_length) {
    while (!rest.empty()) {
        Message m;
        ParseResult r = parse_message(rest, max_length, m);
        if (r.status != ParseStatus::ok) {
            check(r.status == ParseStatus::need_more || r.error != nullptr);
            return;
        }
        check(r.consumed >= 4 && r.consumed <= rest.size());
        std::string_view whole = rest.substr(0, r.consumed);
        if (m.keepalive || m.known)
            check(reencode(m) == whole);
        else
            check(m.payload.size() + 5 == whole.size() && m.payload == whole.substr(5));
        rest.remove_prefix(r.consumed);
    }
}

void fuzz_ext_handshake(std::string_view data) {
    auto h = decode_ext_handshake(data);
    if (!h) return;
    check(h->m.size() <= 64 && h->v.size() <= 100);
    check(h->yourip.empty() || h->yourip.size() == 4 || h->yourip.size() == 16);
    check(h->ipv4.empty() || h->ipv4.size() == 4);
    check(h->ipv6.empty() || h->ipv6.size() == 16);
    auto again = decode_ext_handshake(encode_ext_handshake(*h));
    check(again.has_value());
    check(again->v == h->v && again->p == h->p && again->reqq == h->reqq &&
          again->metadata_size == h->metadata_size && again->yourip == h->yourip &&
          again->ipv4 == h->ipv4 && again->ipv6 == h->ipv6);
    check(again->m.size() <= h->m.size());
}

void fuzz_allowed_fast(std::string_view in) {
    if (in.size() < 29) return;
    auto u32 = [&](std::size_t at) {
        std::uint32_t v = 0;
        for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(in[at + i]);
        return v;
    };
    pw::Sha1Digest ih;
    for (std::size_t i = 0; i < 20; ++i) ih.bytes[i] = static_cast<std::uint8_t>(in[8 + i]);
    std::uint32_t pieces = u32(0) % 100000, k = static_cast<unsigned char>(in[28]) % 64;
    auto a = allowed_fast_set(u32(4), ih, pieces, k);
    check(a.size() == std::min(pieces, k));
    for (std::size_t i = 0; i < a.size(); ++i) {
        check(a[i] < pieces);
        for (std::size_t j = 0; j < i; ++j) check(a[i] != a[j]);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    fuzz_messages(in, 1 << 17);
    fuzz_messages(in, 64);  // a small limit exercises the "too long" paths

    if (auto h = decode_handshake(in.substr(0, handshake_size)))
        check(encode_handshake(*h) == in.substr(0, handshake_size));

    fuzz_ext_handshake(in);
    fuzz_allowed_fast(in);
    return 0;
}

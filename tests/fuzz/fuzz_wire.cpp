// libFuzzer target for the peer wire codec: the message parser run over the input as a
// stream, the BEP 3 handshake decoder and the BEP 10 extension handshake decoder.
// Beyond "no crash", it checks that every parsed known message re-encodes to exactly
// the bytes it came from, and that a decoded extension handshake survives a round trip.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

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
            put_simple(out, m.id);
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
    auto again = decode_ext_handshake(encode_ext_handshake(*h));
    check(again.has_value());
    check(again->v == h->v && again->p == h->p && again->reqq == h->reqq &&
          again->metadata_size == h->metadata_size && again->yourip == h->yourip);
    check(again->m.size() <= h->m.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    fuzz_messages(in, 1 << 17);
    fuzz_messages(in, 64);  // a small limit exercises the "too long" paths

    if (auto h = decode_handshake(in.substr(0, handshake_size)))
        check(encode_handshake(*h) == in.substr(0, handshake_size));

    fuzz_ext_handshake(in);
    return 0;
}

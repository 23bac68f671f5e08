// libFuzzer target for the uTP packet codec (BEP 29). Besides "no crash", it checks the
// decoder's promises: a decoded packet has version 1 and a known type, its selective ACK
// is within max_sack_bytes and its views lie inside the input; and a packet re-encoded
// (with its bitmask padded to a multiple of 4) decodes to the same fields, the
// announced largest datagram (ext_max_datagram) included.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "utp/packet.hpp"

using namespace pw::utp;

namespace {

bool inside(std::string_view part, std::string_view whole) {
    return part.empty() || (part.data() >= whole.data() &&
                            part.data() + part.size() <= whole.data() + whole.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    auto p = decode(in);
    if (!p) return 0;
    if (!looks_like_utp(in)) __builtin_trap();
    if (static_cast<int>(p->h.type) > 4) __builtin_trap();
    if (p->sack.size() > max_sack_bytes) __builtin_trap();
    if (!inside(p->sack, in) || !inside(p->payload, in)) __builtin_trap();
    std::string sack(p->sack);
    if (!sack.empty()) sack.resize((sack.size() + 3) / 4 * 4, '\0');
    std::string again;
    encode(again, p->h, sack, p->payload, p->max_datagram);
    auto q = decode(again);
    if (!q) __builtin_trap();
    if (q->h.type != p->h.type || q->h.conn_id != p->h.conn_id || q->h.seq_nr != p->h.seq_nr ||
        q->h.ack_nr != p->h.ack_nr || q->h.wnd_size != p->h.wnd_size ||
        q->h.timestamp_us != p->h.timestamp_us ||
        q->h.timestamp_diff_us != p->h.timestamp_diff_us || q->sack != sack ||
        q->payload != p->payload || q->max_datagram != p->max_datagram)
        __builtin_trap();
    return 0;
}

#include "wire/holepunch.hpp"

namespace pw::wire {

std::optional<HolepunchMsg> decode_holepunch(std::string_view payload) {
    if (payload.size() < 2) return std::nullopt;
    auto byte = [&](std::size_t i) { return static_cast<std::uint8_t>(payload[i]); };
    HolepunchMsg m;
    if (byte(0) > HolepunchMsg::error) return std::nullopt;
    m.type = static_cast<HolepunchMsg::Type>(byte(0));
    if (byte(1) > 1) return std::nullopt;
    m.v6 = byte(1) == 1;
    const std::size_t alen = m.v6 ? 16 : 4;
    const std::size_t full = m.v6 ? holepunch_size_v6 : holepunch_size_v4;
    // Without err_code: libtorrent sends rendezvous and connect so; an error needs it.
    if (payload.size() < full && (m.type == HolepunchMsg::error || payload.size() < full - 4)) return std::nullopt;
    std::size_t i = 2;
    for (std::size_t k = 0; k < alen; ++k) m.addr[k] = byte(i++);
    m.port = static_cast<std::uint16_t>(byte(i) << 8 | byte(i + 1));
    i += 2;
    if (payload.size() < full) return m;
    m.error_code = static_cast<std::uint32_t>(byte(i)) << 24 | static_cast<std::uint32_t>(byte(i + 1)) << 16 |
                   static_cast<std::uint32_t>(byte(i + 2)) << 8 | static_cast<std::uint32_t>(byte(i + 3));
    return m;
}

std::string encode_holepunch(const HolepunchMsg& m) {
    std::string out;
    out.reserve(holepunch_size_v6);
    out += static_cast<char>(m.type);
    out += static_cast<char>(m.v6 ? 1 : 0);
    const std::size_t alen = m.v6 ? 16 : 4;
    for (std::size_t k = 0; k < alen; ++k) out += static_cast<char>(m.addr[k]);
    out += static_cast<char>(m.port >> 8);
    out += static_cast<char>(m.port & 0xff);
    for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((m.error_code >> shift) & 0xff);
    return out;
}

std::string holepunch_error_name(std::uint32_t code) {
    switch (code) {
        case HolepunchMsg::no_such_peer: return "NoSuchPeer";
        case HolepunchMsg::not_connected: return "NotConnected";
        case HolepunchMsg::no_support: return "NoSupport";
        case HolepunchMsg::no_self: return "NoSelf";
        default: return "error " + std::to_string(code);
    }
}

}  // namespace pw::wire

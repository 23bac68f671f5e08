#include "utp/packet.hpp"

#include "net/byte_order.hpp"

namespace pw::utp {

bool looks_like_utp(std::string_view d) {
    if (d.size() < header_size) return false;
    auto b = static_cast<unsigned char>(d[0]);
    return (b & 0x0f) == 1 && (b >> 4) <= 4;
}

std::optional<Packet> decode(std::string_view d) {
    if (!looks_like_utp(d)) return std::nullopt;
    auto p = reinterpret_cast<const unsigned char*>(d.data());
    Packet out;
    out.h.type = static_cast<Type>(p[0] >> 4);
    out.h.conn_id = net::get_be16(p + 2);
    out.h.timestamp_us = net::get_be32(p + 4);
    out.h.timestamp_diff_us = net::get_be32(p + 8);
    out.h.wnd_size = net::get_be32(p + 12);
    out.h.seq_nr = net::get_be16(p + 16);
    out.h.ack_nr = net::get_be16(p + 18);
    std::size_t pos = header_size;
    std::uint8_t ext = p[1];
    // Each extension takes at least 2 bytes, so the chain ends within the datagram.
    while (ext != 0) {
        if (d.size() - pos < 2) return std::nullopt;
        std::uint8_t next = p[pos];
        std::size_t len = p[pos + 1];
        pos += 2;
        if (d.size() - pos < len) return std::nullopt;
        if (ext == ext_sack) {
            if (len == 0 || len > max_sack_bytes || !out.sack.empty()) return std::nullopt;
            out.sack = d.substr(pos, len);
        } else if (ext == ext_max_datagram && len == 2 && out.max_datagram == 0) {
            out.max_datagram = net::get_be16(p + pos);
        }
        pos += len;
        ext = next;
    }
    out.payload = d.substr(pos);
    return out;
}

void encode(std::string& out, const Header& h, std::string_view sack, std::string_view payload,
            std::uint16_t max_datagram) {
    out.push_back(static_cast<char>((static_cast<std::uint8_t>(h.type) << 4) | 1));
    // ext_max_datagram never comes first: the chain then starts with the selective ACK or
    // with BEP 29's extension bits (8 zero bytes), see packet.hpp.
    const std::uint8_t after_sack = max_datagram ? ext_bits : 0;
    out.push_back(static_cast<char>(!sack.empty() ? ext_sack : after_sack));
    net::put_be16(out, h.conn_id);
    net::put_be32(out, h.timestamp_us);
    net::put_be32(out, h.timestamp_diff_us);
    net::put_be32(out, h.wnd_size);
    net::put_be16(out, h.seq_nr);
    net::put_be16(out, h.ack_nr);
    if (!sack.empty()) {
        out.push_back(static_cast<char>(after_sack));
        out.push_back(static_cast<char>(sack.size()));
        out.append(sack);
    }
    if (max_datagram) {
        out.push_back(static_cast<char>(ext_max_datagram));
        out.push_back(static_cast<char>(ext_bits_size));
        out.append(ext_bits_size, '\0');
        out.push_back(0);
        out.push_back(2);
        net::put_be16(out, max_datagram);
    }
    out.append(payload);
}

}  // namespace pw::utp

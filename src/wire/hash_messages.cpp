// BEP 52 hash request / hashes / hash reject. See hash_messages.hpp.
#include "wire/hash_messages.hpp"

#include <cstring>

#include "net/byte_order.hpp"
#include "wire/messages.hpp"

namespace pw::wire {
namespace {

int log2_of(std::uint32_t pow2) {
    int l = 0;
    while (pow2 > 1) {
        pow2 >>= 1;
        ++l;
    }
    return l;
}

void read_fields(std::string_view payload, HashRequest& out) {
    out.pieces_root = Sha256Digest::from_bytes(payload.substr(0, 32));
    const char* p = payload.data() + 32;
    out.base = net::get_be32(p);
    out.index = net::get_be32(p + 4);
    out.length = net::get_be32(p + 8);
    out.proof_layers = net::get_be32(p + 12);
}

void put_request_like(std::string& out, MsgId id, const HashRequest& r, std::size_t extra) {
    net::put_be32(out, static_cast<std::uint32_t>(1 + kHashRequestPayload + extra));
    out.push_back(static_cast<char>(id));
    out.append(r.pieces_root.view());
    net::put_be32(out, r.base);
    net::put_be32(out, r.index);
    net::put_be32(out, r.length);
    net::put_be32(out, r.proof_layers);
}

}  // namespace

std::uint32_t uncle_count(std::uint32_t length, std::uint32_t proof_layers) {
    const auto implied = static_cast<std::uint32_t>(length > 1 ? log2_of(length) - 1 : 0);
    return proof_layers > implied ? proof_layers - implied : 0;
}

const char* check_hash_request(const HashRequest& r) {
    if (r.length < 2 || (r.length & (r.length - 1)) != 0)
        return "hash request length is not a power of two >= 2";
    if (r.length > kMaxHashCount) return "hash request length too large";
    if (r.index % r.length != 0) return "hash request index is not a multiple of its length";
    if (r.base >= kMaxTreeLevels) return "hash request base layer too high";
    if (r.proof_layers >= kMaxTreeLevels || r.base + r.proof_layers >= kMaxTreeLevels)
        return "hash request asks for too many proof layers";
    // The hashes span 2^(base + log2 length) leaves at index*2^base: within 2^64 leaves.
    if (r.base + static_cast<std::uint32_t>(log2_of(r.length)) >= kMaxTreeLevels)
        return "hash request covers more than a tree";
    return nullptr;
}

bool decode_hash_request(std::string_view payload, HashRequest& out, const char*& why) {
    if (payload.size() != kHashRequestPayload) {
        why = "hash request is not 48 bytes";
        return false;
    }
    read_fields(payload, out);
    why = check_hash_request(out);
    return why == nullptr;
}

bool decode_hashes(std::string_view payload, HashesMsg& out, const char*& why) {
    out.hashes.clear();
    if (payload.size() < kHashRequestPayload) {
        why = "hashes message too short";
        return false;
    }
    read_fields(payload, out.req);
    if ((why = check_hash_request(out.req)) != nullptr) return false;
    const std::string_view body = payload.substr(kHashRequestPayload);
    if (body.size() % 32 != 0) {
        why = "hashes message is not a whole number of hashes";
        return false;
    }
    const std::size_t want =
        std::size_t(out.req.length) + uncle_count(out.req.length, out.req.proof_layers);
    if (body.size() / 32 != want) {
        why = "hashes message holds the wrong number of hashes";
        return false;
    }
    out.hashes.resize(want);
    for (std::size_t i = 0; i < want; ++i)
        std::memcpy(out.hashes[i].bytes.data(), body.data() + 32 * i, 32);
    return true;
}

void put_hash_request(std::string& out, const HashRequest& r) {
    put_request_like(out, MsgId::hash_request, r, 0);
}

void put_hash_reject(std::string& out, const HashRequest& r) {
    put_request_like(out, MsgId::hash_reject, r, 0);
}

void put_hashes(std::string& out, const HashRequest& r, const std::vector<Sha256Digest>& hashes) {
    put_request_like(out, MsgId::hashes, r, 32 * hashes.size());
    for (const auto& h : hashes) out.append(h.view());
}

}  // namespace pw::wire

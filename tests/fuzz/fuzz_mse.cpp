// libFuzzer target for the Message Stream Encryption handshake (src/crypto/mse_handshake),
// both roles. The first byte picks the mode and the second the size of the pieces the
// input is fed in:
//   0, 1: the rest of the input is what the peer sent a responder / an initiator;
//   2, 3: a real exchange (deterministic keys and pads, so S and the RC4 streams are
//         the same on every run) with the rest of the input as edits (offset, xor byte)
//         and a cut, fed to a fresh responder / initiator with the same keys: this
//         reaches the encrypted fields (VC, methods, pad and IA lengths) behind the DH.
// Beyond "no crash", it checks that the machine's buffering stays within the spec's
// bounds and that a finished handshake's result is consistent.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "crypto/mse_handshake.hpp"

using namespace pw::crypto;
using pw::Sha1Digest;
using Status = MseHandshake::Status;

namespace {

void check(bool ok) {
    if (!ok) __builtin_trap();
}

RandomFn seeded(std::uint64_t seed) {
    auto state = std::make_shared<std::uint64_t>(seed * 0x9E3779B97F4A7C15ull + 1);
    return [state](std::uint8_t* out, std::size_t n) {
        for (std::size_t k = 0; k < n; ++k) {
            std::uint64_t& x = *state;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            out[k] = static_cast<std::uint8_t>(x >> 32);
        }
    };
}

Sha1Digest torrent() {
    Sha1Digest d;
    d.bytes.fill(0x42);
    return d;
}

SkeyLookup lookup() {
    return [](const Sha1Digest& req2) -> std::optional<Sha1Digest> {
        if (req2 == mse_req2_hash(torrent())) return torrent();
        return std::nullopt;
    };
}

const std::string ia =
    "\x13"
    "BitTorrent protocol........................................";

MseHandshake make(bool initiator) {
    return initiator ? MseHandshake::initiator(torrent(), mse_plaintext | mse_rc4, ia, seeded(1))
                     : MseHandshake::responder(lookup(), mse_plaintext | mse_rc4, seeded(2));
}

struct Transcript {
    std::string to_b, to_a;
};

// One real exchange between the two deterministic machines, plus payload bytes.
const Transcript& transcript() {
    static const Transcript t = [] {
        Transcript r;
        auto a = make(true), b = make(false);
        std::string a1 = a.take_output();
        b.feed(a1);
        std::string b2 = b.take_output();
        a.feed(b2);
        std::string a3 = a.take_output();
        b.feed(a3);
        std::string b4 = b.take_output();
        r.to_b = a1 + a3 + "payload from A";
        r.to_a = b2 + b4 + "payload from B";
        return r;
    }();
    return t;
}

void run(bool initiator, std::string_view input, std::size_t chunk) {
    auto h = make(initiator);
    h.take_output();
    std::size_t fed = 0;
    while (fed < input.size() && h.status() == Status::need_more) {
        std::size_t n = std::min(chunk, input.size() - fed);
        h.feed(input.substr(fed, n));
        fed += n;
        h.take_output();
    }
    if (h.status() == Status::failed) {
        check(h.error() != nullptr);
        return;
    }
    if (h.status() == Status::done) {
        auto r = h.take_result();
        check(r.method == mse_plaintext || r.method == mse_rc4);
        check(r.enc.has_value() == (r.method == mse_rc4) && r.dec.has_value() == r.enc.has_value());
        check(r.payload.size() <= fed);
        if (!initiator) check(r.skey == torrent());
        return;
    }
    // Still waiting: it can only be inside the spec's windows. The longest wait is B
    // after req1 at its last position: 628 + 20 + 14 + 512 + 2 + IA.
    check(fed <= mse_req1_window + 20 + 14 + mse_max_pad + 2 + mse_max_ia);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    std::string_view in(reinterpret_cast<const char*>(data) + 2, size - 2);
    std::size_t chunk = data[1] == 0 ? 1 : data[1];
    switch (data[0] % 4) {
        case 0:
            run(false, in, chunk);
            break;
        case 1:
            run(true, in, chunk);
            break;
        default: {
            bool initiator = data[0] % 4 == 3;
            std::string t = initiator ? transcript().to_a : transcript().to_b;
            // Edits: (offset high, offset low, xor) triples; a trailing byte cuts.
            std::size_t k = 0;
            for (; k + 3 <= in.size(); k += 3) {
                std::size_t off =
                    (std::size_t(std::uint8_t(in[k])) << 8 | std::uint8_t(in[k + 1])) % t.size();
                t[off] = static_cast<char>(t[off] ^ in[k + 2]);
            }
            if (k < in.size())
                t.resize(t.size() - std::min<std::size_t>(t.size(), std::uint8_t(in[k])));
            run(initiator, t, chunk);
        }
    }
    return 0;
}

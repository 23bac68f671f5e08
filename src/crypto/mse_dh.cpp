#include "crypto/mse_dh.hpp"

#include <openssl/bn.h>
#include <openssl/rand.h>

#include <memory>
#include <new>
#include <stdexcept>

namespace pw::crypto {

namespace {

constexpr const char* prime_hex =
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08"
    "798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A63A"
    "36210000000000090563";

struct BnFree {
    void operator()(BIGNUM* b) const { BN_clear_free(b); }
};
struct CtxFree {
    void operator()(BN_CTX* c) const { BN_CTX_free(c); }
};
using Bn = std::unique_ptr<BIGNUM, BnFree>;

Bn make(BIGNUM* b) {
    if (!b) throw std::bad_alloc();
    return Bn(b);
}

const BIGNUM* prime() {
    static BIGNUM* p = [] {
        BIGNUM* b = nullptr;
        if (!BN_hex2bn(&b, prime_hex)) throw std::bad_alloc();
        return b;
    }();
    return p;
}

// base^exp mod P into 96 big-endian bytes.
MseKey mod_exp(const BIGNUM* base, std::span<const std::uint8_t> exp) {
    std::unique_ptr<BN_CTX, CtxFree> ctx(BN_CTX_new());
    if (!ctx) throw std::bad_alloc();
    Bn x = make(BN_bin2bn(exp.data(), static_cast<int>(exp.size()), nullptr));
    BN_set_flags(x.get(), BN_FLG_CONSTTIME);
    Bn r = make(BN_new());
    if (!BN_mod_exp(r.get(), base, x.get(), prime(), ctx.get()))
        throw std::runtime_error("BN_mod_exp failed");
    MseKey out{};
    BN_bn2binpad(r.get(), out.data(), static_cast<int>(out.size()));
    return out;
}

}  // namespace

void random_bytes(const RandomFn& rnd, std::uint8_t* out, std::size_t n) {
    if (n == 0) return;
    if (rnd) return rnd(out, n);
    if (RAND_bytes(out, static_cast<int>(n)) != 1) throw std::runtime_error("RAND_bytes failed");
}

MseDh::MseDh(const RandomFn& rnd) {
    random_bytes(rnd, private_.data(), private_.size());
    private_[0] |= 0x80;  // a full 160-bit exponent, never 0 or 1
    Bn g = make(BN_new());
    BN_set_word(g.get(), 2);
    public_ = mod_exp(g.get(), private_);
}

std::optional<MseKey> MseDh::shared_secret(std::span<const std::uint8_t, mse_key_size> peer) const {
    Bn y = make(BN_bin2bn(peer.data(), static_cast<int>(peer.size()), nullptr));
    Bn limit = make(BN_dup(prime()));
    BN_sub_word(limit.get(), 1);  // P-1
    if (BN_cmp(y.get(), BN_value_one()) <= 0 || BN_cmp(y.get(), limit.get()) >= 0)
        return std::nullopt;
    return mod_exp(y.get(), private_);
}

}  // namespace pw::crypto

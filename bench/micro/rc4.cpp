// Micro-benchmark of RC4 (MSE, src/crypto/rc4.hpp): our own implementation against
// OpenSSL's RC4 from the legacy provider (EVP, in its own library context), both
// encrypting a 16 KiB block (one PIECE payload) and 1 MiB in place. Reports bytes/s;
// the engine keeps whichever is faster.
#include "crypto/rc4.hpp"

#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <openssl/provider.h>

#include <cstdint>
#include <string>
#include <vector>

namespace {

std::vector<std::uint8_t> buffer(std::size_t n) {
    std::vector<std::uint8_t> s(n);
    std::uint32_t x = 0x12345678;
    for (auto& c : s) {
        x = x * 1664525u + 1013904223u;
        c = static_cast<std::uint8_t>(x >> 24);
    }
    return s;
}

const std::uint8_t key[20] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
                              11, 12, 13, 14, 15, 16, 17, 18, 19, 20};

void BM_rc4_own(benchmark::State& state) {
    auto data = buffer(static_cast<std::size_t>(state.range(0)));
    pw::crypto::Rc4 rc4(key, /*force_own=*/true);
    rc4.discard(1024);
    for (auto _ : state) {
        rc4.process(data.data(), data.size());
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * data.size()));
}
BENCHMARK(BM_rc4_own)->ArgName("bytes")->Arg(16 << 10)->Arg(1 << 20);

void BM_rc4_openssl(benchmark::State& state) {
    auto data = buffer(static_cast<std::size_t>(state.range(0)));
    OSSL_LIB_CTX* lib = OSSL_LIB_CTX_new();
    OSSL_PROVIDER* legacy = OSSL_PROVIDER_load(lib, "legacy");
    OSSL_PROVIDER* deflt = OSSL_PROVIDER_load(lib, "default");
    EVP_CIPHER* cipher = legacy ? EVP_CIPHER_fetch(lib, "RC4", nullptr) : nullptr;
    if (!cipher) {
        state.SkipWithError("OpenSSL legacy provider / RC4 unavailable");
        return;
    }
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    unsigned int keylen = sizeof key;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_uint("keylen", &keylen), OSSL_PARAM_END};
    EVP_EncryptInit_ex2(ctx, cipher, nullptr, nullptr, params);
    EVP_EncryptInit_ex2(ctx, nullptr, key, nullptr, nullptr);
    std::vector<std::uint8_t> skip(1024);
    int outl = 0;
    EVP_EncryptUpdate(ctx, skip.data(), &outl, skip.data(), 1024);
    for (auto _ : state) {
        EVP_EncryptUpdate(ctx, data.data(), &outl, data.data(), static_cast<int>(data.size()));
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * data.size()));
    EVP_CIPHER_CTX_free(ctx);
    EVP_CIPHER_free(cipher);
    OSSL_PROVIDER_unload(deflt);
    OSSL_PROVIDER_unload(legacy);
    OSSL_LIB_CTX_free(lib);
}
BENCHMARK(BM_rc4_openssl)->ArgName("bytes")->Arg(16 << 10)->Arg(1 << 20);

// What the engine uses: pw::crypto::Rc4 as constructed by default.
void BM_rc4_engine(benchmark::State& state) {
    auto data = buffer(static_cast<std::size_t>(state.range(0)));
    pw::crypto::Rc4 rc4(key);
    rc4.discard(1024);
    for (auto _ : state) {
        rc4.process(data.data(), data.size());
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * data.size()));
    state.SetLabel(rc4.uses_openssl() ? "openssl" : "own");
}
BENCHMARK(BM_rc4_engine)->ArgName("bytes")->Arg(16 << 10)->Arg(1 << 20);

}  // namespace

BENCHMARK_MAIN();

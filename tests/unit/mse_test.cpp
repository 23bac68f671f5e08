// Message Stream Encryption (specs/mse.md): RC4 known answers, the DH agreement, and the
// handshake state machine of both roles against each other and against hand-built
// (spec-following) peers that send out-of-bounds pads, bad VCs and wrong methods.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>

#include "crypto/mse_dh.hpp"
#include "crypto/mse_handshake.hpp"
#include "crypto/rc4.hpp"
#include "crypto/sha1.hpp"

using namespace pw::crypto;
using pw::Sha1Digest;
using Status = MseHandshake::Status;

namespace {

std::string hex(std::string_view s) {
    static const char* d = "0123456789abcdef";
    std::string out;
    for (unsigned char c : s) {
        out += d[c >> 4];
        out += d[c & 15];
    }
    return out;
}

// Deterministic random bytes (xorshift), so every run tests the same pads.
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

std::string rc4_hex(std::string_view key, std::string_view plain, bool own) {
    Rc4 r({reinterpret_cast<const std::uint8_t*>(key.data()), key.size()}, own);
    std::string s(plain);
    r.process(s.data(), s.size());
    return hex(s);
}

Sha1Digest digest(char fill) {
    Sha1Digest d;
    d.bytes.fill(static_cast<std::uint8_t>(fill));
    return d;
}

SkeyLookup lookup_of(std::vector<Sha1Digest> known) {
    return [known](const Sha1Digest& req2) -> std::optional<Sha1Digest> {
        for (auto& k : known)
            if (mse_req2_hash(k) == req2) return k;
        return std::nullopt;
    };
}

// Pumps bytes between the two machines, `chunk` bytes at a time, until neither moves.
void pump(MseHandshake& a, MseHandshake& b, std::size_t chunk) {
    std::string to_b, to_a;
    for (int round = 0; round < 100000; ++round) {
        to_b += a.take_output();
        to_a += b.take_output();
        bool moved = false;
        if (!to_b.empty() && b.status() == Status::need_more) {
            std::size_t n = std::min(chunk, to_b.size());
            b.feed(std::string_view(to_b).substr(0, n));
            to_b.erase(0, n);
            moved = true;
        }
        if (!to_a.empty() && a.status() == Status::need_more) {
            std::size_t n = std::min(chunk, to_a.size());
            a.feed(std::string_view(to_a).substr(0, n));
            to_a.erase(0, n);
            moved = true;
        }
        if (!moved) return;
    }
}

const std::string kIa =
    "\x13"
    "BitTorrent protocol and the rest of a handshake.........";

}  // namespace

TEST(Rc4, KnownAnswers) {
    for (bool own : {true, false}) {
        EXPECT_EQ(rc4_hex("Key", "Plaintext", own), "bbf316e8d940af0ad3");
        EXPECT_EQ(rc4_hex("Wiki", "pedia", own), "1021bf0420");
        EXPECT_EQ(rc4_hex("Secret", "Attack at dawn", own), "45a01f645fc35b383552544b9bf5");
    }
}

TEST(Rc4, OpenSslAndOwnAgreeAndCopiesContinue) {
    std::uint8_t key[20];
    for (int k = 0; k < 20; ++k) key[k] = static_cast<std::uint8_t>(k * 7 + 1);
    Rc4 a(key), b(key, true);
    a.discard(1024);
    b.discard(1024);
    std::string x(5000, 'x'), y = x;
    a.process(x.data(), 1234);
    b.process(y.data(), 1234);
    Rc4 a2 = a, b2 = b;  // copies continue the same keystream on their own
    a.process(x.data() + 1234, x.size() - 1234);
    b.process(y.data() + 1234, y.size() - 1234);
    EXPECT_EQ(x, y);
    std::string z(x.size() - 1234, 'x');
    a2.process(z.data(), z.size());
    EXPECT_EQ(z, x.substr(1234));
    Rc4 moved = std::move(b2);
    std::string w(x.size() - 1234, 'x');
    moved.process(w.data(), w.size());
    EXPECT_EQ(w, z);
}

TEST(MseDh, Agreement) {
    MseDh a, b;
    EXPECT_NE(a.public_key(), b.public_key());
    auto sa = a.shared_secret(b.public_key());
    auto sb = b.shared_secret(a.public_key());
    ASSERT_TRUE(sa && sb);
    EXPECT_EQ(*sa, *sb);
    MseKey bad{};
    EXPECT_FALSE(a.shared_secret(bad));  // 0
    bad[95] = 1;
    EXPECT_FALSE(a.shared_secret(bad));  // 1
    bad.fill(0xff);
    EXPECT_FALSE(a.shared_secret(bad));  // > P
    bad.fill(0);
    bad[95] = 2;
    EXPECT_TRUE(a.shared_secret(bad));
}

TEST(MseHandshake, EveryPolicyCombination) {
    const Sha1Digest ih = digest('h');
    int seed = 1;
    for (std::uint32_t provide : {1u, 2u, 3u}) {
        for (std::uint32_t allowed : {1u, 2u, 3u}) {
            for (std::size_t chunk : {std::size_t(1), std::size_t(7), std::size_t(100000)}) {
                SCOPED_TRACE(testing::Message() << "provide " << provide << " allowed " << allowed
                                                << " chunk " << chunk);
                auto a = MseHandshake::initiator(ih, provide, kIa, seeded(seed++));
                auto b =
                    MseHandshake::responder(lookup_of({digest('x'), ih}), allowed, seeded(seed++));
                pump(a, b, chunk);
                std::uint32_t both = provide & allowed;
                if (!both) {
                    EXPECT_EQ(b.status(), Status::failed);
                    EXPECT_STREQ(b.error(), "no acceptable method offered");
                    EXPECT_EQ(a.status(), Status::need_more);  // the connection's deadline ends it
                    continue;
                }
                ASSERT_EQ(a.status(), Status::done) << (a.error() ? a.error() : "");
                ASSERT_EQ(b.status(), Status::done) << (b.error() ? b.error() : "");
                auto ra = a.take_result(), rb = b.take_result();
                std::uint32_t want = (both & mse_rc4) ? mse_rc4 : mse_plaintext;
                EXPECT_EQ(ra.method, want);
                EXPECT_EQ(rb.method, want);
                EXPECT_EQ(rb.skey, ih);
                EXPECT_EQ(rb.payload, kIa);  // IA delivered
                EXPECT_EQ(ra.payload, "");
                EXPECT_EQ(ra.enc.has_value(), want == mse_rc4);
                if (want == mse_rc4) {
                    // The streams continue: A's enc is B's dec and the reverse.
                    std::string m = "hello, B", n = "hello, A";
                    ra.enc->process(m.data(), m.size());
                    EXPECT_NE(m, "hello, B");
                    rb.dec->process(m.data(), m.size());
                    EXPECT_EQ(m, "hello, B");
                    rb.enc->process(n.data(), n.size());
                    ra.dec->process(n.data(), n.size());
                    EXPECT_EQ(n, "hello, A");
                }
            }
        }
    }
}

TEST(MseHandshake, PayloadPastTheHandshakeIsHandedOver) {
    const Sha1Digest ih = digest('h');
    for (std::uint32_t method : {mse_plaintext, mse_rc4}) {
        auto a = MseHandshake::initiator(ih, method, "", seeded(5));
        auto b = MseHandshake::responder(lookup_of({ih}), method, seeded(6));
        std::string a1 = a.take_output();
        ASSERT_EQ(b.feed(a1), Status::need_more);
        ASSERT_EQ(a.feed(b.take_output()), Status::need_more);
        std::string a3 = a.take_output();
        ASSERT_EQ(b.feed(a3), Status::done);
        std::string b4 = b.take_output();
        auto rb = b.take_result();
        EXPECT_EQ(rb.payload, "");  // empty IA
        // B sends its handshake right behind step 4, in the same read for A.
        std::string more = "B's first bytes";
        std::string wire = more;
        if (method == mse_rc4) rb.enc->process(wire.data(), wire.size());
        ASSERT_EQ(a.feed(b4 + wire), Status::done);
        EXPECT_EQ(a.take_result().payload, more);
    }
}

TEST(MseHandshake, WrongSkeyRefused) {
    auto a = MseHandshake::initiator(digest('h'), 3, kIa, seeded(1));
    auto b = MseHandshake::responder(lookup_of({digest('x'), digest('y')}), 3, seeded(2));
    pump(a, b, 1000);
    EXPECT_EQ(b.status(), Status::failed);
    EXPECT_STREQ(b.error(), "unknown torrent");
    // A lookup that answers with a torrent that does not match is refused too.
    auto a2 = MseHandshake::initiator(digest('h'), 3, kIa, seeded(3));
    auto liar = [](const Sha1Digest&) -> std::optional<Sha1Digest> { return digest('z'); };
    auto b2 = MseHandshake::responder(liar, 3, seeded(4));
    pump(a2, b2, 1000);
    EXPECT_EQ(b2.status(), Status::failed);
    // No lookup at all.
    auto a3 = MseHandshake::initiator(digest('h'), 3, kIa, seeded(5));
    auto b3 = MseHandshake::responder(nullptr, 3, seeded(6));
    pump(a3, b3, 1000);
    EXPECT_EQ(b3.status(), Status::failed);
}

TEST(MseHandshake, GarbageAndTruncatedInputRefused) {
    std::string garbage(2000, '\0');
    seeded(9)(reinterpret_cast<std::uint8_t*>(garbage.data()), garbage.size());
    garbage[95] = 5;  // a valid-range public key
    auto b = MseHandshake::responder(lookup_of({digest('h')}), 3, seeded(1));
    EXPECT_EQ(b.feed(garbage.substr(0, mse_req1_window - 1)), Status::need_more);
    EXPECT_EQ(b.feed(garbage.substr(mse_req1_window - 1, 1)), Status::failed);  // at 628 bytes
    EXPECT_STREQ(b.error(), "req1 hash not found");

    auto a = MseHandshake::initiator(digest('h'), 3, kIa, seeded(2));
    EXPECT_EQ(a.feed(garbage.substr(0, mse_vc_window - 1)), Status::need_more);
    EXPECT_EQ(a.feed(garbage.substr(mse_vc_window - 1, 1)), Status::failed);  // at 616 bytes
    EXPECT_STREQ(a.error(), "VC not found");

    // A degenerate public key.
    auto b2 = MseHandshake::responder(lookup_of({digest('h')}), 3, seeded(1));
    EXPECT_EQ(b2.feed(std::string(96, '\0')), Status::failed);
    auto a2 = MseHandshake::initiator(digest('h'), 3, kIa, seeded(1));
    EXPECT_EQ(a2.feed(std::string(96, '\xff')), Status::failed);

    // Truncated: every prefix of a real exchange leaves B waiting, never done or failed.
    auto ai = MseHandshake::initiator(digest('h'), 3, kIa, seeded(3));
    auto bi = MseHandshake::responder(lookup_of({digest('h')}), 3, seeded(4));
    std::string a1 = ai.take_output();
    bi.feed(a1);
    ai.feed(bi.take_output());
    std::string a3 = ai.take_output();
    for (std::size_t cut = 0; cut < a3.size(); ++cut) {
        auto b3 = MseHandshake::responder(lookup_of({digest('h')}), 3, seeded(4));
        b3.feed(a1);
        EXPECT_EQ(b3.feed(a3.substr(0, cut)), Status::need_more) << cut;
    }
}

// A hand-built initiator following the spec, with every field under the test's control.
struct ManualA {
    MseDh dh;
    Sha1Digest skey = digest('h');
    std::optional<MseKey> s;
    std::optional<Rc4> enc;

    explicit ManualA(RandomFn rnd) : dh(rnd) {}
    std::string step1(std::size_t pad_a) {
        std::string out(reinterpret_cast<const char*>(dh.public_key().data()), 96);
        return out + std::string(pad_a, 'p');
    }
    // Step 3 from B's Yb (the first 96 bytes of `from_b`).
    std::string step3(std::string_view from_b, std::uint32_t provide, std::size_t pad_c,
                      std::size_t ia_len, bool good_vc = true) {
        s = dh.shared_secret(std::span<const std::uint8_t, 96>(
            reinterpret_cast<const std::uint8_t*>(from_b.data()), 96));
        std::string sv(reinterpret_cast<const char*>(s->data()), 96);
        auto h = [](std::string_view a, std::string_view b) {
            pw::crypto::Sha1 x;
            x.update(a);
            x.update(b);
            return x.finish();
        };
        std::string out(h("req1", sv).view());
        Sha1Digest x = h("req2", skey.view()), r3 = h("req3", sv);
        for (int k = 0; k < 20; ++k) x.bytes[k] ^= r3.bytes[k];
        out += x.view();
        Sha1Digest ka = [&] {
            pw::crypto::Sha1 y;
            y.update("keyA");
            y.update(sv);
            y.update(skey.view());
            return y.finish();
        }();
        enc.emplace(ka.bytes);
        enc->discard(1024);
        std::string plain(8, good_vc ? '\0' : '\1');
        for (int sh = 24; sh >= 0; sh -= 8) plain += static_cast<char>(provide >> sh);
        plain += static_cast<char>(pad_c >> 8);
        plain += static_cast<char>(pad_c);
        plain += std::string(pad_c, 'c');
        plain += static_cast<char>(ia_len >> 8);
        plain += static_cast<char>(ia_len);
        plain += std::string(ia_len, 'i');
        enc->process(plain.data(), plain.size());
        return out + plain;
    }
};

TEST(MseHandshake, ResponderBounds) {
    struct Case {
        std::size_t pad_a, pad_c, ia;
        std::uint32_t provide;
        bool good_vc;
        const char* error;  // null: done
    };
    const Case cases[] = {
        {512, 512, mse_max_ia, 3, true, nullptr},  // every bound reached exactly
        {0, 0, 0, 2, true, nullptr},
        {513, 0, 68, 3, true, "req1 hash not found"},  // PadA one byte too long
        {0, 513, 68, 3, true, "PadC too long"},
        {0, 0, mse_max_ia + 1, 3, true, "IA too long"},
        {0, 0, 68, 3, false, "bad VC"},
        {0, 0, 68, 0, true, "no acceptable method offered"},
        {0, 0, 68, 4, true, "no acceptable method offered"},
    };
    int seed = 100;
    for (const auto& c : cases) {
        SCOPED_TRACE(testing::Message()
                     << "padA " << c.pad_a << " padC " << c.pad_c << " ia " << c.ia);
        ManualA a(seeded(seed++));
        auto b = MseHandshake::responder(lookup_of({digest('h')}), 3, seeded(seed++));
        EXPECT_EQ(b.feed(a.step1(c.pad_a)), Status::need_more);  // 609 bytes: still in the window
        std::string yb = b.take_output();
        auto st = b.feed(a.step3(yb, c.provide, c.pad_c, c.ia, c.good_vc));
        if (!c.error) {
            ASSERT_EQ(st, Status::done) << (b.error() ? b.error() : "");
            EXPECT_EQ(b.take_result().payload, std::string(c.ia, 'i'));
        } else {
            EXPECT_EQ(st, Status::failed);
            EXPECT_STREQ(b.error(), c.error);
        }
    }
}

TEST(MseHandshake, ResponderFailsWhenReq1IsPastTheWindow) {
    {
        ManualA a(seeded(7));
        auto b = MseHandshake::responder(lookup_of({digest('h')}), 3, seeded(8));
        EXPECT_EQ(b.feed(a.step1(600)), Status::failed);  // 696 bytes without req1, at once
    }
    // PadA longer than allowed, fed in pieces: B gives up at exactly 628 bytes.
    ManualA a(seeded(7));
    auto b = MseHandshake::responder(lookup_of({digest('h')}), 3, seeded(8));
    std::string s1 = a.step1(500);
    EXPECT_EQ(b.feed(s1), Status::need_more);
    EXPECT_EQ(b.feed(std::string(mse_req1_window - s1.size() - 1, 'p')), Status::need_more);
    EXPECT_EQ(b.feed("p"), Status::failed);
}

// A hand-built responder: answers a real initiator with chosen PadB / select / PadD.
std::string manual_b(MseHandshake& a, std::size_t pad_b, std::uint32_t select, std::size_t pad_d,
                     std::uint64_t seed, bool* ok) {
    MseDh dh(seeded(seed));
    std::string a1 = a.take_output();
    auto s = dh.shared_secret(
        std::span<const std::uint8_t, 96>(reinterpret_cast<const std::uint8_t*>(a1.data()), 96));
    std::string sv(reinterpret_cast<const char*>(s->data()), 96);
    pw::crypto::Sha1 y;
    y.update("keyB");
    y.update(sv);
    y.update(digest('h').view());
    Sha1Digest kb = y.finish();
    Rc4 enc(kb.bytes);
    enc.discard(1024);
    std::string plain(8, '\0');
    for (int sh = 24; sh >= 0; sh -= 8) plain += static_cast<char>(select >> sh);
    plain += static_cast<char>(pad_d >> 8);
    plain += static_cast<char>(pad_d);
    plain += std::string(pad_d, 'd');
    enc.process(plain.data(), plain.size());
    *ok = true;
    return std::string(reinterpret_cast<const char*>(dh.public_key().data()), 96) +
           std::string(pad_b, 'b') + plain;
}

TEST(MseHandshake, InitiatorBounds) {
    struct Case {
        std::size_t pad_b;
        std::uint32_t select;
        std::size_t pad_d;
        std::uint32_t provide;
        const char* error;
    };
    const Case cases[] = {
        {512, 2, 512, 3, nullptr},  // PadB and PadD at their bounds
        {0, 1, 0, 3, nullptr},
        {513, 2, 0, 3, "VC not found"},
        {0, 2, 513, 3, "PadD too long"},
        {0, 3, 0, 3, "bad crypto_select"},  // two bits
        {0, 0, 0, 3, "bad crypto_select"},
        {0, 1, 0, 2, "selected method was not offered"},
    };
    int seed = 200;
    for (const auto& c : cases) {
        SCOPED_TRACE(testing::Message() << "padB " << c.pad_b << " select " << c.select);
        auto a = MseHandshake::initiator(digest('h'), c.provide, kIa, seeded(seed++));
        bool ok = false;
        std::string b = manual_b(a, c.pad_b, c.select, c.pad_d, seed++, &ok);
        ASSERT_TRUE(ok);
        // Fed one byte at a time: the sync search must not depend on how bytes arrive.
        Status st = Status::need_more;
        for (char ch : b) {
            st = a.feed(std::string_view(&ch, 1));
            if (st != Status::need_more) break;
        }
        if (!c.error) {
            EXPECT_EQ(st, Status::done) << (a.error() ? a.error() : "");
        } else {
            EXPECT_EQ(st, Status::failed);
            EXPECT_STREQ(a.error(), c.error);
        }
    }
}

TEST(MseHandshake, NothingToOfferFails) {
    EXPECT_EQ(MseHandshake::initiator(digest('h'), 0, kIa).status(), Status::failed);
    EXPECT_EQ(MseHandshake::responder(lookup_of({}), 4).status(), Status::failed);
}

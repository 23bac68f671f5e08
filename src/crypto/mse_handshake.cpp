#include "crypto/mse_handshake.hpp"

#include <algorithm>
#include <cstring>

#include "net/byte_order.hpp"

namespace pw::crypto {

namespace {

Sha1Digest hash2(std::string_view a, std::string_view b, std::string_view c = {}) {
    Sha1 h;
    h.update(a);
    h.update(b);
    if (!c.empty()) h.update(c);
    return h.finish();
}

std::string_view view(const MseKey& k) {
    return {reinterpret_cast<const char*>(k.data()), k.size()};
}

Rc4 stream(std::string_view label, const MseKey& s, const Sha1Digest& skey) {
    Sha1Digest k = hash2(label, view(s), skey.view());
    Rc4 r(k.bytes);
    r.discard(1024);
    return r;
}

}  // namespace

Sha1Digest mse_req2_hash(const Sha1Digest& skey) {
    return hash2("req2", skey.view());
}

MseHandshake::MseHandshake(bool initiator, std::uint32_t methods, RandomFn rnd)
    : initiator_(initiator),
      methods_(methods & (mse_plaintext | mse_rc4)),
      rnd_(std::move(rnd)),
      dh_(rnd_) {}

std::string MseHandshake::random_pad() {
    std::uint8_t len[2];
    random_bytes(rnd_, len, 2);
    std::string pad((std::size_t(len[0]) << 8 | len[1]) % (mse_max_pad + 1), '\0');
    random_bytes(rnd_, reinterpret_cast<std::uint8_t*>(pad.data()), pad.size());
    return pad;
}

MseHandshake MseHandshake::initiator(const Sha1Digest& skey, std::uint32_t provide,
                                     std::string_view ia, RandomFn rnd) {
    MseHandshake h(true, provide, std::move(rnd));
    h.skey_ = skey;
    h.ia_ = std::string(ia.substr(0, mse_max_ia));
    h.out_.append(view(h.dh_.public_key()));  // step 1: Ya, PadA
    h.out_ += h.random_pad();
    if (h.methods_ == 0) h.fail("no method to offer");
    return h;
}

MseHandshake MseHandshake::responder(SkeyLookup lookup, std::uint32_t allowed, RandomFn rnd) {
    MseHandshake h(false, allowed, std::move(rnd));
    h.lookup_ = std::move(lookup);
    if (h.methods_ == 0) h.fail("no method allowed");
    return h;
}

MseHandshake::Status MseHandshake::fail(const char* why) {
    status_ = Status::failed;
    error_ = why;
    in_.clear();
    return status_;
}

void MseHandshake::derive_keys(const Sha1Digest& skey) {
    // A encrypts with keyA and decrypts with keyB; B the reverse.
    Rc4 a = stream("keyA", secret_, skey), b = stream("keyB", secret_, skey);
    enc_.emplace(initiator_ ? a : b);
    dec_.emplace(initiator_ ? b : a);
}

MseHandshake::Status MseHandshake::feed(std::string_view in) {
    if (status_ != Status::need_more) return status_;
    in_.append(in);
    return initiator_ ? step_initiator() : step_responder();
}

MseHandshake::Status MseHandshake::step_initiator() {
    for (;;) {
        std::size_t have = in_.size() - pos_;
        switch (step_) {
            case Step::key: {  // Yb
                if (have < mse_key_size) return status_;
                auto s = dh_.shared_secret(std::span<const std::uint8_t, mse_key_size>(
                    reinterpret_cast<const std::uint8_t*>(in_.data()), mse_key_size));
                if (!s) return fail("bad public key");
                secret_ = *s;
                pos_ = mse_key_size;
                derive_keys(skey_);
                // Step 3: HASH(req1,S), HASH(req2,SKEY) xor HASH(req3,S), ENCRYPT(VC,
                // crypto_provide, len(PadC), PadC, len(IA)), ENCRYPT(IA).
                out_.append(hash2("req1", view(secret_)).view());
                Sha1Digest x = mse_req2_hash(skey_), r3 = hash2("req3", view(secret_));
                for (int k = 0; k < 20; ++k) x.bytes[k] ^= r3.bytes[k];
                out_.append(x.view());
                std::string plain(8, '\0');
                net::put_be32(plain, methods_);
                std::string pad = random_pad();
                net::put_be16(plain, static_cast<std::uint16_t>(pad.size()));
                plain += pad;
                net::put_be16(plain, static_cast<std::uint16_t>(ia_.size()));
                plain += ia_;
                enc_->process(plain.data(), plain.size());
                out_ += plain;
                ia_.clear();
                // B's step 4 starts with ENCRYPT(VC): the next 8 bytes of B's keystream.
                Rc4 look = *dec_;
                sync_.assign(8, '\0');
                look.process(sync_.data(), sync_.size());
                step_ = Step::sync;
                break;
            }
            case Step::sync: {  // PadB, then ENCRYPT(VC)
                std::size_t end = std::min(in_.size(), mse_vc_window);
                auto it = std::search(in_.begin() + static_cast<std::ptrdiff_t>(pos_),
                                      in_.begin() + static_cast<std::ptrdiff_t>(end), sync_.begin(),
                                      sync_.end());
                if (it == in_.begin() + static_cast<std::ptrdiff_t>(end)) {
                    if (in_.size() >= mse_vc_window) return fail("VC not found");
                    return status_;
                }
                pos_ = static_cast<std::size_t>(it - in_.begin()) + 8;
                dec_->discard(8);
                step_ = Step::header;
                break;
            }
            case Step::header: {  // crypto_select, len(PadD)
                if (have < 6) return status_;
                char* p = in_.data() + pos_;
                dec_->process(p, 6);
                select_ = net::get_be32(p);
                pad_len_ = net::get_be16(p + 4);
                pos_ += 6;
                if (select_ != mse_plaintext && select_ != mse_rc4)
                    return fail("bad crypto_select");
                if (!(select_ & methods_)) return fail("selected method was not offered");
                if (pad_len_ > mse_max_pad) return fail("PadD too long");
                step_ = Step::pad;
                break;
            }
            case Step::pad: {
                if (have < pad_len_) return status_;
                dec_->process(in_.data() + pos_, pad_len_);
                pos_ += pad_len_;
                finish();
                return status_;
            }
            default:
                return status_;
        }
    }
}

MseHandshake::Status MseHandshake::step_responder() {
    for (;;) {
        std::size_t have = in_.size() - pos_;
        switch (step_) {
            case Step::key: {  // Ya
                if (have < mse_key_size) return status_;
                auto s = dh_.shared_secret(std::span<const std::uint8_t, mse_key_size>(
                    reinterpret_cast<const std::uint8_t*>(in_.data()), mse_key_size));
                if (!s) return fail("bad public key");
                secret_ = *s;
                pos_ = mse_key_size;
                out_.append(view(dh_.public_key()));  // step 2: Yb, PadB
                out_ += random_pad();
                sync_ = std::string(hash2("req1", view(secret_)).view());
                step_ = Step::sync;
                break;
            }
            case Step::sync: {  // PadA, then HASH(req1, S), then the SKEY hash
                std::size_t end = std::min(in_.size(), mse_req1_window);
                auto it = std::search(in_.begin() + static_cast<std::ptrdiff_t>(pos_),
                                      in_.begin() + static_cast<std::ptrdiff_t>(end), sync_.begin(),
                                      sync_.end());
                if (it == in_.begin() + static_cast<std::ptrdiff_t>(end)) {
                    if (in_.size() >= mse_req1_window) return fail("req1 hash not found");
                    return status_;
                }
                std::size_t at = static_cast<std::size_t>(it - in_.begin()) + 20;
                if (in_.size() < at + 20) return status_;  // wait for the SKEY hash
                Sha1Digest x = Sha1Digest::from_bytes(std::string_view(in_).substr(at, 20));
                Sha1Digest r3 = hash2("req3", view(secret_));
                for (int k = 0; k < 20; ++k) x.bytes[k] ^= r3.bytes[k];
                auto skey = lookup_ ? lookup_(x) : std::nullopt;
                if (!skey || mse_req2_hash(*skey) != x) return fail("unknown torrent");
                skey_ = *skey;
                pos_ = at + 20;
                derive_keys(skey_);
                step_ = Step::header;
                break;
            }
            case Step::header: {  // VC, crypto_provide, len(PadC)
                if (have < 14) return status_;
                char* p = in_.data() + pos_;
                dec_->process(p, 14);
                pos_ += 14;
                if (std::any_of(p, p + 8, [](char c) { return c != 0; })) return fail("bad VC");
                std::uint32_t provide = net::get_be32(p + 8);
                pad_len_ = net::get_be16(p + 12);
                if (pad_len_ > mse_max_pad) return fail("PadC too long");
                std::uint32_t both = provide & methods_;
                if (both & mse_rc4)
                    select_ = mse_rc4;
                else if (both & mse_plaintext)
                    select_ = mse_plaintext;
                else
                    return fail("no acceptable method offered");
                // Step 4: ENCRYPT(VC, crypto_select, len(PadD), PadD).
                std::string plain(8, '\0');
                net::put_be32(plain, select_);
                std::string pad = random_pad();
                net::put_be16(plain, static_cast<std::uint16_t>(pad.size()));
                plain += pad;
                enc_->process(plain.data(), plain.size());
                out_ += plain;
                step_ = Step::pad;
                break;
            }
            case Step::pad: {  // PadC, len(IA)
                if (have < pad_len_ + 2) return status_;
                char* p = in_.data() + pos_;
                dec_->process(p, pad_len_ + 2);
                ia_len_ = net::get_be16(p + pad_len_);
                pos_ += pad_len_ + 2;
                if (ia_len_ > mse_max_ia) return fail("IA too long");
                step_ = Step::ia;
                break;
            }
            case Step::ia: {  // ENCRYPT(IA): RC4 whatever the selected method
                if (have < ia_len_) return status_;
                dec_->process(in_.data() + pos_, ia_len_);
                payload_.assign(in_, pos_, ia_len_);
                pos_ += ia_len_;
                finish();
                return status_;
            }
            default:
                return status_;
        }
    }
}

void MseHandshake::finish() {
    // What follows the handshake is ENCRYPT2(...): RC4 continues, plaintext stops.
    std::size_t rest = in_.size() - pos_;
    if (select_ == mse_rc4) dec_->process(in_.data() + pos_, rest);
    payload_.append(in_, pos_, rest);
    in_.clear();
    pos_ = 0;
    step_ = Step::finished;
    status_ = Status::done;
}

MseResult MseHandshake::take_result() {
    MseResult r;
    r.method = select_;
    r.skey = skey_;
    if (select_ == mse_rc4) {
        r.enc = std::move(enc_);
        r.dec = std::move(dec_);
    }
    r.payload = std::move(payload_);
    return r;
}

}  // namespace pw::crypto

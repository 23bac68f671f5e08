// The Message Stream Encryption handshake (specs/mse.md, "The five steps" and
// "Synchronisation and early termination"), for both roles, as a pure state machine:
// bytes received go in (feed), bytes to send come out (take_output). No sockets, no
// timers: the connection feeding it enforces a deadline (10 s in src/peer/mse_stream).
//
// Initiator A knows SKEY (the info-hash) and sends IA (normally the BitTorrent
// handshake) with its step 3. Responder B finds SKEY with a lookup callback given
// HASH("req2", SKEY), recovered as HASH("req2",SKEY) xor HASH("req3",S) xor HASH("req3",S).
// When done, the result holds the selected method, the two RC4 states when RC4 was
// selected, and `payload`: the plaintext bytes that followed the handshake (for B: IA
// and anything after it), to hand to the BitTorrent layer.
//
// Every length is checked: pads at most 512 bytes, IA at most mse_max_ia, B finds
// HASH("req1", S) within the first 628 bytes, A finds ENCRYPT(VC) within the 616 bytes
// from the start of B's stream (96 + 512 + 8); anything else fails the handshake.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "crypto/mse_dh.hpp"
#include "crypto/rc4.hpp"
#include "crypto/sha1.hpp"

namespace pw::crypto {

// crypto_provide / crypto_select bits.
constexpr std::uint32_t mse_plaintext = 0x01;
constexpr std::uint32_t mse_rc4 = 0x02;
constexpr std::size_t mse_max_pad = 512;
// IA is normally the 68-byte BitTorrent handshake; some clients add a few messages.
constexpr std::size_t mse_max_ia = 8192;
// Windows for the synchronisation searches, counted from the start of the stream.
constexpr std::size_t mse_req1_window = mse_key_size + mse_max_pad + 20;  // 628
constexpr std::size_t mse_vc_window = mse_key_size + mse_max_pad + 8;     // 616

// Given HASH("req2", SKEY), returns SKEY if one of our torrents has it.
using SkeyLookup = std::function<std::optional<Sha1Digest>(const Sha1Digest& req2)>;

// HASH("req2", skey): the key a responder indexes its torrents by.
Sha1Digest mse_req2_hash(const Sha1Digest& skey);

struct MseResult {
    std::uint32_t method = 0;     // mse_plaintext or mse_rc4
    Sha1Digest skey;              // the torrent the connection is for
    std::optional<Rc4> enc, dec;  // set when method == mse_rc4
    std::string payload;          // plaintext bytes past the handshake
};

class MseHandshake {
  public:
    enum class Status { need_more, done, failed };

    // `provide`: the methods we offer (a non-empty subset of plaintext|rc4). The
    // handshake's first bytes (Ya, PadA) are ready in take_output() at once.
    static MseHandshake initiator(const Sha1Digest& skey, std::uint32_t provide,
                                  std::string_view ia, RandomFn rnd = {});
    // `allowed`: the methods we accept; RC4 is selected whenever both sides allow it.
    static MseHandshake responder(SkeyLookup lookup, std::uint32_t allowed, RandomFn rnd = {});

    // Consumes received bytes; may queue bytes to send.
    Status feed(std::string_view in);
    std::string take_output() { return std::exchange(out_, {}); }
    Status status() const { return status_; }
    const char* error() const { return error_; }
    bool initiator() const { return initiator_; }
    // Once done: the outcome (moved out; call once).
    MseResult take_result();

  private:
    enum class Step { key, sync, header, pad, ia, finished };
    MseHandshake(bool initiator, std::uint32_t methods, RandomFn rnd);
    Status fail(const char* why);
    Status step_initiator();
    Status step_responder();
    void derive_keys(const Sha1Digest& skey);
    void finish();
    std::string random_pad();

    bool initiator_;
    std::uint32_t methods_;  // provide (A) or allowed (B)
    RandomFn rnd_;
    MseDh dh_;
    SkeyLookup lookup_;
    std::string ia_;
    Sha1Digest skey_;
    MseKey secret_{};
    Step step_ = Step::key;
    Status status_ = Status::need_more;
    const char* error_ = nullptr;
    std::string in_;  // received bytes; [0, pos_) are consumed
    std::size_t pos_ = 0;
    std::string out_;
    std::optional<Rc4> enc_, dec_;
    std::string sync_;  // what the sync step searches for
    std::uint32_t select_ = 0;
    std::size_t pad_len_ = 0, ia_len_ = 0;
    std::string payload_;
};

}  // namespace pw::crypto

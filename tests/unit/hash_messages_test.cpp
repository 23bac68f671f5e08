// BEP 52 hash request / hashes / hash reject codec and the Merkle proofs they carry.
#include "wire/hash_messages.hpp"

#include <gtest/gtest.h>

#include "meta/merkle.hpp"
#include "wire/messages.hpp"

namespace pw {
namespace {

Sha256Digest h(int n) { return crypto::sha256(std::to_string(n)); }

wire::HashRequest req(std::uint32_t base, std::uint32_t index, std::uint32_t length,
                      std::uint32_t proof) {
    wire::HashRequest r;
    r.pieces_root = h(99);
    r.base = base;
    r.index = index;
    r.length = length;
    r.proof_layers = proof;
    return r;
}

// Frames `bytes` through parse_message and returns the message (expects ok).
wire::Message framed(const std::string& bytes) {
    wire::Message m;
    auto r = wire::parse_message(bytes, 1 << 20, m);
    EXPECT_EQ(r.status, wire::ParseStatus::ok) << (r.error ? r.error : "");
    EXPECT_EQ(r.consumed, bytes.size());
    return m;
}

TEST(HashMessages, RequestAndRejectRoundTrip) {
    auto r = req(2, 512, 512, 7);
    std::string out;
    wire::put_hash_request(out, r);
    ASSERT_EQ(out.size(), 4u + 49u);
    auto m = framed(out);
    EXPECT_EQ(m.id, wire::MsgId::hash_request);
    wire::HashRequest back;
    const char* why = nullptr;
    ASSERT_TRUE(wire::decode_hash_request(m.payload, back, why)) << why;
    EXPECT_EQ(back, r);

    out.clear();
    wire::put_hash_reject(out, r);
    m = framed(out);
    EXPECT_EQ(m.id, wire::MsgId::hash_reject);
    ASSERT_TRUE(wire::decode_hash_request(m.payload, back, why));
    EXPECT_EQ(back, r);
}

TEST(HashMessages, UncleCountOmitsImpliedLayers) {
    EXPECT_EQ(wire::uncle_count(2, 0), 0u);
    EXPECT_EQ(wire::uncle_count(2, 1), 1u);
    EXPECT_EQ(wire::uncle_count(2, 3), 3u);
    EXPECT_EQ(wire::uncle_count(512, 8), 0u);  // log2(512) - 1 = 8 implied
    EXPECT_EQ(wire::uncle_count(512, 10), 2u);
    EXPECT_EQ(wire::uncle_count(4, 0), 0u);
}

TEST(HashMessages, HashesRoundTrip) {
    auto r = req(0, 4, 4, 3);  // 4 hashes + 2 uncles
    std::vector<Sha256Digest> hs;
    for (int i = 0; i < 6; ++i) hs.push_back(h(i));
    std::string out;
    wire::put_hashes(out, r, hs);
    auto m = framed(out);
    EXPECT_EQ(m.id, wire::MsgId::hashes);
    wire::HashesMsg back;
    const char* why = nullptr;
    ASSERT_TRUE(wire::decode_hashes(m.payload, back, why)) << why;
    EXPECT_EQ(back.req, r);
    EXPECT_EQ(back.hashes, hs);
}

TEST(HashMessages, RejectsBadNumbers) {
    const char* why = nullptr;
    wire::HashRequest back;
    auto bad = [&](const wire::HashRequest& r) {
        std::string out;
        wire::put_hash_request(out, r);
        return !wire::decode_hash_request(std::string_view(out).substr(5), back, why) && why;
    };
    EXPECT_TRUE(bad(req(0, 0, 0, 0)));      // length 0
    EXPECT_TRUE(bad(req(0, 0, 1, 0)));      // length 1
    EXPECT_TRUE(bad(req(0, 0, 3, 0)));      // not a power of two
    EXPECT_TRUE(bad(req(0, 2, 4, 0)));      // index not a multiple of the length
    EXPECT_TRUE(bad(req(0, 0, 16384, 0)));  // above kMaxHashCount
    EXPECT_TRUE(bad(req(64, 0, 2, 0)));     // base layer past any tree
    EXPECT_TRUE(bad(req(0, 0, 2, 64)));     // proof layers past any tree
    EXPECT_TRUE(bad(req(40, 0, 2, 30)));    // together past any tree
    EXPECT_TRUE(bad(req(0, 0xFFFFFFFFu, 2, 0)));
    EXPECT_FALSE(bad(req(0, 0, 8192, 20)));
}

TEST(HashMessages, FramingChecksLengths) {
    wire::Message m;
    std::string out;
    wire::put_hash_request(out, req(0, 0, 2, 0));
    out[3] = 48;  // prefix says 48 bytes
    EXPECT_EQ(wire::parse_message(out, 1 << 20, m).status, wire::ParseStatus::error);
    out.clear();
    wire::put_hashes(out, req(0, 0, 2, 0), {h(1), h(2)});
    out[3] = static_cast<char>(out[3] - 1);  // 49 + 63: not whole hashes
    EXPECT_EQ(wire::parse_message(out, 1 << 20, m).status, wire::ParseStatus::error);
}

TEST(HashMessages, HashesWithWrongCountRejected) {
    const char* why = nullptr;
    wire::HashesMsg back;
    std::string out;
    wire::put_hashes(out, req(0, 0, 2, 2), {h(1), h(2)});  // wants 2 + 2 uncles
    auto m = framed(out);
    EXPECT_FALSE(wire::decode_hashes(m.payload, back, why));
    ASSERT_NE(why, nullptr);
    out.clear();
    wire::put_hashes(out, req(0, 0, 2, 2), {h(1), h(2), h(3), h(4)});
    m = framed(out);
    EXPECT_TRUE(wire::decode_hashes(m.payload, back, why));
}

// A file of 37 pieces of 4 leaves each (64 KiB pieces), its tree built from the leaves.
struct File {
    std::vector<Sha256Digest> leaves;
    std::vector<Sha256Digest> layer;
    Sha256Digest root;
    int piece_level = 2;
    int root_level = 0;
    File() {
        for (int i = 0; i < 37 * 4 - 3; ++i) leaves.push_back(h(1000 + i));
        layer = meta::piece_layer(leaves, 4 * meta::kMerkleBlock);
        root = meta::file_root(leaves, 4 * meta::kMerkleBlock);
        root_level = meta::log2_exact(meta::next_pow2(leaves.size()));
    }
};

TEST(MerkleProof, TreeFromPieceLayerHasTheFileRoot) {
    File f;
    meta::MerkleTree t(f.layer, f.piece_level);
    EXPECT_EQ(t.root(), f.root);
    EXPECT_EQ(t.root_level(), f.root_level);
    EXPECT_EQ(t.width(f.piece_level), 64u);
    EXPECT_EQ(t.node(f.piece_level, 36), f.layer[36]);
    EXPECT_EQ(t.node(f.piece_level, 37), meta::merkle_pad(f.piece_level));
    // Leaves as the base layer give the same tree.
    meta::MerkleTree lt(f.leaves, 0);
    EXPECT_EQ(lt.root(), f.root);
    EXPECT_EQ(lt.node(f.piece_level, 5), f.layer[5]);
}

TEST(MerkleProof, EveryFullProofVerifies) {
    File f;
    meta::MerkleTree t(f.layer, f.piece_level);
    const int base = f.piece_level;
    for (std::uint64_t count : {2u, 4u, 8u, 32u, 64u}) {
        const int proof = t.root_level() - base - 1;  // up to the root's children
        for (std::uint64_t index = 0; index < 64; index += count) {
            auto hs = meta::merkle_proof(t, base, index, count, proof);
            ASSERT_TRUE(hs) << count << " " << index;
            EXPECT_EQ(hs->size(), count + wire::uncle_count(static_cast<std::uint32_t>(count),
                                                            static_cast<std::uint32_t>(proof)));
            EXPECT_TRUE(meta::merkle_verify(f.root, f.root_level, base, index, count, *hs));
            // Any flipped bit in any hash fails.
            for (std::size_t k = 0; k < hs->size(); ++k) {
                auto bad = *hs;
                bad[k].bytes[k % 32] ^= 1;
                EXPECT_FALSE(meta::merkle_verify(f.root, f.root_level, base, index, count, bad));
            }
            // The same hashes claimed at another index fail (past the file's 37 pieces every
            // hash is padding, and padding proves padding anywhere).
            if (count < 64 && index < 37) {
                EXPECT_FALSE(meta::merkle_verify(f.root, f.root_level, base, (index + count) % 64,
                                                 count, *hs));
            }
        }
    }
}

TEST(MerkleProof, LeafLayerProofsFromLeafTree) {
    File f;
    meta::MerkleTree t(f.leaves, 0);
    auto hs = meta::merkle_proof(t, 0, 144, 16, t.root_level() - 1);
    ASSERT_TRUE(hs);
    EXPECT_TRUE(meta::merkle_verify(f.root, f.root_level, 0, 144, 16, *hs));
    // Leaves past the end of the file are zero hashes.
    EXPECT_EQ((*hs)[15], Sha256Digest{});
}

TEST(MerkleProof, RefusesWhatTheTreeCannotServe) {
    File f;
    meta::MerkleTree t(f.layer, f.piece_level);
    const int base = f.piece_level;
    EXPECT_FALSE(meta::merkle_proof(t, 0, 0, 2, 1));               // below the known layer
    EXPECT_FALSE(meta::merkle_proof(t, t.root_level(), 0, 2, 0));  // the root layer
    EXPECT_FALSE(meta::merkle_proof(t, base, 64, 2, 1));           // past the layer
    EXPECT_FALSE(meta::merkle_proof(t, base, 0, 128, 1));          // wider than the layer
    EXPECT_FALSE(meta::merkle_proof(t, base, 1, 2, 1));            // misaligned
    EXPECT_FALSE(meta::merkle_proof(t, base, 0, 3, 1));            // not a power of two
    EXPECT_FALSE(meta::merkle_proof(t, base, 0, 2, t.root_level() - base));  // the root itself
    EXPECT_TRUE(meta::merkle_proof(t, base + 1, 0, 2, 0));         // above the piece layer
}

TEST(MerkleProof, VerifyRefusesProofsNotReachingTheRoot) {
    File f;
    meta::MerkleTree t(f.layer, f.piece_level);
    auto hs = meta::merkle_proof(t, f.piece_level, 0, 2, 2);  // two uncles only
    ASSERT_TRUE(hs);
    EXPECT_FALSE(meta::merkle_verify(f.root, f.root_level, f.piece_level, 0, 2, *hs));
    EXPECT_FALSE(meta::merkle_verify(f.root, f.root_level, f.piece_level, 0, 2, {}));
    EXPECT_FALSE(meta::merkle_verify(f.root, 70, 0, 0, 2, *hs));
}

}  // namespace
}  // namespace pw

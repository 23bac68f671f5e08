// BEP 52 hash request / hashes / hash reject payloads, framed and bare, from hostile
// bytes; what decodes must encode back to the same bytes, and its Merkle numbers must
// not crash the proof builder or checker. A decoded base-0 request is also served the way
// the session serves leaf hashes (meta/leaf_check.hpp: the plan of pieces to read, then
// the proof from those pieces' leaves) over a small synthetic file, and must equal the
// proof over the file's whole tree.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "meta/leaf_check.hpp"
#include "meta/merkle.hpp"
#include "wire/hash_messages.hpp"
#include "wire/messages.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    const char* why = nullptr;

    // Framed: one message through the wire parser, then its payload decoded.
    pw::wire::Message m;
    auto r = pw::wire::parse_message(in, 1 << 20, m);
    if (r.status == pw::wire::ParseStatus::ok && !m.keepalive) {
        if (r.consumed > size) __builtin_trap();
        if (m.id == pw::wire::MsgId::hash_request || m.id == pw::wire::MsgId::hash_reject) {
            pw::wire::HashRequest req;
            if (pw::wire::decode_hash_request(m.payload, req, why)) {
                std::string out;
                if (m.id == pw::wire::MsgId::hash_request)
                    pw::wire::put_hash_request(out, req);
                else
                    pw::wire::put_hash_reject(out, req);
                if (std::string_view(out) != in.substr(0, r.consumed)) __builtin_trap();
            } else if (why == nullptr) {
                __builtin_trap();
            }
        } else if (m.id == pw::wire::MsgId::hashes) {
            pw::wire::HashesMsg hm;
            if (pw::wire::decode_hashes(m.payload, hm, why)) {
                std::string out;
                pw::wire::put_hashes(out, hm.req, hm.hashes);
                if (std::string_view(out) != in.substr(0, r.consumed)) __builtin_trap();
                // The hashes checked against a root, at whatever height the bytes claim.
                const int root_level = static_cast<int>(in.size() % 24);
                pw::meta::merkle_verify(hm.hashes.back(), root_level,
                                        static_cast<int>(hm.req.base), hm.req.index,
                                        hm.req.length, hm.hashes);
            } else if (why == nullptr) {
                __builtin_trap();
            }
        }
    }

    // Bare: the bytes as a request payload, and that request served from a small tree.
    pw::wire::HashRequest req;
    if (pw::wire::decode_hash_request(in.substr(0, pw::wire::kHashRequestPayload), req, why)) {
        std::vector<pw::Sha256Digest> layer(1 + size % 40);
        for (std::size_t i = 0; i < layer.size(); ++i) layer[i].bytes[0] = static_cast<std::uint8_t>(i);
        pw::meta::MerkleTree tree(layer, static_cast<int>(size % 5));
        auto hs = pw::meta::merkle_proof(tree, static_cast<int>(req.base), req.index, req.length,
                                         static_cast<int>(req.proof_layers));
        if (hs) {
            if (hs->size() != req.length + pw::wire::uncle_count(req.length, req.proof_layers))
                __builtin_trap();
            if (static_cast<int>(req.proof_layers) == tree.root_level() - static_cast<int>(req.base) - 1 &&
                !pw::meta::merkle_verify(tree.root(), tree.root_level(), static_cast<int>(req.base),
                                         req.index, req.length, *hs))
                __builtin_trap();
        }
    }
    if (pw::wire::decode_hash_request(in.substr(0, pw::wire::kHashRequestPayload), req, why) && req.base == 0) {
        // A file of 1..200 blocks, pieces of 2, 4 or 8 leaves.
        const std::uint64_t blocks = 1 + size % 200;
        const std::int64_t piece_length = std::int64_t{pw::meta::kMerkleBlock} << (1 + size % 3);
        std::vector<pw::Sha256Digest> leaves(blocks);
        for (std::size_t i = 0; i < leaves.size(); ++i) {
            leaves[i].bytes[0] = static_cast<std::uint8_t>(i);
            leaves[i].bytes[1] = static_cast<std::uint8_t>(i >> 8);
            leaves[i].bytes[2] = 1;
        }
        const pw::meta::MerkleTree whole(leaves, 0);
        pw::meta::Metainfo m;
        m.piece_length = piece_length;
        pw::meta::V2Span span;
        span.length = static_cast<std::int64_t>(blocks) * pw::meta::kMerkleBlock;
        span.num_pieces = static_cast<int>((span.length + piece_length - 1) / piece_length);
        const auto per = static_cast<std::uint64_t>(pw::meta::piece_leaves(span.length, piece_length));
        std::optional<pw::meta::MerkleTree> upper;
        if (span.num_pieces > 1) upper.emplace(pw::meta::piece_layer(leaves, piece_length), pw::meta::log2_exact(per));
        if (upper && upper->root() != whole.root()) __builtin_trap();
        auto plan = pw::meta::leaf_serve_plan(m, span, req.index, req.length, static_cast<int>(req.proof_layers));
        auto want = pw::meta::merkle_proof(whole, 0, req.index, req.length, static_cast<int>(req.proof_layers));
        if (plan) {
            if (!want || plan->leaves_per_piece != per || plan->read_pieces < 1 ||
                plan->run_pieces * per > pw::meta::kMaxLeafRun + per)
                __builtin_trap();
            std::vector<pw::Sha256Digest> run;
            for (std::uint64_t j = plan->first_in_file * per; j < (plan->first_in_file + plan->run_pieces) * per; ++j)
                run.push_back(j < blocks ? leaves[j] : pw::Sha256Digest{});
            auto got = pw::meta::leaf_proof(run, upper ? &*upper : nullptr, plan->first_in_file, per,
                                            req.index, req.length, static_cast<int>(req.proof_layers));
            if (!got || *got != *want) __builtin_trap();
        }
    }
    return 0;
}

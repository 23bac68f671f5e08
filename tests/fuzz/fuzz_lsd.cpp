// libFuzzer target for the Local Service Discovery announce codec (BEP 14). Besides "no
// crash", it checks the decoder's promises: a reason on refusal; on success a port in
// 1..65535, 1..max_info_hashes distinct hashes, no CR or LF in host and cookie; and that an
// accepted announce re-encodes (whole, and split into packets) into messages that decode to
// the same fields.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "lsd/parse/lsd_message.hpp"

using namespace pw;
using namespace pw::lsd;

namespace {

bool has_line_break(const std::string& s) {
    return s.find_first_of("\r\n") != std::string::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    DecodeResult r = decode_announce(in);
    if (!r.ok) {
        if (r.error.empty()) __builtin_trap();
        return 0;
    }
    const Announce& a = r.announce;
    if (a.port == 0 || a.info_hashes.empty() || a.info_hashes.size() > max_info_hashes)
        __builtin_trap();
    for (std::size_t i = 0; i < a.info_hashes.size(); ++i)
        for (std::size_t j = i + 1; j < a.info_hashes.size(); ++j)
            if (a.info_hashes[i] == a.info_hashes[j]) __builtin_trap();
    if (has_line_break(a.host) || has_line_break(a.cookie)) __builtin_trap();

    // Re-encoding can be a little longer than the input (CRLF for LF, the closing blank
    // lines), so only messages within the decoder's size limit must decode again.
    std::string whole = encode_announce(a);
    if (whole.size() <= max_message_size) {
        DecodeResult again = decode_announce(whole);
        if (!again.ok || again.ignored_info_hashes != 0) __builtin_trap();
        const Announce& b = again.announce;
        if (b.host != a.host || b.port != a.port || b.cookie != a.cookie ||
            b.info_hashes != a.info_hashes)
            __builtin_trap();
    }

    // Split into packets: every hash in exactly one packet, in order (packets too large
    // for the decoder, possible only with a huge host or cookie, are left out).
    std::vector<Sha1Digest> gathered;
    bool all_decoded = true;
    for (const std::string& m : encode_announces(a)) {
        if (m.size() > max_message_size) {
            all_decoded = false;
            continue;
        }
        DecodeResult part = decode_announce(m);
        if (!part.ok || part.announce.port != a.port || part.announce.cookie != a.cookie)
            __builtin_trap();
        gathered.insert(gathered.end(), part.announce.info_hashes.begin(),
                        part.announce.info_hashes.end());
    }
    if (all_decoded && gathered != a.info_hashes) __builtin_trap();
    std::size_t k = 0;
    for (const Sha1Digest& h : gathered) {
        while (k < a.info_hashes.size() && a.info_hashes[k] != h) ++k;
        if (k == a.info_hashes.size()) __builtin_trap();
        ++k;
    }
    return 0;
}

// ut_metadata (BEP 9), ut_pex (BEP 11), ut_holepunch (BEP 55), magnet links (BEP 9, with BEP 53's so=) and file
// index lists (get --files) from hostile bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "meta/magnet.hpp"
#include "meta/metainfo.hpp"
#include "wire/ext_messages.hpp"
#include <algorithm>

#include "wire/holepunch.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    if (auto m = pw::wire::decode_metadata_msg(in)) {
        if (m->data.size() > size) __builtin_trap();
    }
    if (auto p = pw::wire::decode_pex(in, 50)) {
        if (p->added.size() > 100 || p->dropped.size() > 100) __builtin_trap();
        auto again = pw::wire::decode_pex(pw::wire::encode_pex(*p), 1000);
        if (!again || again->added.size() != p->added.size()) __builtin_trap();
    }
    if (auto h = pw::wire::decode_holepunch(in)) {
        // What decodes encodes back to the bytes it came from (trailing bytes aside); a
        // rendezvous or connect without a whole err_code (libtorrent sends none) gains a zero one.
        auto enc = pw::wire::encode_holepunch(*h);
        const std::size_t full = enc.size();
        // Without a whole err_code, only the bytes before it are read.
        const std::size_t common = size >= full ? full : std::min(size, full - 4);
        if (in.substr(0, common) != enc.substr(0, common)) __builtin_trap();
        if (size < full && (h->type == pw::wire::HolepunchMsg::error || size < full - 4 || h->error_code != 0))
            __builtin_trap();
        auto again = pw::wire::decode_holepunch(enc);
        if (!again || !(*again == *h)) __builtin_trap();
        if (pw::wire::holepunch_error_name(h->error_code).empty()) __builtin_trap();
    }
    try {
        auto mg = pw::meta::parse_magnet(in);
        auto back = pw::meta::parse_magnet(pw::meta::make_magnet(mg));
        if (back.info_hash != mg.info_hash) __builtin_trap();
        if (back.select_only != mg.select_only) __builtin_trap();
    } catch (const pw::meta::MetainfoError&) {
    }
    try {
        auto ranges = pw::meta::parse_index_list(in);
        auto prios = pw::meta::selection_priorities(ranges, 64, false);
        if (prios.size() != 64) __builtin_trap();
        if (pw::meta::parse_index_list(pw::meta::format_index_list(ranges)) != ranges)
            __builtin_trap();
    } catch (const pw::meta::MetainfoError&) {
    }
    return 0;
}

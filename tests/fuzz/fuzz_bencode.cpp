// libFuzzer target for the bencode decoder (BEP 3). Whatever decodes must re-encode
// (through a Value tree) to bytes that decode to the same tree, and input whose
// dictionaries are already sorted must re-encode to itself byte for byte.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "bencode/bencode.hpp"

namespace {

using namespace pw::bencode;

// Converts a decoded node to a Value; clears `canonical` if a dict's keys are unsorted.
Value to_value(const Node& n, bool& canonical) {
    switch (n.type()) {
        case Type::integer:
            return Value(n.as_int());
        case Type::string:
            return Value(n.as_string());
        case Type::list: {
            List l;
            for (const Node& e : n.elements()) l.push_back(to_value(e, canonical));
            return Value(std::move(l));
        }
        case Type::dict: {
            Dict d;
            std::string_view prev;
            bool first = true;
            for (const auto& [k, v] : n.items()) {
                if (!first && !(prev < k)) canonical = false;
                prev = k;
                first = false;
                d.emplace(std::string(k), to_value(v, canonical));
            }
            return Value(std::move(d));
        }
    }
    std::abort();
}

void check(bool ok) {
    if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    Document doc;
    try {
        doc = decode(in);
    } catch (const DecodeError& e) {
        check(e.offset() <= size);
        return 0;
    }
    Node root = doc.root();
    check(root.raw() == in);
    bool canonical = true;
    std::string once = encode(to_value(root, canonical));
    if (canonical) check(once == in);

    Document again = decode(once);  // must not throw: encoder output is valid bencode
    bool canonical2 = true;
    std::string twice = encode(to_value(again.root(), canonical2));
    check(canonical2);
    check(twice == once);
    return 0;
}

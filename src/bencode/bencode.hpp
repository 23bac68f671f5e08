// Bencoding (BEP 3, "bencoding"): a zero-copy decoder and an encoder.
//
// The decoder turns an input buffer into a flat array of tokens that point into
// the buffer; nothing is copied. Node is a cheap view of one token. Every value
// keeps its exact source bytes (Node::raw), which is how the info-hash is taken
// over the `info` dictionary as it appears in the file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace pw::bencode {

enum class Type : std::uint8_t { integer, string, list, dict };

struct Limits {
    std::size_t max_depth = 64;          // nesting of lists and dicts
    std::size_t max_tokens = 4'000'000;  // values in the whole document
    std::size_t max_string = 64u << 20;  // bytes in one string
};

// A decode failure: the byte offset where it was found and the reason.
class DecodeError : public std::runtime_error {
public:
    DecodeError(std::size_t offset, const std::string& reason);
    std::size_t offset() const noexcept { return offset_; }
    const std::string& reason() const noexcept { return reason_; }

private:
    std::size_t offset_;
    std::string reason_;
};

struct Token {
    Type type;
    std::uint32_t begin;  // first byte of the value in the input
    std::uint32_t end;    // one past its last byte
    std::uint32_t next;   // index of the token after this value's subtree
    std::int64_t integer; // integer value, or string payload offset for strings
};

class Document;

// A view of one value inside a Document. A default-constructed Node is "absent":
// lookups that find nothing return it, and every accessor on it is safe.
class Node {
public:
    Node() = default;
    Node(const Document* doc, std::uint32_t index) : doc_(doc), index_(index) {}

    explicit operator bool() const { return doc_ != nullptr; }
    Type type() const;
    bool is_int() const { return doc_ && type() == Type::integer; }
    bool is_string() const { return doc_ && type() == Type::string; }
    bool is_list() const { return doc_ && type() == Type::list; }
    bool is_dict() const { return doc_ && type() == Type::dict; }

    std::int64_t as_int() const;            // 0 unless an integer
    std::string_view as_string() const;     // empty unless a string
    std::string_view raw() const;           // the exact encoded bytes of this value
    std::size_t offset() const;             // byte offset of this value in the input

    // Lists: elements in order. Dicts: alternating key, value.
    std::size_t size() const;  // number of elements (lists) or of pairs (dicts)
    Node at(std::size_t i) const;  // list element i, or absent

    Node find(std::string_view key) const;  // dict lookup, or absent
    std::optional<std::int64_t> find_int(std::string_view key) const;
    std::optional<std::string_view> find_string(std::string_view key) const;

    // Iteration: for lists yields elements; for dicts yields (key, value) pairs via items().
    std::vector<Node> elements() const;
    std::vector<std::pair<std::string_view, Node>> items() const;

private:
    const Token& tok() const;
    const Document* doc_ = nullptr;
    std::uint32_t index_ = 0;
};

class Document {
public:
    Document() = default;
    Node root() const { return tokens_.empty() ? Node() : Node(this, 0); }
    std::string_view input() const { return input_; }
    const std::vector<Token>& tokens() const { return tokens_; }

private:
    friend Document decode(std::string_view, const Limits&);
    friend Document decode_prefix(std::string_view, std::size_t&, const Limits&);
    std::string_view input_;
    std::vector<Token> tokens_;
};

// Decodes exactly one value that must fill the whole input. Throws DecodeError.
// The Document points into `input`, which must outlive it.
Document decode(std::string_view input, const Limits& limits = {});
// Decodes one value at the start of `input`; `consumed` receives its length.
Document decode_prefix(std::string_view input, std::size_t& consumed, const Limits& limits = {});

// ---- Encoding ----

struct Value;
using List = std::vector<Value>;
using Dict = std::map<std::string, Value>;  // std::string orders bytes as unsigned: BEP 3 key order

struct Value {
    std::variant<std::int64_t, std::string, List, Dict> v;
    Value() : v(std::int64_t{0}) {}
    Value(std::int64_t i) : v(i) {}
    Value(int i) : v(std::int64_t{i}) {}
    Value(std::string s) : v(std::move(s)) {}
    Value(std::string_view s) : v(std::string(s)) {}
    Value(const char* s) : v(std::string(s)) {}
    Value(List l) : v(std::move(l)) {}
    Value(Dict d) : v(std::move(d)) {}
};

void encode_to(std::string& out, const Value& v);
std::string encode(const Value& v);

// Streaming encoder for hot paths that do not want a Value tree.
void put_int(std::string& out, std::int64_t i);
void put_string(std::string& out, std::string_view s);

}  // namespace pw::bencode

#include "bencode/bencode.hpp"

#include <algorithm>
#include <charconv>
#include <limits>

namespace pw::bencode {

DecodeError::DecodeError(std::size_t offset, const std::string& reason)
    : std::runtime_error("bencode: " + reason + " at byte " + std::to_string(offset)),
      offset_(offset),
      reason_(reason) {}

namespace {

class Parser {
public:
    Parser(std::string_view in, std::vector<Token>& toks, const Limits& lim)
        : in_(in), toks_(toks), lim_(lim) {}

    std::size_t parse_one() {
        if (in_.size() > std::numeric_limits<std::uint32_t>::max())
            throw DecodeError(0, "input larger than 4 GiB");
        value(0);
        return pos_;
    }

private:
    [[noreturn]] void fail(const std::string& why) const { throw DecodeError(pos_, why); }

    char peek() const {
        if (pos_ >= in_.size()) fail("unexpected end of input");
        return in_[pos_];
    }

    std::uint32_t push(Type t) {
        if (toks_.size() >= lim_.max_tokens) fail("too many values");
        toks_.push_back(Token{t, static_cast<std::uint32_t>(pos_), 0, 0, 0});
        return static_cast<std::uint32_t>(toks_.size() - 1);
    }

    void finish(std::uint32_t idx) {
        toks_[idx].end = static_cast<std::uint32_t>(pos_);
        toks_[idx].next = static_cast<std::uint32_t>(toks_.size());
    }

    // Parses digits up to `term`; rejects leading zeros, "-0", empty and overflow.
    std::int64_t number(char term, bool allow_negative) {
        std::size_t start = pos_;
        bool neg = false;
        if (allow_negative && peek() == '-') {
            neg = true;
            ++pos_;
        }
        std::size_t digits = pos_;
        while (pos_ < in_.size() && in_[pos_] >= '0' && in_[pos_] <= '9') ++pos_;
        if (pos_ == digits) fail("expected digits");
        if (peek() != term) fail(std::string("expected '") + term + "'");
        std::string_view d = in_.substr(digits, pos_ - digits);
        if (d.size() > 1 && d[0] == '0') fail("leading zero in number");
        if (neg && d == "0") fail("negative zero");
        std::uint64_t mag = 0;
        auto [p, ec] = std::from_chars(d.data(), d.data() + d.size(), mag);
        if (ec != std::errc() || p != d.data() + d.size()) {
            pos_ = start;
            fail("integer out of range");
        }
        std::uint64_t limit = neg ? std::uint64_t(std::numeric_limits<std::int64_t>::max()) + 1
                                  : std::uint64_t(std::numeric_limits<std::int64_t>::max());
        if (mag > limit) {
            pos_ = start;
            fail("integer out of range");
        }
        ++pos_;  // terminator
        if (neg) return mag == limit ? std::numeric_limits<std::int64_t>::min()
                                     : -static_cast<std::int64_t>(mag);
        return static_cast<std::int64_t>(mag);
    }

    void value(std::size_t depth) {
        char c = peek();
        if (c == 'i') {
            std::uint32_t t = push(Type::integer);
            ++pos_;
            toks_[t].integer = number('e', true);
            finish(t);
        } else if (c >= '0' && c <= '9') {
            std::uint32_t t = push(Type::string);
            std::int64_t len = number(':', false);
            if (static_cast<std::uint64_t>(len) > lim_.max_string) fail("string too long");
            if (static_cast<std::uint64_t>(len) > in_.size() - pos_) fail("string runs past end of input");
            toks_[t].integer = static_cast<std::int64_t>(pos_);
            pos_ += static_cast<std::size_t>(len);
            finish(t);
        } else if (c == 'l' || c == 'd') {
            if (depth >= lim_.max_depth) fail("nesting too deep");
            bool dict = c == 'd';
            std::uint32_t t = push(dict ? Type::dict : Type::list);
            ++pos_;
            std::size_t count = 0;
            std::string_view last_key;
            bool unsorted = false;
            while (peek() != 'e') {
                if (dict) {
                    if (peek() < '0' || peek() > '9') fail("dictionary key is not a string");
                    std::size_t key_tok = toks_.size();
                    value(depth + 1);
                    std::string_view key = key_of(key_tok);
                    // Unsorted keys are accepted (many real torrents have them);
                    // duplicates never are, since they make lookups ambiguous.
                    if (count > 0 && key <= last_key) {
                        if (key == last_key) fail("duplicate dictionary key");
                        unsorted = true;
                    }
                    last_key = key;
                }
                value(depth + 1);
                ++count;
            }
            if (unsorted) check_unique_keys(t);
            ++pos_;
            finish(t);
        } else {
            fail(std::string("unexpected character '") +
                 (c >= 0x20 && c < 0x7f ? std::string(1, c) : "\\x" + hex(c)) + "'");
        }
    }

    std::string_view key_of(std::size_t tok) const {
        const Token& k = toks_[tok];
        auto start = static_cast<std::size_t>(k.integer);
        return in_.substr(start, k.end - start);
    }

    // Duplicate check for a dictionary whose keys were not in order: sort, then
    // compare neighbours (O(n log n) however the keys are arranged).
    void check_unique_keys(std::uint32_t dict) {
        std::vector<std::pair<std::string_view, std::size_t>> keys;  // key, token
        for (std::size_t i = dict + 1; i < toks_.size(); i = toks_[toks_[i].next].next) {
            keys.emplace_back(key_of(i), i);
            if (toks_[i].next >= toks_.size()) break;
        }
        std::sort(keys.begin(), keys.end());
        std::size_t dup = 0;
        for (std::size_t k = 1; k < keys.size(); ++k)
            if (keys[k].first == keys[k - 1].first) dup = std::max(dup, keys[k].second);
        if (dup) {
            pos_ = toks_[dup].end;  // just after the repeated key, as for sorted input
            fail("duplicate dictionary key");
        }
    }

    static std::string hex(char c) {
        const char* digits = "0123456789abcdef";
        auto u = static_cast<unsigned char>(c);
        return {digits[u >> 4], digits[u & 15]};
    }

    std::string_view in_;
    std::vector<Token>& toks_;
    const Limits& lim_;
    std::size_t pos_ = 0;
};

}  // namespace

Document decode_prefix(std::string_view input, std::size_t& consumed, const Limits& limits) {
    Document doc;
    doc.input_ = input;
    Parser p(input, doc.tokens_, limits);
    consumed = p.parse_one();
    return doc;
}

Document decode(std::string_view input, const Limits& limits) {
    std::size_t used = 0;
    Document doc = decode_prefix(input, used, limits);
    if (used != input.size()) throw DecodeError(used, "trailing data after value");
    return doc;
}

// ---- Node ----

const Token& Node::tok() const { return doc_->tokens()[index_]; }

Type Node::type() const { return doc_ ? tok().type : Type::integer; }

std::int64_t Node::as_int() const { return is_int() ? tok().integer : 0; }

std::string_view Node::as_string() const {
    if (!is_string()) return {};
    const Token& t = tok();
    auto start = static_cast<std::size_t>(t.integer);
    return doc_->input().substr(start, t.end - start);
}

std::string_view Node::raw() const {
    if (!doc_) return {};
    const Token& t = tok();
    return doc_->input().substr(t.begin, t.end - t.begin);
}

std::size_t Node::offset() const { return doc_ ? tok().begin : 0; }

std::size_t Node::size() const {
    if (!is_list() && !is_dict()) return 0;
    std::size_t n = 0;
    std::uint32_t end = tok().next;
    for (std::uint32_t i = index_ + 1; i < end; i = doc_->tokens()[i].next) ++n;
    return is_dict() ? n / 2 : n;
}

Node Node::at(std::size_t k) const {
    if (!is_list()) return {};
    std::uint32_t end = tok().next;
    for (std::uint32_t i = index_ + 1; i < end; i = doc_->tokens()[i].next)
        if (k-- == 0) return Node(doc_, i);
    return {};
}

Node Node::find(std::string_view key) const {
    if (!is_dict()) return {};
    const auto& toks = doc_->tokens();
    std::uint32_t end = tok().next;
    for (std::uint32_t i = index_ + 1; i < end;) {
        Node k(doc_, i);
        std::uint32_t v = toks[i].next;
        if (k.as_string() == key) return Node(doc_, v);
        i = toks[v].next;
    }
    return {};
}

std::optional<std::int64_t> Node::find_int(std::string_view key) const {
    Node n = find(key);
    if (!n.is_int()) return std::nullopt;
    return n.as_int();
}

std::optional<std::string_view> Node::find_string(std::string_view key) const {
    Node n = find(key);
    if (!n.is_string()) return std::nullopt;
    return n.as_string();
}

std::vector<Node> Node::elements() const {
    std::vector<Node> out;
    if (!is_list()) return out;
    std::uint32_t end = tok().next;
    for (std::uint32_t i = index_ + 1; i < end; i = doc_->tokens()[i].next) out.emplace_back(doc_, i);
    return out;
}

std::vector<std::pair<std::string_view, Node>> Node::items() const {
    std::vector<std::pair<std::string_view, Node>> out;
    if (!is_dict()) return out;
    const auto& toks = doc_->tokens();
    std::uint32_t end = tok().next;
    for (std::uint32_t i = index_ + 1; i < end;) {
        std::uint32_t v = toks[i].next;
        out.emplace_back(Node(doc_, i).as_string(), Node(doc_, v));
        i = toks[v].next;
    }
    return out;
}

// ---- Encoder ----

void put_int(std::string& out, std::int64_t i) {
    out += 'i';
    out += std::to_string(i);
    out += 'e';
}

void put_string(std::string& out, std::string_view s) {
    out += std::to_string(s.size());
    out += ':';
    out.append(s);
}

void encode_to(std::string& out, const Value& v) {
    if (auto* i = std::get_if<std::int64_t>(&v.v)) {
        put_int(out, *i);
    } else if (auto* s = std::get_if<std::string>(&v.v)) {
        put_string(out, *s);
    } else if (auto* l = std::get_if<List>(&v.v)) {
        out += 'l';
        for (const auto& e : *l) encode_to(out, e);
        out += 'e';
    } else {
        out += 'd';
        for (const auto& [k, e] : std::get<Dict>(v.v)) {
            put_string(out, k);
            encode_to(out, e);
        }
        out += 'e';
    }
}

std::string encode(const Value& v) {
    std::string out;
    encode_to(out, v);
    return out;
}

}  // namespace pw::bencode

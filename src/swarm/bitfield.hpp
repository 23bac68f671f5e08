// A set of pieces, stored as BEP 3's bitfield (high bit of the first byte is piece 0).
#pragma once

#include <bit>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pw::swarm {

class Bitfield {
public:
    Bitfield() = default;
    explicit Bitfield(int size, bool value = false) { resize(size, value); }

    void resize(int size, bool value = false) {
        size_ = size;
        bytes_.assign(static_cast<std::size_t>((size + 7) / 8), value ? 0xff : 0);
        clear_tail();
        count_ = value ? size : 0;
    }
    int size() const { return size_; }
    int count() const { return count_; }
    bool all() const { return count_ == size_; }
    bool none() const { return count_ == 0; }

    bool get(int i) const { return bytes_[static_cast<std::size_t>(i >> 3)] & (0x80 >> (i & 7)); }
    void set(int i) {
        auto& b = bytes_[static_cast<std::size_t>(i >> 3)];
        std::uint8_t m = static_cast<std::uint8_t>(0x80 >> (i & 7));
        if (!(b & m)) {
            b |= m;
            ++count_;
        }
    }
    void clear(int i) {
        auto& b = bytes_[static_cast<std::size_t>(i >> 3)];
        std::uint8_t m = static_cast<std::uint8_t>(0x80 >> (i & 7));
        if (b & m) {
            b &= static_cast<std::uint8_t>(~m);
            --count_;
        }
    }
    void set_all() { resize(size_, true); }

    // Loads wire bytes; false if the length is wrong or spare bits at the end are set.
    bool assign_wire(std::string_view bits) {
        if (bits.size() != bytes_.size()) return false;
        bytes_.assign(bits.begin(), bits.end());
        if (size_ % 8 && (bytes_.back() & (0xff >> (size_ % 8)))) return false;
        count_ = 0;
        for (auto b : bytes_) count_ += std::popcount(b);
        return true;
    }
    std::string_view wire() const {
        return {reinterpret_cast<const char*>(bytes_.data()), bytes_.size()};
    }
    std::vector<bool> to_vector() const {
        std::vector<bool> v(static_cast<std::size_t>(size_));
        for (int i = 0; i < size_; ++i) v[static_cast<std::size_t>(i)] = get(i);
        return v;
    }

private:
    void clear_tail() {
        if (size_ % 8 && !bytes_.empty()) bytes_.back() &= static_cast<std::uint8_t>(0xff << (8 - size_ % 8));
    }
    int size_ = 0;
    int count_ = 0;
    std::vector<std::uint8_t> bytes_;
};

}  // namespace pw::swarm

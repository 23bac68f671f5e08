// Rates as people write them on a command line: "500k", "2M", "1.5M", "64KiB", "800000"
// (bytes per second). k, M, G are powers of 1000 (as Transmission's kB/s); Ki, Mi, Gi
// powers of 1024; an optional trailing "B" or "B/s" is accepted. Pure.
#pragma once

#include <cctype>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pw::swarm {

// nullopt: not a rate (negative, garbage, or above 1e15 bytes/s).
inline std::optional<std::int64_t> parse_rate(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
    std::string number(s.substr(0, i));
    // Short enough that stod cannot overflow (it would throw).
    if (number.empty() || number.size() > 24 || number == "." ||
        number.find('.') != number.rfind('.'))
        return std::nullopt;
    std::string unit(s.substr(i));
    for (auto& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (unit.size() >= 2 && unit.compare(unit.size() - 2, 2, "/s") == 0)
        unit.resize(unit.size() - 2);
    if (!unit.empty() && unit.back() == 'b') unit.pop_back();
    double mult = 0;
    if (unit.empty())
        mult = 1;
    else if (unit == "k")
        mult = 1e3;
    else if (unit == "m")
        mult = 1e6;
    else if (unit == "g")
        mult = 1e9;
    else if (unit == "ki")
        mult = 1024.0;
    else if (unit == "mi")
        mult = 1024.0 * 1024;
    else if (unit == "gi")
        mult = 1024.0 * 1024 * 1024;
    else
        return std::nullopt;
    double v = std::stod(number) * mult;
    if (!(v >= 0) || v > 1e15) return std::nullopt;
    return static_cast<std::int64_t>(std::llround(v));
}

}  // namespace pw::swarm

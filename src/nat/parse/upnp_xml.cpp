// The bounded XML scanner of the UPnP IGD client; see upnp_xml.hpp.
#include "nat/parse/upnp_xml.hpp"

#include <cstdint>

namespace pw::nat {

namespace {

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

bool is_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.' || c == ':' || static_cast<unsigned char>(c) >= 0x80;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
}

void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

// Decodes the character data `raw` (no markup) onto `out`; false + reason on a bad reference.
bool decode_text(std::string_view raw, std::string& out, std::string& error) {
    for (std::size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] != '&') {
            out += raw[i];
            continue;
        }
        std::size_t semi = raw.find(';', i);
        if (semi == std::string_view::npos || semi - i > 12) {
            error = "unterminated character reference";
            return false;
        }
        std::string_view ref = raw.substr(i + 1, semi - i - 1);
        if (ref == "lt") out += '<';
        else if (ref == "gt") out += '>';
        else if (ref == "amp") out += '&';
        else if (ref == "quot") out += '"';
        else if (ref == "apos") out += '\'';
        else if (ref.size() > 1 && ref[0] == '#') {
            bool hex = ref[1] == 'x';
            std::string_view digits = ref.substr(hex ? 2 : 1);
            if (digits.empty()) {
                error = "empty character reference";
                return false;
            }
            std::uint32_t cp = 0;
            for (char c : digits) {
                int v = c >= '0' && c <= '9'             ? c - '0'
                        : hex && c >= 'a' && c <= 'f' ? c - 'a' + 10
                        : hex && c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                      : -1;
                if (v < 0) {
                    error = "bad character reference";
                    return false;
                }
                cp = cp * (hex ? 16 : 10) + static_cast<std::uint32_t>(v);
                if (cp > 0x10FFFF) break;
            }
            if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
                error = "character reference out of range";
                return false;
            }
            append_utf8(out, cp);
        } else {
            error = "unknown entity '&" + std::string(ref.substr(0, 20)) + ";'";
            return false;
        }
        i = semi;
    }
    return true;
}

}  // namespace

XmlScan scan_xml(std::string_view doc) {
    XmlScan out;
    auto fail = [&](std::string why) {
        out.ok = false;
        out.error = std::move(why);
        out.elements.clear();
        return out;
    };
    if (doc.size() > max_xml_size) return fail("XML document over " + std::to_string(max_xml_size) + " bytes");
    std::vector<std::size_t> open;    // indices of the open elements
    std::vector<std::string> pending;  // raw text gathered for each open element
    bool root_closed = false;
    std::size_t i = 0;
    while (i < doc.size()) {
        std::size_t lt = doc.find('<', i);
        std::string_view text = doc.substr(i, (lt == std::string_view::npos ? doc.size() : lt) - i);
        if (!text.empty()) {
            if (open.empty()) {
                if (!trim(text).empty()) return fail("text outside the root element");
            } else {
                std::string decoded, why;
                if (!decode_text(text, decoded, why)) return fail(why);
                if (pending.back().size() + decoded.size() > max_xml_size) return fail("text too long");
                pending.back() += decoded;
            }
        }
        if (lt == std::string_view::npos) break;
        std::string_view rest = doc.substr(lt);
        if (rest.starts_with("<!--")) {
            std::size_t end = rest.find("-->", 4);
            if (end == std::string_view::npos) return fail("unterminated comment");
            i = lt + end + 3;
            continue;
        }
        if (rest.starts_with("<![CDATA[")) {
            if (open.empty()) return fail("CDATA outside the root element");
            std::size_t end = rest.find("]]>", 9);
            if (end == std::string_view::npos) return fail("unterminated CDATA section");
            pending.back() += rest.substr(9, end - 9);
            i = lt + end + 3;
            continue;
        }
        if (rest.starts_with("<!")) return fail("DOCTYPE and other declarations are not accepted");
        if (rest.starts_with("<?")) {
            std::size_t end = rest.find("?>", 2);
            if (end == std::string_view::npos) return fail("unterminated processing instruction");
            i = lt + end + 2;
            continue;
        }
        const bool closing = rest.size() > 1 && rest[1] == '/';
        std::size_t p = closing ? 2 : 1;
        std::size_t name_start = p;
        while (p < rest.size() && is_name_char(rest[p])) ++p;
        std::string_view qname = rest.substr(name_start, p - name_start);
        if (qname.empty()) return fail("malformed tag");
        std::string_view local = qname.substr(qname.rfind(':') == std::string_view::npos ? 0 : qname.rfind(':') + 1);
        if (local.empty()) return fail("malformed tag name");
        // The tag's end, skipping quoted attribute values.
        char quote = 0;
        std::size_t end = p;
        for (; end < rest.size(); ++end) {
            char c = rest[end];
            if (quote) {
                if (c == quote) quote = 0;
            } else if (c == '"' || c == '\'') {
                quote = c;
            } else if (c == '>') {
                break;
            } else if (c == '<') {
                return fail("'<' inside a tag");
            }
        }
        if (end >= rest.size()) return fail("unterminated tag");
        if (closing) {
            if (open.empty()) return fail("end tag without a start tag");
            if (!trim(rest.substr(p, end - p)).empty()) return fail("malformed end tag");
            XmlElement& e = out.elements[open.back()];
            if (e.name != local) return fail("end tag </" + std::string(local.substr(0, 40)) + "> does not close <" + e.name + ">");
            e.text = std::string(trim(pending.back()));
            open.pop_back();
            pending.pop_back();
            if (open.empty()) root_closed = true;
        } else {
            if (root_closed) return fail("a second root element");
            if (open.size() >= max_xml_depth) return fail("XML nested deeper than " + std::to_string(max_xml_depth));
            if (out.elements.size() >= max_xml_elements)
                return fail("more than " + std::to_string(max_xml_elements) + " XML elements");
            const bool empty = end > p && rest[end - 1] == '/';
            XmlElement e;
            e.name = std::string(local);
            e.parent = open.empty() ? -1 : static_cast<int>(open.back());
            e.depth = open.size();
            out.elements.push_back(std::move(e));
            if (!empty) {
                open.push_back(out.elements.size() - 1);
                pending.emplace_back();
            } else if (open.empty()) {
                root_closed = true;
            }
        }
        i = lt + end + 1;
    }
    if (!open.empty()) return fail("unclosed element <" + out.elements[open.back()].name + ">");
    if (out.elements.empty()) return fail("no root element");
    out.ok = true;
    return out;
}

}  // namespace pw::nat

// A minimal, bounded XML scanner for the UPnP IGD client (UPnP Device Architecture 1.1,
// section 2.3 device descriptions and section 3.2 SOAP control messages): it turns a
// document into a flat list of elements with their direct text, which is all the
// description and SOAP parsers (upnp_message.hpp) need. Pure; no sockets.
//
// Contract:
// - Element names are kept without their namespace prefix ("s:Envelope" -> "Envelope");
//   attributes are skipped (their quoted values may hold '>').
// - Text is the element's own character data (not its children's), trimmed of XML
//   whitespace, with the five predefined entities and numeric character references (as
//   UTF-8) decoded and CDATA sections taken as is. Any other entity reference is refused:
//   nothing is ever expanded from a DTD. A DOCTYPE declaration is refused outright.
// - Comments, processing instructions and the XML declaration are skipped.
// - Limits: input at most max_xml_size bytes, nesting at most max_xml_depth, at most
//   max_xml_elements elements. Beyond them, or on any malformation (an unclosed tag, a
//   mismatched end tag, text or a second element after the root, no root), the scan fails
//   with a reason.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace pw::nat {

inline constexpr std::size_t max_xml_size = 64 * 1024;
inline constexpr std::size_t max_xml_depth = 24;
inline constexpr std::size_t max_xml_elements = 2048;

struct XmlElement {
    std::string name;    // local name
    std::string text;    // own character data, trimmed and decoded
    int parent = -1;     // index in the list; -1 for the root
    std::size_t depth = 0;  // 0 for the root
};

struct XmlScan {
    bool ok = false;
    std::string error;                // when !ok
    std::vector<XmlElement> elements;  // in document order (the root first)
};

XmlScan scan_xml(std::string_view doc);

}  // namespace pw::nat

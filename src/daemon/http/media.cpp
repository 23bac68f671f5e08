#include "daemon/http/media.hpp"

#include <array>
#include <utility>

namespace pw::daemon::http {

namespace {

std::string_view base_name(std::string_view path) {
    auto slash = path.rfind('/');
    return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

char lower(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

constexpr std::array<std::pair<std::string_view, std::string_view>, 22> types{{
    {"mp4", "video/mp4"},
    {"m4v", "video/mp4"},
    {"mkv", "video/x-matroska"},
    {"webm", "video/webm"},
    {"avi", "video/x-msvideo"},
    {"mov", "video/quicktime"},
    {"ogv", "video/ogg"},
    {"mp3", "audio/mpeg"},
    {"flac", "audio/flac"},
    {"ogg", "audio/ogg"},
    {"oga", "audio/ogg"},
    {"opus", "audio/ogg"},
    {"m4a", "audio/mp4"},
    {"wav", "audio/wav"},
    {"srt", "application/x-subrip"},
    {"vtt", "text/vtt; charset=utf-8"},
    {"txt", "text/plain; charset=utf-8"},
    {"pdf", "application/pdf"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"png", "image/png"},
    {"gif", "image/gif"},
}};

// RFC 8187 attr-char: ALPHA / DIGIT / "!" / "#" / "$" / "&" / "+" / "-" / "." / "^" /
// "_" / "`" / "|" / "~".
bool attr_char(unsigned char c) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return true;
    return std::string_view("!#$&+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

}  // namespace

std::string_view stream_content_type(std::string_view path) {
    auto name = base_name(path);
    auto dot = name.rfind('.');
    if (dot == std::string_view::npos || dot + 1 >= name.size() || name.size() - dot > 6)
        return "application/octet-stream";
    std::string ext;
    for (char c : name.substr(dot + 1)) ext.push_back(lower(c));
    for (auto& [e, t] : types)
        if (e == ext) return t;
    return "application/octet-stream";
}

std::string content_disposition(std::string_view path) {
    auto name = base_name(path);
    if (name.empty()) name = "file";
    std::string fallback, encoded;
    static constexpr char hex[] = "0123456789ABCDEF";
    for (char ch : name) {
        auto c = static_cast<unsigned char>(ch);
        // The quoted fallback keeps printable ASCII but the quote and backslash.
        fallback.push_back(c >= 0x20 && c < 0x7f && c != '"' && c != '\\' ? ch : '_');
        if (attr_char(c)) {
            encoded.push_back(ch);
        } else {
            encoded.push_back('%');
            encoded.push_back(hex[c >> 4]);
            encoded.push_back(hex[c & 15]);
        }
    }
    return "inline; filename=\"" + fallback + "\"; filename*=UTF-8''" + encoded;
}

}  // namespace pw::daemon::http

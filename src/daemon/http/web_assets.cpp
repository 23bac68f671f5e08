#include "daemon/http/web_assets.hpp"

#include <algorithm>
#include <cctype>
#include <string>

namespace pw::daemon::http {

const WebAsset* find_web_asset(std::string_view target) {
    target = target.substr(0, target.find_first_of("?#"));
    if (target == "/") target = "/index.html";
    for (auto& a : web_assets())
        if (a.path == target) return &a;
    return nullptr;
}

std::string_view mime_type(std::string_view path) {
    auto slash = path.rfind('/');
    auto base = slash == std::string_view::npos ? path : path.substr(slash + 1);
    auto dot = base.rfind('.');
    if (dot == std::string_view::npos) return "application/octet-stream";
    std::string ext(base.substr(dot + 1));
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    static constexpr std::pair<std::string_view, std::string_view> types[] = {
        {"html", "text/html; charset=utf-8"},
        {"htm", "text/html; charset=utf-8"},
        {"css", "text/css; charset=utf-8"},
        {"js", "text/javascript; charset=utf-8"},
        {"mjs", "text/javascript; charset=utf-8"},
        {"json", "application/json"},
        {"svg", "image/svg+xml"},
        {"png", "image/png"},
        {"ico", "image/x-icon"},
        {"txt", "text/plain; charset=utf-8"},
        {"srt", "text/plain; charset=utf-8"},
        {"vtt", "text/vtt; charset=utf-8"},
        {"mp4", "video/mp4"},
        {"m4v", "video/mp4"},
        {"webm", "video/webm"},
        {"mkv", "video/x-matroska"},
        {"avi", "video/x-msvideo"},
        {"mov", "video/quicktime"},
        {"mp3", "audio/mpeg"},
        {"m4a", "audio/mp4"},
        {"ogg", "audio/ogg"},
        {"flac", "audio/flac"},
        {"wav", "audio/wav"},
        {"jpg", "image/jpeg"},
        {"jpeg", "image/jpeg"},
        {"gif", "image/gif"},
        {"webp", "image/webp"},
        {"pdf", "application/pdf"},
    };
    for (auto& [e, t] : types)
        if (e == ext) return t;
    return "application/octet-stream";
}

}  // namespace pw::daemon::http

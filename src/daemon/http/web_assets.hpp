// The web UI's files (web/), embedded at build time by cmake/embed_web.cmake: no file is
// read at run time and nothing is fetched from elsewhere. Paths are the URL paths
// ("/index.html", "/js/app.js").
#pragma once

#include <span>
#include <string_view>

namespace pw::daemon::http {

struct WebAsset {
    std::string_view path;
    std::string_view body;
};

std::span<const WebAsset> web_assets();  // generated

// The asset for a request target ("/" is "/index.html"; a query string is ignored);
// null when there is none.
const WebAsset* find_web_asset(std::string_view target);

// Content-Type from the file name's extension (UTF-8 for text types);
// application/octet-stream when unknown.
std::string_view mime_type(std::string_view path);

}  // namespace pw::daemon::http

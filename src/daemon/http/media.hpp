// Headers of GET /stream/ that depend on the file's name: Content-Type from the
// extension and Content-Disposition (RFC 6266) with the name in RFC 8187 (RFC 5987)
// encoding. Pure functions.
//
// Only media, text, images and PDF get a real type; anything else (HTML, SVG, scripts)
// is application/octet-stream, so a file of a torrent is never run as a page of the web
// UI's origin (the response also carries nosniff and a sandboxing CSP).
#pragma once

#include <string>
#include <string_view>

namespace pw::daemon::http {

// `path`: the file's path in the torrent ('/'-separated); its extension decides.
std::string_view stream_content_type(std::string_view path);

// `inline; filename="<ASCII fallback>"; filename*=UTF-8''<percent-encoded last component>`.
std::string content_disposition(std::string_view path);

}  // namespace pw::daemon::http

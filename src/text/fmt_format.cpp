// {fmt}'s compiled part, built into Piecewise instead of linked from libfmt.so.
//
// Piecewise calls one non-inline function of {fmt} (fmt::vformat, behind fmt::format); the
// rest is templates in the headers. Debian ships {fmt} 9 as a shared library only, and
// that library pulls libstdc++.so into the process, which the release executable otherwise
// links statically (CMakeLists.txt: the daemon's resident memory). Including format-inl.h
// in this one file defines vformat and its helpers here, as fmt's own src/format.cc does;
// the two templates below are declared `extern template` in format.h, so this file
// instantiates them.
#include <fmt/format-inl.h>

FMT_BEGIN_NAMESPACE
namespace detail {
template auto thousands_sep_impl<char>(locale_ref) -> thousands_sep_result<char>;
template auto decimal_point_impl<char>(locale_ref) -> char;
}  // namespace detail
FMT_END_NAMESPACE

// File index lists: "0,2-3" (the CLI's --files) and BEP 53's magnet `so=` parameter
// ("so=0,2,4,6-8": file indices and inclusive ranges, in metainfo order, 0-based).
//
// Pure parsing, no I/O. A list names files to download; every other file is skipped.
// Hostile input is bounded: at most 10,000 entries, indices up to 2^31-1, ranges kept as
// ranges (never expanded until checked against a real file count).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pw::meta {

using IndexRange = std::pair<int, int>;  // [first, last], inclusive

// Throws MetainfoError ("file list: ...") for an empty list, an empty entry, a non-number,
// a reversed range (3-1) or too many entries.
std::vector<IndexRange> parse_index_list(std::string_view list);
// "0,2-3" back again.
std::string format_index_list(const std::vector<IndexRange>& ranges);

// One priority per file: 4 (normal) for the selected files, 0 for the others. With
// `strict`, an index at or past num_files throws MetainfoError ("file list: no file N (the
// torrent has M)"); otherwise such indices are ignored (BEP 53 links made for another
// version of the torrent).
std::vector<int> selection_priorities(const std::vector<IndexRange>& ranges, int num_files,
                                      bool strict);

}  // namespace pw::meta

// What changed between two snapshots of the torrent list, for the `/events` stream. Pure.
//
// A snapshot maps torrent id -> its fields (a JSON object holding at least "id"). update()
// compares the new snapshot with the last one and returns the torrents that appeared
// (all fields), the fields that changed (with "id"), and the ids that went away; it then
// keeps the new snapshot. The web UI applies these to its copy of the list, so a tick
// where one torrent's rate moved costs one small object, not the whole list.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <map>

namespace pw::daemon::events {

struct TorrentDelta {
    boost::json::array added;    // full objects
    boost::json::array changed;  // {"id": N, changed fields...}
    boost::json::array removed;  // ids
    bool empty() const { return added.empty() && changed.empty() && removed.empty(); }
};

class TorrentDiff {
  public:
    using Snapshot = std::map<int, boost::json::object>;
    TorrentDelta update(Snapshot next);
    const Snapshot& current() const { return current_; }
    // Every torrent of the current snapshot, ascending by id.
    boost::json::array all() const;

  private:
    Snapshot current_;
};

}  // namespace pw::daemon::events

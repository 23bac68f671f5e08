// File descriptors: the process must never run out of them (issue 14). At Session start
// the soft RLIMIT_NOFILE is raised to the hard limit, and the connection cap is sized so
// that peer sockets leave room for everything else a session opens: the torrents' files
// (each Storage caches up to 256 descriptors), the pipes of uploads by splice, the DHT's
// and trackers' sockets, the disk pool, the daemon's RPC connections, and the process's
// own (stdio, epoll, eventfds).
#pragma once

namespace pw::session {

// Raises the soft RLIMIT_NOFILE to the hard limit (once is enough; harmless to repeat)
// and returns the soft limit now in force (a large number when unlimited).
long raise_fd_limit();

// Descriptors kept out of the connection budget for a soft limit of `fd_limit`.
long fd_reserve(long fd_limit);

// The connection cap to use: `requested`, lowered so that peer connections fit in
// `fd_limit` beside the reserve (at least 8).
int connection_budget(int requested, long fd_limit);

}  // namespace pw::session

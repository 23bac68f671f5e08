#include "session/fd_budget.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <climits>

#include "storage/splice_pipe.hpp"

namespace pw::session {

long raise_fd_limit() {
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return 1024;
    if (rl.rlim_cur != rl.rlim_max) {
        rlimit want = rl;
        want.rlim_cur = rl.rlim_max;
        if (::setrlimit(RLIMIT_NOFILE, &want) == 0) rl = want;
    }
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > static_cast<rlim_t>(LONG_MAX / 2))
        return LONG_MAX / 2;
    return static_cast<long>(rl.rlim_cur);
}

long fd_reserve(long fd_limit) {
    // 256 cached files of one torrent, 128 for sockets and the process itself, and the
    // pipes of uploads by splice (two descriptors each); on a tiny limit, half of it.
    return std::min(384L + 2L * storage::SplicePipe::max_live, fd_limit / 2);
}

int connection_budget(int requested, long fd_limit) {
    long room = fd_limit - fd_reserve(fd_limit);
    return static_cast<int>(std::max(8L, std::min<long>(requested, room)));
}

}  // namespace pw::session

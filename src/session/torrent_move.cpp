// Session::move_storage: a torrent's data moves to another download directory. The
// torrent stops as for pause() (its disk jobs drain, its resume data is saved), the files
// move on a disk worker (storage/relocate.hpp), the resume record is rewritten for the new
// place, and a new Torrent takes over from it, paused or running as before: no re-hash.
// On failure the new Torrent starts at the old place, which still holds everything.
#include <filesystem>

#include "session/session_impl.hpp"
#include "storage/parse/relocation.hpp"
#include "storage/relocate.hpp"
#include "storage/resume.hpp"

namespace piecewise {

namespace fs = std::filesystem;

namespace {

// Each file under both of the names it may have on disk (storage.hpp, partial names);
// the move skips the names that are not there.
std::vector<std::string> data_files(const pw::meta::Metainfo& m) {
    std::vector<std::string> out;
    for (const auto& f : m.files)
        if (!f.pad) {
            out.push_back(f.path);
            out.push_back(f.path + ".part");
        }
    return out;
}

std::string parts_name(const pw::meta::Metainfo& m) {
    return "." + m.info_hash.hex() + ".parts";
}

std::string describe(const pw::storage::StorageError& e) {
    if (e.ec == std::errc::file_exists) return e.file + " already exists (nothing is replaced)";
    return e.message();
}

}  // namespace

bool Session::move_storage(TorrentId id, std::string new_dir, bool move_data) {
    if (new_dir.empty() || !fs::path(new_dir).is_absolute())
        throw Error("the new location must be an absolute path: " + new_dir.substr(0, 200));
    new_dir = fs::path(new_dir).lexically_normal().string();
    while (new_dir.size() > 1 && new_dir.back() == '/') new_dir.pop_back();
    auto why = std::make_shared<std::string>();
    bool known = on_network(*impl_, impl_->stopped, [id, new_dir, move_data, why](Impl& d) {
        if (!has(d, id)) return false;
        if (d.is_moving(id)) {
            *why = "the torrent is already being moved";
            return true;
        }
        auto it = d.torrents.find(id);
        if (it == d.torrents.end()) {
            // A magnet without its metadata has no data yet: it just downloads elsewhere.
            if (auto f = d.fetch_params.find(id); f != d.fetch_params.end())
                f->second.save_path = new_dir;
            if (auto pm = d.paused_magnets.find(id); pm != d.paused_magnets.end())
                pm->second.params.save_path = new_dir;
            d.emit({EventType::storage_moved, id, new_dir});
            return true;
        }
        const auto& m = it->second->metainfo();
        auto tops = pw::storage::top_entries(data_files(m));
        tops.push_back(parts_name(m));
        bool same = false;
        auto from = fs::absolute(it->second->params().save_path).string();
        *why = pw::storage::check_move_target(from, new_dir, tops, same);
        if (!why->empty()) return true;
        if (same) {
            d.emit({EventType::storage_moved, id, new_dir});
            return true;
        }
        d.moves[id].moving = true;  // at once: a second call is refused
        asio::co_spawn(d.io, d.move(id, new_dir, move_data), asio::detached);
        return true;
    });
    if (!why->empty()) throw Error(*why);
    return known;
}

awaitable<void> Session::Impl::move(TorrentId id, std::string new_dir, bool move_data) {
    auto it = torrents.find(id);
    if (it == torrents.end()) {
        moves.erase(id);
        co_return;
    }
    auto old = it->second;
    {
        auto& ms = moves[id];
        ms.paused = old->paused();
        ms.recheck = false;
        ms.error.clear();
    }
    if (!old->paused()) co_await old->pause(std::chrono::seconds(3));
    bool settled = co_await wait_settled(old);
    if (auto now = torrents.find(id); now == torrents.end() || now->second != old) {
        moves.erase(id);
        co_return;
    }
    if (!settled)
        co_return finish_move(id, old, new_dir, "the torrent did not stop in time", false);
    if (!move_data) co_return finish_move(id, old, new_dir, "", true);

    const auto& m = old->metainfo();
    pw::storage::RelocateJob job;
    job.from_root = fs::absolute(old->params().save_path);
    job.to_root = new_dir;
    job.files = data_files(m);
    job.parts_name = parts_name(m);
    job.staging_name = "." + m.info_hash.hex() + ".moving";
    job.cancel = moves_cancel;
    disk.post([this, id, old, job, new_dir, resume = old->resume_file(), files = m.files,
               pieces = m.num_pieces()] {
        auto out = pw::storage::relocate(job);
        std::string error;
        if (out.err) {
            error = describe(out.err);
        } else if (auto r = pw::storage::load_resume_file(resume, pieces)) {
            // The record written at the stop, now for the new place: the restart there
            // (and a daemon restart after a crash) trusts it instead of hashing.
            r->save_path = job.to_root.string();
            r->files = pw::storage::stamp_files(files, job.to_root);
            r->parts = pw::storage::stamp_file(job.to_root / job.parts_name);
            pw::storage::save_resume_file(resume, *r);
        }
        asio::post(
            io, [this, id, old, new_dir, error] { finish_move(id, old, new_dir, error, false); });
    });
}

void Session::Impl::finish_move(TorrentId id, std::shared_ptr<pw::session::Torrent> old,
                                std::string new_dir, std::string error, bool check) {
    auto it = torrents.find(id);
    if (it == torrents.end() || it->second != old) {
        moves.erase(id);
        return;
    }
    auto& ms = moves[id];
    auto p = old->params();
    if (error.empty()) p.save_path = new_dir;
    p.paused = ms.paused;
    check = check || ms.recheck;
    ms.moving = false;
    ms.error = error.empty() ? "" : "moving to " + new_dir + " failed: " + error;
    old->carry_totals(p);  // downloadedEver and co. go on at the new place
    auto t = std::make_shared<pw::session::Torrent>(ctx, id, old->metainfo(), p);
    torrents[id] = t;
    if (p.paused) {
        t->start_paused(check);
    } else if (check) {
        disk.post([this, t, file = t->resume_file()] {
            std::error_code ec;
            fs::remove(file, ec);
            asio::post(io, [t] { t->start(); });
        });
    } else {
        t->start();  // trusts the resume record rewritten for the new place
    }
    emit({error.empty() ? EventType::storage_moved : EventType::storage_move_failed, id,
          error.empty() ? new_dir : ms.error});
}

void Session::Impl::fill_move_status(TorrentId id, TorrentStatus& s) const {
    auto it = moves.find(id);
    if (it == moves.end()) return;
    s.moving = it->second.moving;
    s.move_error = it->second.error;
    if (s.moving) s.paused = it->second.paused;  // what it comes back as
}

awaitable<void> Session::Impl::wait_moved(TorrentId id) {
    asio::steady_timer timer(io);
    auto busy = [&] {
        auto it = moves.find(id);
        return it != moves.end() && (it->second.moving || it->second.renaming);
    };
    // A move of a large torrent across file systems takes a while; bounded all the same.
    for (int i = 0; i < 36000 && busy(); ++i) {
        timer.expires_after(std::chrono::milliseconds(100));
        co_await timer.async_wait(use_nothrow);
    }
}

}  // namespace piecewise

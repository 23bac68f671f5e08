// Session::rename_path (Transmission's torrent-rename-path): one file or folder of a
// torrent gets a new name, on disk (Storage::rename_entry, on a disk worker) and in the
// torrent's file list, without stopping it: reads and writes wait for the rename only.
#include "session/session_impl.hpp"

namespace pw::session {

namespace asio = boost::asio;

void Torrent::rename_files(storage::RenamePlan plan, std::function<void(std::string)> done) {
    auto self = shared_from_this();
    auto storage = storage_;
    ++disk_jobs_;
    ctx_.disk.post([self, storage, plan = std::move(plan), done = std::move(done)]() mutable {
        auto err = storage->rename_entry(plan.from, plan.to, plan.paths);
        std::string why;
        if (err.ec == std::errc::file_exists)
            why = err.file + " already exists (nothing is replaced)";
        else if (err)
            why = err.message();
        asio::post(self->ctx_.io, [self, plan = std::move(plan), why, done = std::move(done)] {
            --self->disk_jobs_;
            if (why.empty()) {
                for (std::size_t i = 0; i < self->meta_.files.size(); ++i)
                    self->meta_.files[i].path = plan.paths[i];
                if (plan.top) self->meta_.name = plan.to;
            }
            done(why);
        });
    });
}

std::string Torrent::apply_renames(
    meta::Metainfo& m, const std::vector<std::pair<std::string, std::string>>& renames) {
    std::vector<std::string> paths;
    for (const auto& f : m.files) paths.push_back(f.path);
    std::string name = m.name;
    for (const auto& [path, new_name] : renames) {
        auto plan = storage::plan_rename(paths, path, new_name);
        if (!plan.error.empty()) return "stored rename of " + path + ": " + plan.error;
        paths = std::move(plan.paths);
        if (plan.top) name = plan.to;
    }
    for (std::size_t i = 0; i < paths.size(); ++i) m.files[i].path = paths[i];
    m.name = name;
    return {};
}

}  // namespace pw::session

namespace piecewise {

bool Session::rename_path(TorrentId id, const std::string& path, const std::string& new_name) {
    auto& d = *impl_;
    if (d.stopped) return false;
    struct Outcome {
        bool known = false;
        std::string error;
    };
    auto done = std::make_shared<std::promise<Outcome>>();
    auto fut = done->get_future();
    asio::post(d.io, [&d, id, path, new_name, done] {
        if (!has(d, id)) return done->set_value({});
        auto it = d.torrents.find(id);
        if (it == d.torrents.end())
            return done->set_value({true, "the torrent has no metadata yet"});
        auto& ms = d.moves[id];
        if (ms.moving) return done->set_value({true, "the torrent is being moved"});
        if (ms.renaming)
            return done->set_value({true, "another rename of this torrent is under way"});
        auto t = it->second;
        // The check reads the files by their names: a rename waits for it to end.
        if (t->status().state == TorrentState::checking)
            return done->set_value({true, "the torrent is being checked"});
        std::vector<std::string> paths;
        for (const auto& f : t->metainfo().files) paths.push_back(f.path);
        auto plan = pw::storage::plan_rename(paths, path, new_name);
        if (!plan.error.empty()) return done->set_value({true, plan.error});
        if (plan.from == plan.to) return done->set_value({true, ""});
        ms.renaming = true;
        std::string what = plan.from + " -> " + plan.to;
        t->rename_files(std::move(plan), [&d, id, done, what](std::string why) {
            auto& m = d.moves[id];
            m.renaming = false;
            if (why.empty()) d.emit({EventType::path_renamed, id, what});
            done->set_value({true, why});
        });
    });
    if (fut.wait_for(std::chrono::seconds(20)) != std::future_status::ready)
        throw Error("the rename is still waiting for the disk; it completes in the background");
    auto o = fut.get();
    if (!o.known) return false;
    if (!o.error.empty()) throw Error(o.error);
    return true;
}

}  // namespace piecewise

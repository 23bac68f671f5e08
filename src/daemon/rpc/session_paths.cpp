#include "daemon/rpc/session_paths.hpp"

#include "daemon/rpc/response.hpp"
#include "daemon/rpc/torrent_settings.hpp"

namespace pw::daemon::rpc {

namespace json = boost::json;

namespace {

struct ScriptKey {
    const char* name;  // snake_case, without _enabled / _filename
    ScriptEvent event;
};
constexpr ScriptKey script_keys[] = {
    {"script_torrent_added", ScriptEvent::added},
    {"script_torrent_done", ScriptEvent::done},
    {"script_torrent_done_seeding", ScriptEvent::done_seeding},
};

std::string kebab(std::string_view snake) {
    return key(Dialect::legacy, snake, KeyStyle::kebab);
}

bool flag(const json::value& v, std::string_view key_name) {
    if (v.is_bool()) return v.get_bool();
    if (v.is_int64()) return v.get_int64() != 0;  // old clients send 0/1
    throw ParamError(kebab(key_name) + " must be a boolean");
}

std::string text(const json::value& v, std::string_view key_name) {
    if (!v.is_string()) throw ParamError(kebab(key_name) + " must be a string");
    return std::string(v.get_string());
}

}  // namespace

bool session_set_path_key(Daemon& d, std::string_view k, const json::value& v) {
    if (k == "incomplete_dir") {
        auto dir = text(v, k);
        try {
            d.set_incomplete_dir(dir);
        } catch (const piecewise::Error& e) {
            throw ParamError(e.what());
        }
        return true;
    }
    if (k == "incomplete_dir_enabled") {
        d.set_incomplete_dir_enabled(flag(v, k));
        return true;
    }
    if (k == "rename_partial_files") {
        d.set_rename_partial_files(flag(v, k));
        return true;
    }
    for (auto& s : script_keys) {
        std::string base = s.name;
        if (k != base + "_enabled" && k != base + "_filename") continue;
        auto setting = d.scripts()[s.event];
        if (k == base + "_enabled")
            setting.enabled = flag(v, k);
        else
            setting.filename = text(v, k);
        if (setting.filename.size() > 4096) throw ParamError(kebab(k) + " is longer than 4096 bytes");
        d.set_script(s.event, setting);
        return true;
    }
    return false;
}

void session_path_values(Daemon& d, Dialect dialect, json::object& out) {
    auto kk = [dialect](std::string_view snake) { return key(dialect, snake, KeyStyle::kebab); };
    auto inc = d.incomplete_dir();
    out[kk("incomplete_dir")] = inc.dir;
    out[kk("incomplete_dir_enabled")] = inc.enabled;
    out[kk("rename_partial_files")] = d.rename_partial_files();
    auto scripts = d.scripts();
    for (auto& s : script_keys) {
        std::string base = s.name;
        out[kk(base + "_enabled")] = scripts[s.event].enabled;
        out[kk(base + "_filename")] = scripts[s.event].filename;
    }
}

}  // namespace pw::daemon::rpc

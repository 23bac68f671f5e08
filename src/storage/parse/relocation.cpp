// Renaming and moving rules; see relocation.hpp.
#include "storage/parse/relocation.hpp"

#include <algorithm>
#include <filesystem>

#include "meta/metainfo.hpp"

namespace pw::storage {

namespace fs = std::filesystem;

namespace {

// At most this much of a client's string is quoted back in a reason.
std::string quote(std::string_view s) {
    return "'" + std::string(s.substr(0, 200)) + (s.size() > 200 ? "...'" : "'");
}

bool starts_with_dir(std::string_view p, std::string_view dir) {
    return p.size() > dir.size() && p.substr(0, dir.size()) == dir && p[dir.size()] == '/';
}

}  // namespace

std::string check_new_name(std::string_view name) {
    if (name.empty()) return "the new name is empty";
    if (name == "." || name == "..") return "the new name may not be " + quote(name);
    if (name.find('/') != std::string_view::npos || name.find('\\') != std::string_view::npos)
        return "the new name must be one path component (no '/' or '\\'): " + quote(name);
    if (name.find('\0') != std::string_view::npos) return "the new name holds a NUL byte";
    // What a .torrent's names become when loaded: a name the loader would change (control
    // characters, invalid UTF-8, trailing dots or spaces, reserved names, too long) is refused
    // rather than silently altered.
    if (meta::sanitize_component(name) != name)
        return "the new name is not a portable file name: " + quote(name);
    return {};
}

RenamePlan plan_rename(const std::vector<std::string>& paths, std::string_view path,
                       std::string_view new_name) {
    RenamePlan plan;
    while (!path.empty() && path.back() == '/') path.remove_suffix(1);
    if (auto why = check_new_name(new_name); !why.empty()) {
        plan.error = why;
        return plan;
    }
    if (path.empty()) {
        plan.error = "the path to rename is empty";
        return plan;
    }
    bool is_file = std::find(paths.begin(), paths.end(), path) != paths.end();
    bool is_folder = !is_file && std::any_of(paths.begin(), paths.end(), [&](const std::string& p) {
        return starts_with_dir(p, path);
    });
    if (!is_file && !is_folder) {
        plan.error = "the torrent has no file or folder " + quote(path);
        return plan;
    }
    auto slash = path.rfind('/');
    std::string parent =
        slash == std::string_view::npos ? "" : std::string(path.substr(0, slash + 1));
    plan.from = std::string(path);
    plan.to = parent + std::string(new_name);
    plan.top = slash == std::string_view::npos;
    plan.paths = paths;
    if (plan.to == plan.from) return plan;
    auto affected = [&](const std::string& p) {
        return p == plan.from || starts_with_dir(p, plan.from);
    };
    for (const auto& p : paths)
        if (!affected(p) &&
            (p == plan.to || starts_with_dir(p, plan.to) || starts_with_dir(plan.to, p))) {
            plan.error = "the torrent already has " + quote(plan.to);
            plan.paths.clear();
            return plan;
        }
    for (auto& p : plan.paths)
        if (affected(p)) p = plan.to + p.substr(plan.from.size());
    return plan;
}

std::vector<std::string> top_entries(const std::vector<std::string>& paths) {
    std::vector<std::string> out;
    for (const auto& p : paths) {
        std::string top = p.substr(0, p.find('/'));
        if (!top.empty() && std::find(out.begin(), out.end(), top) == out.end()) out.push_back(top);
    }
    return out;
}

bool path_within(std::string_view outer, std::string_view inner) {
    auto parts = [](std::string_view s) {
        std::vector<fs::path> out;
        for (const auto& c : fs::path(s).lexically_normal())
            if (!c.empty()) out.push_back(c);  // the trailing "" of "/a/b/"
        return out;
    };
    auto o = parts(outer), i = parts(inner);
    return o.size() <= i.size() && std::equal(o.begin(), o.end(), i.begin());
}

std::string check_move_target(std::string_view from_root, std::string_view to_root,
                              const std::vector<std::string>& tops, bool& same_place) {
    same_place = false;
    if (to_root.empty() || !fs::path(to_root).is_absolute())
        return "the new location must be an absolute path: " + quote(to_root);
    auto from = fs::path(from_root).lexically_normal();
    auto to = fs::path(to_root).lexically_normal();
    same_place = path_within(from.string(), to.string()) && path_within(to.string(), from.string());
    if (same_place) return {};
    for (const auto& t : tops)
        if (path_within((from / t).string(), to.string()))
            return "cannot move the torrent into its own " + quote(t);
    return {};
}

}  // namespace pw::storage

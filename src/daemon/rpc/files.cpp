#include "daemon/rpc/files.hpp"

#include <stdexcept>

namespace pw::daemon::rpc {

namespace json = boost::json;

FileChange parse_file_change(const json::object& params, std::set<std::string>& used) {
    FileChange c;
    auto list = [&](const char* name, FileList& out) {
        auto* v = params.if_contains(name);
        if (!v) return;
        used.insert(name);
        if (!v->is_array())
            throw std::invalid_argument(std::string(name) + " must be an array of file indices");
        if (v->get_array().size() > 1000000)
            throw std::invalid_argument(std::string(name) + ": too many indices");
        out.present = true;
        for (auto& x : v->get_array()) {
            if (!x.is_int64() && !x.is_uint64())
                throw std::invalid_argument(std::string(name) +
                                            " must be an array of file indices");
            auto n = x.to_number<std::int64_t>();
            if (n < 0 || n > INT32_MAX)
                throw std::invalid_argument(std::string(name) + ": no file " + std::to_string(n));
            out.indices.push_back(static_cast<int>(n));
        }
    };
    list("files_wanted", c.wanted);
    list("files_unwanted", c.unwanted);
    list("priority_high", c.high);
    list("priority_normal", c.normal);
    list("priority_low", c.low);
    if (auto* v = params.if_contains("sequential_download")) {
        used.insert("sequential_download");
        if (v->is_bool())
            c.sequential = v->get_bool();
        else if (v->is_int64())
            c.sequential = v->get_int64() != 0;
        else
            throw std::invalid_argument("sequential_download must be a boolean");
    }
    return c;
}

}  // namespace pw::daemon::rpc

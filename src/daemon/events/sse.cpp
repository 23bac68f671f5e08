#include "daemon/events/sse.hpp"

namespace pw::daemon::events {

std::string sse_frame(std::string_view event, std::string_view data) {
    std::string out;
    out.reserve(data.size() + event.size() + 16);
    if (!event.empty()) {
        out += "event: ";
        // An event name is one line: line breaks in it would start new fields.
        for (char c : event)
            if (c != '\n' && c != '\r') out += c;
        out += '\n';
    }
    std::size_t i = 0;
    for (;;) {
        auto eol = data.find_first_of("\r\n", i);
        out += "data: ";
        out.append(
            data.substr(i, eol == std::string_view::npos ? std::string_view::npos : eol - i));
        out += '\n';
        if (eol == std::string_view::npos) break;
        i = eol + 1;
        if (data[eol] == '\r' && i < data.size() && data[i] == '\n') ++i;  // CRLF is one break
    }
    out += '\n';
    return out;
}

std::string sse_comment(std::string_view text) {
    std::string out = ": ";
    for (char c : text)
        if (c != '\n' && c != '\r') out += c;
    out += "\n\n";
    return out;
}

bool SseQueue::push(std::shared_ptr<const std::string> frame) {
    if (overflowed_) return false;
    if (bytes_ + frame->size() > limit_) {
        overflowed_ = true;
        return false;
    }
    bytes_ += frame->size();
    frames_.push_back(std::move(frame));
    return true;
}

std::shared_ptr<const std::string> SseQueue::front() const {
    return frames_.empty() ? nullptr : frames_.front();
}

void SseQueue::pop() {
    if (frames_.empty()) return;
    bytes_ -= frames_.front()->size();
    frames_.pop_front();
}

}  // namespace pw::daemon::events

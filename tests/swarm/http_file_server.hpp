// A small blocking HTTP/1.1 server on 127.0.0.1 for web seed tests: serves files of a
// directory with byte ranges and keep-alive, or hands each request to a test's handler
// (hostile replies). One thread accepts, one thread per connection; stop() (and the
// destructor) closes every socket and joins every thread, so a test never leaks them.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace swarm_test {

class HttpFileServer {
  public:
    using tcp = boost::asio::ip::tcp;
    using Request = boost::beast::http::request<boost::beast::http::empty_body>;
    // Writes a reply to the socket; returns false to close the connection afterwards.
    using Handler = std::function<bool(tcp::socket&, const Request&)>;

    explicit HttpFileServer(std::filesystem::path root, Handler h = {})
        : root_(std::move(root)), handler_(std::move(h)), acceptor_(io_) {
        tcp::endpoint ep(boost::asio::ip::make_address("127.0.0.1"), 0);
        acceptor_.open(ep.protocol());
        acceptor_.set_option(tcp::acceptor::reuse_address(true));
        acceptor_.bind(ep);
        acceptor_.listen();
        port_ = acceptor_.local_endpoint().port();
        accept_thread_ = std::thread([this] { accept_loop(); });
    }
    ~HttpFileServer() { stop(); }

    std::uint16_t port() const { return port_; }
    std::string url(const std::string& path = "/") const {
        return "http://127.0.0.1:" + std::to_string(port_) + path;
    }
    int requests() const { return requests_; }

    void stop() {
        if (stopped_.exchange(true)) return;
        boost::system::error_code ec;
        // close() alone does not wake a thread blocked in accept(); shutdown() does.
        ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
        {
            std::lock_guard lk(mu_);
            for (auto& s : sockets_) s->shutdown(tcp::socket::shutdown_both, ec), s->close(ec);
        }
        if (accept_thread_.joinable()) accept_thread_.join();
        acceptor_.close(ec);
        for (auto& t : threads_) t.join();
    }

    // The default handler: GET of a file under root_, with a single byte range.
    static bool serve_file(const std::filesystem::path& root, tcp::socket& s, const Request& req) {
        namespace http = boost::beast::http;
        std::string target(req.target());
        std::string path;
        for (std::size_t i = 0; i < target.size(); ++i) {
            if (target[i] == '%' && i + 2 < target.size()) {
                path.push_back(static_cast<char>(std::stoi(target.substr(i + 1, 2), nullptr, 16)));
                i += 2;
            } else {
                path.push_back(target[i]);
            }
        }
        std::ifstream in(root / path.substr(1), std::ios::binary);
        if (!in) return reply(s, "404 Not Found", "", "", req.keep_alive());
        std::string data((std::istreambuf_iterator<char>(in)), {});
        std::string range(req[http::field::range]);
        std::int64_t first = 0, last = static_cast<std::int64_t>(data.size()) - 1;
        if (range.rfind("bytes=", 0) == 0) {
            auto dash = range.find('-');
            first = std::stoll(range.substr(6, dash - 6));
            last = std::min<std::int64_t>(last, std::stoll(range.substr(dash + 1)));
            std::string cr = "Content-Range: bytes " + std::to_string(first) + "-" +
                             std::to_string(last) + "/" + std::to_string(data.size()) + "\r\n";
            return reply(s, "206 Partial Content", cr,
                         data.substr(static_cast<std::size_t>(first),
                                     static_cast<std::size_t>(last - first + 1)),
                         req.keep_alive());
        }
        return reply(s, "200 OK", "", data, req.keep_alive());
    }

    static bool reply(tcp::socket& s, const std::string& status, const std::string& headers,
                      const std::string& body, bool keep) {
        std::string head = "HTTP/1.1 " + status + "\r\n" + headers +
                           "Content-Length: " + std::to_string(body.size()) + "\r\n" +
                           (keep ? "" : "Connection: close\r\n") + "\r\n";
        boost::system::error_code ec;
        boost::asio::write(s, boost::asio::buffer(head), ec);
        if (!ec && !body.empty()) boost::asio::write(s, boost::asio::buffer(body), ec);
        return keep && !ec;
    }

  private:
    void accept_loop() {
        while (!stopped_) {
            auto s = std::make_shared<tcp::socket>(io_);
            boost::system::error_code ec;
            acceptor_.accept(*s, ec);
            if (ec) return;
            std::lock_guard lk(mu_);
            if (stopped_) return;
            sockets_.push_back(s);
            threads_.emplace_back([this, s] { serve(*s); });
        }
    }
    void serve(tcp::socket& s) {
        namespace http = boost::beast::http;
        boost::beast::flat_buffer buf;
        while (!stopped_) {
            Request req;
            boost::system::error_code ec;
            http::read(s, buf, req, ec);
            if (ec) break;
            ++requests_;
            bool keep = handler_ ? handler_(s, req) : serve_file(root_, s, req);
            if (!keep) break;
        }
        boost::system::error_code ec;
        s.shutdown(tcp::socket::shutdown_both, ec);
    }

    std::filesystem::path root_;
    Handler handler_;
    boost::asio::io_context io_;
    tcp::acceptor acceptor_;
    std::uint16_t port_ = 0;
    std::thread accept_thread_;
    std::mutex mu_;
    std::list<std::shared_ptr<tcp::socket>> sockets_;
    std::vector<std::thread> threads_;
    std::atomic<bool> stopped_{false};
    std::atomic<int> requests_{0};
};

}  // namespace swarm_test

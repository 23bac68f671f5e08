// Keeping a socket on one network interface (Linux SO_BINDTODEVICE), so that a user can
// hold all of a session's traffic on, say, a VPN's interface: packets of a bound socket
// leave only through that interface, and a bound listener only accepts what arrives on it.
// Every socket the engine opens (peer listener and connections, the DHT's UDP socket,
// tracker requests) is bound when Settings::bind_interface is set; a failure is an error,
// never a fallback to other interfaces.
//
// Call bind_to_device after open() and before bind()/connect(). Header-only: used by the
// tracker clients and by the engine.
#pragma once

#include <net/if.h>
#include <sys/socket.h>

#include <boost/system/error_code.hpp>
#include <cerrno>
#include <string>

namespace pw::net {

// Binds the open socket `fd` to `device`; empty `device`: nothing to do. Returns the
// system's error (ENODEV: no such interface; EPERM: not allowed).
inline boost::system::error_code bind_to_device(int fd, const std::string& device) {
    if (device.empty()) return {};
    if (device.size() >= IFNAMSIZ) return {ENODEV, boost::system::system_category()};
    if (::setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, device.c_str(),
                     static_cast<socklen_t>(device.size() + 1)) != 0)
        return {errno, boost::system::system_category()};
    return {};
}

template <class Socket>
boost::system::error_code bind_to_device(Socket& s, const std::string& device) {
    if (device.empty()) return {};
    return bind_to_device(s.native_handle(), device);
}

// Empty when `device` names an existing interface (or is empty), else why not.
inline std::string check_interface(const std::string& device) {
    if (device.empty()) return {};
    if (device.size() >= IFNAMSIZ || ::if_nametoindex(device.c_str()) == 0)
        return "no network interface named '" + device + "'";
    return {};
}

}  // namespace pw::net

// How https:// tracker requests check the tracker's certificate. A plain value, copied
// into every request; the engine fills it from Settings::tracker_ca_file and
// Settings::tracker_verify_tls.
#pragma once

#include <string>

namespace pw::tracker {

struct TlsSettings {
    // A PEM bundle of CA certificates trusted in addition to the system store; empty: none.
    std::string ca_file;
    // Check the certificate chain and that it names the tracker's host. false accepts any
    // certificate, which lets anyone on the path impersonate the tracker: for tests and
    // self-signed private setups only.
    bool verify = true;
};

}  // namespace pw::tracker

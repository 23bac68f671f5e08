// The Daemon's dht-enabled, lpd-enabled and utp-enabled: applied to the engine while it
// runs (Session::set_dht, set_lsd, set_utp) and kept in the store's settings.
//
// Which value a start uses: the command line's (--dht/--no-dht, --lsd, --utp/--no-utp,
// or their defaults) gives the first one. A value set over the RPC is stored and wins on
// the following starts, as long as the command line says the same as it did at the start
// before; a command line that changed since (a flag added or removed) wins again and
// replaces the stored value. So `session-set` is not undone by a restart, and editing the
// service's command line still takes effect. Each setting's command-line value at the last
// start is kept beside it ("<key>_cli").
#include "daemon/daemon.hpp"

namespace pw::daemon {

namespace {

const char* flag(bool on) { return on ? "1" : "0"; }

}  // namespace

void Daemon::load_network_settings() {
    auto kv = store_->load_settings();
    auto pick = [&](const std::string& key, bool& value) {
        const std::string cli = flag(value);
        auto last_cli = kv.find(key + "_cli");
        auto stored = kv.find(key);
        if (last_cli != kv.end() && last_cli->second == cli && stored != kv.end()) {
            value = stored->second == "1";
            return;
        }
        store_->set_setting(key + "_cli", cli);
        store_->set_setting(key, cli);
    };
    pick("dht_enabled", cfg_.settings.dht);
    pick("lpd_enabled", cfg_.settings.lsd);
    pick("utp_enabled", cfg_.settings.utp);
    // With TCP off (--no-tcp) uTP is the only transport, whatever was stored.
    if (!cfg_.settings.tcp) cfg_.settings.utp = true;
}

void Daemon::set_dht(bool on) {
    std::lock_guard lk(mu_);
    session_->set_dht(on);
    store_->set_setting("dht_enabled", flag(on));
    cfg_.settings.dht = on;
}

void Daemon::set_lsd(bool on) {
    std::lock_guard lk(mu_);
    session_->set_lsd(on);
    store_->set_setting("lpd_enabled", flag(on));
    cfg_.settings.lsd = on;
}

void Daemon::set_utp(bool on) {
    std::lock_guard lk(mu_);
    session_->set_utp(on);
    store_->set_setting("utp_enabled", flag(on));
    cfg_.settings.utp = on;
}

}  // namespace pw::daemon

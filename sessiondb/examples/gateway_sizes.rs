//! Prints the memory of the gateway and of one session's worth of state
//! (see docs/PERFORMANCE.md).
use core::mem::size_of;

fn main() {
    println!(
        "Gateway16  (16 sessions):  {:>8} bytes",
        size_of::<sessiondb::gateway::Gateway16>()
    );
    println!(
        "Gateway256 (256 sessions): {:>8} bytes",
        size_of::<sessiondb::gateway::Gateway256>()
    );
    println!(
        "Config:                    {:>8} bytes",
        size_of::<sessiondb::Config>()
    );
    println!(
        "Dialer:                    {:>8} bytes",
        size_of::<sessiondb::dialer::Dialer>()
    );
    println!(
        "ppp_core::Link:            {:>8} bytes",
        size_of::<ppp_core::Link>()
    );
    println!(
        "esp_core::Sa:              {:>8} bytes",
        size_of::<esp_core::Sa>()
    );
    println!(
        "Session record:            {:>8} bytes",
        size_of::<sessiondb::Session>()
    );
    println!(
        "Client slot (PEER_SIZE):   {:>8} bytes (includes the PPP link)",
        sessiondb::gateway::PEER_SIZE
    );

    // One complete session: what a connected client holds in each table.
    let l2tp = l2tp_core::tunnel_size::<sessiondb::gateway::PeerId>() + l2tp_core::session_size();
    let parts = [
        ("IKE SA", ike_core::IKE_SA_SIZE),
        ("2 ESP SAs", 2 * size_of::<esp_core::Sa>()),
        ("L2TP tunnel + session", l2tp),
        ("client slot with PPP link", sessiondb::gateway::PEER_SIZE),
        ("session record", size_of::<sessiondb::Session>()),
    ];
    println!();
    let mut total = 0;
    for (what, bytes) in parts {
        println!("  {what:<27} {bytes:>6} bytes");
        total += bytes;
    }
    println!("One complete session:      {total:>8} bytes (budget 4096)");

    // What one more session costs in a gateway sized as Gateway16 and
    // Gateway256 are (2 IKE slots, 4 ESP slots for rekeying, a quarter of
    // an exchange slot and of a RADIUS request per session).
    let marginal = (size_of::<sessiondb::gateway::Gateway256>()
        - size_of::<sessiondb::gateway::Gateway16>())
        / (256 - 16);
    println!("Gateway bytes per session:   {marginal:>6} bytes (Gateway16 -> Gateway256)");
    println!(
        "  IKE exchange slot:         {:>6} bytes",
        ike_core::EXCHANGE_SIZE
    );
}

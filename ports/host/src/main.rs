//! `lns`: the L2TP/IPsec gateway as a userspace Linux server and client, and
//! the many-client simulator. See the README.

fn main() {
    eprintln!("lns: the gateway subcommands arrive with the sessiondb Gateway (issue 8)");
    std::process::exit(2);
}

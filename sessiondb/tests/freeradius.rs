//! The gateway against a real FreeRADIUS (Debian's `freeradius`), started
//! by this test on loopback with a users file and a detail file of its own:
//! PAP, CHAP, MS-CHAPv2 and EAP-MD5 (proxied) logins, and accounting Start
//! and Stop read back from the detail file.
//!
//! Needs `freeradius` installed; `.ci/run` installs it and runs this test
//! with `--ignored` (it is ignored by default so that `cargo test` stays
//! green on a machine without it).
#![allow(clippy::cast_possible_truncation)]

mod sim;

use ppp_core::AuthMethod;
use sim::{Sim, big_stack, config};
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const AUTH_PORT: u16 = 18121;
const ACCT_PORT: u16 = 18131;

struct Server {
    child: Child,
    dir: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn edit(path: &Path, f: impl FnOnce(String) -> String) {
    let text = std::fs::read_to_string(path).unwrap();
    std::fs::write(path, f(text)).unwrap();
}

/// A private copy of Debian's configuration: loopback ports, our users, the
/// detail file in the copy, running as the current user.
fn start_freeradius() -> Server {
    let dir = std::env::temp_dir().join(format!("lns-freeradius-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let ok = Command::new("cp")
        .args(["-r", "/etc/freeradius/3.0"])
        .arg(&dir)
        .status()
        .unwrap();
    assert!(
        ok.success(),
        "copy of /etc/freeradius/3.0 (is freeradius installed?)"
    );
    for sub in ["radacct", "log"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    let d = dir.display().to_string();
    edit(&dir.join("radiusd.conf"), |t| {
        t.replace("\tuser = freerad", "\tuser = root")
            .replace("\tgroup = freerad", "\tgroup = root")
            .replace(
                "radacctdir = ${logdir}/radacct",
                &format!("radacctdir = {d}/radacct"),
            )
            .replace("logdir = /var/log/freeradius", &format!("logdir = {d}/log"))
    });
    edit(&dir.join("sites-enabled/default"), |t| {
        let t = t.replacen("\tipaddr = *\n", "\tipaddr = 127.0.0.1\n", 2);
        let mut parts = t.split("\tport = 0\n");
        let mut out = String::new();
        out.push_str(parts.next().unwrap());
        out.push_str(&format!("\tport = {AUTH_PORT}\n"));
        out.push_str(parts.next().unwrap());
        out.push_str(&format!("\tport = {ACCT_PORT}\n"));
        out.push_str(&parts.collect::<Vec<_>>().join("\tport = 0\n"));
        out.replace("\tipaddr = ::\n", "\tipaddr = ::1\n")
    });
    let _ = std::fs::remove_file(dir.join("sites-enabled/inner-tunnel"));
    edit(&dir.join("mods-config/files/authorize"), |t| {
        format!(
            "carol Cleartext-Password := \"carol-pw\"\n\tSession-Timeout = 600,\n\tClass = \"gold\"\n\ndave Cleartext-Password := \"dave-pw\"\n\tFramed-IP-Address = 10.10.0.200\n\n{t}"
        )
    });
    let child = Command::new("freeradius")
        .args(["-f", "-l", "stdout", "-d"])
        .arg(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("freeradius starts");
    // Wait until it answers a Status-Server-free probe: an Access-Request
    // for an unknown user gets a Reject once it is listening.
    let probe = UdpSocket::bind("127.0.0.1:0").unwrap();
    probe
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    for _ in 0..100 {
        let req = [
            1u8, 1, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        let _ = probe.send_to(&req, ("127.0.0.1", AUTH_PORT));
        let mut buf = [0u8; 64];
        if probe.recv_from(&mut buf).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Server { child, dir }
}

fn radius_config(methods: &str) -> sessiondb::Config {
    config(&format!(
        "aaa-server FR protocol radius
aaa-server FR (inside) host 127.0.0.1
 key testing123
 authentication-port {AUTH_PORT}
 accounting-port {ACCT_PORT}
 timeout 5
 retry-interval 2
tunnel-group DefaultRAGroup general-attributes
 authentication-server-group FR
 accounting-server-group FR
tunnel-group DefaultRAGroup ppp-attributes
{methods}"
    ))
}

#[test]
#[ignore = "needs FreeRADIUS; .ci/run installs it and runs this with --ignored"]
fn logins_and_accounting_against_freeradius() {
    big_stack(|| {
        let server = start_freeradius();
        let methods = " authentication pap\n authentication chap\n authentication ms-chap-v2\n authentication eap-proxy\n";
        let mut sim = Sim::new(radius_config(methods), 21);
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(3)))
            .unwrap();
        sim.real_radius = Some(socket);
        let clients = [
            ("carol", "carol-pw", AuthMethod::Pap),
            ("carol", "carol-pw", AuthMethod::ChapMd5),
            ("carol", "carol-pw", AuthMethod::MsChapV2),
            ("dave", "dave-pw", AuthMethod::Eap),
            ("dave", "wrong", AuthMethod::MsChapV2),
        ];
        for (user, pw, method) in clients {
            let c = sim.add_client(true, user, pw, method);
            sim.connect(c);
        }
        sim.run_until(Duration::from_secs(40));
        for (i, (user, _, method)) in clients.iter().enumerate().take(4) {
            assert!(
                sim.clients[i].address.is_some(),
                "{user} with {method:?} up: {:?} {:?}",
                sim.clients[i].events,
                sim.gateway_events
            );
        }
        assert!(
            sim.clients[4].address.is_none(),
            "wrong password refused by FreeRADIUS"
        );
        assert_eq!(
            sim.clients[3].address,
            Some(std::net::Ipv4Addr::new(10, 10, 0, 200)),
            "Framed-IP-Address from the users file"
        );
        for i in 0..4 {
            let now = sim.now;
            sim.clients[i].dialer.disconnect(now, &mut sim.client_rng);
        }
        sim.flush();
        sim.run_until(sim.now + Duration::from_secs(30));

        // The detail file FreeRADIUS wrote for our accounting.
        let mut detail = String::new();
        for entry in walk(&server.dir.join("radacct")) {
            detail.push_str(&std::fs::read_to_string(entry).unwrap());
        }
        let starts = detail.matches("Acct-Status-Type = Start").count();
        let stops = detail.matches("Acct-Status-Type = Stop").count();
        assert_eq!((starts, stops), (4, 4), "{detail}");
        assert!(
            detail.contains("Acct-Terminate-Cause = User-Request"),
            "{detail}"
        );
        assert!(
            detail.contains("Class = 0x676f6c64"),
            "Class echoed: {detail}"
        );
        assert!(detail.contains("Tunnel-Type:0 = L2TP"), "{detail}");
        assert!(
            detail.contains("Framed-IP-Address = 10.10.0.200"),
            "{detail}"
        );
        let stop_records: Vec<&str> = detail
            .split("\n\n")
            .filter(|r| r.contains("Acct-Status-Type = Stop"))
            .collect();
        for r in &stop_records {
            assert!(
                r.contains("Framed-IP-Address = 10.10.0."),
                "Stop carries the address: {r}"
            );
            assert!(r.contains("Acct-Session-Time = "), "{r}");
            assert!(r.contains("Acct-Input-Octets = "), "{r}");
        }
        println!("FreeRADIUS detail file:\n{detail}");
    });
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

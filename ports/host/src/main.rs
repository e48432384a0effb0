//! `lns`: the L2TP/IPsec gateway as a userspace Linux server and client,
//! and the many-client simulator. See the README and `lns --help`.

use lns_host::cli::{self, Command};
use lns_host::{client, ctl, run_big, server, sim, sys};
use std::process::ExitCode;

fn main() -> ExitCode {
    let invocation = match cli::parse(std::env::args().skip(1).collect()) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("lns: {e}\n\n{}", cli::USAGE);
            return ExitCode::from(2);
        }
    };
    lns_host::logger::init(invocation.verbosity);
    match invocation.command {
        Command::Help => {
            print!("{}", cli::USAGE);
            ExitCode::SUCCESS
        }
        Command::CheckConfig(path) => check_config(&path),
        Command::Ctl { ctl: path, line } => {
            let path = ctl::path(path.as_deref());
            match ctl::request(&path, &line, &mut std::io::stdout()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("lns ctl: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Simulate(args) => match run_big(move || sim::run(&args)) {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::FAILURE,
            Err(e) => {
                eprintln!("lns simulate: {e}");
                ExitCode::FAILURE
            }
        },
        Command::Serve(args) => {
            // Signals are blocked before the gateway's thread starts, so
            // that they reach it through the signalfd only.
            let signals = match sys::Signals::new() {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("lns serve: signals: {e}");
                    return ExitCode::FAILURE;
                }
            };
            match run_big(move || server::run(args, signals)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("lns serve: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Connect(args) => {
            let signals = match sys::Signals::new() {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("lns connect: signals: {e}");
                    return ExitCode::FAILURE;
                }
            };
            match run_big(move || client::run(args, signals)) {
                Ok(client::Outcome::HungUp) => ExitCode::SUCCESS,
                Ok(client::Outcome::Failed) => ExitCode::FAILURE,
                Err(e) => {
                    eprintln!("lns connect: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// `check-config FILE`: the first bad line, or the running configuration
/// (keys masked) with a note of each line that was skipped.
fn check_config(path: &std::path::Path) -> ExitCode {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("lns check-config: {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    };
    let mut skipped = Vec::new();
    let parsed = sessiondb::Config::parse_with(&text, |n| {
        let sessiondb::config::Notice::Ignored { line, text } = n else {
            return;
        };
        skipped.push(format!(
            "{}:{line}: skipped (not part of this feature): {text}",
            path.display()
        ));
    });
    for s in &skipped {
        eprintln!("{s}");
    }
    match parsed {
        Ok(config) => {
            let mut out = String::new();
            let _ = config.write_running_config(&mut out, sessiondb::SecretDisplay::Masked);
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{}: {}", path.display(), e);
            ExitCode::FAILURE
        }
    }
}

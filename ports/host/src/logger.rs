//! A small `log` backend: one line per record on standard error, with the
//! time since start, the level and the module. The level comes from
//! `LNS_LOG` (`error`, `warn`, `info`, `debug`, `trace`; default `info`)
//! or from `-v`/`-q` on the command line; `LNS_LOG=debug,esp_core=trace`
//! sets a module's level apart.
//!
//! It is twenty lines rather than a dependency: the port needs nothing of
//! `env_logger` beyond a level per module, and the cores already log
//! through `log` when their `log` feature is on.

use log::{Level, LevelFilter, Log, Metadata, Record};
use std::io::Write;
use std::sync::OnceLock;
use std::time::Instant;

struct Logger {
    start: Instant,
    default: LevelFilter,
    modules: Vec<(String, LevelFilter)>,
}

static LOGGER: OnceLock<Logger> = OnceLock::new();

impl Logger {
    fn level_for(&self, target: &str) -> LevelFilter {
        self.modules
            .iter()
            .filter(|(m, _)| target.starts_with(m.as_str()))
            .max_by_key(|(m, _)| m.len())
            .map_or(self.default, |(_, l)| *l)
    }
}

impl Log for Logger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= self.level_for(metadata.target())
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let t = self.start.elapsed();
        let level = match record.level() {
            Level::Error => "ERROR",
            Level::Warn => "WARN ",
            Level::Info => "INFO ",
            Level::Debug => "DEBUG",
            Level::Trace => "TRACE",
        };
        let mut err = std::io::stderr().lock();
        let _ = writeln!(
            err,
            "{:>5}.{:03} {level} {}: {}",
            t.as_secs(),
            t.subsec_millis(),
            record.target(),
            record.args()
        );
    }

    fn flush(&self) {
        let _ = std::io::stderr().flush();
    }
}

/// Parses `LNS_LOG`-style settings: `LEVEL` and `module=LEVEL`, separated
/// by commas. Unknown words are ignored.
pub fn parse_spec(spec: &str, default: LevelFilter) -> (LevelFilter, Vec<(String, LevelFilter)>) {
    let mut level = default;
    let mut modules = Vec::new();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once('=') {
            Some((module, l)) => {
                if let Ok(l) = l.parse() {
                    modules.push((module.replace('-', "_"), l));
                }
            }
            None => {
                if let Ok(l) = part.parse() {
                    level = l;
                }
            }
        }
    }
    (level, modules)
}

/// Installs the logger once; `verbosity` moves the default level up
/// (`-v`) or down (`-q`) from `info`, and `LNS_LOG` overrides it.
pub fn init(verbosity: i8) {
    let base = match verbosity {
        i8::MIN..=-2 => LevelFilter::Error,
        -1 => LevelFilter::Warn,
        0 => LevelFilter::Info,
        1 => LevelFilter::Debug,
        2..=i8::MAX => LevelFilter::Trace,
    };
    let spec = std::env::var("LNS_LOG").unwrap_or_default();
    let (default, modules) = parse_spec(&spec, base);
    let max = modules
        .iter()
        .map(|(_, l)| *l)
        .chain([default])
        .max()
        .unwrap_or(default);
    let logger = LOGGER.get_or_init(|| Logger {
        start: Instant::now(),
        default,
        modules,
    });
    if log::set_logger(logger).is_ok() {
        log::set_max_level(max);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_sets_default_and_module_levels() {
        let (d, m) = parse_spec(
            "debug,esp-core=trace, ike_core=warn,bogus",
            LevelFilter::Info,
        );
        assert_eq!(d, LevelFilter::Debug);
        assert_eq!(
            m,
            vec![
                ("esp_core".to_string(), LevelFilter::Trace),
                ("ike_core".to_string(), LevelFilter::Warn)
            ]
        );
        let logger = Logger {
            start: Instant::now(),
            default: d,
            modules: m,
        };
        assert_eq!(logger.level_for("esp_core::sa"), LevelFilter::Trace);
        assert_eq!(logger.level_for("lns_host::server"), LevelFilter::Debug);
        assert_eq!(parse_spec("", LevelFilter::Warn).0, LevelFilter::Warn);
    }
}

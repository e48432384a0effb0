//! Arbitrary text into the configuration parser: no panic; every error names
//! a line that exists; every configuration that parses prints a
//! `show running-config` that parses back to the same model.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sessiondb::config::{Config, Notice, SecretDisplay};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let lines = u32::try_from(text.split('\n').count()).unwrap_or(u32::MAX);
    let result = Config::parse_with(&text, |n| match n {
        Notice::Ignored { line, .. } => assert!(line >= 1 && line <= lines),
        _ => {}
    });
    match result {
        Err(e) => {
            assert!(e.line >= 1 && e.line <= lines, "line {} of {lines}", e.line);
            let shown = e.to_string();
            assert!(shown.starts_with(&format!("line {}: ", e.line)));
        }
        Ok(config) => {
            let clear = config.running_config(SecretDisplay::Clear).to_string();
            let again = match Config::parse(&clear) {
                Ok(c) => c,
                Err(e) => panic!("printed configuration does not parse: {e}\n{clear}"),
            };
            assert_eq!(again, config, "round trip changed the model:\n{clear}");
            let _ = config.running_config(SecretDisplay::Masked).to_string();
        }
    }
});

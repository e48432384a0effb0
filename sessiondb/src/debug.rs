//! `debug l2tp {data | error | event | packet} LEVEL`, `no debug l2tp ...`,
//! `show debug`, and the sink the cores' events pass through on their way
//! to the console.
//!
//! As the chapter describes: `data` traces data packets, `error` shows error
//! events, `event` shows L2TP connection events, `packet` traces control
//! packets; the level is 1..=255 (default 1), a higher level shows more.
//! A message of level `n` in class `c` is shown when `c` is enabled at a
//! level of at least `n`.

use core::fmt::{self, Write};

/// A class of L2TP debug messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DebugClass {
    /// `data`: data packet trace.
    Data,
    /// `error`: error events.
    Error,
    /// `event`: L2TP connection events.
    Event,
    /// `packet`: packet trace.
    Packet,
}

impl DebugClass {
    /// All classes, in the order `show debug` lists them.
    pub const ALL: [DebugClass; 4] = [
        DebugClass::Data,
        DebugClass::Error,
        DebugClass::Event,
        DebugClass::Packet,
    ];

    /// The command keyword.
    pub const fn keyword(self) -> &'static str {
        match self {
            DebugClass::Data => "data",
            DebugClass::Error => "error",
            DebugClass::Event => "event",
            DebugClass::Packet => "packet",
        }
    }

    /// The class named by `s` (without regard to case).
    pub fn from_keyword(s: &str) -> Option<Self> {
        DebugClass::ALL
            .into_iter()
            .find(|c| c.keyword().eq_ignore_ascii_case(s))
    }

    const fn slot(self) -> usize {
        match self {
            DebugClass::Data => 0,
            DebugClass::Error => 1,
            DebugClass::Event => 2,
            DebugClass::Packet => 3,
        }
    }
}

/// The default `debug l2tp` level.
pub const DEFAULT_LEVEL: u8 = 1;

/// Which classes are enabled, at which level (0: off).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct DebugSettings {
    levels: [u8; 4],
}

impl DebugSettings {
    /// Everything off.
    pub const fn new() -> Self {
        DebugSettings { levels: [0; 4] }
    }

    /// `debug l2tp CLASS LEVEL` (level 0 is taken as 1: the appliance's
    /// range is 1..=255).
    pub fn enable(&mut self, class: DebugClass, level: u8) {
        self.levels[class.slot()] = level.max(1);
    }

    /// `no debug l2tp CLASS`.
    pub fn disable(&mut self, class: DebugClass) {
        self.levels[class.slot()] = 0;
    }

    /// `no debug all` / `undebug all`.
    pub fn disable_all(&mut self) {
        self.levels = [0; 4];
    }

    /// The level a class is enabled at.
    pub fn level(&self, class: DebugClass) -> Option<u8> {
        match self.levels[class.slot()] {
            0 => None,
            l => Some(l),
        }
    }

    /// `true` if a message of `level` in `class` is to be shown.
    pub fn enabled(&self, class: DebugClass, level: u8) -> bool {
        let l = self.levels[class.slot()];
        l != 0 && level <= l
    }

    /// `show debug`: one line per enabled class, e.g.
    /// `debug l2tp event enabled at level 1`.
    ///
    /// # Errors
    /// Only those of `out`.
    pub fn write_show_debug(&self, out: &mut impl Write) -> fmt::Result {
        for c in DebugClass::ALL {
            if let Some(l) = self.level(c) {
                writeln!(out, "debug l2tp {} enabled at level {l}", c.keyword())?;
            }
        }
        Ok(())
    }
}

/// A debug sink: messages pass through [`DebugSink::log`] and reach the
/// console writer only when their class is enabled at their level.
///
/// The gateway formats the cores' events into it; nothing secret may be
/// passed (the configuration and session types print no key or password
/// through `Debug`). On firmware the writer is [`LoggerLines`], which hands
/// each line to `defmt` (or `log`).
#[derive(Debug)]
pub struct DebugSink<W> {
    /// What is enabled.
    pub settings: DebugSettings,
    out: W,
    shown: u64,
    suppressed: u64,
}

impl<W: Write> DebugSink<W> {
    /// A sink writing to `out`, everything off.
    pub fn new(out: W) -> Self {
        DebugSink {
            settings: DebugSettings::new(),
            out,
            shown: 0,
            suppressed: 0,
        }
    }

    /// `true` if a message of `level` in `class` would be shown; lets a
    /// caller skip building an expensive message.
    pub fn enabled(&self, class: DebugClass, level: u8) -> bool {
        self.settings.enabled(class, level)
    }

    /// Shows `args` as one line if `class` is enabled at `level` or above.
    ///
    /// # Errors
    /// Only those of the writer.
    pub fn log(&mut self, class: DebugClass, level: u8, args: fmt::Arguments<'_>) -> fmt::Result {
        if !self.settings.enabled(class, level) {
            self.suppressed += 1;
            return Ok(());
        }
        self.shown += 1;
        self.out.write_fmt(args)?;
        self.out.write_char('\n')
    }

    /// Messages shown and suppressed so far.
    pub fn counts(&self) -> (u64, u64) {
        (self.shown, self.suppressed)
    }

    /// The writer.
    pub fn writer(&self) -> &W {
        &self.out
    }

    /// The writer, to drain it.
    pub fn writer_mut(&mut self) -> &mut W {
        &mut self.out
    }
}

/// A `fmt::Write` that hands each complete line to the logger of the
/// `defmt` or `log` feature (at info level), and drops the text when neither
/// is enabled. Lines longer than 200 bytes are split.
#[derive(Debug, Default)]
pub struct LoggerLines {
    line: heapless::String<200>,
}

impl LoggerLines {
    /// An empty line buffer.
    pub const fn new() -> Self {
        LoggerLines {
            line: heapless::String::new(),
        }
    }

    fn flush(&mut self) {
        #[cfg(feature = "defmt")]
        defmt::info!("{=str}", self.line.as_str());
        #[cfg(feature = "log")]
        log::info!("{}", self.line.as_str());
        self.line.clear();
    }
}

impl Write for LoggerLines {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            if c == '\n' {
                self.flush();
            } else if self.line.push(c).is_err() {
                self.flush();
                let _ = self.line.push(c);
            }
        }
        Ok(())
    }
}

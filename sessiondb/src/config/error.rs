//! Configuration errors: a `Copy` value naming the line, the command or mode,
//! what is wrong, and a short copy of the offending token.

use core::fmt;

/// Bytes of the offending token an error keeps.
pub const SNIPPET_LEN: usize = 40;

/// A short, fixed-capacity copy of a token (truncated at a character
/// boundary), so that an error can be `Copy` without borrowing the text.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Snippet {
    len: u8,
    truncated: bool,
    buf: [u8; SNIPPET_LEN],
}

impl Snippet {
    /// The empty snippet.
    pub const EMPTY: Snippet = Snippet {
        len: 0,
        truncated: false,
        buf: [0; SNIPPET_LEN],
    };

    /// Copies at most [`SNIPPET_LEN`] bytes of `s`, cut at a character boundary.
    pub fn new(s: &str) -> Self {
        let mut end = s.len().min(SNIPPET_LEN);
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        let mut buf = [0u8; SNIPPET_LEN];
        buf[..end].copy_from_slice(&s.as_bytes()[..end]);
        Snippet {
            // `end <= SNIPPET_LEN = 40`, so it fits a u8.
            len: u8::try_from(end).unwrap_or(0),
            truncated: end < s.len(),
            buf,
        }
    }

    /// The copied text.
    pub fn as_str(&self) -> &str {
        // Built from a `&str` cut at a char boundary, so always valid UTF-8.
        core::str::from_utf8(&self.buf[..usize::from(self.len)]).unwrap_or("")
    }

    /// `true` if the original was longer than what is kept.
    pub fn is_truncated(&self) -> bool {
        self.truncated
    }
}

impl fmt::Display for Snippet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())?;
        if self.truncated {
            f.write_str("...")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Snippet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

/// A sub-command mode of the configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ModeKind {
    /// `group-policy NAME attributes`.
    GroupPolicy,
    /// `tunnel-group NAME general-attributes`.
    TunnelGeneral,
    /// `tunnel-group NAME ipsec-attributes`.
    TunnelIpsec,
    /// `tunnel-group NAME ppp-attributes`.
    TunnelPpp,
    /// `username NAME attributes`.
    Username,
    /// `crypto isakmp policy N`.
    IsakmpPolicy,
    /// `aaa-server G protocol P`.
    AaaGroup,
    /// `aaa-server G (IF) host IP`.
    AaaHost,
}

/// Where on the line the error is: a global command, or a mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Context {
    /// A global command, named by its leading keywords.
    Command(&'static str),
    /// A sub-command of a mode; `name` is the object the mode configures.
    Mode {
        /// Which mode.
        mode: ModeKind,
        /// The group, user, policy number or server the mode configures.
        name: Snippet,
    },
}

impl fmt::Display for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Context::Command(c) => f.write_str(c),
            Context::Mode { mode, name } => match mode {
                ModeKind::GroupPolicy => write!(f, "group-policy {name} attributes"),
                ModeKind::TunnelGeneral => write!(f, "tunnel-group {name} general-attributes"),
                ModeKind::TunnelIpsec => write!(f, "tunnel-group {name} ipsec-attributes"),
                ModeKind::TunnelPpp => write!(f, "tunnel-group {name} ppp-attributes"),
                ModeKind::Username => write!(f, "username {name} attributes"),
                ModeKind::IsakmpPolicy => write!(f, "crypto isakmp policy {name}"),
                ModeKind::AaaGroup => write!(f, "aaa-server {name}"),
                ModeKind::AaaHost => write!(f, "aaa-server host {name}"),
            },
        }
    }
}

/// What is wrong with a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A form of a command this configuration language owns, but not one it knows.
    UnknownCommand,
    /// A sub-command the current mode does not have.
    UnknownAttribute,
    /// A keyword that is not one of those allowed here.
    UnknownKeyword {
        /// What is allowed.
        expected: &'static str,
    },
    /// The line ends before a required argument.
    MissingArgument {
        /// What was expected.
        expected: &'static str,
    },
    /// More arguments than the command takes.
    TrailingArgument,
    /// Not a number.
    InvalidNumber,
    /// A number outside the allowed range.
    OutOfRange {
        /// Smallest allowed value.
        min: u32,
        /// Largest allowed value.
        max: u32,
    },
    /// Not a dotted-quad IPv4 address.
    InvalidAddress,
    /// A pool whose last address is below its first, or a bad `FIRST-LAST`.
    InvalidRange,
    /// A mask that is not a contiguous prefix.
    InvalidMask,
    /// A name longer than the model keeps.
    NameTooLong {
        /// The limit in bytes.
        max: u16,
    },
    /// A fixed-capacity list of the model is full.
    TooMany {
        /// What the list holds.
        what: &'static str,
        /// Its capacity.
        max: u16,
    },
    /// A reference to something not defined (before this line).
    Undefined {
        /// What kind of object.
        what: &'static str,
    },
    /// A definition that conflicts with an earlier one.
    Conflict {
        /// What conflicts.
        what: &'static str,
    },
    /// A password outside the appliance's 3..=32 characters.
    PasswordLength,
    /// A secret longer than its limit.
    SecretTooLong {
        /// The limit in bytes.
        max: u16,
    },
    /// An `encrypted` / `nt-encrypted` password that is not a valid hash form.
    InvalidHash,
    /// `*****`: the masked form `show running-config` prints in place of a key.
    MaskedSecret,
    /// An indented sub-command with no mode open.
    NotInMode,
}

/// A configuration error: line number (1-based), context, kind and token.
///
/// Displays as `line 12: tunnel-group DefaultRAGroup general-attributes:
/// unknown attribute 'adress-pool'`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The 1-based line number.
    pub line: u32,
    /// The command or mode the line belongs to.
    pub context: Context,
    /// What is wrong.
    pub kind: ErrorKind,
    /// The offending token (empty when the problem is a missing one).
    pub token: Snippet,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}: ", self.line, self.context)?;
        let t = &self.token;
        match self.kind {
            ErrorKind::UnknownCommand => write!(f, "unknown command '{t}'"),
            ErrorKind::UnknownAttribute => write!(f, "unknown attribute '{t}'"),
            ErrorKind::UnknownKeyword { expected } => {
                write!(f, "unknown keyword '{t}', expected {expected}")
            }
            ErrorKind::MissingArgument { expected } => write!(f, "missing {expected}"),
            ErrorKind::TrailingArgument => write!(f, "unexpected argument '{t}'"),
            ErrorKind::InvalidNumber => write!(f, "'{t}' is not a number"),
            ErrorKind::OutOfRange { min, max } => {
                write!(f, "'{t}' is out of range {min}..{max}")
            }
            ErrorKind::InvalidAddress => write!(f, "'{t}' is not an IPv4 address"),
            ErrorKind::InvalidRange => write!(f, "'{t}' is not an address range FIRST-LAST"),
            ErrorKind::InvalidMask => write!(f, "'{t}' is not a network mask"),
            ErrorKind::NameTooLong { max } => write!(f, "name '{t}' is longer than {max} bytes"),
            ErrorKind::TooMany { what, max } => {
                write!(f, "too many {what} (at most {max}) at '{t}'")
            }
            ErrorKind::Undefined { what } => write!(f, "{what} '{t}' does not exist"),
            ErrorKind::Conflict { what } => write!(f, "'{t}' conflicts with an earlier {what}"),
            ErrorKind::PasswordLength => write!(f, "password must be 3 to 32 characters"),
            ErrorKind::SecretTooLong { max } => write!(f, "key is longer than {max} bytes"),
            ErrorKind::InvalidHash => write!(f, "not a valid encrypted password form"),
            ErrorKind::MaskedSecret => write!(
                f,
                "'*****' is the masked form printed by show running-config; enter the key itself"
            ),
            ErrorKind::NotInMode => write!(f, "sub-command '{t}' outside any mode"),
        }
    }
}

impl core::error::Error for ConfigError {}

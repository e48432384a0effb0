//! `lns ctl`: a running `lns serve` takes operator commands on a Unix
//! stream socket. The protocol is one command line in, its output back,
//! then the server closes the connection. `monitor` instead keeps the
//! connection open and streams every `debug l2tp` line to it, as the
//! appliance's `terminal monitor` does.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where `serve` listens and `ctl` connects unless told otherwise
/// (`--ctl PATH` or `LNS_CTL`).
pub const DEFAULT_PATH: &str = "/run/lns.sock";

/// The socket path from `--ctl`, `LNS_CTL` or the default.
pub fn path(flag: Option<&Path>) -> PathBuf {
    flag.map(Path::to_path_buf)
        .or_else(|| std::env::var_os("LNS_CTL").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(DEFAULT_PATH))
}

/// At most this many connections at once; more are refused.
const MAX_CONNECTIONS: usize = 16;
/// Longest command line.
const MAX_LINE: usize = 4096;

/// What the server does with a command line.
#[derive(Debug)]
pub enum Reply {
    /// Send this output and close.
    Text(String),
    /// Keep the connection and stream debug lines to it.
    Monitor,
}

#[derive(Debug)]
struct Connection {
    stream: UnixStream,
    input: Vec<u8>,
    monitor: bool,
    done: bool,
}

/// The server side: a listening socket and its connections.
#[derive(Debug)]
pub struct CtlServer {
    listener: UnixListener,
    path: PathBuf,
    connections: Vec<Connection>,
}

impl CtlServer {
    /// Listens on `path`. A socket file left by a server that is gone is
    /// replaced; one that answers means another server runs.
    ///
    /// # Errors
    /// Socket errors, or another server on `path`.
    pub fn bind(path: &Path) -> io::Result<Self> {
        if path.exists() {
            if UnixStream::connect(path).is_ok() {
                return Err(io::Error::new(
                    io::ErrorKind::AddrInUse,
                    format!("{}: another lns serve is running", path.display()),
                ));
            }
            std::fs::remove_file(path)?;
        }
        let listener = UnixListener::bind(path)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        listener.set_nonblocking(true)?;
        Ok(Self {
            listener,
            path: path.to_path_buf(),
            connections: Vec::new(),
        })
    }

    /// The descriptors to poll for reading.
    pub fn fds(&self) -> impl Iterator<Item = RawFd> + '_ {
        std::iter::once(self.listener.as_raw_fd())
            .chain(self.connections.iter().map(|c| c.stream.as_raw_fd()))
    }

    /// Accepts new connections, reads what arrived, runs each complete line
    /// through `run` and answers.
    pub fn service(&mut self, mut run: impl FnMut(&str) -> Reply) {
        while let Ok((stream, _)) = self.listener.accept() {
            if self.connections.len() >= MAX_CONNECTIONS || stream.set_nonblocking(true).is_err() {
                continue;
            }
            self.connections.push(Connection {
                stream,
                input: Vec::new(),
                monitor: false,
                done: false,
            });
        }
        for c in &mut self.connections {
            let mut chunk = [0u8; 1024];
            loop {
                match c.stream.read(&mut chunk) {
                    Ok(0) => {
                        if !c.monitor {
                            c.done = true;
                        }
                        break;
                    }
                    Ok(n) => c.input.extend_from_slice(&chunk[..n]),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(_) => {
                        c.done = true;
                        break;
                    }
                }
                if c.input.len() > MAX_LINE {
                    c.done = true;
                    break;
                }
            }
            while let Some(end) = c.input.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = c.input.drain(..=end).collect();
                let line = String::from_utf8_lossy(&line);
                match run(line.trim()) {
                    Reply::Monitor => c.monitor = true,
                    Reply::Text(text) => {
                        write_all_blocking(&mut c.stream, text.as_bytes());
                        c.done = true;
                    }
                }
            }
        }
        self.connections.retain(|c| !c.done);
    }

    /// Sends a debug line to every monitoring connection (dropped for a
    /// connection that does not keep up).
    pub fn broadcast(&mut self, line: &str) {
        for c in self.connections.iter_mut().filter(|c| c.monitor) {
            let mut bytes = Vec::with_capacity(line.len() + 1);
            bytes.extend_from_slice(line.as_bytes());
            bytes.push(b'\n');
            match c.stream.write(&bytes) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(_) => c.done = true,
            }
        }
        self.connections.retain(|c| !c.done);
    }
}

/// Writes a reply; a client that does not read for a second loses it.
fn write_all_blocking(stream: &mut UnixStream, bytes: &[u8]) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
    let _ = stream.write_all(bytes);
}

impl Drop for CtlServer {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The client side: sends `line`, copies the answer to `out` until the
/// server closes (for `monitor`, until interrupted).
///
/// # Errors
/// Connection errors; the message names the socket and what to check.
pub fn request(path: &Path, line: &str, out: &mut impl Write) -> io::Result<()> {
    let mut stream = UnixStream::connect(path).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!(
                "{}: {e} (is `lns serve` running? --ctl PATH or LNS_CTL names its socket)",
                path.display()
            ),
        )
    })?;
    stream.write_all(line.trim().as_bytes())?;
    stream.write_all(b"\n")?;
    let mut reader = BufReader::new(stream);
    let mut buf = String::new();
    loop {
        buf.clear();
        if reader.read_line(&mut buf)? == 0 {
            break;
        }
        if let Err(e) = out.write_all(buf.as_bytes()).and_then(|()| out.flush()) {
            // Whoever reads the answer has gone (`lns ctl ... | grep -q`,
            // `| head`) and has what it wanted: stop quietly, as a command
            // ended by SIGPIPE would, rather than fail.
            if e.kind() == io::ErrorKind::BrokenPipe {
                return Ok(());
            }
            return Err(e);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_in_its_answer_out_and_monitors_get_broadcasts() {
        let dir = std::env::temp_dir().join(format!("lns-ctl-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("ctl.sock");
        let mut server = CtlServer::bind(&path).unwrap();
        assert!(
            CtlServer::bind(&path).is_err(),
            "a second server on a live socket is refused"
        );
        let client = {
            let path = path.clone();
            std::thread::spawn(move || {
                let mut out = Vec::new();
                request(&path, "show debug", &mut out).unwrap();
                String::from_utf8(out).unwrap()
            })
        };
        let mut seen = Vec::new();
        for _ in 0..200 {
            server.service(|line| {
                seen.push(line.to_string());
                Reply::Text(format!("answer to {line}\n"))
            });
            if !seen.is_empty() && server.connections.is_empty() {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(client.join().unwrap(), "answer to show debug\n");
        assert_eq!(seen, ["show debug"]);

        let mut monitor = UnixStream::connect(&path).unwrap();
        monitor.write_all(b"monitor\n").unwrap();
        for _ in 0..200 {
            server.service(|_| Reply::Monitor);
            if server.connections.iter().any(|c| c.monitor) {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        server.broadcast("L2TP: tunnel up");
        let mut line = String::new();
        BufReader::new(&monitor).read_line(&mut line).unwrap();
        assert_eq!(line, "L2TP: tunnel up\n");
        drop(server);
        assert!(!path.exists(), "the socket file is removed");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Output that takes one write and then reports its reader gone.
    struct ClosesAfterOne(Vec<u8>);

    impl Write for ClosesAfterOne {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            if self.0.is_empty() {
                self.0.extend_from_slice(b);
                Ok(b.len())
            } else {
                Err(io::ErrorKind::BrokenPipe.into())
            }
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_reader_that_stops_early_is_not_an_error() {
        let dir = std::env::temp_dir().join(format!("lns-ctl-pipe-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("ctl.sock");
        let mut server = CtlServer::bind(&path).unwrap();
        let client = {
            let path = path.clone();
            std::thread::spawn(move || {
                let mut out = ClosesAfterOne(Vec::new());
                let r = request(&path, "show vpn-sessiondb remote", &mut out);
                (r.map_err(|e| e.kind()), out.0)
            })
        };
        let mut answered = false;
        for _ in 0..200 {
            server.service(|_| {
                answered = true;
                Reply::Text("Username : erin\nIndex : 1\nAssigned IP : 10.78.0.10\n".into())
            });
            if answered && server.connections.is_empty() {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let (result, first) = client.join().unwrap();
        assert_eq!(result, Ok(()));
        assert_eq!(first, b"Username : erin\n");
        drop(server);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

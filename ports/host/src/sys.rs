//! The Linux syscalls std does not wrap: batched UDP I/O (`recvmmsg`,
//! `sendmmsg`), the TUN device, a raw socket for IP protocol 50, and
//! `poll`. Every `unsafe` block says why it is sound.
// The one module of the host port that calls into libc.
#![allow(unsafe_code)]
// Casts between the C types of small, fixed-size structures and constants.
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::OpenOptionsExt;
use std::time::Duration;

/// Room left in front of every received packet so that the layers of the
/// downlink can write their headers in place (ESP 24, UDP 8, L2TP 10, PPP 4,
/// rounded up), and the buffer size that takes any datagram.
pub const HEADROOM: usize = 64;
/// Receive buffer length: headroom, the largest IPv4 datagram we accept,
/// and ESP tailroom.
pub const BUF_LEN: usize = HEADROOM + 2048 + 64;

fn sockaddr_of(addr: SocketAddrV4) -> libc::sockaddr_in {
    libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: addr.port().to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from_ne_bytes(addr.ip().octets()),
        },
        sin_zero: [0; 8],
    }
}

fn addr_of(sa: &libc::sockaddr_in) -> SocketAddrV4 {
    SocketAddrV4::new(
        Ipv4Addr::from(sa.sin_addr.s_addr.to_ne_bytes()),
        u16::from_be(sa.sin_port),
    )
}

/// One `mmsghdr` per datagram, naming its address and its single iovec. The
/// headers hold pointers into `iovs` and `addrs`: use them before either moves.
fn message_headers(
    iovs: &mut [libc::iovec],
    addrs: &mut [libc::sockaddr_in],
) -> Vec<libc::mmsghdr> {
    iovs.iter_mut()
        .zip(addrs.iter_mut())
        .map(|(iov, addr)| {
            // SAFETY: mmsghdr is plain old data; the fields that matter are set below.
            let mut h: libc::mmsghdr = unsafe { std::mem::zeroed() };
            h.msg_hdr.msg_name = (addr as *mut libc::sockaddr_in).cast();
            h.msg_hdr.msg_namelen = size_of::<libc::sockaddr_in>() as libc::socklen_t;
            h.msg_hdr.msg_iov = iov;
            h.msg_hdr.msg_iovlen = 1;
            h
        })
        .collect()
}

/// Datagrams received with one `recvmmsg`, each at [`HEADROOM`] in its own
/// buffer.
pub struct RecvBatch {
    bufs: Vec<[u8; BUF_LEN]>,
    addrs: Vec<libc::sockaddr_in>,
    lens: Vec<usize>,
    count: usize,
}

impl std::fmt::Debug for RecvBatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecvBatch")
            .field("capacity", &self.bufs.len())
            .field("count", &self.count)
            .finish()
    }
}

impl RecvBatch {
    /// Buffers for `n` datagrams.
    pub fn new(n: usize) -> Self {
        Self {
            bufs: vec![[0u8; BUF_LEN]; n],
            // SAFETY: sockaddr_in is plain old data; all-zero is a valid value.
            addrs: vec![unsafe { std::mem::zeroed() }; n],
            lens: vec![0; n],
            count: 0,
        }
    }

    /// Receives what is waiting on a non-blocking socket (0 if nothing).
    ///
    /// # Errors
    /// The socket's error, except `WouldBlock`.
    pub fn recv(&mut self, socket: &UdpSocket) -> io::Result<usize> {
        let n = self.bufs.len();
        let mut iovs: Vec<libc::iovec> = self
            .bufs
            .iter_mut()
            .map(|b| libc::iovec {
                iov_base: b[HEADROOM..].as_mut_ptr().cast(),
                iov_len: BUF_LEN - HEADROOM,
            })
            .collect();
        let mut hdrs = message_headers(&mut iovs, &mut self.addrs);
        // SAFETY: every pointer in `hdrs` points into `iovs`, `self.addrs`
        // and `self.bufs`, which outlive the call and are not moved during
        // it; the lengths given are those of the buffers.
        let got = unsafe {
            libc::recvmmsg(
                socket.as_raw_fd(),
                hdrs.as_mut_ptr(),
                n as libc::c_uint,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
            )
        };
        if got < 0 {
            let e = io::Error::last_os_error();
            self.count = 0;
            return if e.kind() == io::ErrorKind::WouldBlock {
                Ok(0)
            } else {
                Err(e)
            };
        }
        self.count = usize::try_from(got).unwrap_or(0);
        for (len, h) in self.lens.iter_mut().zip(&hdrs).take(self.count) {
            *len = h.msg_len as usize;
        }
        Ok(self.count)
    }

    /// Datagrams from the last `recv`.
    pub fn len(&self) -> usize {
        self.count
    }

    /// No datagrams.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The sender, the whole buffer, and where the datagram lies in it.
    pub fn get(&mut self, i: usize) -> (SocketAddrV4, &mut [u8; BUF_LEN], std::ops::Range<usize>) {
        let from = addr_of(&self.addrs[i]);
        let len = self.lens[i];
        (from, &mut self.bufs[i], HEADROOM..HEADROOM + len)
    }
}

/// Sends many datagrams with one `sendmmsg`; returns how many went out.
///
/// # Errors
/// The socket's error (a full send buffer counts as sent-nothing, `Ok(0)`).
pub fn send_batch(socket: &UdpSocket, datagrams: &[(SocketAddrV4, &[u8])]) -> io::Result<usize> {
    if datagrams.is_empty() {
        return Ok(0);
    }
    let mut addrs: Vec<libc::sockaddr_in> =
        datagrams.iter().map(|(a, _)| sockaddr_of(*a)).collect();
    let mut iovs: Vec<libc::iovec> = datagrams
        .iter()
        .map(|(_, d)| libc::iovec {
            iov_base: d.as_ptr().cast_mut().cast(),
            iov_len: d.len(),
        })
        .collect();
    let mut hdrs = message_headers(&mut iovs, &mut addrs);
    // SAFETY: the pointers point into `addrs`, `iovs` and the caller's
    // slices, all alive for the call; sendmmsg only reads the data.
    let sent = unsafe {
        libc::sendmmsg(
            socket.as_raw_fd(),
            hdrs.as_mut_ptr(),
            hdrs.len() as libc::c_uint,
            libc::MSG_DONTWAIT,
        )
    };
    if sent < 0 {
        let e = io::Error::last_os_error();
        return if e.kind() == io::ErrorKind::WouldBlock {
            Ok(0)
        } else {
            Err(e)
        };
    }
    Ok(usize::try_from(sent).unwrap_or(0))
}

/// A TUN device (IFF_TUN, no packet information header): reads and writes
/// bare IPv4 packets.
#[derive(Debug)]
pub struct Tun {
    file: File,
    name: String,
}

#[repr(C)]
struct IfReq {
    name: [libc::c_char; libc::IFNAMSIZ],
    flags: libc::c_short,
    _pad: [u8; 22],
}

const TUNSETIFF: libc::c_ulong = 0x4004_54ca;

impl Tun {
    /// Opens (creating) the TUN device `name`, non-blocking.
    ///
    /// # Errors
    /// `PermissionDenied` without `CAP_NET_ADMIN`; the message says so.
    pub fn open(name: &str) -> io::Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open("/dev/net/tun")
            .map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("/dev/net/tun: {e} (a TUN device needs CAP_NET_ADMIN)"),
                )
            })?;
        let mut req = IfReq {
            name: [0; libc::IFNAMSIZ],
            flags: (libc::IFF_TUN | libc::IFF_NO_PI) as libc::c_short,
            _pad: [0; 22],
        };
        for (dst, src) in req
            .name
            .iter_mut()
            .zip(name.bytes().take(libc::IFNAMSIZ - 1))
        {
            *dst = src as libc::c_char;
        }
        // SAFETY: TUNSETIFF reads and writes an `ifreq`, which `IfReq`
        // mirrors (name, then the flags union member, padded to its size).
        let rc = unsafe { libc::ioctl(file.as_raw_fd(), TUNSETIFF as _, &mut req) };
        if rc < 0 {
            let e = io::Error::last_os_error();
            return Err(io::Error::new(
                e.kind(),
                format!("TUNSETIFF {name}: {e} (needs CAP_NET_ADMIN)"),
            ));
        }
        let name = req
            .name
            .iter()
            .take_while(|&&c| c != 0)
            .map(|&c| c as u8 as char)
            .collect();
        Ok(Self { file, name })
    }

    /// The interface name the kernel gave.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Reads one packet into `buf` (0 if none waiting).
    ///
    /// # Errors
    /// Device errors other than `WouldBlock`.
    pub fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.file.read(buf) {
            Ok(n) => Ok(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(0),
            Err(e) => Err(e),
        }
    }

    /// Writes one packet.
    ///
    /// # Errors
    /// Device errors.
    pub fn write(&mut self, packet: &[u8]) -> io::Result<()> {
        self.file.write(packet).map(drop)
    }

    /// The file descriptor, for `poll`.
    pub fn fd(&self) -> RawFd {
        self.file.as_raw_fd()
    }
}

/// A raw IPv4 socket for IP protocol 50 (plain ESP, no NAT). Received
/// packets include their IP header; sent ones do not.
#[derive(Debug)]
pub struct RawEsp {
    fd: OwnedFd,
}

impl RawEsp {
    /// Opens the socket.
    ///
    /// # Errors
    /// `PermissionDenied` without `CAP_NET_RAW`; the message says so.
    pub fn open() -> io::Result<Self> {
        // SAFETY: plain socket(2) call; the result is checked and owned.
        let fd = unsafe {
            libc::socket(
                libc::AF_INET,
                libc::SOCK_RAW | libc::SOCK_NONBLOCK,
                libc::IPPROTO_ESP,
            )
        };
        if fd < 0 {
            let e = io::Error::last_os_error();
            return Err(io::Error::new(
                e.kind(),
                format!("raw socket for ESP: {e} (needs CAP_NET_RAW)"),
            ));
        }
        // SAFETY: `fd` is a fresh descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(Self { fd })
    }

    /// Receives one packet (with its IPv4 header) into `buf`; `None` if nothing waits.
    ///
    /// # Errors
    /// Socket errors other than `WouldBlock`.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<Option<(Ipv4Addr, usize)>> {
        // SAFETY: sockaddr_in is plain old data.
        let mut from: libc::sockaddr_in = unsafe { std::mem::zeroed() };
        let mut len = size_of::<libc::sockaddr_in>() as libc::socklen_t;
        // SAFETY: `buf` and `from` are valid for writes of the lengths given.
        let n = unsafe {
            libc::recvfrom(
                self.fd.as_raw_fd(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                0,
                (&mut from as *mut libc::sockaddr_in).cast(),
                &mut len,
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            return if e.kind() == io::ErrorKind::WouldBlock {
                Ok(None)
            } else {
                Err(e)
            };
        }
        Ok(Some((
            addr_of(&from).ip().to_owned(),
            usize::try_from(n).unwrap_or(0),
        )))
    }

    /// Sends an ESP packet to `to` (the kernel adds the IPv4 header).
    ///
    /// # Errors
    /// Socket errors.
    pub fn send(&self, to: Ipv4Addr, packet: &[u8]) -> io::Result<()> {
        let addr = sockaddr_of(SocketAddrV4::new(to, 0));
        // SAFETY: `packet` and `addr` are valid for reads of the lengths given.
        let n = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                packet.as_ptr().cast(),
                packet.len(),
                0,
                (&addr as *const libc::sockaddr_in).cast(),
                size_of::<libc::sockaddr_in>() as libc::socklen_t,
            )
        };
        if n < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(())
        }
    }

    /// The file descriptor, for `poll`.
    pub fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// Waits until one of `fds` is readable or `timeout` passes; returns which
/// are readable.
///
/// # Errors
/// `poll` errors other than `EINTR` (an interrupted wait returns no fds).
pub fn poll_readable(fds: &[RawFd], timeout: Option<Duration>) -> io::Result<Vec<bool>> {
    let mut pfds: Vec<libc::pollfd> = fds
        .iter()
        .map(|&fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    let ms = timeout.map_or(-1, |t| {
        i32::try_from(t.as_millis().min(60_000)).unwrap_or(60_000)
    });
    // Round a sub-millisecond wait up, so that a due deadline does not spin.
    let ms = if ms == 0 && timeout.is_some_and(|t| !t.is_zero()) {
        1
    } else {
        ms
    };
    // SAFETY: `pfds` is a valid array of `pfds.len()` pollfd structures.
    let rc = unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, ms) };
    if rc < 0 {
        let e = io::Error::last_os_error();
        return if e.kind() == io::ErrorKind::Interrupted {
            Ok(vec![false; fds.len()])
        } else {
            Err(e)
        };
    }
    Ok(pfds
        .iter()
        .map(|p| p.revents & (libc::POLLIN | libc::POLLERR | libc::POLLHUP) != 0)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recvmmsg_and_sendmmsg_on_loopback() {
        let a = UdpSocket::bind("127.0.0.1:0").unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").unwrap();
        a.set_nonblocking(true).unwrap();
        let SocketAddr4(b_addr) = SocketAddr4::of(&b);
        let SocketAddr4(a_addr) = SocketAddr4::of(&a);
        let payloads: Vec<Vec<u8>> = (0..5u8).map(|i| vec![i; 100 + usize::from(i)]).collect();
        let out: Vec<(SocketAddrV4, &[u8])> = payloads.iter().map(|p| (a_addr, &p[..])).collect();
        assert_eq!(send_batch(&b, &out).unwrap(), 5);
        let mut batch = RecvBatch::new(8);
        let mut got = 0;
        for _ in 0..100 {
            got += batch.recv(&a).unwrap();
            if got >= 5 {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(got, 5);
        for (i, payload) in payloads.iter().enumerate() {
            let (from, buf, range) = batch.get(i);
            assert_eq!(from, b_addr);
            assert_eq!(range.start, HEADROOM);
            assert_eq!(&buf[range], &payload[..]);
        }
    }

    struct SocketAddr4(SocketAddrV4);
    impl SocketAddr4 {
        fn of(s: &UdpSocket) -> Self {
            match s.local_addr().unwrap() {
                std::net::SocketAddr::V4(a) => Self(a),
                std::net::SocketAddr::V6(_) => unreachable!(),
            }
        }
    }
}

#[cfg(test)]
mod tun_tests {
    use super::*;

    /// As root (CI) the device opens and gets a kernel name; otherwise the
    /// error names the capability that is missing.
    #[test]
    fn tun_opens_or_says_which_capability_is_missing() {
        // SAFETY: geteuid has no preconditions.
        let root = unsafe { libc::geteuid() } == 0;
        match Tun::open("lnstest%d") {
            Ok(tun) => {
                assert!(root);
                assert!(tun.name().starts_with("lnstest"), "{}", tun.name());
                assert!(tun.fd() >= 0);
            }
            Err(e) => {
                assert!(!root, "root must be able to open a TUN device: {e}");
                assert!(e.to_string().contains("CAP_NET_ADMIN"), "{e}");
            }
        }
    }
}

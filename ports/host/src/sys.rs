//! The Linux syscalls std does not wrap: batched datagram I/O (`recvmmsg`,
//! `sendmmsg`) with the destination address of each datagram
//! (`IP_PKTINFO`), the TUN device and its address and routes, a raw socket
//! for IP protocol 50, `poll`, `signalfd` and `getrandom`. Every `unsafe`
//! block says why it is sound; no other module of the host port has one.
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
use std::ops::Range;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::OpenOptionsExt;
use std::time::Duration;

/// Room left in front of every packet so that the layers of the downlink
/// can write their headers in place (ESP 24, UDP 8, L2TP 10, PPP 4,
/// rounded up): the gateway's own [`sessiondb::gateway::HEADROOM`].
pub const HEADROOM: usize = sessiondb::gateway::HEADROOM;
/// Room behind a packet for the ESP trailer (padding, pad length, next
/// header, ICV).
pub const TAILROOM: usize = sessiondb::gateway::TAILROOM;
/// The largest datagram a buffer takes (more than any Ethernet MTU, and
/// what `poll_transmit` asks for).
pub const MAX_DATAGRAM: usize = sessiondb::gateway::MIN_TRANSMIT_BUFFER;
/// One packet buffer: headroom, the datagram, tailroom.
pub const BUF_LEN: usize = HEADROOM + MAX_DATAGRAM + 64;
const _: () = assert!(BUF_LEN >= sessiondb::gateway::MIN_TRANSMIT_BUFFER + HEADROOM + TAILROOM);

/// Room for one `IP_PKTINFO` control message (`CMSG_SPACE(12)` is 32 on
/// 64-bit Linux), in `u64`s for the alignment `cmsghdr` needs.
const CONTROL_WORDS: usize = 8;

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

fn last_error_unless_would_block() -> io::Result<usize> {
    let e = io::Error::last_os_error();
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => Ok(0),
        _ => Err(e),
    }
}

/// One packet of a [`Batch`]: where it came from or goes, and which bytes
/// of its buffer it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    /// The sender (received) or the destination (to send).
    pub peer: SocketAddrV4,
    /// The address the datagram was sent to, as the sender addressed it
    /// (`IP_PKTINFO`), when the socket reports it.
    pub local: Option<Ipv4Addr>,
    /// The datagram's bytes in the buffer.
    pub range: Range<usize>,
    /// The socket to send it on.
    pub fd: RawFd,
}

const EMPTY_META: Meta = Meta {
    peer: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0),
    local: None,
    range: 0..0,
    fd: -1,
};

/// A fixed set of packet buffers with the `mmsghdr`, `iovec`, address and
/// control structures that `recvmmsg` and `sendmmsg` need, built once: the
/// pointers between them stay valid because every array is a boxed slice
/// that never moves or grows. Receiving and sending allocate nothing.
pub struct Batch {
    bufs: Box<[[u8; BUF_LEN]]>,
    meta: Box<[Meta]>,
    hdrs: Box<[libc::mmsghdr]>,
    iovs: Box<[libc::iovec]>,
    names: Box<[libc::sockaddr_in]>,
    controls: Box<[[u64; CONTROL_WORDS]]>,
    len: usize,
}

impl std::fmt::Debug for Batch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batch")
            .field("capacity", &self.bufs.len())
            .field("len", &self.len)
            .finish()
    }
}

impl Batch {
    /// Buffers for `n` packets.
    pub fn new(n: usize) -> Self {
        let n = n.max(1);
        let mut batch = Self {
            bufs: vec![[0u8; BUF_LEN]; n].into_boxed_slice(),
            meta: vec![EMPTY_META; n].into_boxed_slice(),
            // SAFETY: mmsghdr, iovec and sockaddr_in are plain old data for
            // which all-zero bytes are a valid value (null pointers, zero
            // lengths); the pointers are set below before any use.
            hdrs: (0..n).map(|_| unsafe { std::mem::zeroed() }).collect(),
            // SAFETY: as above.
            iovs: (0..n).map(|_| unsafe { std::mem::zeroed() }).collect(),
            // SAFETY: as above.
            names: (0..n).map(|_| unsafe { std::mem::zeroed() }).collect(),
            controls: vec![[0u64; CONTROL_WORDS]; n].into_boxed_slice(),
            len: 0,
        };
        for i in 0..n {
            batch.iovs[i].iov_base = batch.bufs[i].as_mut_ptr().cast();
            let h = &mut batch.hdrs[i].msg_hdr;
            h.msg_name = (&raw mut batch.names[i]).cast();
            h.msg_iov = &raw mut batch.iovs[i];
            h.msg_iovlen = 1;
        }
        batch
    }

    /// How many packets it holds at most.
    pub fn capacity(&self) -> usize {
        self.bufs.len()
    }

    /// Packets in it (received, or queued to send).
    pub fn len(&self) -> usize {
        self.len
    }

    /// No packets.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// No room for another packet to send.
    pub fn is_full(&self) -> bool {
        self.len == self.bufs.len()
    }

    /// Forgets every packet.
    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// Receives what is waiting on a non-blocking datagram socket, each
    /// datagram at [`HEADROOM`] in its own buffer with [`TAILROOM`] left
    /// behind; returns how many (0 if nothing waits). The batch is cleared
    /// first.
    ///
    /// # Errors
    /// The socket's error, except `WouldBlock` and `EINTR`.
    pub fn recv(&mut self, fd: RawFd) -> io::Result<usize> {
        self.len = 0;
        let n = self.bufs.len();
        for i in 0..n {
            self.iovs[i].iov_base = self.bufs[i][HEADROOM..].as_mut_ptr().cast();
            self.iovs[i].iov_len = BUF_LEN - HEADROOM - TAILROOM;
            let h = &mut self.hdrs[i].msg_hdr;
            h.msg_namelen = size_of::<libc::sockaddr_in>() as libc::socklen_t;
            h.msg_control = self.controls[i].as_mut_ptr().cast();
            h.msg_controllen = size_of::<[u64; CONTROL_WORDS]>() as _;
            h.msg_flags = 0;
        }
        // SAFETY: each header points at its own iovec, sockaddr_in and
        // control buffer, and each iovec into its own packet buffer, with
        // the lengths of those objects; all are boxed slices owned by
        // `self`, alive and unmoved for the call.
        let got = unsafe {
            libc::recvmmsg(
                fd,
                self.hdrs.as_mut_ptr(),
                n as libc::c_uint,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
            )
        };
        if got < 0 {
            return last_error_unless_would_block();
        }
        self.len = usize::try_from(got).unwrap_or(0).min(n);
        for i in 0..self.len {
            let h = &self.hdrs[i];
            // A datagram larger than the buffer arrives cut (MSG_TRUNC): it
            // is handed on empty, to be refused as malformed, never as a
            // shorter datagram.
            let len = if h.msg_hdr.msg_flags & libc::MSG_TRUNC != 0 {
                0
            } else {
                (h.msg_len as usize).min(BUF_LEN - HEADROOM - TAILROOM)
            };
            let local = Self::pktinfo(&h.msg_hdr);
            self.meta[i] = Meta {
                peer: addr_of(&self.names[i]),
                local,
                range: HEADROOM..HEADROOM + len,
                fd,
            };
        }
        Ok(self.len)
    }

    /// The header destination address from an `IP_PKTINFO` control message.
    fn pktinfo(h: &libc::msghdr) -> Option<Ipv4Addr> {
        // SAFETY: `h` was filled by recvmmsg: `msg_control` points at this
        // batch's control buffer and `msg_controllen` says how much of it
        // the kernel wrote. The CMSG_* helpers stay within that length, and
        // the data of an IP_PKTINFO message is an `in_pktinfo`, read
        // unaligned.
        unsafe {
            let mut c = libc::CMSG_FIRSTHDR(h);
            while !c.is_null() {
                if (*c).cmsg_level == libc::IPPROTO_IP && (*c).cmsg_type == libc::IP_PKTINFO {
                    let info: libc::in_pktinfo =
                        std::ptr::read_unaligned(libc::CMSG_DATA(c).cast());
                    return Some(Ipv4Addr::from(info.ipi_addr.s_addr.to_ne_bytes()));
                }
                c = libc::CMSG_NXTHDR(h, c);
            }
        }
        None
    }

    /// Packet `i`: its metadata and its whole buffer.
    ///
    /// # Panics
    /// If `i` is not below [`len`](Self::len) (a caller bug).
    pub fn get(&mut self, i: usize) -> (&Meta, &mut [u8; BUF_LEN]) {
        assert!(i < self.len, "packet {i} of a batch of {}", self.len);
        (&self.meta[i], &mut self.bufs[i])
    }

    /// The buffer the next packet to send is built in, if there is room.
    /// It becomes part of the batch only with [`commit`](Self::commit).
    pub fn next_buffer(&mut self) -> Option<&mut [u8; BUF_LEN]> {
        self.bufs.get_mut(self.len)
    }

    /// Queues the packet built in [`next_buffer`](Self::next_buffer): bytes
    /// `range` of it, to `to`, on socket `fd`.
    pub fn commit(&mut self, fd: RawFd, to: SocketAddrV4, range: Range<usize>) {
        if self.len < self.bufs.len() && range.end <= BUF_LEN && range.start <= range.end {
            self.meta[self.len] = Meta {
                peer: to,
                local: None,
                range,
                fd,
            };
            self.len += 1;
        }
    }

    /// Sends every queued packet, each run of packets for the same socket
    /// with one `sendmmsg`, and clears the batch. A full socket buffer is
    /// waited for (at most 50 ms per run); what still does not fit is
    /// dropped, as a router drops on a full queue. Returns (sent, dropped).
    ///
    /// # Errors
    /// A socket error other than a full buffer or an ICMP report; the rest
    /// of the batch is dropped.
    pub fn send(&mut self) -> io::Result<(usize, usize)> {
        let mut sent = 0;
        let mut dropped = 0;
        let mut start = 0;
        let total = self.len;
        self.len = 0;
        while start < total {
            let fd = self.meta[start].fd;
            let end = (start..total)
                .find(|&i| self.meta[i].fd != fd)
                .unwrap_or(total);
            for i in start..end {
                let m = &self.meta[i];
                self.names[i] = sockaddr_of(m.peer);
                self.iovs[i].iov_base = self.bufs[i][m.range.start..].as_mut_ptr().cast();
                self.iovs[i].iov_len = m.range.len();
                let h = &mut self.hdrs[i].msg_hdr;
                h.msg_namelen = size_of::<libc::sockaddr_in>() as libc::socklen_t;
                h.msg_control = std::ptr::null_mut();
                h.msg_controllen = 0;
                h.msg_flags = 0;
            }
            let mut at = start;
            let mut waited = false;
            while at < end {
                // SAFETY: headers `at..end` point at their own address and
                // iovec, and each iovec at bytes inside its packet buffer
                // (`commit` checked the range); all owned by `self`, alive
                // and unmoved for the call. sendmmsg only reads them.
                let n = unsafe {
                    libc::sendmmsg(
                        fd,
                        self.hdrs[at..end].as_mut_ptr(),
                        (end - at) as libc::c_uint,
                        libc::MSG_DONTWAIT,
                    )
                };
                if n > 0 {
                    at += n as usize;
                    sent += n as usize;
                    continue;
                }
                let e = io::Error::last_os_error();
                match e.kind() {
                    io::ErrorKind::Interrupted => {}
                    io::ErrorKind::WouldBlock if !waited => {
                        waited = true;
                        let _ = poll(&mut [PollFd::new(fd, libc::POLLOUT)], Some(ms(50)));
                    }
                    io::ErrorKind::WouldBlock => {
                        dropped += end - at;
                        at = end;
                    }
                    // An ICMP error reported on this socket (port
                    // unreachable from an earlier send): it concerns a
                    // datagram already gone; skip the one that drew it.
                    io::ErrorKind::ConnectionRefused | io::ErrorKind::HostUnreachable => {
                        dropped += 1;
                        at += 1;
                    }
                    _ => return Err(e),
                }
            }
            start = end;
        }
        Ok((sent, dropped))
    }
}

const fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Prepares a UDP socket for the data path: non-blocking, `IP_PKTINFO` on
/// (so that each datagram says which of our addresses it was sent to, for
/// NAT detection), large kernel buffers, and no fragmentation by the
/// sender's kernel decided on path MTU guesses (`IP_PMTUDISC_DONT`: the
/// tunnel's MTU is sized to fit, and a peer behind a smaller link still
/// gets its datagram in fragments rather than not at all).
///
/// # Errors
/// `setsockopt` errors.
pub fn prepare_udp(socket: &UdpSocket) -> io::Result<()> {
    socket.set_nonblocking(true)?;
    let fd = socket.as_raw_fd();
    setsockopt_int(fd, libc::IPPROTO_IP, libc::IP_PKTINFO, 1)?;
    setsockopt_int(
        fd,
        libc::IPPROTO_IP,
        libc::IP_MTU_DISCOVER,
        libc::IP_PMTUDISC_DONT,
    )?;
    set_buffers(fd, 4 << 20);
    Ok(())
}

/// Asks for `bytes` of kernel receive and send buffer (capped by
/// `net.core.rmem_max`/`wmem_max`; a refusal is harmless).
pub fn set_buffers(fd: RawFd, bytes: i32) {
    let _ = setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_RCVBUF, bytes);
    let _ = setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_SNDBUF, bytes);
}

fn setsockopt_int(fd: RawFd, level: i32, name: i32, value: i32) -> io::Result<()> {
    // SAFETY: the option value is a valid `c_int` of the length given.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&raw const value).cast(),
            size_of::<i32>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// A TUN device (IFF_TUN, no packet information header): reads and writes
/// bare IPv4 packets.
#[derive(Debug)]
pub struct Tun {
    file: File,
    name: String,
}

const TUNSETIFF: libc::c_ulong = 0x4004_54ca;

fn ifreq_named(name: &str) -> libc::ifreq {
    // SAFETY: ifreq is plain old data (a name and a union of plain
    // fields); all-zero is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req
        .ifr_name
        .iter_mut()
        .zip(name.bytes().take(libc::IFNAMSIZ - 1))
    {
        *dst = src as libc::c_char;
    }
    req
}

fn sockaddr_generic(ip: Ipv4Addr) -> libc::sockaddr {
    let sin = sockaddr_of(SocketAddrV4::new(ip, 0));
    // SAFETY: sockaddr_in and sockaddr have the same size (16 bytes) and
    // the kernel reads a sockaddr of family AF_INET as a sockaddr_in.
    unsafe { std::mem::transmute::<libc::sockaddr_in, libc::sockaddr>(sin) }
}

/// An AF_INET datagram socket for the interface ioctls.
fn control_socket() -> io::Result<OwnedFd> {
    // SAFETY: plain socket(2) call; the result is checked and owned.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn interface_ioctl(
    fd: &OwnedFd,
    request: libc::c_ulong,
    req: &mut libc::ifreq,
    what: &str,
) -> io::Result<()> {
    // SAFETY: every SIOC[GS]IF* request used here reads or writes one
    // `ifreq`, which `req` is.
    let rc = unsafe { libc::ioctl(fd.as_raw_fd(), request as _, std::ptr::from_mut(req)) };
    if rc < 0 {
        let e = io::Error::last_os_error();
        return Err(io::Error::new(
            e.kind(),
            format!("{what}: {e} (needs CAP_NET_ADMIN)"),
        ));
    }
    Ok(())
}

impl Tun {
    /// Opens (creating) the TUN device `name` (`%d` lets the kernel
    /// number it), non-blocking.
    ///
    /// # Errors
    /// `PermissionDenied` without `CAP_NET_ADMIN`; the message says so.
    pub fn open(name: &str) -> io::Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open("/dev/net/tun")
            .map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!(
                        "/dev/net/tun: {e} (a TUN device needs CAP_NET_ADMIN and /dev/net/tun)"
                    ),
                )
            })?;
        let mut req = ifreq_named(name);
        req.ifr_ifru.ifru_flags = (libc::IFF_TUN | libc::IFF_NO_PI) as libc::c_short;
        // SAFETY: TUNSETIFF reads and writes an `ifreq`.
        let rc = unsafe {
            libc::ioctl(
                file.as_raw_fd(),
                TUNSETIFF as _,
                std::ptr::from_mut(&mut req),
            )
        };
        if rc < 0 {
            let e = io::Error::last_os_error();
            return Err(io::Error::new(
                e.kind(),
                format!("TUNSETIFF {name}: {e} (needs CAP_NET_ADMIN)"),
            ));
        }
        let name = req
            .ifr_name
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

    /// Gives the interface its address, the other end's address (a
    /// point-to-point link) or a netmask, its MTU, and brings it up.
    ///
    /// # Errors
    /// The ioctl's error; without `CAP_NET_ADMIN` the message says so.
    pub fn configure(
        &self,
        address: Ipv4Addr,
        peer: Option<Ipv4Addr>,
        netmask: Ipv4Addr,
        mtu: u16,
    ) -> io::Result<()> {
        let sock = control_socket()?;
        let mut req = ifreq_named(&self.name);
        req.ifr_ifru.ifru_addr = sockaddr_generic(address);
        interface_ioctl(&sock, libc::SIOCSIFADDR, &mut req, "SIOCSIFADDR")?;
        let mut req = ifreq_named(&self.name);
        req.ifr_ifru.ifru_netmask = sockaddr_generic(netmask);
        interface_ioctl(&sock, libc::SIOCSIFNETMASK, &mut req, "SIOCSIFNETMASK")?;
        if let Some(peer) = peer {
            let mut req = ifreq_named(&self.name);
            req.ifr_ifru.ifru_dstaddr = sockaddr_generic(peer);
            interface_ioctl(&sock, libc::SIOCSIFDSTADDR, &mut req, "SIOCSIFDSTADDR")?;
        }
        let mut req = ifreq_named(&self.name);
        req.ifr_ifru.ifru_mtu = i32::from(mtu);
        interface_ioctl(&sock, libc::SIOCSIFMTU, &mut req, "SIOCSIFMTU")?;
        // The link carries IPv4 only (IPCP): no IPv6 link-local address,
        // no router solicitations into the tunnel. Without IPv6 in the
        // kernel the file does not exist, which is as good.
        let _ = std::fs::write(
            format!("/proc/sys/net/ipv6/conf/{}/disable_ipv6", self.name),
            "1",
        );
        let mut req = ifreq_named(&self.name);
        interface_ioctl(&sock, libc::SIOCGIFFLAGS, &mut req, "SIOCGIFFLAGS")?;
        // SAFETY: SIOCGIFFLAGS wrote the flags member of the union.
        let flags = unsafe { req.ifr_ifru.ifru_flags };
        req.ifr_ifru.ifru_flags = flags | (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
        interface_ioctl(&sock, libc::SIOCSIFFLAGS, &mut req, "SIOCSIFFLAGS")
    }

    /// Routes `network/mask` to this interface. A route that exists
    /// already is not an error.
    ///
    /// # Errors
    /// The ioctl's error; without `CAP_NET_ADMIN` the message says so.
    pub fn add_route(&self, network: Ipv4Addr, mask: Ipv4Addr) -> io::Result<()> {
        let sock = control_socket()?;
        let mut dev: Vec<libc::c_char> = self
            .name
            .bytes()
            .map(|b| b as libc::c_char)
            .chain([0])
            .collect();
        // SAFETY: rtentry is plain old data; all-zero is a valid value.
        let mut rt: libc::rtentry = unsafe { std::mem::zeroed() };
        rt.rt_dst = sockaddr_generic(network);
        rt.rt_genmask = sockaddr_generic(mask);
        rt.rt_flags = libc::RTF_UP;
        rt.rt_dev = dev.as_mut_ptr();
        // SAFETY: SIOCADDRT reads one `rtentry`; `rt_dev` points at a
        // NUL-terminated name that outlives the call.
        let rc = unsafe {
            libc::ioctl(
                sock.as_raw_fd(),
                libc::SIOCADDRT as _,
                std::ptr::from_mut(&mut rt),
            )
        };
        if rc < 0 {
            let e = io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EEXIST) {
                return Ok(());
            }
            return Err(io::Error::new(
                e.kind(),
                format!(
                    "route {network}/{mask} via {}: {e} (needs CAP_NET_ADMIN)",
                    self.name
                ),
            ));
        }
        Ok(())
    }

    /// Reads one packet into `buf` (0 if none waiting).
    ///
    /// # Errors
    /// Device errors other than `WouldBlock`.
    pub fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.file.read(buf) {
            Ok(n) => Ok(n),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) =>
            {
                Ok(0)
            }
            Err(e) => Err(e),
        }
    }

    /// Writes one packet. A full device queue drops it (`Ok(false)`).
    ///
    /// # Errors
    /// Device errors.
    pub fn write(&mut self, packet: &[u8]) -> io::Result<bool> {
        match self.file.write(packet) {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(false),
            // The interface is down or has no carrier (yet): the packet is lost.
            Err(e) if e.raw_os_error() == Some(libc::EIO) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The file descriptor, for `poll`.
    pub fn fd(&self) -> RawFd {
        self.file.as_raw_fd()
    }
}

/// A raw IPv4 socket for IP protocol 50 (plain ESP, no NAT). Received
/// packets include their IPv4 header; sent ones do not (the kernel adds
/// it). Works with [`Batch`] like a UDP socket, with port 0.
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
                libc::SOCK_RAW | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                libc::IPPROTO_ESP,
            )
        };
        if fd < 0 {
            let e = io::Error::last_os_error();
            return Err(io::Error::new(
                e.kind(),
                format!("raw socket for ESP (IP protocol 50): {e} (needs CAP_NET_RAW)"),
            ));
        }
        // SAFETY: `fd` is a fresh descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        set_buffers(fd.as_raw_fd(), 4 << 20);
        Ok(Self { fd })
    }

    /// The file descriptor, for `poll` and [`Batch`].
    pub fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// The payload of a raw IPv4 packet at `buf[range]`: the range behind its
/// header, and its destination address. `None` if the header is not a
/// whole IPv4 header.
pub fn strip_ipv4_header(buf: &[u8], range: Range<usize>) -> Option<(Range<usize>, Ipv4Addr)> {
    let p = buf.get(range.clone())?;
    let first = *p.first()?;
    let ihl = usize::from(first & 0x0f) * 4;
    if first >> 4 != 4 || ihl < 20 || p.len() < ihl {
        return None;
    }
    let dst = Ipv4Addr::new(p[16], p[17], p[18], p[19]);
    Some((range.start + ihl..range.end, dst))
}

/// One descriptor to [`poll`].
#[derive(Debug, Clone, Copy)]
#[repr(transparent)]
pub struct PollFd(libc::pollfd);

impl PollFd {
    /// Waits for `events` (`libc::POLLIN`, `POLLOUT`) on `fd`.
    pub fn new(fd: RawFd, events: i16) -> Self {
        Self(libc::pollfd {
            fd,
            events,
            revents: 0,
        })
    }

    /// Readable, or an error or hang-up to read.
    pub fn readable(&self) -> bool {
        self.0.revents & (libc::POLLIN | libc::POLLERR | libc::POLLHUP) != 0
    }
}

/// Waits until one of `fds` is ready or `timeout` passes (`None`: no
/// limit). A sub-millisecond wait is rounded up so that a due deadline
/// does not spin.
///
/// # Errors
/// `poll` errors other than `EINTR` (an interrupted wait is no fd ready).
pub fn poll(fds: &mut [PollFd], timeout: Option<Duration>) -> io::Result<usize> {
    for f in fds.iter_mut() {
        f.0.revents = 0;
    }
    let ms = match timeout {
        None => -1,
        Some(t) if t.is_zero() => 0,
        Some(t) => i32::try_from(t.as_micros().div_ceil(1000).min(60_000)).unwrap_or(60_000),
    };
    // SAFETY: `PollFd` is a transparent wrapper around `pollfd` in a
    // contiguous slice of `fds.len()` elements.
    let rc = unsafe { libc::poll(fds.as_mut_ptr().cast(), fds.len() as libc::nfds_t, ms) };
    if rc < 0 {
        return last_error_unless_would_block();
    }
    Ok(rc as usize)
}

/// SIGINT and SIGTERM as a readable descriptor (`signalfd`), so that the
/// event loop sees them in `poll` like any input, with no race between a
/// handler and the wait. Create it before spawning threads: the signals
/// are blocked for this thread and every thread it starts.
#[derive(Debug)]
pub struct Signals {
    fd: OwnedFd,
}

impl Signals {
    /// Blocks SIGINT and SIGTERM and opens the descriptor that reports them.
    /// An inherited "ignore" (a shell starts background jobs with SIGINT
    /// ignored) is reset first: an ignored signal is discarded before it
    /// could be read.
    ///
    /// # Errors
    /// `sigprocmask`/`signalfd` errors.
    pub fn new() -> io::Result<Self> {
        // SAFETY: `set` is initialised by sigemptyset before use; the
        // calls take valid pointers to it; the new descriptor is owned.
        // Resetting a disposition to SIG_DFL installs no handler.
        unsafe {
            libc::signal(libc::SIGINT, libc::SIG_DFL);
            libc::signal(libc::SIGTERM, libc::SIG_DFL);
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&raw mut set);
            libc::sigaddset(&raw mut set, libc::SIGINT);
            libc::sigaddset(&raw mut set, libc::SIGTERM);
            if libc::pthread_sigmask(libc::SIG_BLOCK, &raw const set, std::ptr::null_mut()) != 0 {
                return Err(io::Error::last_os_error());
            }
            let fd = libc::signalfd(-1, &raw const set, libc::SFD_NONBLOCK | libc::SFD_CLOEXEC);
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(Self {
                fd: OwnedFd::from_raw_fd(fd),
            })
        }
    }

    /// The next pending signal number, if any.
    pub fn take(&self) -> Option<i32> {
        // SAFETY: signalfd_siginfo is plain old data.
        let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
        let len = size_of::<libc::signalfd_siginfo>();
        // SAFETY: `info` is valid for writes of `len` bytes.
        let n = unsafe { libc::read(self.fd.as_raw_fd(), (&raw mut info).cast(), len) };
        (n == len as isize).then_some(info.ssi_signo as i32)
    }

    /// The file descriptor, for `poll`.
    pub fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// 32 bytes from the kernel's CSPRNG (`getrandom`), to seed the RNG the
/// gateway draws SPIs, cookies, nonces and DH secrets from.
///
/// # Errors
/// `getrandom` errors.
pub fn random_seed() -> io::Result<[u8; 32]> {
    let mut seed = [0u8; 32];
    let mut filled = 0;
    while filled < seed.len() {
        let rest = &mut seed[filled..];
        // SAFETY: `rest` is valid for writes of `rest.len()` bytes.
        let n = unsafe { libc::getrandom(rest.as_mut_ptr().cast(), rest.len(), 0) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        filled += n as usize;
    }
    Ok(seed)
}

/// Whether `fd` is a terminal.
pub fn is_terminal(fd: RawFd) -> bool {
    // SAFETY: isatty has no memory-safety preconditions.
    unsafe { libc::isatty(fd) == 1 }
}

/// Reads what standard input has (one line from a terminal), bypassing
/// std's buffer so that `poll` on descriptor 0 sees everything unread.
///
/// # Errors
/// `read` errors.
pub fn read_stdin(buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: `buf` is valid for writes of `buf.len()` bytes.
    let n = unsafe { libc::read(0, buf.as_mut_ptr().cast(), buf.len()) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(n as usize)
}

/// Whether the process may do what needs root or a capability.
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(s: &UdpSocket) -> SocketAddrV4 {
        match s.local_addr().unwrap() {
            std::net::SocketAddr::V4(a) => a,
            std::net::SocketAddr::V6(_) => unreachable!(),
        }
    }

    #[test]
    fn recvmmsg_and_sendmmsg_on_loopback_with_pktinfo() {
        let a = UdpSocket::bind("127.0.0.1:0").unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").unwrap();
        prepare_udp(&a).unwrap();
        prepare_udp(&b).unwrap();
        let (a_addr, b_addr) = (v4(&a), v4(&b));
        let mut out = Batch::new(8);
        for i in 0..5u8 {
            let buf = out.next_buffer().unwrap();
            let len = 100 + usize::from(i);
            buf[HEADROOM..HEADROOM + len].fill(i);
            out.commit(b.as_raw_fd(), a_addr, HEADROOM..HEADROOM + len);
        }
        assert_eq!(out.len(), 5);
        assert_eq!(out.send().unwrap(), (5, 0));
        assert!(out.is_empty());
        let mut batch = Batch::new(8);
        let mut seen = Vec::new();
        for _ in 0..100 {
            batch.recv(a.as_raw_fd()).unwrap();
            for i in 0..batch.len() {
                let (meta, buf) = batch.get(i);
                assert_eq!(meta.peer, b_addr);
                assert_eq!(meta.local, Some(Ipv4Addr::LOCALHOST), "IP_PKTINFO");
                assert_eq!(meta.range.start, HEADROOM);
                seen.push(buf[meta.range.clone()].to_vec());
            }
            if seen.len() >= 5 {
                break;
            }
            std::thread::sleep(ms(5));
        }
        assert_eq!(seen.len(), 5);
        for (i, payload) in seen.iter().enumerate() {
            assert_eq!(payload.len(), 100 + i);
            assert!(payload.iter().all(|&x| usize::from(x) == i));
        }
        assert_eq!(batch.recv(a.as_raw_fd()).unwrap(), 0, "nothing more waits");
    }

    #[test]
    fn a_datagram_larger_than_a_buffer_arrives_empty_not_cut() {
        let a = UdpSocket::bind("127.0.0.1:0").unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").unwrap();
        prepare_udp(&a).unwrap();
        b.send_to(&[7u8; 3000], v4(&a)).unwrap();
        b.send_to(&[8u8; 100], v4(&a)).unwrap();
        let mut batch = Batch::new(4);
        let mut got = Vec::new();
        for _ in 0..100 {
            batch.recv(a.as_raw_fd()).unwrap();
            for i in 0..batch.len() {
                got.push(batch.get(i).0.range.len());
            }
            if got.len() >= 2 {
                break;
            }
            std::thread::sleep(ms(5));
        }
        assert_eq!(got, [0, 100]);
    }

    #[test]
    fn a_full_batch_refuses_more_and_runs_split_by_socket() {
        let a = UdpSocket::bind("127.0.0.1:0").unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").unwrap();
        let c = UdpSocket::bind("127.0.0.1:0").unwrap();
        for s in [&a, &b, &c] {
            prepare_udp(s).unwrap();
        }
        let mut out = Batch::new(3);
        for (fd, len) in [
            (b.as_raw_fd(), 10),
            (c.as_raw_fd(), 20),
            (b.as_raw_fd(), 30),
        ] {
            out.next_buffer().unwrap();
            out.commit(fd, v4(&a), HEADROOM..HEADROOM + len);
        }
        assert!(out.is_full());
        assert!(out.next_buffer().is_none());
        assert_eq!(out.send().unwrap(), (3, 0));
        let mut batch = Batch::new(8);
        let mut got = Vec::new();
        for _ in 0..100 {
            batch.recv(a.as_raw_fd()).unwrap();
            for i in 0..batch.len() {
                let (meta, _) = batch.get(i);
                got.push((meta.peer, meta.range.len()));
            }
            if got.len() >= 3 {
                break;
            }
            std::thread::sleep(ms(5));
        }
        assert_eq!(
            got,
            vec![(v4(&b), 10), (v4(&c), 20), (v4(&b), 30)],
            "in order, each from its own socket"
        );
    }

    #[test]
    fn ipv4_header_is_stripped_only_when_whole() {
        let mut p = [0u8; 28];
        p[0] = 0x45;
        p[16..20].copy_from_slice(&[192, 0, 2, 7]);
        assert_eq!(
            strip_ipv4_header(&p, 0..28),
            Some((20..28, Ipv4Addr::new(192, 0, 2, 7)))
        );
        p[0] = 0x46;
        assert_eq!(strip_ipv4_header(&p, 0..28).map(|r| r.0), Some(24..28));
        assert_eq!(strip_ipv4_header(&p, 0..22), None);
        p[0] = 0x65;
        assert_eq!(strip_ipv4_header(&p, 0..28), None);
        assert_eq!(strip_ipv4_header(&p, 0..0), None);
    }

    #[test]
    fn random_seeds_differ() {
        assert_ne!(random_seed().unwrap(), random_seed().unwrap());
    }

    /// As root (CI) the device opens, takes an address and a route, and
    /// carries a packet to the kernel; otherwise the error names the
    /// capability that is missing.
    #[test]
    fn tun_opens_or_says_which_capability_is_missing() {
        match Tun::open("lnstest%d") {
            Ok(tun) => {
                assert!(is_root());
                assert!(tun.name().starts_with("lnstest"), "{}", tun.name());
                assert!(tun.fd() >= 0);
            }
            Err(e) => {
                assert!(!is_root(), "root must be able to open a TUN device: {e}");
                assert!(e.to_string().contains("CAP_NET_ADMIN"), "{e}");
            }
        }
    }
}

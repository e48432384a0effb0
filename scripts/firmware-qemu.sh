#!/usr/bin/env bash
# Builds the firmware for the emulated board (QEMU mps2-an386), boots it and
# checks it from the host:
#
#   boot 1, QEMU user networking with UDP 500/4500 forwarded from 127.0.0.1
#     (the NAT-T path): UDP echo on both ports, the serial console
#     (show version, show interfaces, abbreviations, errors), a link that goes
#     down and comes back without a reboot;
#   boot 2, raw Ethernet frames over a QEMU socket netdev: ARP, ping (ICMP echo),
#     UDP echo, and ESP (IP protocol 50) counted by the raw socket.
#
# Then shuts QEMU down through its monitor. Prints the transcript, a
# "N passed, N failed" line and PASS or FAIL; exits non-zero on FAIL.
# Installs qemu-system-arm with apt-get when it is missing.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
FW="$ROOT/ports/firmware"
START=$(date +%s)

if ! command -v qemu-system-arm >/dev/null 2>&1; then
    echo "== installing qemu-system-arm"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qemu-system-arm >/dev/null
fi
rustup target add thumbv7em-none-eabihf >/dev/null 2>&1 || true

echo "== build (release, qemu-mps2-an386)"
(cd "$FW" && cargo build --release --features qemu-mps2-an386 --bin qemu-mps2-an386)
ELF="$FW/target/thumbv7em-none-eabihf/release/qemu-mps2-an386"
echo "   built in $(( $(date +%s) - START )) s: $ELF"

set +e
timeout 240 python3 -u - "$ELF" <<'PY'
import os, random, re, select, socket, struct, subprocess, sys, tempfile, time

ELF = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="firmware-qemu.")
GUEST_IP = "10.0.2.15"
GUEST_MAC = bytes.fromhex("525400123456")  # QEMU's default NIC address
PROMPT = "lns# "
passed, failed = 0, 0
transcript = []


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
        print(f"   ok    {what}")
    else:
        failed += 1
        print(f"   FAIL  {what}")
    return ok


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


running = []


def wait_for_path(path, proc, limit=10.0):
    end = time.time() + limit
    while not os.path.exists(path):
        if proc.poll() is not None:
            raise RuntimeError(f"QEMU exited: {proc.stdout.read().decode(errors='replace')}")
        if time.time() > end:
            raise RuntimeError(f"QEMU did not create {path}")
        time.sleep(0.02)


def connect_unix(path, proc, limit=10.0):
    """Connects to a socket QEMU listens on (it binds before it listens)."""
    wait_for_path(path, proc, limit)
    end = time.time() + limit
    while True:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(path)
            return sock
        except (ConnectionRefusedError, FileNotFoundError):
            sock.close()
            if proc.poll() is not None or time.time() > end:
                raise
            time.sleep(0.02)


class Board:
    """One QEMU run: console and monitor on Unix sockets."""

    def __init__(self, name, nic):
        self.name = name
        con = os.path.join(TMP, f"{name}.console")
        mon = os.path.join(TMP, f"{name}.monitor")
        self.proc = subprocess.Popen(
            ["qemu-system-arm", "-M", "mps2-an386", "-display", "none",
             # wait=on: the guest starts only once we listen, so no output is lost.
             "-chardev", f"socket,id=con,path={con},server=on,wait=on", "-serial", "chardev:con",
             "-monitor", f"unix:{mon},server=on,wait=off",
             *nic, "-kernel", ELF],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        running.append(self.proc)
        # QEMU opens the console socket first and waits there for us.
        self.con = connect_unix(con, self.proc)
        self.buf = ""
        self.mon = connect_unix(mon, self.proc)
        self.monitor_read()

    def read_until(self, pattern, limit=10.0):
        """Console text up to and including the first match of `pattern`."""
        end = time.time() + limit
        rx = re.compile(pattern)
        while True:
            m = rx.search(self.buf)
            if m:
                out, self.buf = self.buf[:m.end()], self.buf[m.end():]
                transcript.append(out)
                return out
            left = end - time.time()
            if left <= 0:
                raise TimeoutError(f"no {pattern!r} on the console; got {self.buf!r}")
            r, _, _ = select.select([self.con], [], [], left)
            if r:
                data = self.con.recv(4096)
                if not data:
                    raise EOFError(f"console closed; got {self.buf!r}")
                self.buf += data.decode(errors="replace")

    def drain(self, quiet=0.05):
        """Prints what the board wrote on its own (log lines) since the last prompt."""
        while True:
            r, _, _ = select.select([self.con], [], [], quiet)
            if not r:
                break
            data = self.con.recv(4096)
            if not data:
                break
            self.buf += data.decode(errors="replace")
        if self.buf:
            transcript.append(self.buf)
            for l in self.buf.replace("\r\n", "\n").rstrip("\n").split("\n"):
                print("   | " + l)
            self.buf = ""

    def command(self, line):
        """Types `line`, returns the answer (between the echo and the next prompt)."""
        self.drain()
        self.con.sendall(line.encode() + b"\r")
        out = self.read_until(re.escape(PROMPT) + r"$")
        lines = out.replace("\r\n", "\n").split("\n")
        # A log line may come between the typed line and its echo.
        at = next((i for i, l in enumerate(lines) if l.endswith(line)), None)
        check(at is not None, f"console echoes {line!r}")
        for l in lines[: at or 0]:
            print("   | " + l)
        body = "\n".join(lines[(at or 0) + 1:])
        body = body[: -len(PROMPT)] if body.endswith(PROMPT) else body
        print("   | " + PROMPT + line)
        for l in body.rstrip("\n").split("\n"):
            print("   | " + l)
        return body

    def monitor_read(self, limit=5.0):
        data = b""
        end = time.time() + limit
        while not data.endswith(b"(qemu) "):
            r, _, _ = select.select([self.mon], [], [], max(0, end - time.time()))
            if not r:
                break
            chunk = self.mon.recv(4096)
            if not chunk:
                break
            data += chunk
        return data.decode(errors="replace")

    def monitor(self, cmd):
        self.mon.sendall(cmd.encode() + b"\n")
        return self.monitor_read()

    def shutdown(self):
        try:
            self.mon.sendall(b"quit\n")
        except OSError:
            pass
        try:
            code = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = None
        rest = "\n".join(l for l in self.proc.stdout.read().decode(errors="replace").splitlines()
                          if "waiting for connection" not in l).strip()
        check(code == 0, f"{self.name}: QEMU quit cleanly through its monitor (exit {code})")
        if rest:
            print("   qemu: " + rest.replace("\n", "\n   qemu: "))


def udp_echo(port, payload, expect=True, limit=2.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(limit)
    s.sendto(payload, ("127.0.0.1", port))
    try:
        data, src = s.recvfrom(65535)
    except socket.timeout:
        data, src = None, None
    finally:
        s.close()
    if expect:
        return data == payload and src == ("127.0.0.1", port)
    return data is None


def main():
    # ------------------------------------------------------------ boot 1
    print("== boot 1: QEMU user networking, UDP 500 and 4500 forwarded from 127.0.0.1 (NAT-T path)")
    ike, natt = free_udp_port(), free_udp_port()
    b = Board("user", ["-nic", f"user,id=n0,hostfwd=udp:127.0.0.1:{ike}-{GUEST_IP}:500,"
                               f"hostfwd=udp:127.0.0.1:{natt}-{GUEST_IP}:4500"])
    t0 = time.time()
    boot = b.read_until(re.escape(PROMPT) + r"$", limit=30)
    for l in boot.replace("\r\n", "\n").rstrip().split("\n"):
        print("   | " + l)
    check("LAN9118 link up" in boot, "boot log: LAN9118 link up")
    check("TEST ONLY" in boot, "boot log: the RNG says it is test-only")
    check(f"outside: IPv4 {GUEST_IP}/24" in boot, "boot log: static IPv4 10.0.2.15/24")
    print(f"   booted to the prompt in {time.time() - t0:.2f} s")

    print(f"== UDP echo: 127.0.0.1:{ike} -> {GUEST_IP}:500 and 127.0.0.1:{natt} -> {GUEST_IP}:4500")
    rng = random.Random(500)
    sizes = [1, 8, 100, 1000, 1472]
    for port, name in ((ike, "500"), (natt, "4500")):
        for n in sizes:
            payload = bytes(rng.getrandbits(8) for _ in range(n))
            check(udp_echo(port, payload), f"UDP {name}: {n}-byte datagram echoed, from the port it was sent to")
    check(udp_echo(natt, b"\x00" * 1473, expect=False),
          "UDP 4500: 1473 bytes (IPv4-fragmented by the host) is not echoed: no reassembly, by design")

    print("== console")
    out = b.command("show version")
    check("l2tp-ipsec-lns firmware Version" in out, "show version: firmware version")
    check("Board: qemu-mps2-an386" in out, "show version: board")
    check("RNG: fixed-seed ChaCha20, TEST ONLY, NOT SECURE" in out, "show version: test-only RNG named")
    check(re.search(r"^lns up \d+ secs?$", out, re.M) is not None, "show version: uptime")
    out = b.command("show interfaces")
    check('Interface Ethernet0 "outside", is up, line protocol is up' in out, "show interfaces: link up")
    check("MAC address 5254.0012.3456, MTU 1500" in out, "show interfaces: MAC and MTU")
    check("IP address 10.0.2.15, subnet mask 255.255.255.0" in out, "show interfaces: address")
    check(f"UDP 500 (IKE): {len(sizes)} datagrams input" in out, f"show interfaces: {len(sizes)} IKE datagrams counted")
    check(f"UDP 4500 (NAT-T): {len(sizes)} datagrams input" in out, f"show interfaces: {len(sizes)} NAT-T datagrams counted")
    check(f"UDP 500/4500: {2 * len(sizes)} datagrams output" in out, f"show interfaces: {2 * len(sizes)} echoes counted")
    m = re.search(r"(\d+) packets input, (\d+) bytes", out)
    check(m is not None and int(m.group(1)) >= 2 * len(sizes), "show interfaces: frame counters")
    out = b.command("sh ver")
    check("l2tp-ipsec-lns firmware Version" in out, "unique prefixes: 'sh ver'")
    out = b.command("show foo")
    check("ERROR: % Invalid input detected at '^' marker." in out and "          ^" in out,
          "unknown keyword: error with the marker under it")
    out = b.command("show")
    check("ERROR: % Incomplete command" in out, "incomplete command")
    out = b.command("help")
    check("show vpn" not in out and "show interfaces" in out, "help lists the commands")

    print("== link down and up (QEMU monitor set_link), no reboot")
    b.monitor("set_link n0 off")
    time.sleep(0.3)
    out = b.command("show interfaces")
    check("line protocol is down" in out, "link down seen by the driver (PHY interrupt)")
    check(udp_echo(ike, b"while down", expect=False, limit=0.5), "no echo while the link is down")
    b.monitor("set_link n0 on")
    time.sleep(0.3)
    out = b.command("show interfaces")
    check("line protocol is up" in out, "link back up")
    check(udp_echo(ike, b"after the link came back"), "echo works again after the link came back")
    b.shutdown()
    console1 = "".join(transcript)
    check("PANIC" not in console1 and "HARD FAULT" not in console1, "boot 1: no panic, no fault")

    # ---------------------------------------------------------------- boot 2
    print("== boot 2: raw Ethernet frames over a QEMU socket netdev (ARP, ping, UDP, ESP)")
    transcript.clear()
    host_port, qemu_port = free_udp_port(), free_udp_port()
    wire = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    wire.bind(("127.0.0.1", host_port))
    b = Board("socket", ["-nic", f"socket,id=n1,udp=127.0.0.1:{host_port},localaddr=127.0.0.1:{qemu_port}"])
    b.read_until(re.escape(PROMPT) + r"$", limit=30)

    PEER_MAC = bytes.fromhex("020000000099")
    PEER_IP = socket.inet_aton("10.0.2.99")
    ME_IP = socket.inet_aton(GUEST_IP)


    def csum(data):
        if len(data) % 2:
            data += b"\0"
        s = sum(struct.unpack(f"!{len(data) // 2}H", data))
        while s >> 16:
            s = (s & 0xFFFF) + (s >> 16)
        return ~s & 0xFFFF


    def ipv4(proto, payload, ident):
        h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0x4000, 64, proto, 0, PEER_IP, ME_IP)
        h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
        return GUEST_MAC + PEER_MAC + b"\x08\x00" + h + payload


    def send(frame):
        wire.sendto(frame, ("127.0.0.1", qemu_port))


    def receive(want, limit=2.0):
        """Frames from the board until `want(frame)` is true; answers its ARP requests."""
        end = time.time() + limit
        while time.time() < end:
            r, _, _ = select.select([wire], [], [], max(0, end - time.time()))
            if not r:
                break
            frame, _ = wire.recvfrom(65535)
            etype = frame[12:14]
            if etype == b"\x08\x06" and frame[20:22] == b"\x00\x01" and frame[38:42] == PEER_IP:
                arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 2, PEER_MAC, PEER_IP, frame[22:28], frame[28:32])
                send(frame[6:12] + PEER_MAC + b"\x08\x06" + arp)
                continue
            if want(frame):
                return frame
        return None


    icmp = struct.pack("!BBHHH", 8, 0, 0, 0x1234, 1) + b"lns-ping"
    icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
    # The first request may be spent on ARP (smoltcp does not queue an ICMP
    # reply while it resolves the sender), so ping as ping does: repeatedly.
    reply = None
    for ident in range(1, 6):
        send(ipv4(1, icmp, ident))
        reply = receive(lambda f: f[12:14] == b"\x08\x00" and f[23] == 1 and f[34] == 0, limit=0.5)
        if reply is not None:
            break
    check(reply is not None and reply[38:40] == b"\x12\x34" and reply[42:50] == b"lns-ping",
          "ping 10.0.2.15: ICMP echo reply (after the board resolved us by ARP)")

    udp_payload = b"raw-frame echo"
    udp = struct.pack("!HHHH", 40000, 500, 8 + len(udp_payload), 0) + udp_payload
    send(ipv4(17, udp, 2))
    reply = receive(lambda f: f[12:14] == b"\x08\x00" and f[23] == 17)
    check(reply is not None and reply[34:36] == b"\x01\xf4" and reply[36:38] == struct.pack("!H", 40000)
          and reply[42:42 + len(udp_payload)] == udp_payload, "UDP 500 echo over raw frames")

    for seq in range(1, 4):
        esp = struct.pack("!II", 0x12345678, seq) + bytes(32)
        send(ipv4(50, esp, 10 + seq))
    send(ipv4(50, b"\x00" * 4, 20))  # shorter than an ESP header: still an IP packet of protocol 50
    time.sleep(0.3)
    out = b.command("show interfaces")
    check("IP protocol 50 (ESP): 4 packets input, 0 packets output" in out,
          "ESP: 4 protocol-50 packets counted by the raw socket, none answered")
    b.shutdown()
    console2 = "".join(transcript)
    check("PANIC" not in console2 and "HARD FAULT" not in console2, "boot 2: no panic, no fault")
    wire.close()



try:
    main()
except Exception as error:  # a hang or a crash of the board is a failure, not a traceback
    check(False, f"{type(error).__name__}: {error}")
finally:
    for proc in running:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

print()
print(f"firmware-qemu: {passed} passed, {failed} failed")
print("PASS" if failed == 0 else "FAIL")
sys.exit(0 if failed == 0 else 1)
PY
status=$?
set -e
echo "firmware-qemu.sh took $(( $(date +%s) - START )) s"
exit $status

#!/usr/bin/env python3
"""The host side of the VM interop suite, on the gateway's inside address
(the PPP peer address the client pings): what the Linux client in the VM
talks to through its tunnel.

  vm_peer.py ADDR LNS CTL_SOCK LOG

  ADDR:5001  sink: reads until EOF, replies "OK <bytes>\\n" (the protocol of
             the harness's guest/xfer.py client, TRANSFER_MB)
  ADDR:5003  source: reads "SEND <bytes>\\n", sends that many bytes of a
             fixed pattern and closes (the guest's download test)
  ADDR:5002  check: reads "CHECK <user> <ip>\\n" while the client is
             connected, runs `lns ctl show vpn-sessiondb detail remote
             filter protocol L2TPOverIPSecOverNatT` and replies "OK\\n" when
             the session is there with that user name, that pool address
             and non-zero counters, else "FAIL <why>\\n". The output is
             appended to LOG.
"""
import re
import socket
import subprocess
import sys
import threading

ADDR, LNS, CTL, LOG = sys.argv[1:5]
PATTERN = bytes(range(256)) * 256  # 64 KiB


def listener(port, handle):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((ADDR, port))
    s.listen(8)

    def loop():
        while True:
            c, _ = s.accept()
            threading.Thread(target=guard, args=(handle, c), daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()


def guard(handle, c):
    with c:
        c.settimeout(300)
        try:
            handle(c)
        except OSError as e:
            print(f"vm_peer: {handle.__name__}: {e}", flush=True)


def readline(c):
    line = b""
    while not line.endswith(b"\n") and len(line) < 200:
        b = c.recv(1)
        if not b:
            break
        line += b
    return line.decode(errors="replace").split()


def sink(c):
    n = 0
    while True:
        b = c.recv(65536)
        if not b:
            break
        n += len(b)
    c.sendall(f"OK {n}\n".encode())
    print(f"vm_peer: sink received {n} bytes", flush=True)


def source(c):
    words = readline(c)
    total = int(words[1]) if len(words) == 2 and words[0] == "SEND" else 0
    sent, twice = 0, memoryview(PATTERN * 2)
    while sent < total:
        # A short send resumes where it stopped in the pattern.
        off = sent % len(PATTERN)
        sent += c.send(twice[off : off + min(len(PATTERN), total - sent)])
    c.shutdown(socket.SHUT_WR)
    print(f"vm_peer: source sent {sent} bytes", flush=True)


def field(text, name):
    m = re.search(rf"^{name} *: *(\S+)", text, re.M)
    return m.group(1) if m else None


def check(c):
    words = readline(c)
    if len(words) != 3 or words[0] != "CHECK":
        c.sendall(b"FAIL bad request\n")
        return
    user, ip = words[1], words[2]
    out = subprocess.run(
        [LNS, "ctl", "--ctl", CTL, "show", "vpn-sessiondb", "detail", "remote",
         "filter", "protocol", "L2TPOverIPSecOverNatT"],
        capture_output=True, text=True, timeout=20,
    ).stdout
    with open(LOG, "a") as f:
        f.write(out)
    why = []
    if field(out, "Username") != user:
        why.append(f"username={field(out, 'Username')}")
    if field(out, "Assigned IP") != ip:
        why.append(f"assigned={field(out, 'Assigned IP')}")
    m = re.search(r"^Bytes Tx *: *(\d+) +Bytes Rx *: *(\d+)", out, re.M)
    if not m or int(m.group(1)) == 0 or int(m.group(2)) == 0:
        why.append("bytes=" + (f"{m.group(1)}/{m.group(2)}" if m else "none"))
    m = re.search(r"^Pkts Tx *: *(\d+) +Pkts Rx *: *(\d+)", out, re.M)
    if not m or int(m.group(1)) == 0 or int(m.group(2)) == 0:
        why.append("pkts=" + (f"{m.group(1)}/{m.group(2)}" if m else "none"))
    c.sendall((f"FAIL {','.join(why)}\n" if why else "OK\n").encode())
    print(f"vm_peer: check {user} {ip}: {'FAIL ' + ','.join(why) if why else 'OK'}", flush=True)


listener(5001, sink)
listener(5002, check)
listener(5003, source)
print(f"vm_peer: listening on {ADDR}:5001,5002,5003", flush=True)
threading.Event().wait()

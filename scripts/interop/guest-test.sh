# Runs inside the client VM after the connection is up (the harness copies
# it in as user-test.sh; PPP_IP and PPP_PEER are set). With DOWNLOAD_MB
# set, downloads that many MiB from the host's vm_peer.py source through
# the tunnel; with CHECK_USER set, asks the host to check
# `lns ctl show vpn-sessiondb detail ...` while this session is up.
set -u
DOWNLOAD_MB=@DOWNLOAD_MB@
CHECK_USER=@CHECK_USER@
rc=0
if [ "$DOWNLOAD_MB" != 0 ]; then
  python3 - "$PPP_PEER" "$DOWNLOAD_MB" <<'PY' || rc=1
import socket, sys, time
host, mb = sys.argv[1], float(sys.argv[2])
want = int(mb * 1024 * 1024)
pattern = bytes(range(256)) * 256
t = time.time()
s = socket.create_connection((host, 5003), timeout=60)
s.sendall(f"SEND {want}\n".encode())
got, ok = 0, True
while True:
    b = s.recv(65536)
    if not b:
        break
    off = got % len(pattern)
    exp = (pattern[off:] + pattern)[: len(b)] if off + len(b) > len(pattern) else pattern[off:off + len(b)]
    ok = ok and b == exp
    got += len(b)
dt = time.time() - t
print(f"download got={got} want={want} intact={ok} secs={dt:.1f} kBps={got/1024/dt:.0f}")
sys.exit(0 if got == want and ok else 1)
PY
fi
if [ -n "$CHECK_USER" ]; then
  reply=$(python3 - "$PPP_PEER" "$CHECK_USER" "$PPP_IP" <<'PY'
import socket, sys
s = socket.create_connection((sys.argv[1], 5002), timeout=60)
s.sendall(f"CHECK {sys.argv[2]} {sys.argv[3]}\n".encode())
r = b""
while not r.endswith(b"\n"):
    b = s.recv(200)
    if not b:
        break
    r += b
print(r.decode().strip())
PY
)
  echo "ctl check: $reply"
  [ "$reply" = OK ] || rc=1
fi
exit $rc

#!/usr/bin/env bash
# End to end: `lns serve` in one network namespace, two `lns connect`
# clients in others, one on the same link (L2TPOverIPSec, ESP in IP) and one
# behind an nftables masquerade (L2TPOverIPSecOverNatT, ESP in UDP 4500):
#
#   [cla] 192.0.2.2 ---- 192.0.2.1 [srv] 203.0.113.1 ---- 203.0.113.2 [nat] 198.18.0.1 ---- 198.18.0.2 [clb]
#                                   lns0: 10.77.0.1, pool 10.77.0.0/24
#
# Each client pings the server's inside address and sends it 20 MB over TCP
# through the tunnel (checked by SHA-256); `lns ctl show vpn-sessiondb detail
# remote filter protocol ...` must show each session with non-zero counters.
# Then client A hangs up (SIGINT) and the server is stopped (SIGTERM) with
# client B still connected: it must end B's session properly and exit 0.
#
#   scripts/e2e-netns.sh [path/to/lns]      (as root; builds the release binary if none given)
#
# Everything runs in namespaces this script creates and deletes; no packet
# leaves the machine.
set -euo pipefail
. "$(dirname "$0")/lib/netns-topology.sh"
cd "$(dirname "$0")/.."

LNS="${1:-}"
if [[ -z "$LNS" ]]; then
    cargo build --release -p lns-host
    LNS=target/release/lns
fi
LNS="$(realpath "$LNS")"
[[ $(id -u) == 0 ]] || { echo "e2e-netns: needs root (network namespaces)"; exit 1; }

need=()
command -v ping >/dev/null || need+=(iputils-ping)
command -v nft >/dev/null || need+=(nftables)
command -v python3 >/dev/null || need+=(python3)
command -v ip >/dev/null || need+=(iproute2)
if ((${#need[@]})); then
    echo "installing ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

WORK="$(mktemp -d /tmp/lns-e2e.XXXXXX)"
tag=$$
SRV=lns-srv-$tag CLA=lns-cla-$tag NAT=lns-nat-$tag CLB=lns-clb-$tag
pids=()
failed=1

cleanup() {
    for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    for ns in "$SRV" "$CLA" "$NAT" "$CLB"; do ip netns del "$ns" 2>/dev/null || true; done
    if ((failed)); then
        for f in "$WORK"/*.out "$WORK"/*.err; do
            [[ -s $f ]] && { echo "----- $f"; tail -n 60 "$f"; }
        done
        echo "e2e-netns: FAILED (files kept in $WORK)"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT

fail() { echo "e2e-netns: $*"; exit 1; }

# wait_for FILE PATTERN SECONDS
wait_for() {
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        grep -qE "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    fail "no '$2' in $1 after $3 s"
}

# wait_exit PID SECONDS: waits for PID (a child of this shell) to end and
# sets RC to its exit status, or to "timeout".
wait_exit() {
    local i
    RC=timeout
    for ((i = 0; i < $2 * 10; i++)); do
        if ! kill -0 "$1" 2>/dev/null; then
            RC=0
            wait "$1" || RC=$?
            return 0
        fi
        sleep 0.1
    done
}

echo "=== bad input: clear messages and non-zero exits"
rc=0; "$LNS" frobnicate >"$WORK/bad.out" 2>&1 || rc=$?
[[ $rc == 2 ]] && grep -q "unknown command frobnicate" "$WORK/bad.out" || fail "unknown command: exit $rc"
printf 'ip local pool p 10.0.0.1-10.0.0.9\ntunnel-group DefaultRAGroup general-attributes\n adress-pool p\n' >"$WORK/bad.cfg"
rc=0; "$LNS" check-config "$WORK/bad.cfg" >"$WORK/bad.out" 2>&1 || rc=$?
[[ $rc == 1 ]] && grep -q "line 3" "$WORK/bad.out" || fail "check-config of a bad file: exit $rc"
"$LNS" check-config testdata/sessiondb/chapter-steps.txt >"$WORK/chapter.out" 2>/dev/null
grep -q "pre-shared-key \*\*\*\*\*" "$WORK/chapter.out" || fail "check-config does not mask the key"
rc=0; "$LNS" ctl --ctl "$WORK/nobody.sock" show debug >"$WORK/bad.out" 2>&1 || rc=$?
[[ $rc == 1 ]] && grep -q "is \`lns serve\` running" "$WORK/bad.out" || fail "ctl without a server: exit $rc"
# Without privileges: the message names the capability, and no secret is printed.
# (A copy of the binary where user nobody may run it, whatever the checkout's permissions.)
mkdir -p "$WORK/bin" && chmod 755 "$WORK" "$WORK/bin" && install -m 755 "$LNS" "$WORK/bin/lns"
nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
rc=0; "${nobody[@]}" "$WORK/bin/lns" serve --ctl "$WORK/x.sock" >"$WORK/bad.out" 2>&1 || rc=$?
[[ $rc == 1 ]] && grep -q "CAP_NET_BIND_SERVICE" "$WORK/bad.out" || fail "serve without privileges: exit $rc"
grep -q "pre-shared key" "$WORK/bad.out" && fail "serve printed its key without starting"
rc=0; "${nobody[@]}" --inh-caps=+net_bind_service --ambient-caps=+net_bind_service \
    "$WORK/bin/lns" serve --ctl "$WORK/x.sock" >"$WORK/bad.out" 2>&1 || rc=$?
[[ $rc == 1 ]] && grep -q "CAP_NET_ADMIN" "$WORK/bad.out" && grep -q "CAP_NET_RAW" "$WORK/bad.out" ||
    fail "serve without CAP_NET_ADMIN/CAP_NET_RAW: exit $rc"
echo "ok"

echo "=== namespaces and links"
make_topology "$SRV" "$CLA" "$NAT" "$CLB"
echo "ok"

echo "=== lns serve (the embedded default configuration)"
ip netns exec "$SRV" "$LNS" serve --ctl "$WORK/ctl.sock" --pcap "$WORK/srv.pcap" \
    >"$WORK/serve.out" 2>"$WORK/serve.err" </dev/null &
SERVE=$!; pids+=("$SERVE")
wait_for "$WORK/serve.err" "serving on" 20
PSK=$(sed -n 's/^ *pre-shared key: *//p' "$WORK/serve.out")
PW=$(sed -n 's/^ *password: *//p' "$WORK/serve.out")
[[ -n $PSK && -n $PW ]] || fail "no generated key or password in the banner"
grep -q "raw ESP" "$WORK/serve.err" || fail "no raw ESP socket as root"
ctl() { "$LNS" ctl --ctl "$WORK/ctl.sock" "$@"; }
ctl debug l2tp event 1
ctl show debug | grep -q "debug l2tp event enabled at level 1" || fail "show debug"
echo "ok: PSK and demo password generated"

echo "=== lns connect: A directly, B behind the NAT"
export LNS_PSK="$PSK" LNS_PASSWORD="$PW"
ip netns exec "$CLA" "$LNS" connect --server 192.0.2.1 --user demo --pcap "$WORK/cla.pcap" \
    >"$WORK/cla.out" 2>"$WORK/cla.err" </dev/null &
CLA_PID=$!; pids+=("$CLA_PID")
ip netns exec "$CLB" "$LNS" connect --server 203.0.113.1 --user demo --auth pap \
    >"$WORK/clb.out" 2>"$WORK/clb.err" </dev/null &
CLB_PID=$!; pids+=("$CLB_PID")
wait_for "$WORK/cla.out" "^connected: address 10\.77\.0\." 30
wait_for "$WORK/clb.out" "^connected: address 10\.77\.0\." 30
cat "$WORK/cla.out" "$WORK/clb.out"

echo "=== ping across each tunnel"
ip netns exec "$CLA" ping -c 3 -i 0.2 -W 2 10.77.0.1
ip netns exec "$CLB" ping -c 3 -i 0.2 -W 2 10.77.0.1

echo "=== 20 MB across each tunnel (TCP, checked by SHA-256)"
head -c 20000000 /dev/urandom >"$WORK/data"
want=$(sha256sum "$WORK/data" | cut -d' ' -f1)
receiver='
import hashlib, socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.77.0.1", int(sys.argv[1])))
s.listen(1)
s.settimeout(60)
c, _ = s.accept()
h, n = hashlib.sha256(), 0
while True:
    d = c.recv(1 << 16)
    if not d:
        break
    h.update(d)
    n += len(d)
print(n, h.hexdigest())
'
sender='
import socket, sys, time
t = time.monotonic()
s = socket.create_connection(("10.77.0.1", int(sys.argv[1])), timeout=60)
with open(sys.argv[2], "rb") as f:
    s.sendfile(f)
s.close()
print("%.1f MB/s" % (20.0 / (time.monotonic() - t)))
'
for c in "$CLA 5001 a" "$CLB 5002 b"; do
    set -- $c
    ip netns exec "$SRV" python3 -c "$receiver" "$2" >"$WORK/recv-$3.out" &
    rpid=$!
    sleep 0.3
    ip netns exec "$1" python3 -c "$sender" "$2" "$WORK/data" >"$WORK/send-$3.out"
    wait "$rpid"
    read -r n got <"$WORK/recv-$3.out"
    [[ $n == 20000000 && $got == "$want" ]] || fail "client $3: received $n bytes, sha256 $got"
    echo "client $3: 20000000 bytes intact at $(cat "$WORK/send-$3.out")"
done

echo "=== show vpn-sessiondb detail remote filter protocol L2TPOverIPSec"
ctl show vpn-sessiondb detail remote filter protocol L2TPOverIPSec | tee "$WORK/show-a.out"
echo "=== show vpn-sessiondb detail remote filter protocol L2TPOverIPSecOverNatT"
ctl show vpn-sessiondb detail remote filter protocol L2TPOverIPSecOverNatT | tee "$WORK/show-b.out"
for f in show-a show-b; do
    grep -q "^Username      : demo" "$WORK/$f.out" || fail "$f: no session of demo"
    # Session Bytes Rx (PPP payload from the client) above the 20 MB sent.
    rx=$(sed -n 's/^Bytes Tx *: *[0-9]* *Bytes Rx *: *\([0-9]*\)$/\1/p' "$WORK/$f.out" | head -n1)
    [[ -n $rx && $rx -ge 20000000 ]] || fail "$f: Bytes Rx '$rx' below 20 MB"
    pk=$(sed -n 's/^Pkts Tx *: *\([0-9]*\) .*/\1/p' "$WORK/$f.out" | head -n1)
    [[ -n $pk && $pk -gt 0 ]] || fail "$f: no packets counted"
done
grep -q "Public IP     : 192.0.2.2" "$WORK/show-a.out" || fail "A's public address"
grep -q "Public IP     : 203.0.113.2" "$WORK/show-b.out" || fail "B's public address (the NAT's)"
grep -q "UDP Src Port  : 4500" "$WORK/show-b.out" || fail "B's IKE did not float to 4500"
ctl show vpn-sessiondb summary

echo "=== A hangs up (SIGINT)"
kill -INT "$CLA_PID"
wait_exit "$CLA_PID" 10
[[ $RC == 0 ]] || fail "client A: exit $RC after SIGINT"
for ((i = 0; i < 50; i++)); do
    ctl show vpn-sessiondb summary | grep -qE "^L2TPOverIPSec +: +0 " && break
    sleep 0.1
done
ctl show vpn-sessiondb summary | grep -qE "^L2TPOverIPSec +: +0 " || fail "A's session still in the table"
grep -qE "session [0-9]+: down \(UserRequest\)" "$WORK/serve.err" || fail "A's session did not end as UserRequest"
echo "ok"

echo "=== the server stops (SIGTERM) with B connected"
kill -TERM "$SERVE"
wait_exit "$SERVE" 15
[[ $RC == 0 ]] || fail "serve: exit $RC after SIGTERM"
grep -q "every session ended" "$WORK/serve.err" || fail "serve did not end every session"
grep -qE "session [0-9]+: down \(AdminReboot\)" "$WORK/serve.err" || fail "B's session did not end as AdminReboot"
wait_exit "$CLB_PID" 10
[[ $RC != timeout ]] || fail "client B did not notice the server leaving"
grep -q "connection down" "$WORK/clb.err" || fail "client B was not told"
[[ -S $WORK/ctl.sock ]] && fail "control socket left behind"
echo "ok"

if command -v freeradius >/dev/null; then
    echo "=== serve with RADIUS (FreeRADIUS in the server's namespace): MS-CHAPv2, accounting Start and Stop"
    fr="$WORK/freeradius"
    cp -r /etc/freeradius/3.0 "$fr"
    mkdir -p "$fr/radacct" "$fr/log"
    python3 - "$fr" <<'PY'
import sys
d = sys.argv[1]
def edit(name, f):
    p = f"{d}/{name}"
    text = open(p).read()
    open(p, "w").write(f(text))
edit("radiusd.conf", lambda t: t.replace("\tuser = freerad", "\tuser = root")
     .replace("\tgroup = freerad", "\tgroup = root")
     .replace("radacctdir = ${logdir}/radacct", f"radacctdir = {d}/radacct")
     .replace("logdir = /var/log/freeradius", f"logdir = {d}/log"))
def site(t):
    t = t.replace("\tipaddr = *\n", "\tipaddr = 127.0.0.1\n", 2)
    first, second, *rest = t.split("\tport = 0\n")
    t = first + "\tport = 18121\n" + second + "\tport = 18131\n" + "\tport = 0\n".join(rest)
    return t.replace("\tipaddr = ::\n", "\tipaddr = ::1\n")
edit("sites-enabled/default", site)
edit("mods-config/files/authorize", lambda t: 'erin Cleartext-Password := "erin-radius-pw"\n\n' + t)
PY
    rm -f "$fr/sites-enabled/inner-tunnel"
    ip netns exec "$SRV" freeradius -f -l stdout -d "$fr" >"$WORK/freeradius.out" 2>&1 &
    pids+=($!)
    wait_for "$WORK/freeradius.out" "Ready to process requests" 30
    cat >"$WORK/radius.conf" <<'CONF'
ip local pool rad 10.78.0.10-10.78.0.50 mask 255.255.255.0
crypto ipsec transform-set TS esp-aes esp-sha-hmac
crypto ipsec transform-set TS mode transport
crypto dynamic-map dyn 10 set transform-set TS
crypto map outside_map 20 ipsec-isakmp dynamic dyn
crypto map outside_map interface outside
crypto isakmp enable outside
crypto isakmp policy 10
 authentication pre-share
 encryption aes-256
 hash sha
 group 14
crypto isakmp nat-traversal 20
aaa-server FR protocol radius
aaa-server FR (inside) host 127.0.0.1
 key testing123
 authentication-port 18121
 accounting-port 18131
 timeout 5
 retry-interval 2
group-policy DfltGrpPolicy attributes
 vpn-tunnel-protocol l2tp-ipsec
tunnel-group DefaultRAGroup general-attributes
 address-pool rad
 authentication-server-group FR
 accounting-server-group FR
tunnel-group DefaultRAGroup ipsec-attributes
 pre-shared-key radius-e2e-psk
tunnel-group DefaultRAGroup ppp-attributes
 authentication ms-chap-v2
CONF
    "$LNS" check-config "$WORK/radius.conf" >/dev/null
    ip netns exec "$SRV" "$LNS" serve --config "$WORK/radius.conf" --ctl "$WORK/ctl2.sock" \
        >"$WORK/serve2.out" 2>"$WORK/serve2.err" </dev/null &
    SERVE=$!
    pids+=("$SERVE")
    wait_for "$WORK/serve2.err" "serving on" 20
    grep -q "inside 10.78.0.1 " "$WORK/serve2.err" || fail "inside address from the pool"
    LNS_PSK=radius-e2e-psk LNS_PASSWORD=erin-radius-pw ip netns exec "$CLA" "$LNS" connect \
        --server 192.0.2.1 --user erin >"$WORK/clr.out" 2>"$WORK/clr.err" </dev/null &
    CLR=$!
    pids+=("$CLR")
    wait_for "$WORK/clr.out" "^connected: address 10\.78\.0\." 30
    ip netns exec "$CLA" ping -c 2 -i 0.2 -W 2 10.78.0.1 >/dev/null || fail "ping through the RADIUS session"
    "$LNS" ctl --ctl "$WORK/ctl2.sock" show vpn-sessiondb remote | grep -q "erin" || fail "erin not in the table"
    kill -INT "$CLR"
    wait_exit "$CLR" 10
    [[ $RC == 0 ]] || fail "RADIUS client: exit $RC after SIGINT"
    for ((i = 0; i < 50; i++)); do
        grep -rqs "Acct-Status-Type = Stop" "$fr/radacct" && break
        sleep 0.1
    done
    detail=$(cat "$fr"/radacct/*/* 2>/dev/null || true)
    grep -q "Acct-Status-Type = Start" <<<"$detail" || fail "no accounting Start at FreeRADIUS"
    grep -q "Acct-Status-Type = Stop" <<<"$detail" || fail "no accounting Stop at FreeRADIUS"
    grep -q 'User-Name = "erin"' <<<"$detail" || fail "accounting without the user"
    kill -TERM "$SERVE"
    wait_exit "$SERVE" 15
    [[ $RC == 0 ]] || fail "RADIUS serve: exit $RC after SIGTERM"
    echo "ok: erin authenticated by FreeRADIUS (MS-CHAPv2), accounting Start and Stop written"
fi

if command -v tshark >/dev/null; then
    echo "=== tshark decrypts the server's capture with its esp_sa file"
    mkdir -p "$WORK/profile"
    cp "$WORK/srv.pcap.esp_sa" "$WORK/profile/esp_sa"
    WIRESHARK_CONFIG_DIR="$WORK/profile" tshark -r "$WORK/srv.pcap" -o esp.enable_encryption_decode:TRUE \
        -q -z io,phs >"$WORK/phs.out" 2>&1
    grep -q "l2tp" "$WORK/phs.out" && grep -q "ppp" "$WORK/phs.out" || fail "tshark did not dissect L2TP/PPP"
    sed -n '/Protocol Hierarchy/,$p' "$WORK/phs.out" | head -n 30

    echo "=== tshark decrypts a simulation's capture (lns simulate --pcap)"
    "$LNS" -q simulate --clients 4 --nat --seconds 0 --pcap "$WORK/sim.pcap" >"$WORK/sim.out" 2>&1 ||
        fail "simulate --pcap"
    cp "$WORK/sim.pcap.esp_sa" "$WORK/profile/esp_sa"
    WIRESHARK_CONFIG_DIR="$WORK/profile" tshark -r "$WORK/sim.pcap" -o esp.enable_encryption_decode:TRUE \
        -Y "chap || pap" >"$WORK/sim-auth.out" 2>&1
    [[ $(wc -l <"$WORK/sim-auth.out") -ge 8 ]] || fail "tshark found no PPP authentication in the simulation"
    echo "ok: $(wc -l <"$WORK/sim-auth.out") PPP authentication packets decrypted"
fi

failed=0
echo "e2e-netns: passed"

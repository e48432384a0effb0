#!/usr/bin/env bash
# Throughput of the host port's data path and its session set-up rate, on
# this machine: `lns serve` in one network namespace, `lns connect` in
# another, the project's own load generator (ports/host/examples/loadgen.rs)
# on both sides of the tunnel.
#
#   scripts/bench-host.sh            # prints a Markdown section
#   scripts/bench-host.sh --write    # and puts it into docs/PERFORMANCE.md
#   BENCH_SECONDS=5 scripts/bench-host.sh
#
# Two paths: a client on the server's link (ESP in IP, raw sockets) and a
# client behind an nftables masquerade (ESP in UDP 4500). For each, IPv4
# packets of 64, 512 and 1400 bytes (UDP payload 36, 484, 1372) are sent as
# fast as sendmmsg takes them for BENCH_SECONDS, client to server (uplink:
# the server opens) and server to client (downlink: the server seals); the
# receiver counts what arrives (see `measure` for the pacing). Everything
# runs on this machine's cores at once: the sender, both lns processes, the
# kernel's TUN and veth work and the receiver, so the figures are what one
# host does end to end, not the server alone (`lns simulate` measures the
# gateway alone).
# Sessions: N clients (the project's Dialer over real UDP sockets, as N
# clients behind one NAT) connect, 32 negotiating at any time (the gateway
# limits half-open IKE SAs per address); the time until the last IPCP is
# up gives sessions per second (each one is a Main Mode with a 2048-bit
# Diffie-Hellman on both ends, Quick Mode, L2TP, PPP MS-CHAPv2 and IPCP).
set -euo pipefail
. "$(dirname "$0")/lib/netns-topology.sh"
cd "$(dirname "$0")/.."
write=0
[[ ${1:-} == --write ]] && write=1
SECONDS_EACH="${BENCH_SECONDS:-3}"
SESSIONS="${BENCH_SESSIONS:-200}"
[[ $(id -u) == 0 ]] || { echo "bench-host: needs root (network namespaces)"; exit 1; }
command -v nft >/dev/null || {
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nftables >/dev/null
}

cargo build --release -p lns-host --bin lns --example loadgen >&2
LNS="$(realpath target/release/lns)"
LOADGEN="$(realpath target/release/examples/loadgen)"

WORK="$(mktemp -d /tmp/lns-bench.XXXXXX)"
tag=$$
SRV=lnsb-srv-$tag CLA=lnsb-cla-$tag NAT=lnsb-nat-$tag CLB=lnsb-clb-$tag
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    sleep 0.5
    for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    for ns in "$SRV" "$CLA" "$NAT" "$CLB"; do ip netns del "$ns" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

make_topology "$SRV" "$CLA" "$NAT" "$CLB"

PSK=bench-psk-$tag PW=bench-pw-$tag
cat >"$WORK/bench.conf" <<EOF
ip local pool bench 10.77.0.10-10.77.0.250 mask 255.255.255.0
crypto ipsec transform-set AES128-SHA esp-aes esp-sha-hmac
crypto ipsec transform-set AES128-SHA mode transport
crypto ipsec transform-set AES256-SHA esp-aes-256 esp-sha-hmac
crypto ipsec transform-set AES256-SHA mode transport
crypto dynamic-map dyn 10 set transform-set AES128-SHA AES256-SHA
crypto map outside_map 20 ipsec-isakmp dynamic dyn
crypto map outside_map interface outside
crypto isakmp enable outside
crypto isakmp policy 10
 authentication pre-share
 encryption aes-256
 hash sha
 group 14
crypto isakmp nat-traversal 20
group-policy DfltGrpPolicy attributes
 vpn-tunnel-protocol l2tp-ipsec
 vpn-simultaneous-logins 250
tunnel-group DefaultRAGroup general-attributes
 address-pool bench
tunnel-group DefaultRAGroup ipsec-attributes
 pre-shared-key $PSK
tunnel-group DefaultRAGroup ppp-attributes
 authentication ms-chap-v2
username bench password $PW mschap
EOF

ip netns exec "$SRV" "$LNS" -q serve --config "$WORK/bench.conf" --ctl "$WORK/ctl.sock" \
    >"$WORK/serve.out" 2>"$WORK/serve.err" </dev/null &
pids+=($!)
SERVE_PID=$! # `ip netns exec` execs the command: this is the lns serve process
for ((i = 0; i < 100; i++)); do [[ -S $WORK/ctl.sock ]] && break; sleep 0.1; done
[[ -S $WORK/ctl.sock ]] || { cat "$WORK/serve.err"; exit 1; }

export LNS_PSK="$PSK" LNS_PASSWORD="$PW"
ip netns exec "$CLA" "$LNS" -q connect --server 192.0.2.1 --user bench >"$WORK/cla.out" 2>&1 </dev/null &
pids+=($!)
ip netns exec "$CLB" "$LNS" -q connect --server 203.0.113.1 --user bench >"$WORK/clb.out" 2>&1 </dev/null &
pids+=($!)
for ((i = 0; i < 300; i++)); do
    grep -q "^connected" "$WORK/cla.out" && grep -q "^connected" "$WORK/clb.out" && break
    sleep 0.1
done
addr_a=$(sed -n 's/^connected: address \([0-9.]*\) .*/\1/p' "$WORK/cla.out")
addr_b=$(sed -n 's/^connected: address \([0-9.]*\) .*/\1/p' "$WORK/clb.out")
[[ -n $addr_a && -n $addr_b ]] || { cat "$WORK"/*.out "$WORK/serve.err"; exit 1; }

# run SENDER_NS RECEIVER_NS DESTINATION SIZE SECONDS [RATE]: prints
# "delivered-pps mbit lost-percent"
run() {
    local port=9000
    ip netns exec "$2" "$LOADGEN" udp-sink --listen "$3:$port" --seconds "$5" >"$WORK/sink" &
    local sink=$!
    sleep 0.3
    ip netns exec "$1" "$LOADGEN" udp-send --to "$3:$port" --size "$4" --seconds "$5" \
        ${6:+--rate "$6"} >"$WORK/send"
    wait "$sink"
    read -r packets bytes secs <"$WORK/sink"
    read -r sent _ <"$WORK/send"
    python3 -c "
p, b, s, sent = $packets, $bytes, $secs, $sent
print('%.0f %.1f %.1f' % (p / s if s else 0, b * 8 / s / 1e6 if s else 0, 100.0 * (1 - p / sent) if sent else 0))"
}

# CPU seconds (user + system) lns serve has used so far.
serve_cpu() {
    awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f", ($14 + $15) / hz }' "/proc/$SERVE_PID/stat"
}

# measure SENDER_NS RECEIVER_NS DESTINATION SIZE: a flat-out second finds
# what the tunnel delivers while flooded; the measured run then offers 10%
# more than that, paced, so that the sender does not take the CPU the
# tunnel needs. Prints "delivered-pps mbit lost-percent serve-cpu-percent":
# the last is the share of one core lns serve used during the measured run
# (its own work, the packets' system calls and what the kernel charges to
# it), so mbit / (that / 100) is what one core running the server moves.
measure() {
    local pps _ c0 c1 t0 t1 out
    read -r pps _ < <(run "$1" "$2" "$3" "$4" 1)
    c0=$(serve_cpu) t0=$(date +%s.%N)
    out=$(run "$1" "$2" "$3" "$4" "$SECONDS_EACH" "$(python3 -c "print(int($pps * 1.1) + 1000)")")
    c1=$(serve_cpu) t1=$(date +%s.%N)
    echo "$out $(python3 -c "print('%.0f' % (100 * ($c1 - $c0) / ($t1 - $t0)))")"
}

per_core() { python3 -c "print('%.0f' % ($1 * 100 / $2) if $2 > 0 else 'n/a')"; }

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')
# What the two sessions negotiated, from the gateway's own view.
suite=$("$LNS" ctl --ctl "$WORK/ctl.sock" show vpn-sessiondb detail remote |
    sed -n '/^IPSec\(OverNatT\)\?:/,/^Encapsulation/s/^Encryption *: *\([^ ]*\) *Hashing *: *\([^ ]*\).*/ESP \1 + HMAC-\2/p' | sort -u | paste -sd, -)
{
    echo "<!-- bench-host:begin -->"
    echo "## ports/host: \`lns serve\` and \`lns connect\` end to end (\`scripts/bench-host.sh\`)"
    echo
    echo "CPU: $cpu, $(nproc) cores (shared by the sender, both \`lns\` processes, the kernel and the receiver);"
    echo "$(uname -sr); $(rustc --version); negotiated: $suite (CBC, 96-bit ICV);"
    echo "TUN MTU 1400; ${SECONDS_EACH} s per row; $(date -u +%Y-%m-%d); load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)."
    echo
    echo "| path | IPv4 packet | direction | packets/s delivered | Mbit/s delivered (IP bytes) | lost at 1.1× that rate | lns serve CPU (% of one core) | Mbit/s per core of lns serve |"
    echo "|---|---:|---|---:|---:|---:|---:|---:|"
} >"$WORK/table"
for path in "ESP in IP (no NAT)|$CLA|$addr_a" "ESP in UDP 4500 (behind NAT)|$CLB|$addr_b"; do
    IFS='|' read -r name cns caddr <<<"$path"
    for size in 64 512 1400; do
        read -r pps mbit loss srvcpu < <(measure "$cns" "$SRV" 10.77.0.1 "$size")
        echo "| $name | $size | client to server | $pps | $mbit | $loss % | $srvcpu % | $(per_core "$mbit" "$srvcpu") |" >>"$WORK/table"
        read -r pps mbit loss srvcpu < <(measure "$SRV" "$cns" "$caddr" "$size")
        echo "| $name | $size | server to client | $pps | $mbit | $loss % | $srvcpu % | $(per_core "$mbit" "$srvcpu") |" >>"$WORK/table"
    done
done

# Session set-up: the two clients above stay connected; N more arrive.
ip netns exec "$CLA" "$LOADGEN" sessions --server 192.0.2.1 --psk "$PSK" \
    --user bench --password "$PW" --count "$SESSIONS" --timeout 120 >"$WORK/sessions" || {
    cat "$WORK/table"
    echo "bench-host: the session set-up run failed"
    exit 1
}
read -r up secs <"$WORK/sessions"
rate=$(python3 -c "print('%.0f' % ($up / $secs))")
{
    echo
    echo "Session set-up: $up clients (the project's \`Dialer\` over real UDP sockets, as clients"
    echo "behind one NAT) connecting 32 at a time were all up (IPCP Opened) after ${secs%????} s:"
    echo "**$rate sessions/s**, each a Main Mode with a 2048-bit Diffie-Hellman on both ends, Quick Mode,"
    echo "L2TP, PPP MS-CHAPv2 and IPCP; the clients' work runs on the same cores."
    echo "<!-- bench-host:end -->"
} >>"$WORK/table"

cat "$WORK/table"
if ((write)); then
    python3 - "$WORK/table" docs/PERFORMANCE.md <<'EOF'
import re, sys
table = open(sys.argv[1]).read().rstrip("\n")
path = sys.argv[2]
doc = open(path).read()
pattern = re.compile(r"<!-- bench-host:begin -->.*?<!-- bench-host:end -->", re.S)
doc = pattern.sub(lambda m: table, doc) if pattern.search(doc) else doc.rstrip("\n") + "\n\n" + table + "\n"
open(path, "w").write(doc)
EOF
    echo "written to docs/PERFORMANCE.md" >&2
fi

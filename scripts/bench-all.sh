#!/usr/bin/env bash
# Every performance figure of the project in one run, beside OpenSSL on the
# same machine, as one table with ratios and the targets of issue 13.
#
#   scripts/bench-all.sh                  # everything (about 5 minutes here, more on a first build)
#   scripts/bench-all.sh --write          # and put the table into docs/PERFORMANCE.md
#   scripts/bench-all.sh --no-host --no-firmware   # skip the netns run (needs root) and the firmware builds
#
# How the figures are taken. This machine is shared: a wall-clock mean moves
# with whatever else runs (two runs of the criterion benchmarks differ by
# tens of percent under load). So our operations are timed as the fastest of
# many short batches (`esp-core/examples/esp_speed.rs`,
# `ike-core/examples/ike_speed.rs`, `sessiondb/examples/datapath_min.rs`):
# a batch that ran without being preempted is what the code costs. OpenSSL
# is run as `openssl speed` without -elapsed, which counts the process's
# own CPU time: also the cost without the time other processes took. Both
# still pay for the caches other processes dirty. The end-to-end figures
# (`lns simulate`, `scripts/bench-host.sh`) are wall clock and move with the
# load, which the output prints.
#
# Rows (ours / reference):
#   ESP        esp-core seal+open of one packet each way vs OpenSSL EVP CBC
#              (encrypt, decrypt) plus HMAC (twice: once per direction).
#              "ours/bare" is esp-core over the same RustCrypto cipher and
#              MAC on the same bytes (the cost of ESP itself).
#   data path  the gateway's whole handle_ip / handle_datagram over Sa::seal
#              / Sa::open of the same payload alone.
#   DH, RSA    crypto-bigint / RustCrypto behind ike-core vs openssl speed
#              ffdh2048, dsa1024 (a 1024-bit modexp with a 160-bit exponent),
#              ecdhp256, ecdhp384, rsa2048; our modexps use OpenSSL's
#              exponent sizes for those operations.
#   set-up     a complete Main Mode + Quick Mode, both ends in one process;
#              lns simulate's CPU time per session (both ends, and the
#              gateway's share); bench-host's real-socket rate.
#   host port  lns simulate's gateway-alone throughput on one core, and
#              bench-host's end-to-end throughput (two lns processes, the
#              kernel and the load generator on this machine's cores) with
#              the CPU lns serve used, giving Mbit/s per core of the server.
#   memory     gateway_sizes; firmware-sizes.sh for both boards.
set -euo pipefail
cd "$(dirname "$0")/.."
write=0 host=1 firmware=1
for arg in "$@"; do
    case $arg in
        --write) write=1 ;;
        --no-host) host=0 ;;
        --no-firmware) firmware=0 ;;
        *) echo "usage: $0 [--write] [--no-host] [--no-firmware]" >&2; exit 2 ;;
    esac
done
[[ $(id -u) == 0 ]] || { [[ $host == 1 ]] && echo "bench-all: not root, skipping the network-namespace run" >&2; host=0; }
command -v openssl >/dev/null || {
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssl >/dev/null
}

WORK="$(mktemp -d /tmp/bench-all.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "load average before: $(load)" >"$WORK/load"
step() { echo "== $* ($(date -u +%H:%M:%S), load $(cut -d' ' -f1 /proc/loadavg))" >&2; }

step "building"
cargo build --release --quiet -p esp-core -p ike-core -p sessiondb -p lns-host \
    --example esp_speed --example ike_speed --example datapath_min --example gateway_sizes --bin lns

step "ESP: esp-core and the bare crates"
target/release/examples/esp_speed >"$WORK/esp.tsv"
step "ESP: openssl speed"
for c in aes-128-cbc aes-256-cbc des-ede3-cbc; do
    for size in 64 512 1400; do
        enc=$(openssl speed -mr -seconds 1 -bytes "$size" -evp "$c" 2>/dev/null | awk -F: '/^\+F:/ {print $4}')
        dec=$(openssl speed -mr -seconds 1 -bytes "$size" -decrypt -evp "$c" 2>/dev/null | awk -F: '/^\+F:/ {print $4}')
        echo "cipher $c $size $enc $dec" >>"$WORK/openssl"
    done
done
for h in sha1 sha256; do
    for size in 64 512 1400; do
        mac=$(openssl speed -mr -seconds 1 -bytes "$size" -hmac "$h" 2>/dev/null | awk -F: '/^\+F:/ {print $4}')
        echo "hmac $h $size $mac" >>"$WORK/openssl"
    done
done

step "data path: the gateway against ESP alone"
target/release/examples/datapath_min 400 >"$WORK/datapath"

step "IKE: ike-core and openssl speed"
target/release/examples/ike_speed >"$WORK/ike.tsv"
openssl speed -mr -seconds 2 ffdh2048 dsa1024 rsa2048 ecdhp256 ecdhp384 2>/dev/null >"$WORK/openssl-pk"

step "lns simulate (64 clients; set-up and data path of the gateway alone)"
target/release/lns simulate >"$WORK/simulate" 2>&1

step "gateway_sizes"
target/release/examples/gateway_sizes >"$WORK/sizes"

if [[ $host == 1 ]]; then
    step "scripts/bench-host.sh (lns serve and lns connect in network namespaces)"
    scripts/bench-host.sh >"$WORK/host.md" 2>"$WORK/host.err" || { cat "$WORK/host.err" >&2; exit 1; }
fi
if [[ $firmware == 1 ]]; then
    step "scripts/firmware-sizes.sh (both boards)"
    scripts/firmware-sizes.sh >"$WORK/firmware" 2>&1 || { cat "$WORK/firmware" >&2; exit 1; }
fi
echo "load average after: $(load)" >>"$WORK/load"

python3 - "$WORK" "$write" <<'PY'
import os, re, sys
work, write = sys.argv[1], sys.argv[2] == "1"
def read(name):
    p = os.path.join(work, name)
    return open(p).read() if os.path.exists(p) else None

rows = []
def row(area, what, ours, ref_name, ref, ratio, target="", met=None):
    mark = "" if met is None else ("yes" if met else "**no**")
    rows.append(f"| {area} | {what} | {ours} | {ref_name} | {ref} | {ratio} | {target} | {mark} |")

# --- ESP
ossl_c, ossl_h = {}, {}
for line in read("openssl").splitlines():
    f = line.split()
    if f[0] == "cipher":
        ossl_c[(f[1], int(f[2]))] = (float(f[3]), float(f[4]))
    else:
        ossl_h[(f[1], int(f[2]))] = float(f[3])
cipher_of = {"aes128": "aes-128-cbc", "aes256": "aes-256-cbc", "3des": "des-ede3-cbc"}
for line in read("esp.tsv").splitlines():
    _, suite, size, seal, bare_seal, open_, bare_open = line.split("\t")
    size = int(size); seal, bare_seal, open_, bare_open = map(float, (seal, bare_seal, open_, bare_open))
    c, h = suite.split("-")
    enc, dec = ossl_c[(cipher_of[c], size)]
    mac = ossl_h[(h, size)]
    # seconds per byte of OpenSSL's cipher and HMAC, both directions
    ossl_ns = (1 / enc + 1 / dec + 2 / mac) * size * 1e9
    ours_ns = seal + open_
    mbps = lambda ns: f"{2 * size / ns * 1e3:,.0f}"
    ratio = ossl_ns / ours_ns
    target, met = "", None
    if suite == "aes128-sha1" and size == 1400:
        target, met = ">= 0.8x OpenSSL", ratio >= 0.8
    row("ESP", f"{suite} {size} B seal+open, MB/s (ours/bare {ours_ns / (bare_seal + bare_open):.2f})",
        mbps(ours_ns), "OpenSSL EVP+HMAC", mbps(ossl_ns), f"{ratio:.2f}", target, met)

# --- data path
for line in read("datapath").splitlines():
    m = re.match(r"\s*(\d+)B \|\s+(\d+) ns\s+(\d+) ns\s+(-?[\d.]+)% \|\s+(\d+) ns\s+(\d+) ns\s+(-?[\d.]+)%", line)
    if not m:
        continue
    size, dg, de, do, ug, ue, uo = m.groups()
    for way, g, e, o in (("down (handle_ip)", dg, de, do), ("up (handle_datagram)", ug, ue, uo)):
        row("data path", f"{way} {size} B, ns/packet", g, "Sa::seal/open alone", e,
            f"{float(o):+.1f}%", "< 5% above ESP", float(o) < 5)

# --- public key
ike = {}
for line in read("ike.tsv").splitlines():
    _, op, ns = line.split("\t")
    ike[op] = float(ns)
pk = {}
for line in read("openssl-pk").splitlines():
    f = line.split(":")
    if f[0] == "+F2":   # rsa: bits, sign/s, verify/s
        pk["rsa2048 sign"], pk["rsa2048 verify"] = 1e9 / float(f[3]), 1e9 / float(f[4])
    elif f[0] == "+F3": # dsa: bits, sign/s, verify/s
        pk["dsa1024 sign"] = 1e9 / float(f[3])
    elif f[0] == "+F5": # ecdh: bits, ops/s
        pk[f"ecdhp{f[2]}"] = 1e9 / float(f[3])
    elif f[0] == "+F8": # ffdh: bits, ops/s
        pk[f"ffdh{f[2]}"] = 1e9 / float(f[3])
us = lambda ns: f"{ns / 1e3:,.1f}"
for ours, theirs, what, target in (
    ("modexp/2048/e225", "ffdh2048", "MODP-2048 modexp (225-bit exponent), µs", "<= 3x OpenSSL"),
    ("modexp/1024/e160", "dsa1024 sign", "MODP-1024 modexp (160-bit exponent), µs", ""),
    ("dh/group19/derive", "ecdhp256", "ECDH P-256 derive, µs", ""),
    ("dh/group20/derive", "ecdhp384", "ECDH P-384 derive, µs", ""),
    ("rsa/2048/sign", "rsa2048 sign", "RSA-2048 sign (CRT), µs", ""),
    ("rsa/2048/verify", "rsa2048 verify", "RSA-2048 verify, µs", ""),
):
    r = ike[ours] / pk[theirs]
    row("DH/RSA", what, us(ike[ours]), f"openssl {theirs}", us(pk[theirs]), f"{r:.2f}x time",
        target, (r <= 3) if target else None)

# --- set-up
row("set-up", "MM+QM group 14 PSK, both ends, µs", us(ike["handshake/group14-psk"]), "", "", "")
row("set-up", "MM+QM group 14 RSA certificates, both ends, µs", us(ike["handshake/group14-rsa-sig"]), "", "", "")
sim = read("simulate")
m = re.search(r"CPU time: ([\d.]+) s for both ends, ([\d.]+) ms per session; the gateway's share ([\d.]+) ms", sim)
if m:
    both, gw = float(m.group(2)), float(m.group(3))
    row("set-up", "whole session (IKE group 14, L2TP, PPP MS-CHAPv2, IPCP), CPU ms per session: gateway / both ends",
        f"{gw:.2f} / {both:.2f}", "", "", f"{1e3 / gw:,.0f} sessions/s per core (gateway)")
host = read("host.md")
if host:
    m = re.search(r"\*\*(\d+) sessions/s\*\*", host)
    if m:
        row("set-up", "lns serve + lns connect over real sockets (clients on the same cores): sessions/s", m.group(1), "", "", "")

# --- host port throughput
for line in sim.splitlines():
    m = re.match(r"\s+1400\s+(\d+)\s+([\d.]+)", line)
    if m:
        mbit = float(m.group(2))
        row("host port", "gateway alone on one core (lns simulate), 1400 B, Mbit/s both ways summed", f"{mbit:,.0f}",
            "", "", "")
if host:
    for line in host.splitlines():
        f = [x.strip() for x in line.split("|")]
        if len(f) > 9 and f[2] == "1400":
            per_core = float(f[8]) if f[8] != "n/a" else 0
            row("host port", f"lns serve, {f[1]}, {f[3]}, 1400 B: Mbit/s delivered (serve at {f[7]} of a core) / per core of serve",
                f"{f[5]} / {per_core:,.0f}", "", "", "", ">= 1 Gbit/s per core", per_core >= 1000)

# --- memory
sizes = read("sizes")
def size_of(label):
    m = re.search(re.escape(label) + r"\s+(\d+) bytes", sizes)
    return int(m.group(1)) if m else None
one = size_of("One complete session:")
row("memory", "one complete session, bytes", f"{one:,}", "", "", "", "<= 4096", one <= 4096)
for label in ("Gateway16  (16 sessions):", "Gateway256 (256 sessions):"):
    row("memory", label.split("(")[0].strip() + " " + label[label.index("("):].rstrip(":") + ", bytes",
        f"{size_of(label):,}", "", "", "")
fw = read("firmware")
if fw:
    board = None
    for line in fw.splitlines():
        m = re.match(r"== (\S+)", line)
        if m:
            board = m.group(1)
        m = re.match(r"\s+(flash|static RAM)\s+(\d+)", line)
        if m and board:
            kib = int(m.group(2)) / 1024
            limit = 256 if m.group(1) == "flash" else 128
            target, met = "", None
            if board == "nucleo-h743zi":
                target, met = f"<= {limit} KiB", kib <= limit
            row("firmware", f"{board} {m.group(1)}, KiB", f"{kib:.1f}", "", "", "", target, met)

cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
import subprocess, datetime
rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
ossl = subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout.strip()
loads = read("load").strip().replace("\n", "; ")
out = [
    "<!-- bench-all:begin -->",
    "## All figures in one run (`scripts/bench-all.sh`)",
    "",
    f"{cpu}, {os.cpu_count()} cores; {rustc}; {ossl}; {datetime.date.today()}; {loads}.",
    "",
    "| area | measurement | ours | reference (same run) | reference | ratio | target | met |",
    "|---|---|---:|---|---:|---:|---|---|",
    *rows,
    "<!-- bench-all:end -->",
]
text = "\n".join(out) + "\n"
print(text, end="")
if write:
    path = "docs/PERFORMANCE.md"
    doc = open(path).read()
    if "<!-- bench-all:begin -->" in doc:
        doc = re.sub(r"<!-- bench-all:begin -->.*<!-- bench-all:end -->\n", lambda _: text, doc, flags=re.S)
    else:
        doc = doc.replace("\n## ", "\n" + text + "\n## ", 1)
    if host:
        # The end-to-end run's own section, from the same run.
        block = host[host.index("<!-- bench-host:begin -->"):host.index("<!-- bench-host:end -->")]
        doc = re.sub(r"<!-- bench-host:begin -->.*?(?=<!-- bench-host:end -->)", lambda _: block, doc, flags=re.S)
    open(path, "w").write(doc)
    print(f"(written into {path})", file=sys.stderr)
PY

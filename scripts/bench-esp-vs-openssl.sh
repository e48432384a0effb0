#!/usr/bin/env bash
# ESP seal/open against the bare RustCrypto cipher+MAC and against OpenSSL's
# EVP cipher + HMAC, on this machine, in one run. Prints a Markdown table.
#
#   scripts/bench-esp-vs-openssl.sh            # every suite (about 4 minutes)
#   scripts/bench-esp-vs-openssl.sh aes128-sha1 # one suite
#
# Columns (MB/s = 10^6 bytes of payload per second, one core):
#   seal, open              esp-core, whole packet processing
#   bare seal, bare open    the same crates' CBC + HMAC on the same bytes
#   ours/bare               seal and open time over bare time (1.00 = no overhead)
#   OpenSSL enc+mac         openssl speed: EVP cipher and HMAC run separately,
#                           combined as 1 / (1/cipher + 1/hmac) per direction
#   ours/OpenSSL            our seal+open throughput over OpenSSL's
set -euo pipefail
cd "$(dirname "$0")/.."
filter="${1:-}"
secs="${OPENSSL_SECONDS:-1}"

echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')" >&2
echo "rustc: $(rustc --version)" >&2
echo "OpenSSL: $(openssl version)" >&2

cargo bench -p esp-core --bench esp -- ${filter:+"$filter/"} >&2

openssl_rates() { # $1: speed args ; prints "bytes rate" lines for 64 512 1400
    for size in 64 512 1400; do
        rate=$(openssl speed -mr -seconds "$secs" -bytes "$size" "$@" 2>/dev/null | awk -F: '/^\+F:/ {print $4}')
        echo "$size $rate"
    done
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for c in des-ede3-cbc aes-128-cbc aes-192-cbc aes-256-cbc; do
    openssl_rates -evp "$c" >"$tmp/enc-$c"
    openssl_rates -decrypt -evp "$c" >"$tmp/dec-$c"
done
for h in md5 sha1 sha256; do
    openssl_rates -hmac "$h" >"$tmp/hmac-$h"
done

python3 - "$tmp" "$filter" <<'EOF'
import json, os, sys
tmp, flt = sys.argv[1], sys.argv[2]
crit = "target/criterion"
ciphers = {"3des": "des-ede3-cbc", "aes128": "aes-128-cbc", "aes192": "aes-192-cbc", "aes256": "aes-256-cbc"}
macs = {"md5": "md5", "sha1": "sha1", "sha256": "sha256"}

def rates(path):
    out = {}
    for line in open(path):
        size, rate = line.split()
        out[int(size)] = float(rate)
    return out

def ns(suite, op, size):
    path = f"{crit}/{suite}/{op}/{size}/new/estimates.json"
    if not os.path.exists(path):
        return None
    return json.load(open(path))["mean"]["point_estimate"]

print("| suite | bytes | seal MB/s | bare seal MB/s | seal/bare | open MB/s | bare open MB/s | open/bare | OpenSSL enc+mac / mac+dec MB/s | ours/OpenSSL (seal+open) |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for c, oc in ciphers.items():
    for m, om in macs.items():
        suite = f"{c}-{m}"
        if flt and flt != suite:
            continue
        enc, dec, hm = rates(f"{tmp}/enc-{oc}"), rates(f"{tmp}/dec-{oc}"), rates(f"{tmp}/hmac-{om}")
        for size in (64, 512, 1400):
            t = {op: ns(suite, op, size) for op in ("seal", "bare-seal", "open", "bare-open")}
            if None in t.values():
                continue
            mbps = lambda n: size / n * 1e3  # bytes per ns -> MB/s
            # OpenSSL: seconds per byte of cipher and of HMAC, added.
            o_seal = 1 / (1 / enc[size] + 1 / hm[size]) / 1e6
            o_open = 1 / (1 / dec[size] + 1 / hm[size]) / 1e6
            ours = size / (t["seal"] + t["open"]) * 1e3
            theirs = 1 / (1 / o_seal + 1 / o_open)
            print(f"| {suite} | {size} | {mbps(t['seal']):.0f} | {mbps(t['bare-seal']):.0f} | "
                  f"{t['seal'] / t['bare-seal']:.3f} | {mbps(t['open']):.0f} | {mbps(t['bare-open']):.0f} | "
                  f"{t['open'] / t['bare-open']:.3f} | {o_seal:.0f} / {o_open:.0f} | {ours / theirs:.2f} |")
EOF

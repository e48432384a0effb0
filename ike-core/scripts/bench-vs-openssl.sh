#!/usr/bin/env bash
# IKE handshake and Diffie-Hellman costs beside OpenSSL, on this machine, in
# one run. Prints Markdown tables (for docs/PERFORMANCE.md).
#
#   ike-core/scripts/bench-vs-openssl.sh      # about 5 minutes
#
# OpenSSL's `speed` has no plain modular-exponentiation test; the closest
# operations of the same prime sizes are used:
#   ffdh2048  one DH derive over the RFC 7919 2048-bit group: one
#             2048-bit modexp with OpenSSL 3's 225-bit private exponent;
#   dsa1024   one DSA-1024 signature: one 1024-bit modexp with a 160-bit
#             exponent (plus a small inversion and two multiplications
#             mod q, negligible).
# Our `modexp/<bits>/e<ebits>` benchmarks use exactly those exponent sizes,
# so "ours/OpenSSL" compares the same amount of exponentiation. There is no
# 1536-bit operation in `openssl speed`.
#
# The handshake table adds the OpenSSL time of the four exponentiations a
# handshake performs (at our exponent sizes, scaled from the per-bit cost
# of the operation above) to show how much of a handshake is the bignum.
# Times are criterion medians (wall clock). OpenSSL runs with -elapsed, so
# that it too is timed by the wall clock: `openssl speed` otherwise counts
# user CPU time, which does not grow with the load while criterion's does.
# On a shared machine both move with the load (printed before and after);
# compare rows of one run, not across runs.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs="${OPENSSL_SECONDS:-3}"

echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
echo "rustc: $(rustc --version)"
echo "OpenSSL: $(openssl version)"
echo "load average before: $(cut -d" " -f1-3 /proc/loadavg)"
echo

cargo bench -p ike-core --bench ike >&2
echo "load average after the benchmarks: $(cut -d' ' -f1-3 /proc/loadavg)"

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
openssl speed -elapsed -mr -seconds "$secs" ffdh2048 dsa1024 rsa2048 ecdhp256 ecdhp384 2>/dev/null >"$tmp"

python3 - "$tmp" <<'PY'
import json, os, sys
lines = open(sys.argv[1]).read().splitlines()
ffdh = dsa = None
rsa_sign = rsa_verify = None
ecdh = {}
for l in lines:
    f = l.split(":")
    if l.startswith("+F2:") and f[2] == "2048":
        rsa_sign, rsa_verify = 1e9 / float(f[3]), 1e9 / float(f[4])   # ns per op
    if l.startswith("+F5:"):
        ecdh[f[2]] = 1e9 / float(f[3])     # ns per derive
    if l.startswith("+F8:") and f[2] == "2048":
        ffdh = 1e9 / float(f[3])           # ns per derive
    if l.startswith("+F3:") and f[2] == "1024":
        dsa = 1e9 / float(f[3])            # ns per signature

def ns(path):
    # Criterion stores "group/function/with/slashes" as group/function_with_slashes.
    head, _, tail = path.partition("/")
    p = f"target/criterion/{head}/{tail.replace('/', '_')}/new/estimates.json"
    if not os.path.exists(p):
        p = f"target/criterion/{path.replace('/', '_')}/new/estimates.json"
    return json.load(open(p))["median"]["point_estimate"] if os.path.exists(p) else None

def us(x):
    return f"{x/1000:.1f} µs" if x is not None else "n/a"

print("| operation | ike-core | OpenSSL operation | OpenSSL | ike-core / OpenSSL |")
print("|---|---:|---|---:|---:|")
rows = [
    ("modexp 1024-bit, 160-bit exponent", ns("modexp/1024/e160"), "dsa1024 sign", dsa),
    ("modexp 1536-bit, 200-bit exponent", ns("modexp/1536/e200"), "(none)", None),
    ("modexp 2048-bit, 225-bit exponent", ns("modexp/2048/e225"), "ffdh2048 derive", ffdh),
]
for name, ours, op, theirs in rows:
    ratio = f"{ours/theirs:.2f}" if ours and theirs else "n/a"
    print(f"| {name} | {us(ours)} | {op} | {us(theirs)} | {ratio} |")
print()

print("| operation | ike-core | OpenSSL (`openssl speed`) | OpenSSL | ike-core / OpenSSL |")
print("|---|---:|---|---:|---:|")
rows = [
    ("RSA-2048 sign (PKCS#1 v1.5, CRT)", ns("rsa/2048/sign"), "rsa2048 sign", rsa_sign),
    ("RSA-2048 verify (e = 65537)", ns("rsa/2048/verify"), "rsa2048 verify", rsa_verify),
    ("RSA-3072 sign", ns("rsa/3072/sign"), "(not run)", None),
    ("RSA-4096 sign", ns("rsa/4096/sign"), "(not run)", None),
    ("ECDH P-256 derive (group 19)", ns("dh/group19/derive"), "ecdhp256", ecdh.get("256")),
    ("ECDH P-256 keygen (d·G)", ns("dh/group19/keygen"), "(none)", None),
    ("ECDH P-384 derive (group 20)", ns("dh/group20/derive"), "ecdhp384", ecdh.get("384")),
    ("ECDH P-384 keygen (d·G)", ns("dh/group20/keygen"), "(none)", None),
    ("full MM+QM with certificates, group 14, both sides", ns("handshake/rsa-sig-group14"), "(none)", None),
]
for name, ours, op, theirs in rows:
    ratio = f"{ours/theirs:.2f}" if ours and theirs else "n/a"
    print(f"| {name} | {us(ours)} | {op} | {us(theirs)} | {ratio} |")
print()

ebits = {"group2": 256, "group5": 256, "group14": 320}
base = {"group2": (dsa, 160), "group5": (None, 200), "group14": (ffdh, 225)}
print("| DH group | full MM+QM, both sides | 2 keygen + 2 derive (ike-core) | rest of the handshake | OpenSSL, 4 modexps at our exponent size | handshake / OpenSSL modexps |")
print("|---|---:|---:|---:|---:|---:|")
for g, label in (("group2", "2 (MODP 1024)"), ("group5", "5 (MODP 1536)"), ("group14", "14 (MODP 2048)")):
    hs = ns(f"handshake/{g}")
    kg, dv = ns(f"dh/{g}/keygen"), ns(f"dh/{g}/derive")
    dh4 = 2 * (kg + dv) if kg and dv else None
    rest = hs - dh4 if hs and dh4 else None
    t, b = base[g]
    o4 = 4 * t * ebits[g] / b if t else None
    ratio = f"{hs/o4:.2f}" if hs and o4 else "n/a"
    print(f"| {label} | {us(hs)} | {us(dh4)} | {us(rest)} | {us(o4)} | {ratio} |")
PY

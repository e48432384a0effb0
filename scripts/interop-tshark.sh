#!/usr/bin/env bash
# tshark (Debian's Wireshark) decodes every packet of whole L2TP/IPsec
# sessions captured by the host port (issue 11, item 3): `lns simulate
# --pcap` runs (NAT-T and plain ESP, one with loss), their ESP decrypted with
# the keys the run exported in Wireshark's esp_sa format, so that L2TP and
# PPP inside are dissected. Each capture must have zero malformed packets,
# zero expert errors, every ESP packet decrypted with a correct ICV, and
# L2TP and PPP inside (scripts/interop/tshark_session.py is the judge).
#
#   scripts/interop-tshark.sh [path/to/lns] [NAME=PCAP...]
#
# NAME=PCAP judges further captures too (e.g. an `lns serve --pcap` file
# with its PCAP.esp_sa beside it). One line per capture, then
# `N passed, N failed`. Installs tshark (Debian) when missing.
set -uo pipefail
cd "$(dirname "$0")/.."

LNS="${1:-}"
[[ $# -gt 0 ]] && shift
if [[ -z $LNS ]]; then
    cargo build --release -q -p lns-host || exit 1
    LNS=target/release/lns
fi
LNS="$(realpath "$LNS")"
if ! command -v tshark >/dev/null; then
    echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends tshark >/dev/null || exit 1
fi
echo "== $(tshark --version 2>/dev/null | head -1)"

WORK="$(mktemp -d /tmp/lns-tshark.XXXXXX)"
passed=0 failed=0
judge() { # NAME PCAP
    if python3 scripts/interop/tshark_session.py "$1" "$2"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
}

# name: simulate arguments
runs=(
    "simulate-16-nat:--clients 16 --nat --seed 11"
    "simulate-16-esp-in-ip:--clients 16 --seed 12"
    "simulate-16-nat-loss-5pct:--clients 16 --nat --loss 0.05 --seed 13"
)
for r in "${runs[@]}"; do
    name=${r%%:*} args=${r#*:}
    # shellcheck disable=SC2086
    if "$LNS" -q simulate $args --seconds 0 --pcap "$WORK/$name.pcap" >"$WORK/$name.out" 2>&1; then
        judge "$name" "$WORK/$name.pcap"
    else
        echo "$name FAIL lns simulate exit $? ($(tail -n 1 "$WORK/$name.out"))"
        failed=$((failed + 1))
    fi
done
for extra in "$@"; do
    judge "${extra%%=*}" "${extra#*=}"
done

echo "$passed passed, $failed failed"
if ((failed)); then echo "interop-tshark: files kept in $WORK"; else rm -rf "$WORK"; fi
((failed == 0))

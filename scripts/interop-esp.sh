#!/usr/bin/env bash
# esp-core against ESP implementations nobody here wrote (issue 11, items 3
# and 4, for ESP):
#
#   scapy  (scapy.layers.ipsec.SecurityAssociation, transport mode, plain and
#          with nat_t_header UDP encapsulation) opens what esp-core seals and
#          esp-core opens what scapy seals, for every cipher x MAC both have;
#          scapy's tampered packets are refused with the right error;
#   tshark (Debian's Wireshark 4.0) decrypts a pcap of esp-core's packets with
#          the keys in its esp_sa UAT format: every ICV [correct], the inner
#          UDP/L2TP/PPP dissected, no malformed packet, no expert error.
#
# The Rust side: esp-core/examples/esp_tool.rs (seal/open on a line protocol)
# and ports/host/examples/esp_pcap.rs (the pcap and esp_sa file, through the
# host port's PcapWriter and esp_sa_line). The judges: scripts/interop/*.py.
#
# Installs what it needs: tshark from Debian (non-interactively, answering
# wireshark-common's "non-root capture" question with no) and pinned scapy
# and cryptography from PyPI. Prints one line per check, then
# "N passed, N failed"; exits non-zero on any failure.
#
# Usage: scripts/interop-esp.sh [--only scapy|tshark] [--keep DIR]
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SCAPY_VERSION=2.6.1
CRYPTOGRAPHY_VERSION=48.0.0

if ! command -v tshark >/dev/null 2>&1; then
    echo "== installing tshark (Debian)"
    echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends tshark >/dev/null
fi
if ! python3 - "$SCAPY_VERSION" <<'PY' >/dev/null 2>&1
import sys
import scapy, cryptography
assert scapy.__version__ == sys.argv[1]
PY
then
    echo "== installing scapy $SCAPY_VERSION (PyPI)"
    python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
        "scapy==$SCAPY_VERSION" "cryptography==$CRYPTOGRAPHY_VERSION"
fi

echo "== tools: $(tshark --version 2>/dev/null | head -1); scapy $(python3 -c 'import scapy; print(scapy.__version__)'), cryptography $(python3 -c 'import cryptography; print(cryptography.__version__)')"

echo "== build esp_tool and esp_pcap"
(cd "$ROOT" && cargo build --quiet -p esp-core --example esp_tool && cargo build --quiet -p lns-host --example esp_pcap)
TARGET="$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"

cd "$ROOT/scripts/interop"
exec python3 -u esp_interop.py \
    --esp-tool "$TARGET/debug/examples/esp_tool" \
    --esp-pcap "$TARGET/debug/examples/esp_pcap" "$@"

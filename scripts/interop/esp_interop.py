"""Runs the ESP interop checks (scapy, then tshark) and prints one line per
check and `N passed, N failed`. Exit status 1 on any failure.

Usage: esp_interop.py --esp-tool PATH --esp-pcap PATH [--only scapy|tshark]
"""

import argparse
import os
import sys
import tempfile

from common import Checks


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--esp-tool", required=True, help="esp-core/examples/esp_tool binary")
    ap.add_argument("--esp-pcap", required=True, help="ports/host/examples/esp_pcap binary")
    ap.add_argument("--only", choices=["scapy", "tshark"])
    ap.add_argument("--keep", help="directory to keep the pcap and esp_sa in")
    args = ap.parse_args()

    checks = Checks()
    if args.only in (None, "scapy"):
        import scapy_esp

        scapy_esp.run(checks, args.esp_tool)
    if args.only in (None, "tshark"):
        import tshark_esp

        if args.keep:
            os.makedirs(args.keep, exist_ok=True)
            tshark_esp.run(checks, args.esp_pcap, args.keep)
        else:
            with tempfile.TemporaryDirectory(prefix="esp-interop-") as work:
                tshark_esp.run(checks, args.esp_pcap, work)

    print(f"{checks.passed} passed, {checks.failed} failed")
    return 1 if checks.failed or not checks.passed else 0


if __name__ == "__main__":
    sys.exit(main())

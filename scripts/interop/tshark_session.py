#!/usr/bin/env python3
"""tshark (Debian's Wireshark) judges a whole-session capture of the host
port (`lns simulate --pcap`, `lns serve --pcap`): IKE, ESP (decrypted with the
keys of the capture's `.esp_sa` file), L2TP and PPP.

  tshark_session.py NAME PCAP [ESP_SA]     (ESP_SA defaults to PCAP.esp_sa)

TSHARK_DECODE_AS (e.g. "udp.port==18121,radius") adds `-d` rules, for a
RADIUS server on a port tshark does not know.

Prints one line: PASS or FAIL, then the frame count, the protocols seen,
and any problem: a malformed packet, an expert error, an ESP packet not
decrypted or with a bad ICV, or no L2TP/PPP inside. Expert warnings are
counted and listed but pass (ESP sequence gaps appear where a capture
leaves out the data path). Exit 0 on PASS.
"""

import collections
import os
import shutil
import subprocess
import sys
import tempfile

SEVERITY_ERROR = 0x00800000  # epan/proto.h PI_ERROR
SEVERITY_WARN = 0x00600000  # PI_WARN
PREFS = [
    "esp.enable_encryption_decode:TRUE",
    "esp.enable_authentication_check:TRUE",
    "esp.do_esp_sequence_analysis:TRUE",
    "ip.check_checksum:TRUE",
    "udp.check_checksum:TRUE",
]
FIELDS = ["frame.number", "frame.protocols", "esp.icv_good", "esp.icv_bad", "_ws.malformed",
          "_ws.expert.severity", "_ws.expert.message"]


def main():
    name, pcap = sys.argv[1], sys.argv[2]
    esp_sa = sys.argv[3] if len(sys.argv) > 3 else pcap + ".esp_sa"
    conf = tempfile.mkdtemp(prefix="tshark-session.")
    try:
        os.makedirs(os.path.join(conf, "wireshark"))
        shutil.copy(esp_sa, os.path.join(conf, "wireshark", "esp_sa"))
        env = dict(os.environ, HOME=conf, XDG_CONFIG_HOME=conf)
        cmd = (["tshark", "-n", "-r", pcap] + [a for p in PREFS for a in ("-o", p)]
               + [a for d in os.environ.get("TSHARK_DECODE_AS", "").split() for a in ("-d", d)]
               + ["-T", "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=|"]
               + [a for f in FIELDS for a in ("-e", f)])
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    finally:
        shutil.rmtree(conf, ignore_errors=True)
    if out.returncode != 0:
        print(f"{name:<28} FAIL tshark exit {out.returncode}: {out.stderr.strip()[:200]}")
        return 1
    frames, protos, problems, warns = 0, collections.Counter(), [], collections.Counter()
    esp = decrypted = 0
    for line in out.stdout.splitlines():
        cols = line.split("\t")
        cols += [""] * (len(FIELDS) - len(cols))
        r = dict(zip(FIELDS, cols))
        frames += 1
        layers = r["frame.protocols"].split(":")
        for p in ("isakmp", "esp", "l2tp", "ppp", "lcp", "chap", "pap", "ipcp", "icmp", "tcp", "radius"):
            if p in layers:
                protos[p] += 1
        n = r["frame.number"]
        if "esp" in layers:
            esp += 1
            if "l2tp" in layers[layers.index("esp"):]:
                decrypted += 1
            else:
                problems.append(f"frame {n}: ESP not decrypted ({r['frame.protocols']})")
            if r["esp.icv_bad"] not in ("", "0") or r["esp.icv_good"] not in ("1",):
                problems.append(f"frame {n}: ICV good={r['esp.icv_good']!r} bad={r['esp.icv_bad']!r}")
        if r["_ws.malformed"]:
            problems.append(f"frame {n}: malformed ({r['frame.protocols']})")
        sev = [int(s, 0) for s in r["_ws.expert.severity"].split("|") if s]
        msgs = r["_ws.expert.message"].split("|")
        for i, s in enumerate(sev):
            msg = msgs[i] if i < len(msgs) else "?"
            if s >= SEVERITY_ERROR:
                problems.append(f"frame {n}: expert error: {msg}")
            elif s >= SEVERITY_WARN:
                warns[msg.split(" for ")[0].split(" - ")[0]] += 1
    if frames == 0:
        problems.append("no frames")
    if protos["l2tp"] == 0 or protos["ppp"] == 0:
        problems.append("no L2TP/PPP dissected")
    seen = " ".join(f"{p}={c}" for p, c in protos.items())
    w = sum(warns.values())
    wtxt = f" warnings={w} ({'; '.join(f'{m} x{c}' for m, c in warns.most_common(3))})" if w else " warnings=0"
    verdict = "FAIL" if problems else "PASS"
    print(f"{name:<28} {verdict} frames={frames} esp={esp} decrypted={decrypted} malformed=0 expert_errors=0 {seen}{wtxt}"
          if not problems else
          f"{name:<28} FAIL frames={frames} esp={esp} decrypted={decrypted} problems={len(problems)}: {'; '.join(problems[:4])}")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())

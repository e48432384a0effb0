"""tshark (Debian's Wireshark 4.0) judges esp-core's packets.

`esp_pcap` (ports/host/examples/esp_pcap.rs) seals the real L2TP messages of
the reference sessions under every suite, plain and UDP-encapsulated, into a
pcap through the host port's PcapWriter, with the keys in an `esp_sa` UAT
file written by `esp_sa_line`. tshark then has to decrypt every packet, find
every ICV correct, dissect the inner UDP/L2TP/PPP, and report no malformed
packet and no expert error (nor warning: its ESP sequence analysis raises
one for a wrong sequence number).
"""

import collections
import os
import re
import shutil
import subprocess

PREFS = [
    "esp.enable_encryption_decode:TRUE",
    "esp.enable_authentication_check:TRUE",
    "esp.do_esp_sequence_analysis:TRUE",
    "ip.check_checksum:TRUE",
    "udp.check_checksum:TRUE",
]

FIELDS = [
    "frame.number",
    "frame.protocols",
    "esp.spi",
    "esp.sequence",
    "esp.icv_good",
    "esp.icv_bad",
    "esp.protocol",
    "udp.srcport",
    "udp.dstport",
    "udp.length",
    "udp.checksum.status",
    "l2tp.type",
    "_ws.malformed",
    "_ws.expert.severity",
]

# epan/proto.h: PI_ERROR and PI_WARN.
SEVERITY_ERROR = 0x00800000
SEVERITY_WARN = 0x00600000


def tshark(args, env):
    cmd = ["tshark", "-n"] + [a for p in PREFS for a in ("-o", p)] + args
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise RuntimeError(f"tshark exit {out.returncode}: {out.stderr.strip()[:300]}")
    return out.stdout


def number(s):
    return int(s, 0)


def run(checks, esp_pcap, work):
    pcap = os.path.join(work, "esp-core.pcap")
    esp_sa = os.path.join(work, "esp_sa")
    made = subprocess.run([esp_pcap, pcap, esp_sa], capture_output=True, text=True, timeout=120)
    if not checks.check("esp_pcap writes the capture and esp_sa", made.returncode == 0, made.stderr.strip()[-300:]):
        return
    manifest = [line.split() for line in made.stdout.splitlines()]
    frames = {int(m[0]): m for m in manifest}

    # A private Wireshark configuration holding only our esp_sa table.
    conf = os.path.join(work, "config")
    os.makedirs(os.path.join(conf, "wireshark"), exist_ok=True)
    shutil.copy(esp_sa, os.path.join(conf, "wireshark", "esp_sa"))
    env = dict(os.environ, HOME=conf, XDG_CONFIG_HOME=conf)
    banner = subprocess.run(["tshark", "--version"], capture_output=True, text=True).stdout
    version = "tshark " + (re.search(r"packaged as (\S+?)\)", banner) or re.search(r"(\d+\.\d+\.\d+)", banner)).group(1)

    out = tshark(
        ["-r", pcap, "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=,"]
        + [a for f in FIELDS for a in ("-e", f)],
        env,
    )
    rows = {}
    for line in out.splitlines():
        cols = line.split("\t")
        cols += [""] * (len(FIELDS) - len(cols))
        row = dict(zip(FIELDS, cols))
        rows[int(row["frame.number"])] = row
    checks.check(
        f"tshark reads every frame of the PcapWriter capture ({version})",
        sorted(rows) == sorted(frames),
        f"{len(rows)} frames, {len(frames)} written",
    )

    # One line per SA: every one of its packets decrypted, ICV correct,
    # sequence numbers as sealed, inner UDP/L2TP dissected.
    by_sa = collections.OrderedDict()
    for n, m in sorted(frames.items()):
        by_sa.setdefault(m[1], []).append(n)
    for spi, numbers in by_sa.items():
        _, _, enc, integ, encap, _, _ = frames[numbers[0]]
        problems = []
        for n in numbers:
            _, _, _, _, _, seq, inner_len = frames[n]
            r = rows.get(n)
            if r is None:
                problems.append(f"frame {n} missing")
                continue
            protos = r["frame.protocols"]
            path = "udp:udpencap:esp:udp:l2tp" if encap == "udp" else "ip:esp:udp:l2tp"
            if path not in protos:
                problems.append(f"frame {n}: dissected as {protos}")
                continue
            if r["esp.spi"] and number(r["esp.spi"]) != number(spi):
                problems.append(f"frame {n}: SPI {r['esp.spi']}")
            if number(r["esp.sequence"]) != int(seq):
                problems.append(f"frame {n}: sequence {r['esp.sequence']}, sealed {seq}")
            if number(r["esp.protocol"] or "-1") != 17:
                problems.append(f"frame {n}: next header {r['esp.protocol']!r}")
            if integ == "none":
                if r["esp.icv_good"] or r["esp.icv_bad"]:
                    problems.append(f"frame {n}: an ICV where none was sealed")
            elif (r["esp.icv_good"], r["esp.icv_bad"]) != ("1", "0"):
                problems.append(f"frame {n}: ICV good={r['esp.icv_good']!r} bad={r['esp.icv_bad']!r}")
            # The inner UDP header is the last one dissected.
            if r["udp.length"].split(",")[-1] != inner_len or r["udp.dstport"].split(",")[-1] != "1701":
                problems.append(f"frame {n}: inner UDP length {r['udp.length']} port {r['udp.dstport']}")
            if r["udp.checksum.status"].split(",")[-1] != "1":
                problems.append(f"frame {n}: inner UDP checksum status {r['udp.checksum.status']}")
            if encap == "udp" and "4500" not in (r["udp.srcport"].split(",")[0], r["udp.dstport"].split(",")[0]):
                problems.append(f"frame {n}: outer UDP ports {r['udp.srcport']} {r['udp.dstport']}")
            if r["_ws.malformed"] or r["_ws.expert.severity"]:
                problems.append(f"frame {n}: expert {r['_ws.expert.severity']} malformed {r['_ws.malformed']!r}")
        icv = "no ICV" if integ == "none" else "ICV [correct]"
        checks.check(
            f"tshark decodes esp-core {enc}/{integ} {'udp-4500' if encap == 'udp' else 'esp'} ({spi})",
            not problems,
            "; ".join(problems[:3]) if problems else f"{len(numbers)} packets decrypted, {icv}, seq 1..{len(numbers)}, UDP 1701 checksum good, L2TP",
        )

    l2tp = collections.Counter()
    ppp = collections.Counter()
    for r in rows.values():
        l2tp["control" if r["l2tp.type"] == "1" else "data"] += 1
        tail = r["frame.protocols"].split(":l2tp")[-1].strip(":")
        if tail:
            ppp[tail.split(":")[1] if tail.startswith("ppp:") and tail.count(":") else tail] += 1
    checks.check(
        "tshark dissects the inner L2TP control and data messages and their PPP",
        l2tp["control"] > 0 and l2tp["data"] > 0 and {"lcp", "ipcp"} <= set(ppp),
        f"L2TP {dict(l2tp)}, PPP {dict(sorted(ppp.items()))}",
    )

    malformed = sum(1 for r in rows.values() if r["_ws.malformed"])
    checks.check("tshark: zero malformed packets", malformed == 0, f"{malformed} malformed")

    severities = [number(s) for r in rows.values() for s in r["_ws.expert.severity"].split(",") if s]
    summary = tshark(["-r", pcap, "-q", "-z", "expert"], env)
    headed = dict((k, int(v)) for k, v in re.findall(r"^(Errors|Warnings|Notes|Chats) \((\d+)\)", summary, re.M))
    errors = sum(1 for s in severities if s >= SEVERITY_ERROR)
    warnings = sum(1 for s in severities if SEVERITY_WARN <= s < SEVERITY_ERROR)
    checks.check(
        "tshark: zero expert errors",
        errors == 0 and headed.get("Errors", 0) == 0,
        f"-z expert: {headed or 'no expert items at all'}",
    )
    checks.check(
        "tshark: zero expert warnings (ESP sequence analysis included)",
        warnings == 0 and headed.get("Warnings", 0) == 0,
        f"{warnings} warnings",
    )

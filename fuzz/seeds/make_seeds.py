#!/usr/bin/env python3
"""Seed corpora for the raw-bytes fuzz targets from the real captures in
/work/shared/reference/captures (classic pcap: Ethernet, Linux cooked,
loopback/null or raw IP), and from any further captures named on the
command line (the project's own simulation traffic). Writes
fuzz/seeds/<target>/<capture>-<hash>:

  esp_udp_encap  UDP 4500 payloads (keepalives, non-ESP-marked IKE, ESP)
  ike_codec      ISAKMP messages: UDP 500 payloads, and UDP 4500 payloads
                 behind the non-ESP marker (four zero octets)
  l2tp_codec     UDP 1701 payloads (only the two l2tp/ captures carry them
                 in clear; the inner L2TP of the l2tp-ipsec sessions needs
                 testkit's decryption)
  ppp_codec      the PPP frames inside L2TP data messages, and PPP control
                 packets (from the L2TP captures)
  radius_codec   UDP 1645/1646/1812/1813 payloads

Run: python3 fuzz/seeds/make_seeds.py [CAPTURES_DIR [EXTRA.pcap...]]

The committed seeds also hold the simulator's traffic, captured with
  lns simulate --clients 8 --nat --loss 0.05 --seconds 30 --seed 7 --pcap sim-nat.pcap
  lns simulate --clients 4 --seconds 20 --seed 3 --pcap sim-plain.pcap
(IKE with and without NAT-T, retransmissions after loss, ESP in UDP).
The decrypted inner L2TP and PPP of the reference sessions come from
`cargo run -p testkit --example fuzz_seeds`.
"""
import glob, hashlib, os, struct, sys

CAPTURES = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/reference/captures"
EXTRA = sys.argv[2:]
OUT = os.path.dirname(os.path.abspath(__file__))


def packets(path):
    data = open(path, "rb").read()
    if data[:4] not in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4"):
        return  # pcapng: not read here
    le = data[:4] == b"\xd4\xc3\xb2\xa1"
    e = "<" if le else ">"
    link = struct.unpack(e + "I", data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(e + "IIII", data[off:off + 16])
        off += 16
        yield link, data[off:off + incl]
        off += incl


def ip_of(link, frame):
    if link == 1:  # Ethernet
        t = struct.unpack(">H", frame[12:14])[0]
        p = 14
        while t == 0x8100:
            t = struct.unpack(">H", frame[p + 2:p + 4])[0]
            p += 4
        return frame[p:] if t == 0x0800 else None
    if link == 113:  # Linux cooked
        return frame[16:] if struct.unpack(">H", frame[14:16])[0] == 0x0800 else None
    if link == 0:  # BSD loopback
        return frame[4:]
    if link in (101, 228):  # raw IPv4
        return frame
    return None


def udp_of(ip):
    if not ip or ip[0] >> 4 != 4 or ip[9] != 17:
        return None
    ihl = (ip[0] & 15) * 4
    u = ip[ihl:]
    if len(u) < 8:
        return None
    sport, dport, ulen = struct.unpack(">HHH", u[:6])
    return sport, dport, u[8:ulen] if ulen >= 8 else u[8:]


def l2tp_ppp(payload):
    """The PPP frame of an L2TP data message, or None."""
    if len(payload) < 6:
        return None
    flags = payload[0]
    if flags & 0x80 or payload[1] & 0x0f != 2:
        return None
    p = 2
    if flags & 0x40:
        p += 2
    p += 4
    if flags & 0x08:
        p += 4
    if flags & 0x02:
        if len(payload) < p + 2:
            return None
        p += 2 + struct.unpack(">H", payload[p:p + 2])[0]
    return payload[p:] or None


# Captures under the GPL (captures/SOURCES.md): nothing of theirs is copied
# into the project.
GPL = {"ikev1-rsasig-cert-mm-openswan-unittest", "pptp-gre-ppp-mschapv2-handshake"}

PER_CAPTURE = 16  # seeds per target and capture: enough variety, a small repository


def save(target, name, blob, seen):
    h = hashlib.sha1(blob).hexdigest()[:12]
    if any(t == target and x == h for t, x, _ in seen) or not blob:
        return
    if sum(1 for t, _, n in seen if t == target and n == name) >= PER_CAPTURE:
        return
    seen.add((target, h, name))
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    open(os.path.join(d, f"{name}-{h}"), "wb").write(blob)


def main():
    seen = set()
    for path in sorted(glob.glob(os.path.join(CAPTURES, "*", "*.pcap"))) + EXTRA:
        name = os.path.basename(path).rsplit(".pcap", 1)[0]
        if name in GPL:
            continue
        for link, frame in packets(path):
            u = udp_of(ip_of(link, frame))
            if not u:
                continue
            sport, dport, payload = u
            ports = {sport, dport}
            if 4500 in ports:
                save("esp_udp_encap", name, payload, seen)
                if payload[:4] == b"\0\0\0\0" and len(payload) > 4:
                    save("ike_codec", name, payload[4:], seen)
            if 500 in ports:
                save("ike_codec", name, payload, seen)
            if 1701 in ports:
                save("l2tp_codec", name, payload, seen)
                ppp = l2tp_ppp(payload)
                if ppp:
                    save("ppp_codec", name, ppp, seen)
                    # The control packet alone (after FF 03 and protocol).
                    if ppp[:2] == b"\xff\x03" and len(ppp) > 4:
                        save("ppp_codec", name, ppp[4:], seen)
            if ports & {1645, 1646, 1812, 1813}:
                save("radius_codec", name, payload, seen)
    counts = {}
    for t, _, _ in seen:
        counts[t] = counts.get(t, 0) + 1
    for t in sorted(counts):
        print(f"{t}: {counts[t]} seeds")


if __name__ == "__main__":
    main()

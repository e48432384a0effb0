#!/usr/bin/env python3
"""Decrypt the ESP of the l2tp-ipsec lns-nic captures and print the inner L2TP datagrams.

Usage: extract_l2tp.py CAPTURE_DIR OUT_DIR
For every session a..e writes OUT_DIR/l2tp-ipsec-<id>.l2tp.txt with one line per inner
L2TP datagram: frame number, direction (lac>lns or lns>lac), hex of the L2TP bytes.
The ICV of each packet is checked (HMAC-SHA1-96) before decrypting.
"""
import glob, hmac, hashlib, os, re, struct, sys
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
try:
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
except ImportError:
    TripleDES = algorithms.TripleDES

capdir, outdir = sys.argv[1], sys.argv[2]
sas = {}
for line in open(os.path.join(capdir, "esp_sa")):
    if line.startswith('"IPv4"'):
        f = [x.strip('"') for x in line.strip().split(",")]
        sas[int(f[3], 16)] = (f[4], bytes.fromhex(f[5][2:]), bytes.fromhex(f[7][2:]))

def pcap_records(path):
    data = open(path, "rb").read()
    assert struct.unpack("<I", data[:4])[0] == 0xA1B2C3D4
    off, n = 24, 0
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack("<IIII", data[off:off + 16])
        n += 1
        yield n, data[off + 16: off + 16 + incl]
        off += 16 + incl

LNS = bytes([10, 0, 2, 15])
for path in sorted(glob.glob(os.path.join(capdir, "l2tp-ipsec-*.lns-nic.pcap"))):
    sid = re.match(r"l2tp-ipsec-([a-e])-", os.path.basename(path)).group(1)
    lines = []
    for frame, pkt in pcap_records(path):
        if struct.unpack(">H", pkt[12:14])[0] != 0x0800:
            continue
        ip = pkt[14:]
        ihl = (ip[0] & 15) * 4
        if ip[9] != 17:
            continue
        src, dst = ip[12:16], ip[16:20]
        udp = ip[ihl:]
        sport, dport = struct.unpack(">HH", udp[:4])
        payload = udp[8:]
        if 4500 not in (sport, dport) or len(payload) < 8 or payload[:4] == b"\0\0\0\0":
            continue
        spi = struct.unpack(">I", payload[:4])[0]
        alg, ekey, akey = sas[spi]
        body, icv = payload[:-12], payload[-12:]
        assert hmac.new(akey, body, hashlib.sha1).digest()[:12] == icv, (path, frame)
        bs = 16 if alg.startswith("AES") else 8
        iv, ct = body[8:8 + bs], body[8 + bs:]
        algo = algorithms.AES(ekey) if bs == 16 else TripleDES(ekey)
        pt = Cipher(algo, modes.CBC(iv)).decryptor().update(ct)
        padlen, nh = pt[-2], pt[-1]
        assert nh == 17
        inner = pt[:-2 - padlen]
        isport, idport = struct.unpack(">HH", inner[:4])
        assert 1701 in (isport, idport)
        direction = "lac>lns" if dst == LNS else "lns>lac"
        lines.append(f"{frame} {direction} {inner[8:].hex()}")
    with open(os.path.join(outdir, f"l2tp-ipsec-{sid}.l2tp.txt"), "w") as out:
        out.write(f"# Inner L2TP datagrams of {os.path.basename(path)} (decrypted; ICVs checked)\n")
        out.write("# frame direction l2tp-hex\n")
        out.write("\n".join(lines) + "\n")
    print(sid, len(lines))

"""esp-core against scapy's ESP (scapy.layers.ipsec.SecurityAssociation),
transport mode, plain (IP protocol 50) and UDP-encapsulated (RFC 3948).

For every encryption x integrity pair both support:
  - esp-core seals, scapy verifies the ICV and decrypts: inner UDP datagram
    to port 1701 byte for byte, next header 17, sequence numbers 1..n, the
    padding 1, 2, 3, ... (RFC 4303 section 2.4), 4-byte alignment, fresh IVs;
  - scapy seals, esp-core opens: the same inner datagram, next header and
    sequence number, and the SA's counters;
  - scapy tampers (ciphertext, ICV, sequence number, SPI, length, replay,
    wrong key, bad padding under a valid ICV) and esp-core refuses each with
    its own error, then still opens the next genuine packet.
"""

import collections
import random

from common import EspTool, suites

from scapy.compat import raw
from scapy.layers import ipsec
from scapy.layers.inet import IP, UDP
from scapy.layers.ipsec import ESP, NAT_KEEPALIVE, NON_ESP, SecurityAssociation, _ESPPlain
from scapy.layers.isakmp import ISAKMP
from scapy.packet import Raw

# The lengths of UDP payload the issue asks for.
LENGTHS = [0, 1, 15, 16, 17, 100, 1400]

LNS = "192.0.2.1"
CLIENT = "198.51.100.7"
# The client's NAT-T port as its NAT rewrote it.
CLIENT_NAT_PORT = 61703
L2TP = 1701

SHA256_96 = "HMAC-SHA256-96 (interop)"


def register_sha256_96():
    """Scapy ships no 96-bit truncated HMAC-SHA-256 (the draft-ietf-ipsec-
    ciph-sha-256-00 ICV some Android builds use). It is one parameter away:
    scapy's own AuthAlgo with HMAC over SHA-256 and a 12-byte ICV."""
    if SHA256_96 not in ipsec.AUTH_ALGOS:
        ipsec.AUTH_ALGOS[SHA256_96] = ipsec.AuthAlgo(
            SHA256_96, mac=ipsec.HMAC, digestmod=ipsec.hashes.SHA256, icv_size=12
        )


def suite_name(enc, integ):
    return f"{enc[0]}/{integ[0]}"


def keys(rng, enc, integ):
    return rng.randbytes(enc[2]), rng.randbytes(integ[2])


def scapy_sa(spi, enc, ekey, integ, akey, nat_t=None):
    return SecurityAssociation(
        ESP,
        spi=spi,
        crypt_algo=enc[1],
        crypt_key=ekey or None,
        auth_algo=integ[1],
        auth_key=akey or None,
        nat_t_header=nat_t,
    )


def payload_of(n, salt):
    return bytes((i * 7 + salt) & 0xFF for i in range(n))


def inner_udp(src, dst, payload):
    """The transport-mode UDP datagram to port 1701 as the sending stack
    builds it (checksum over the real addresses), as bytes."""
    pkt = IP(raw(IP(src=src, dst=dst) / UDP(sport=L2TP, dport=L2TP) / Raw(payload)))
    return pkt, raw(pkt[UDP])


def wire(src, dst, esp, encap):
    """The outer packet carrying `esp`, parsed back by scapy."""
    if encap is None:
        outer = IP(src=src, dst=dst, proto=50) / Raw(esp)
    else:
        outer = IP(src=src, dst=dst) / UDP(sport=encap[0], dport=encap[1], chksum=0) / Raw(esp)
    return IP(raw(outer))


ENCAPS = [
    # (label, UDP ports LNS->client, UDP ports client->LNS)
    ("esp", None, None),
    ("udp-4500", (4500, CLIENT_NAT_PORT), (CLIENT_NAT_PORT, 4500)),
]


def esp_core_to_scapy(tool, rng, enc, integ, encap, spi):
    label, down, _ = encap
    ekey, akey = keys(rng, enc, integ)
    sa_id = tool.outbound(spi, enc[0], ekey, integ[0], akey)
    nat_t = UDP(sport=down[0], dport=down[1]) if down else None
    sa = scapy_sa(spi, enc, ekey, integ, akey, nat_t)
    ivs = set()
    try:
        for i, n in enumerate(LENGTHS):
            _, udp = inner_udp(LNS, CLIENT, payload_of(n, i))
            esp = tool.seal(sa_id, 17, udp)
            pkt = wire(LNS, CLIENT, esp, down)
            if not pkt.haslayer(ESP):
                return False, f"len {n}: scapy does not see ESP in {raw(pkt)[:40].hex()}"
            if pkt[ESP].spi != spi or pkt[ESP].seq != i + 1:
                return False, f"len {n}: SPI {pkt[ESP].spi:#x} seq {pkt[ESP].seq}, want seq {i + 1}"
            # Padding and alignment, through scapy's ESP parser (RFC 4303 section 2.4).
            icv_size = sa.auth_algo.icv_size
            plain = sa.crypt_algo.decrypt(sa, pkt[ESP].copy(), sa.crypt_key, icv_size)
            if plain.nh != 17:
                return False, f"len {n}: next header {plain.nh}"
            if plain.padding != bytes(range(1, plain.padlen + 1)):
                return False, f"len {n}: padding {plain.padding.hex()}"
            minimal = sa.crypt_algo.pad(_ESPPlain(iv=plain.iv, data=udp, nh=17)).padlen
            if plain.padlen != minimal:
                return False, f"len {n}: {plain.padlen} bytes of padding, scapy pads {minimal}"
            body = len(plain.iv) + len(plain.data) + plain.padlen + 2
            if body % 4 or (body - len(plain.iv)) % sa.crypt_algo.block_size:
                return False, f"len {n}: payload of {body} bytes not aligned"
            if plain.iv:
                if plain.iv in ivs:
                    return False, f"len {n}: IV {plain.iv.hex()} repeated"
                ivs.add(plain.iv)
            # The whole SA: ICV check (raises IPSecIntegrityError) and decryption.
            opened = sa.decrypt(wire(LNS, CLIENT, esp, down))
            if opened[IP].proto != 17 or raw(opened[IP].payload) != udp:
                return False, f"len {n}: inner datagram differs: {raw(opened[IP].payload)[:24].hex()}"
            if opened[UDP].dport != L2TP or raw(opened[UDP].payload) != payload_of(n, i):
                return False, f"len {n}: UDP payload differs"
        icv = "ICV ok" if integ[1] else "no ICV"
        ivs_checked = ", fresh IVs" if ivs else ""
        return True, f"UDP payload {'/'.join(map(str, LENGTHS))} B, seq 1..{len(LENGTHS)}, nh 17, {icv}, padding 1..n as scapy's, aligned{ivs_checked}"
    finally:
        tool.remove(sa_id)


def scapy_to_esp_core(tool, rng, enc, integ, encap):
    label, _, up = encap
    ekey, akey = keys(rng, enc, integ)
    sa_id, spi = tool.inbound(enc[0], ekey, integ[0], akey)
    nat_t = UDP(sport=up[0], dport=up[1]) if up else None
    sa = scapy_sa(spi, enc, ekey, integ, akey, nat_t)
    total = 0
    try:
        for i, n in enumerate(LENGTHS):
            inner, udp = inner_udp(CLIENT, LNS, payload_of(n, i + 50))
            enc_pkt = sa.encrypt(inner)
            if up:
                if enc_pkt.proto != 17 or enc_pkt[UDP].dport != 4500:
                    return False, f"scapy did not encapsulate: {enc_pkt.summary()}"
                got = tool.open(raw(enc_pkt[UDP].payload), udp=True)
            else:
                if enc_pkt.proto != 50:
                    return False, f"scapy sent protocol {enc_pkt.proto}"
                got = tool.open(raw(enc_pkt[ESP]))
            want = ("ok", sa_id, i + 1, 17, udp)
            if got != want:
                return False, f"len {n}: esp-core says {str(got)[:120]}, want seq {i + 1}, nh 17"
            total += len(udp)
        c = tool.counters(sa_id)
        if (c["packets"], c["bytes"], c["sequence_number"]) != (len(LENGTHS), total, len(LENGTHS)):
            return False, f"counters {c}"
        return True, f"UDP payload {'/'.join(map(str, LENGTHS))} B, seq 1..{len(LENGTHS)}, nh 17, counters {c['packets']} packets {c['bytes']} B"
    finally:
        tool.remove(sa_id)


def flip(data, index):
    b = bytearray(data)
    b[index] ^= 0x01
    return bytes(b)


def crafted(sa, spi, seq, data, nh=17, extra_pad=0, bad_pad=False, pad_length=None):
    """An ESP packet built with scapy's own pad/encrypt/sign steps, with the
    padding changed: `extra_pad` more bytes of 1, 2, 3, ... (RFC 4303 section
    2.4 allows up to 255), or a wrong first pad byte under a valid ICV."""
    esp = _ESPPlain(spi=spi, seq=seq, iv=sa.crypt_algo.generate_iv(), data=data, nh=nh)
    esp = sa.crypt_algo.pad(esp)
    if extra_pad:
        esp.padlen += extra_pad
        esp.padding = bytes(range(1, esp.padlen + 1))
    if bad_pad:
        assert esp.padlen >= 1, "choose a payload length that needs padding"
        esp.padding = bytes([0x42]) + esp.padding[1:]
    if pad_length is not None:
        # The Pad Length field alone, the bytes in front of it unchanged.
        esp.padlen = pad_length
    enc = sa.crypt_algo.encrypt(sa, esp, sa.crypt_key)
    sa.auth_algo.sign(enc, sa.auth_key)
    return raw(enc)


def bad_padding_packet(sa, spi, seq, udp):
    return crafted(sa, spi, seq, udp, bad_pad=True)


def tamper(tool, rng, enc, integ):
    """Every tampering, through both encapsulations, against one inbound SA
    per encapsulation. Returns a list of (kind, ok, detail)."""
    results = {}
    has_icv = integ[0] != "none"
    for label, _, up in ENCAPS:
        ekey, akey = keys(rng, enc, integ)
        sa_id, spi = tool.inbound(enc[0], ekey, integ[0], akey)
        nat_t = UDP(sport=up[0], dport=up[1]) if up else None
        sa = scapy_sa(spi, enc, ekey, integ, akey, nat_t)
        iv_len = sa.crypt_algo.iv_size

        def seal(payload_len=100, s=sa):
            inner, _ = inner_udp(CLIENT, LNS, payload_of(payload_len, 3))
            pkt = s.encrypt(inner)
            return raw(pkt[UDP].payload) if up else raw(pkt[ESP])

        def expect(kind, esp, want):
            got = tool.open(esp, udp=bool(up))
            ok = got[0] == "err" and got[1] == want if want != "ok" else got[0] == "ok"
            prev = results.get(kind, (True, []))
            results[kind] = (prev[0] and ok, prev[1] + [f"{label}: {got[1] if got[0] == 'err' else got[0]}"])

        expected = {"integrity_failures": 0, "replay_drops": 0, "bad_padding": 0, "too_short": 0}
        if has_icv:
            expect("ciphertext bit flipped -> IntegrityCheckFailed", flip(seal(), 8 + iv_len), "IntegrityCheckFailed")
            expect("ICV bit flipped -> IntegrityCheckFailed", flip(seal(), -1), "IntegrityCheckFailed")
            esp = bytearray(seal())
            esp[4:8] = (int.from_bytes(esp[4:8], "big") + 1000).to_bytes(4, "big")
            expect("sequence number changed -> IntegrityCheckFailed", bytes(esp), "IntegrityCheckFailed")
            wrong = scapy_sa(spi, enc, ekey, integ, bytes(b ^ 0x5A for b in akey), nat_t)
            wrong.seq_num = sa.seq_num
            sa.seq_num += 1
            expect("wrong integrity key -> IntegrityCheckFailed", seal(s=wrong), "IntegrityCheckFailed")
            genuine = seal()
            expect("replayed packet -> Replay", genuine, "ok")
            expect("replayed packet -> Replay", genuine, "Replay")
            expected.update(integrity_failures=4, replay_drops=1)
        else:
            # RFC 4303 section 3.4.3: no anti-replay without integrity.
            genuine = seal()
            expect("replay accepted without integrity (RFC 4303 3.4.3) -> ok", genuine, "ok")
            expect("replay accepted without integrity (RFC 4303 3.4.3) -> ok", genuine, "ok")
        esp = bytearray(seal())
        esp[0:4] = (int.from_bytes(esp[0:4], "big") ^ 0x0000_0100).to_bytes(4, "big")
        expect("SPI changed -> UnknownSpi", bytes(esp), f"UnknownSpi({int.from_bytes(esp[0:4], 'big')})")
        expect("truncated to 12 bytes -> Malformed(Truncated)", seal()[:12], "Malformed(Truncated)")
        if sa.crypt_algo.block_size > 1 and not has_icv:
            expect("ciphertext not whole blocks -> Malformed(Truncated)", seal()[:-1], "Malformed(Truncated)")
            expected["too_short"] += 1
        expected["too_short"] += 1
        sa.seq_num += 1
        padded = bad_padding_packet(sa, spi, sa.seq_num, inner_udp(CLIENT, LNS, b"\x01")[1])
        expect("bad padding under a valid ICV -> BadPadding", padded, "BadPadding")
        expected["bad_padding"] += 1
        sa.seq_num += 1
        expect("genuine packet after all that -> ok", seal(), "ok")
        c = tool.counters(sa_id)
        got = {k: c[k] for k in expected}
        results["refusals counted per reason"] = (
            results.get("refusals counted per reason", (True, []))[0] and got == expected,
            results.get("refusals counted per reason", (True, []))[1] + [f"{label}: {got}"],
        )
        tool.remove(sa_id)
    def summary(details):
        # "esp: X; udp-4500: X" -> "esp, udp-4500: X" when both say the same.
        by_label = collections.OrderedDict()
        for d in details:
            label, said = d.split(": ", 1)
            by_label.setdefault(label, []).append(said)
        said = {" then ".join(v) for v in by_label.values()}
        if len(said) == 1:
            return f"{', '.join(by_label)}: {said.pop()}"
        return "; ".join(f"{k}: {' then '.join(v)}" for k, v in by_label.items())

    return [(kind, ok, summary(details)) for kind, (ok, details) in results.items()]


EDGE_SUITES = [("null", "hmac-sha256-128"), ("3des-cbc", "hmac-md5-96"), ("aes-cbc-256", "hmac-sha1-96")]


def edges(tool, rng, enc, integ):
    """Behaviour at the edges of RFC 4303, with scapy as the peer. Returns
    (kind, fn) pairs; each fn -> (ok, detail)."""
    ekey, akey = keys(rng, enc, integ)

    def fresh(seq_num=1):
        sa_id, spi = tool.inbound(enc[0], ekey, integ[0], akey)
        return sa_id, spi, scapy_sa(spi, enc, ekey, integ, akey)

    def next_headers():
        sa_id, spi, sa = fresh()
        from scapy.layers.inet import ICMP, TCP

        got = []
        for layer in (ICMP(id=7, seq=1) / Raw(b"ping"), TCP(sport=40000, dport=80, flags="S"), UDP(sport=L2TP, dport=L2TP)):
            pkt = IP(raw(IP(src=CLIENT, dst=LNS) / layer))
            r = tool.open(raw(sa.encrypt(pkt)[ESP]))
            got.append((r[3], r[4] == raw(pkt[IP].payload)) if r[0] == "ok" else r)
        sa.seq_num += 1
        r = tool.open(crafted(sa, spi, sa.seq_num - 1, b"", nh=59))
        got.append((r[3], r[4] == b"") if r[0] == "ok" else r)
        tool.remove(sa_id)
        want = [(1, True), (6, True), (17, True), (59, True)]
        return got == want, f"ICMP, TCP, UDP, no-next-header -> {[g[0] for g in got]}"

    def extra_padding():
        sa_id, spi, sa = fresh()
        align = 4 if sa.crypt_algo.block_size == 1 else max(4, sa.crypt_algo.block_size)
        _, udp = inner_udp(CLIENT, LNS, b"x" * 33)
        seen = []
        for k in (1, 3, (255 - align) // align):
            seq = len(seen) + 1
            r = tool.open(crafted(sa, spi, seq, udp, extra_pad=align * k))
            seen.append(r[0] == "ok" and r[4] == udp)
        tool.remove(sa_id)
        return all(seen), f"padding longer than needed by {align}x(1, 3, {(255 - align) // align}) bytes opens: {seen}"

    def pad_length_beyond_payload():
        sa_id, spi, sa = fresh()
        _, udp = inner_udp(CLIENT, LNS, b"")
        r = tool.open(crafted(sa, spi, 1, udp, pad_length=255))
        after = tool.open(raw(sa.encrypt(inner_udp(CLIENT, LNS, b"x")[0], seq_num=2)[ESP]))
        tool.remove(sa_id)
        return r == ("err", "BadPadding") and after[0] == "ok", f"Pad Length 255 behind {len(udp)} bytes of payload -> {r[1]}, next packet {after[0]}"

    def sequence_edges():
        sa_id, spi, sa = fresh()
        inner, udp = inner_udp(CLIENT, LNS, b"edge")
        got = []
        for seq in (0, 0xFFFF_FFF0, 0xFFFF_FFFF, 0xFFFF_FFFE, 0xFFFF_FF80, 0xFFFF_FF7F):
            sa.seq_num = seq
            r = tool.open(raw(sa.encrypt(inner, seq_num=seq)[ESP]))
            got.append(r[2] if r[0] == "ok" else r[1])
        tool.remove(sa_id)
        want = ["Replay", 0xFFFF_FFF0, 0xFFFF_FFFF, 0xFFFF_FFFE, 0xFFFF_FF80, "Replay"]
        return got == want, f"seq 0 / 2^32-16 / 2^32-1 / 2^32-2 / top-127 / top-128 -> {got}"

    def window():
        sa_id, spi, sa = fresh()
        inner, _ = inner_udp(CLIENT, LNS, b"w")
        packets = [raw(sa.encrypt(inner)[ESP]) for _ in range(200)]
        order = [199] + list(range(198, 71, -1)) + [71]
        got = [tool.open(p) for p in (packets[i] for i in order)]
        ok = all(r[0] == "ok" and r[2] == i + 1 for r, i in zip(got[:-1], order))
        ok = ok and got[-1] == ("err", "Replay")
        dup = tool.open(packets[150])
        tool.remove(sa_id)
        return ok and dup == ("err", "Replay"), "200, then 199..73 reversed open; 72 (left of 128) and a duplicate -> Replay"

    return [
        ("next header of the inner packet", next_headers),
        ("padding up to 255 bytes", extra_padding),
        ("Pad Length beyond the plaintext under a valid ICV", pad_length_beyond_payload),
        ("sequence numbers 0 and near 2^32", sequence_edges),
        ("replay window of 128 under reordering", window),
    ]


def classification(tool):
    """RFC 3948 section 2: what scapy puts on UDP 4500 besides ESP."""
    keepalive = raw(NAT_KEEPALIVE())
    ike = raw(ISAKMP(init_cookie=b"\x11" * 8, exch_type=2))
    marked = raw(NON_ESP() / ISAKMP(init_cookie=b"\x11" * 8, exch_type=2))
    a = tool.open(keepalive, udp=True)
    b = tool.open(marked, udp=True)
    ok = a == ("keepalive",) and b == ("ike", ike)
    return ok, f"NAT_KEEPALIVE -> {a[0]}, NON_ESP/ISAKMP -> {b[0]} ({len(ike)} bytes)"


def run(checks, tool_path):
    register_sha256_96()
    rng = random.Random(4303)
    tool = EspTool(tool_path)
    try:
        checks.run("scapy udp-4500: NAT-keepalive and non-ESP marker classified", lambda: classification(tool))
        n = 0
        for enc, integ in suites():
            name = suite_name(enc, integ)
            for encap in ENCAPS:
                spi = 0xC100_0000 + n
                n += 1
                checks.run(
                    f"esp-core -> scapy {name} {encap[0]}",
                    lambda: esp_core_to_scapy(tool, rng, enc, integ, encap, spi),
                )
                checks.run(
                    f"scapy -> esp-core {name} {encap[0]}",
                    lambda: scapy_to_esp_core(tool, rng, enc, integ, encap),
                )
            if (enc[0], integ[0]) in EDGE_SUITES:
                for kind, fn in edges(tool, rng, enc, integ):
                    checks.run(f"scapy edge {name}: {kind}", fn)
            try:
                for kind, ok, detail in tamper(tool, rng, enc, integ):
                    checks.check(f"scapy tamper {name}: {kind}", ok, detail)
            except Exception as e:  # noqa: BLE001
                checks.check(f"scapy tamper {name}", False, f"{type(e).__name__}: {e}")
    finally:
        tool.close()

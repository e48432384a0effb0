"""Shared pieces of the ESP interop checks: the check ledger, the esp_tool
driver, and the algorithm table that maps esp-core's names to scapy's."""

import subprocess

# (esp_tool name, scapy CRYPT_ALGOS name, key length)
ENCRYPTIONS = [
    ("null", "NULL", 0),
    ("3des-cbc", "3DES", 24),
    ("aes-cbc-128", "AES-CBC", 16),
    ("aes-cbc-192", "AES-CBC", 24),
    ("aes-cbc-256", "AES-CBC", 32),
]

# (esp_tool name, scapy AUTH_ALGOS name, key length). Scapy has no 96-bit
# truncated HMAC-SHA-256; scapy_esp.py registers one built from scapy's own
# AuthAlgo class under the name below.
INTEGRITIES = [
    ("none", None, 0),
    ("hmac-md5-96", "HMAC-MD5-96", 16),
    ("hmac-sha1-96", "HMAC-SHA1-96", 20),
    ("hmac-sha256-128", "SHA2-256-128", 32),
    ("hmac-sha256-96", "HMAC-SHA256-96 (interop)", 32),
]


def suites():
    """Every encryption x integrity pair both sides support (NULL/NULL is
    forbidden by RFC 4303 section 3.2)."""
    for enc in ENCRYPTIONS:
        for integ in INTEGRITIES:
            if enc[0] == "null" and integ[0] == "none":
                continue
            yield enc, integ


def unhex(s):
    return b"" if s == "-" else bytes.fromhex(s)


def tohex(b):
    return b.hex() if b else "-"


class Checks:
    """One printed line per check, and the totals at the end."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"PASS {name}" + (f" ({detail})" if detail else ""), flush=True)
        else:
            self.failed += 1
            print(f"FAIL {name}: {detail}", flush=True)
        return ok

    def run(self, name, fn):
        """Runs fn() -> (ok, detail); an exception is a failure with its text."""
        try:
            ok, detail = fn()
        except Exception as e:  # noqa: BLE001 - a check reports, never crashes the suite
            ok, detail = False, f"{type(e).__name__}: {e}"
        return self.check(name, ok, detail)


class EspTool:
    """Drives `esp_tool` (esp-core/examples/esp_tool.rs) over its line protocol."""

    def __init__(self, path):
        self.proc = subprocess.Popen(
            [path], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
        )

    def ask(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        reply = self.proc.stdout.readline().strip()
        if not reply:
            raise RuntimeError(f"esp_tool died on {line[:60]!r}")
        if reply.startswith("bad ") or reply.startswith("refused"):
            raise RuntimeError(f"esp_tool: {reply} (request {line[:60]!r})")
        return reply

    def inbound(self, enc, ekey, integ, akey, window=128):
        """-> (id, spi)"""
        _, sa_id, spi = self.ask(f"in {enc} {tohex(ekey)} {integ} {tohex(akey)} {window}").split()
        return int(sa_id), int(spi, 16)

    def outbound(self, spi, enc, ekey, integ, akey):
        _, sa_id = self.ask(f"out {spi:08x} {enc} {tohex(ekey)} {integ} {tohex(akey)}").split()
        return int(sa_id)

    def seal(self, sa_id, next_header, payload):
        ok, esp = self.ask(f"seal {sa_id} {next_header} {tohex(payload)}").split()
        assert ok == "ok"
        return unhex(esp)

    def open(self, esp, udp=False):
        """-> ('ok', id, seq, next_header, payload) or ('err', error) or
        ('keepalive',) or ('ike', bytes)."""
        words = self.ask(f"{'open-udp' if udp else 'open'} {tohex(esp)}").split()
        if words[0] == "ok":
            return ("ok", int(words[1]), int(words[2]), int(words[3]), unhex(words[4]))
        if words[0] == "ike":
            return ("ike", unhex(words[1]))
        return tuple(words)

    def counters(self, sa_id):
        words = self.ask(f"counters {sa_id}").split()[1:]
        return {k: int(v) for k, v in (w.split("=") for w in words)}

    def remove(self, sa_id):
        self.ask(f"remove {sa_id}")

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


#!/usr/bin/env python3
"""Seeds for `sessiondb_config_parse`: every appliance configuration the
project itself writes, taken from the Rust string literals and shell
here-documents that hold one (a text with `tunnel-group` or `crypto
isakmp` in it and at least three lines): the host port's defaults and
example, the firmware's configuration, the simulations', the fuzz
targets', the test suites' and the interop and end-to-end scripts'.
Writes fuzz/seeds/sessiondb_config_parse/<file>-<hash>.

Run from anywhere: python3 fuzz/seeds/config_seeds.py
"""
import glob, hashlib, os, re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "fuzz", "seeds", "sessiondb_config_parse")
SOURCES = [
    "ports/host/src/*.rs",
    "ports/host/examples/*.conf",
    "ports/firmware/src/app/*.rs",
    "sessiondb/src/**/*.rs",
    "sessiondb/tests/**/*.rs",
    "fuzz/fuzz_targets/*.rs",
    "scripts/*.sh",
]
RUST_RAW = re.compile(r'r(#+)"(.*?)"\1', re.S)
RUST_STR = re.compile(r'"((?:[^"\\]|\\.)*)"', re.S)
HEREDOC = re.compile(r"<<-?\s*'?(\w+)'?[^\n]*\n(.*?)\n\s*\1\n", re.S)


def unescape(s):
    s = re.sub(r"\\\n\s*", "", s)  # Rust's line continuation
    return (s.replace(r"\n", "\n").replace(r"\t", "\t")
             .replace(r"\"", '"').replace("\\\\", "\\"))


def texts(path):
    src = open(path, encoding="utf-8", errors="replace").read()
    if path.endswith(".conf"):
        yield src
    elif path.endswith(".rs"):
        for m in RUST_RAW.finditer(src):
            yield m.group(2)
        for m in RUST_STR.finditer(RUST_RAW.sub("", src)):
            yield unescape(m.group(1))
    elif path.endswith(".sh"):
        for m in HEREDOC.finditer(src):
            yield m.group(2)


def main():
    os.makedirs(OUT, exist_ok=True)
    n = 0
    for pattern in SOURCES:
        for path in sorted(glob.glob(os.path.join(ROOT, pattern), recursive=True)):
            stem = os.path.splitext(os.path.basename(path))[0]
            for t in texts(path):
                if ("tunnel-group" not in t and "crypto isakmp" not in t) or t.count("\n") < 2:
                    continue
                blob = t.encode()
                h = hashlib.sha1(blob).hexdigest()[:12]
                open(os.path.join(OUT, f"{stem}-{h}"), "wb").write(blob)
                n += 1
    print(f"sessiondb_config_parse: {n} configurations")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Teach a *copy* of the shared interop harness (../shared/interop, read-only)
IKEv1 authentication with RSA certificates, for scripts/interop-vm.sh's
rsa-sig scenario.

    harness_certs.py COPY_DIR

The harness's guest/client.sh writes `auth = psk` for both sides. This edits
the copy (never the original) so that:

* lib/vm.sh::make_job also puts the files guest/cert-* of the copy into the
  job tar (unpacked in the guest into /run/interop, the guest's $J);
* guest/client.sh, when $J/cert-client.pem, $J/cert-client.key and
  $J/cert-ca.pem are there, installs them into /etc/swanctl/x509, private
  and x509ca and writes `auth = pubkey` with `certs = client.pem` (local) and
  `cacerts = ca.pem` (remote) instead of `auth = psk`; the IKE identity is
  the certificate's subject DN (charon's default), and charon's own account
  of the authentication (`authentication of '...' with RSA... successful`)
  is printed as an `INTEROP STAGE ike-auth` line.

Every edit must find its pattern exactly once, or this exits 1 and says
which: a changed harness fails loudly instead of silently testing PSK.
"""
import os
import sys


EDITED = {}  # path -> text, written only once every pattern was found


def patch(path, old, new):
    text = EDITED.get(path) or open(path).read()
    n = text.count(old)
    if n != 1:
        sys.exit(f"harness_certs: {path}: pattern found {n} times, not once:\n{old}")
    EDITED[path] = text.replace(old, new)


def write_all():
    for path, text in EDITED.items():
        st = os.stat(path)
        with open(path, "w") as f:
            f.write(text)
        # The edited files keep their mtimes too (ensure_image compares the
        # mtime of guest/interop-init only, but nothing here should look newer).
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: harness_certs.py COPY_DIR")
    d = sys.argv[1]
    if os.path.realpath(d) == os.path.realpath("/work/shared/interop"):
        sys.exit("harness_certs: refusing to edit the shared harness itself")

    patch(
        f"{d}/lib/vm.sh",
        '  cp "$INTEROP_DIR"/guest/{run.sh,common.sh,client.sh,server.sh,xfer.py} "$d/"\n',
        '  cp "$INTEROP_DIR"/guest/{run.sh,common.sh,client.sh,server.sh,xfer.py} "$d/"\n'
        '  for f in "$INTEROP_DIR"/guest/cert-*; do [ -f "$f" ] && cp "$f" "$d/"; done\n',
    )

    client = f"{d}/guest/client.sh"
    patch(
        client,
        "  mkdir -p /etc/swanctl/conf.d\n",
        "  mkdir -p /etc/swanctl/conf.d\n"
        "  local CERT_AUTH=psk CERT_LOCAL='' CERT_REMOTE=''\n"
        "  if [ -f $J/cert-client.pem ] && [ -f $J/cert-client.key ] && [ -f $J/cert-ca.pem ]; then\n"
        "    mkdir -p /etc/swanctl/x509 /etc/swanctl/private /etc/swanctl/x509ca\n"
        "    cp $J/cert-client.pem /etc/swanctl/x509/client.pem\n"
        "    cp $J/cert-client.key /etc/swanctl/private/client.key && chmod 600 /etc/swanctl/private/client.key\n"
        "    cp $J/cert-ca.pem /etc/swanctl/x509ca/ca.pem\n"
        "    CERT_AUTH=pubkey CERT_LOCAL='certs = client.pem' CERT_REMOTE='cacerts = ca.pem'\n"
        '    say "STAGE certs installed x509/client.pem private/client.key x509ca/ca.pem"\n'
        "  fi\n",
    )
    patch(
        client,
        "    local {\n      auth = psk\n      ${LOCAL_ID:+id = $LOCAL_ID}\n    }\n"
        "    remote {\n      auth = psk\n      ${REMOTE_ID:+id = $REMOTE_ID}\n    }\n",
        "    local {\n      auth = $CERT_AUTH\n      ${LOCAL_ID:+id = $LOCAL_ID}\n      $CERT_LOCAL\n    }\n"
        "    remote {\n      auth = $CERT_AUTH\n      ${REMOTE_ID:+id = $REMOTE_ID}\n      $CERT_REMOTE\n    }\n",
    )
    patch(
        client,
        '  [ "$R_ESP" = up ] && export_xfrm client\n',
        '  [ "$R_ESP" = up ] && export_xfrm client\n'
        '  if [ "$CERT_AUTH" = pubkey ]; then\n'
        "    grep -o \"authentication of '.*' .*\" $J/charon.log | while IFS= read -r l; do say \"STAGE ike-auth $l\"; done\n"
        "  fi\n",
    )
    # Already edited (a second run on the same copy) must not pass unnoticed.
    if "cert-*" in open(f"{d}/lib/vm.sh").read():
        sys.exit(f"harness_certs: {d} is already edited")
    write_all()


if __name__ == "__main__":
    main()

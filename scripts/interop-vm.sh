#!/usr/bin/env bash
# The real Linux L2TP/IPsec client against `lns serve`: strongSwan 5.9.8
# (IKEv1 main mode, PSK, ESP transport in UDP), xl2tpd 1.3.18 and pppd
# 2.4.9 in a QEMU VM (../shared/interop, see its README), reaching this
# host's 127.0.0.1 through QEMU's user-mode NAT, so the session is
# L2TPOverIPSecOverNatT.
#
#   scripts/interop-vm.sh [SCENARIO...]     (as root; every scenario when none is given)
#   scripts/interop-vm.sh --list
#
# `lns serve` runs on 127.0.0.1:500/4500 with a configuration generated for
# the run (a TUN `lnsvm0`, pool 100.64.213.10-100.64.213.60, inside
# address 100.64.213.1), with scripts/interop/vm_peer.py on the inside
# address as the far end of the client's transfers. Scenario rsa-sig runs
# a copy of the harness edited for RSA certificates (harness_certs.py) against
# lns serve --cert/--key/--ca. One line per scenario,
# then `N passed, N failed`. Exit 0 when every scenario passed.
#
# Environment: LNS (the binary; built in release when unset), INTEROP_DIR
# (default ../shared/interop), KEEP=1 keeps the work directory.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/test-pki.sh
ROOT=$PWD

ALL=(aes256-sha1-modp1024 aes128-sha1-modp2048 3des-sha1-modp1024 aes256-sha256-modp2048
     ms-chap-v1 pap chap-radius transfer-20mb reconnect natt-port-4500-windows-teardown
     wrong-psk after-wrong-psk wrong-password after-wrong-password rsa-sig)
if [[ ${1:-} == --list ]]; then printf '%s\n' "${ALL[@]}"; exit 0; fi
SCENARIOS=("$@")
((${#SCENARIOS[@]})) || SCENARIOS=("${ALL[@]}")

# The harness: ../shared/interop beside the checkout (a worktree), else
# /work/shared/interop (a clone elsewhere on this machine, as CI's).
if [[ -z ${INTEROP_DIR:-} ]]; then
    for d in "$ROOT/../shared/interop" /work/shared/interop; do
        [[ -x $d/client-vm.sh ]] && { INTEROP_DIR=$(realpath "$d"); break; }
    done
fi
INTEROP_DIR="${INTEROP_DIR:-$ROOT/../shared/interop}"
[[ -x $INTEROP_DIR/client-vm.sh ]] || { echo "interop-vm: no $INTEROP_DIR/client-vm.sh"; exit 2; }
[[ $(id -u) == 0 ]] || { echo "interop-vm: needs root (TUN, UDP 500/4500)"; exit 2; }
LNS="${LNS:-}"
if [[ -z $LNS ]]; then
    cargo build --release -q -p lns-host || exit 2
    LNS=target/release/lns
fi
LNS="$(realpath "$LNS")"

# The harness's cache (the image, logs): never inside the read-only harness
# folder (root passes its writability test).
export INTEROP_CACHE="${INTEROP_CACHE:-/var/tmp/l2tp-interop-cache}"
"$INTEROP_DIR/build-image.sh" >/dev/null || { echo "interop-vm: build-image.sh failed"; exit 2; }

WORK="$(mktemp -d /tmp/lns-interop-vm.XXXXXX)"
TUN=lnsvm0 INSIDE=100.64.213.1 CTL="$WORK/ctl.sock"
DNS1=100.64.213.53 DNS2=100.64.213.54
PSK=interop-vm-psk-7Qx
SERVE="" PEER="" FR=""
passed=0 failed=0 results=()

stop_serve() {
    [[ -n $PEER ]] && { kill "$PEER" 2>/dev/null; wait "$PEER" 2>/dev/null; PEER=""; }
    if [[ -n $SERVE ]]; then
        kill -TERM "$SERVE" 2>/dev/null
        for ((i = 0; i < 100; i++)); do kill -0 "$SERVE" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SERVE" 2>/dev/null
        wait "$SERVE" 2>/dev/null
        SERVE=""
    fi
}
cleanup() {
    stop_serve
    [[ -n $FR ]] && { kill "$FR" 2>/dev/null; wait "$FR" 2>/dev/null; }
    if [[ ${KEEP:-0} == 1 || $failed != 0 ]]; then echo "interop-vm: files kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The configuration: the chapter's (ports/host/examples/chapter.conf) with
# every proposal set of the scenarios, and the PPP methods and the
# authentication server of the run ($1: local, radius, or cert: local plus
# an rsa-sig policy and the tunnel group's trust point).
write_config() {
    local auth=$1 f="$WORK/lns-$1.conf"
    : >"$f"
    [[ $auth == radius ]] && cat >"$f" <<CONF
aaa-server FR protocol radius
aaa-server FR (inside) host 127.0.0.1
 key testing123
 authentication-port 18121
 timeout 5
 retry-interval 2
CONF
    cat >>"$f" <<CONF
ip local pool vmpool 100.64.213.10-100.64.213.60 mask 255.255.255.0
crypto ipsec transform-set AES256-SHA esp-aes-256 esp-sha-hmac
crypto ipsec transform-set AES256-SHA mode transport
crypto ipsec transform-set AES128-SHA esp-aes esp-sha-hmac
crypto ipsec transform-set AES128-SHA mode transport
crypto ipsec transform-set 3DES-SHA esp-3des esp-sha-hmac
crypto ipsec transform-set 3DES-SHA mode transport
crypto ipsec transform-set AES256-SHA256 esp-aes-256 esp-sha256-hmac
crypto ipsec transform-set AES256-SHA256 mode transport
crypto dynamic-map dyn_map 10 set transform-set AES256-SHA AES128-SHA 3DES-SHA AES256-SHA256
crypto map outside_map 20 ipsec-isakmp dynamic dyn_map
crypto map outside_map interface outside
CONF
    [[ $auth == cert ]] && cat >>"$f" <<CONF
crypto isakmp policy 5
 authentication rsa-sig
 encryption aes-256
 hash sha
 group 2
CONF
    cat >>"$f" <<CONF
crypto isakmp policy 10
 authentication pre-share
 encryption aes-256
 hash sha
 group 2
crypto isakmp policy 20
 authentication pre-share
 encryption aes
 hash sha
 group 14
crypto isakmp policy 30
 authentication pre-share
 encryption 3des
 hash sha
 group 2
crypto isakmp policy 40
 authentication pre-share
 encryption aes-256
 hash sha256
 group 14
crypto isakmp enable outside
crypto isakmp nat-traversal 20
group-policy DfltGrpPolicy attributes
 dns-server value $DNS1 $DNS2
 vpn-tunnel-protocol l2tp-ipsec
tunnel-group DefaultRAGroup general-attributes
 address-pool vmpool
CONF
    if [[ $auth == radius ]]; then
        cat >>"$f" <<CONF
 authentication-server-group FR
tunnel-group DefaultRAGroup ipsec-attributes
 pre-shared-key $PSK
tunnel-group DefaultRAGroup ppp-attributes
 authentication chap
CONF
    else
        cat >>"$f" <<CONF
 authentication-server-group LOCAL
tunnel-group DefaultRAGroup ipsec-attributes
 pre-shared-key $PSK
CONF
        [[ $auth == cert ]] && echo " ikev1 trust-point interop" >>"$f"
        cat >>"$f" <<CONF
tunnel-group DefaultRAGroup ppp-attributes
 authentication ms-chap-v2
 authentication ms-chap-v1
 authentication pap
username vmuser password vm-pass-3Kd mschap
username vmother password other-pass-8Hz mschap
l2tp tunnel hello 60
CONF
    fi
    "$LNS" check-config "$f" >/dev/null || { echo "interop-vm: bad generated configuration $f"; exit 2; }
    echo "$f"
}

# make_pki: an openssl CA, the gateway's and the client's RSA certificates
# (scripts/lib/test-pki.sh, once per run); the client's OU names the tunnel group.
make_pki() {
    [[ -f $WORK/pki/client.pem ]] && return 0
    make_test_pki "$WORK/pki" "Interop VM Test" interop-vm.test
}

# cert_harness: a copy of the harness that authenticates with the client
# certificate. The shared harness is read-only and its guest writes
# `auth = psk`; the copy (cp -a: modes and mtimes kept, so ensure_image
# still finds the cached image current) is edited by
# scripts/interop/harness_certs.py, which fails when a pattern is missing,
# and gets the client's certificate, key and the CA as guest/cert-*.
cert_harness() {
    local h="$WORK/harness"
    [[ -x $h/client-vm.sh ]] && { echo "$h"; return 0; }
    make_pki >&2 || return 1
    cp -a "$INTEROP_DIR" "$h" || return 1
    chmod u+w "$h/lib" "$h/guest" "$h/lib/vm.sh" "$h/guest/client.sh"
    python3 "$ROOT/scripts/interop/harness_certs.py" "$h" >&2 || return 1
    cp -p "$WORK/pki/client.pem" "$h/guest/cert-client.pem"
    cp -p "$WORK/pki/client.key" "$h/guest/cert-client.key"
    cp -p "$WORK/pki/ca.pem" "$h/guest/cert-ca.pem"
    [[ ! $h/guest/interop-init -nt $INTEROP_DIR/guest/interop-init && ! $INTEROP_DIR/guest/interop-init -nt $h/guest/interop-init ]] ||
        { echo "interop-vm: the harness copy lost guest/interop-init's mtime" >&2; return 1; }
    echo "$h"
}

SERVE_AUTH=""
# start_serve local|radius|cert: (re)starts lns serve with that configuration.
start_serve() {
    [[ $SERVE_AUTH == "$1" && -n $SERVE ]] && kill -0 "$SERVE" 2>/dev/null && return 0
    stop_serve
    local conf; conf=$(write_config "$1") || exit 2
    local n=$((${SERVE_N:-0} + 1)); SERVE_N=$n
    local certs=()
    [[ $1 == cert ]] && certs=(--cert "$WORK/pki/gw.der" --key "$WORK/pki/gw.key.der" --ca "$WORK/pki/ca.der")
    SERVE_ERR="$WORK/serve-$n-$1.err"
    "$LNS" serve --config "$conf" --listen 127.0.0.1 --tun "$TUN" --inside "$INSIDE" --ctl "$CTL" \
        "${certs[@]}" --pcap "$WORK/serve-$n.pcap" >"$WORK/serve-$n.out" 2>"$SERVE_ERR" </dev/null &
    SERVE=$!
    for ((i = 0; i < 200; i++)); do grep -q "serving on" "$SERVE_ERR" 2>/dev/null && break; sleep 0.1; done
    grep -q "serving on" "$SERVE_ERR" || { echo "interop-vm: lns serve did not start:"; tail -n 20 "$SERVE_ERR"; exit 2; }
    python3 "$ROOT/scripts/interop/vm_peer.py" "$INSIDE" "$LNS" "$CTL" "$WORK/ctl-show.txt" \
        >"$WORK/peer-$n.out" 2>&1 &
    PEER=$!
    for ((i = 0; i < 50; i++)); do grep -q listening "$WORK/peer-$n.out" 2>/dev/null && break; sleep 0.1; done
    SERVE_AUTH=$1
}

start_freeradius() {
    [[ -n $FR ]] && return 0
    command -v freeradius >/dev/null || { echo "interop-vm: freeradius is not installed"; return 1; }
    local fr="$WORK/freeradius"
    cp -r /etc/freeradius/3.0 "$fr" && mkdir -p "$fr/radacct" "$fr/log"
    # As sessiondb/tests/freeradius.rs: loopback ports, our user, run as root.
    python3 - "$fr" <<'PY'
import sys
d = sys.argv[1]
def edit(name, f):
    p = f"{d}/{name}"
    text = open(p).read()
    open(p, "w").write(f(text))
edit("radiusd.conf", lambda t: t.replace("\tuser = freerad", "\tuser = root")
     .replace("\tgroup = freerad", "\tgroup = root")
     .replace("radacctdir = ${logdir}/radacct", f"radacctdir = {d}/radacct")
     .replace("logdir = /var/log/freeradius", f"logdir = {d}/log"))
def site(t):
    t = t.replace("\tipaddr = *\n", "\tipaddr = 127.0.0.1\n", 2)
    first, second, *rest = t.split("\tport = 0\n")
    t = first + "\tport = 18121\n" + second + "\tport = 18131\n" + "\tport = 0\n".join(rest)
    return t.replace("\tipaddr = ::\n", "\tipaddr = ::1\n")
edit("sites-enabled/default", site)
edit("mods-config/files/authorize", lambda t: 'raduser Cleartext-Password := "radius-pass-5Tm"\n\n' + t)
PY
    rm -f "$fr/sites-enabled/inner-tunnel"
    freeradius -f -l stdout -d "$fr" >"$WORK/freeradius.out" 2>&1 &
    FR=$!
    for ((i = 0; i < 300; i++)); do grep -q "Ready to process requests" "$WORK/freeradius.out" && return 0; sleep 0.1; done
    echo "interop-vm: freeradius did not start"; tail -n 20 "$WORK/freeradius.out"; return 1
}

# guest_test DOWNLOAD_MB CHECK_USER: the test script the client runs once connected.
guest_test() {
    sed -e "s/@DOWNLOAD_MB@/$1/" -e "s/@CHECK_USER@/$2/" "$ROOT/scripts/interop/guest-test.sh" >"$WORK/guest-test-$3.sh"
    echo "$WORK/guest-test-$3.sh"
}

# run_client NAME EXPECT [VAR=VALUE...]: one client VM run. EXPECT is PASS, or
# FAIL:<error> for a client that must fail with that error.
run_client() {
    local name=$1 expect=$2; shift 2
    local conf="$WORK/client-$name.env" line rc
    {
        echo "SERVER_IKE_PORT=500"
        echo "PSK='$PSK'"
        echo "VPN_USER=vmuser"
        echo "VPN_PASSWORD='vm-pass-3Kd'"
        echo "PPP_AUTH=mschap-v2"
        echo "IKE_PROPOSALS=aes256-sha1-modp1024"
        echo "ESP_PROPOSALS=aes256-sha1"
        echo "PING_COUNT=3"
        echo "LOG_FILE=$WORK/vm-$name.log"
        for kv in "$@"; do printf '%s\n' "$kv"; done
    } >"$conf"
    SERVE_MARK=$(wc -l <"$SERVE_ERR")
    line=$(env -u PSK -u VPN_USER -u VPN_PASSWORD "${HARNESS:-$INTEROP_DIR}/client-vm.sh" "$conf" 2>"$WORK/vm-$name.err")
    rc=$?
    LAST_RESULT=$line
    local ok=0
    case $expect in
    PASS) [[ $rc == 0 && $line == *status=PASS* ]] && ok=1 ;;
    FAIL:*) [[ $rc == 1 && $line == *status=FAIL* && $line == *"error=${expect#FAIL:}"* ]] && ok=1 ;;
    esac
    CLIENT_OK=$ok
}

# report NAME OK DETAIL
report() {
    local name=$1 ok=$2 detail=$3 verdict=FAIL
    ((ok)) && verdict=PASS
    if ((ok)); then passed=$((passed + 1)); else failed=$((failed + 1)); fi
    local r
    r=$(printf '%-24s %s %s' "$name" "$verdict" "$detail")
    results+=("$r")
    echo "$r"
}

# summary of a client result line: the fields that matter
brief() {
    local l=$1 out="" k v
    for k in status error ip peer dns ping transfer test disconnect ike_alg esp_alg ppp_auth esp_pkts_in esp_pkts_out host_total_s; do
        v=$(grep -o " $k=[^ ]*" <<<" $l" | head -n1)
        out+="$v"
    done
    echo "${out# }"
}

# server_log_since: serve's log after the client started
server_log_since() { tail -n +"$((SERVE_MARK + 1))" "$SERVE_ERR"; }

expect_pass() { # NAME [VAR=VALUE...]
    local name=$1; shift
    run_client "$name" PASS "$@"
    local ok=$CLIENT_OK detail; detail=$(brief "$LAST_RESULT")
    [[ $LAST_RESULT == *" dns=$DNS1,$DNS2 "* ]] || { ok=0; detail+=" (dns not $DNS1,$DNS2)"; }
    [[ $LAST_RESULT == *" peer=$INSIDE "* ]] || { ok=0; detail+=" (peer not $INSIDE)"; }
    [[ $LAST_RESULT == *" disconnect=ok "* ]] || { ok=0; detail+=" (no clean disconnect)"; }
    EXTRA_OK=$ok
    EXTRA_DETAIL=$detail
}

for sc in "${SCENARIOS[@]}"; do
    case $sc in
    aes256-sha1-modp1024 | aes128-sha1-modp2048 | 3des-sha1-modp1024 | aes256-sha256-modp2048)
        start_serve local
        esp=${sc%-modp*}
        expect_pass "$sc" "IKE_PROPOSALS=$sc" "ESP_PROPOSALS=$esp"
        report "$sc" "$EXTRA_OK" "$EXTRA_DETAIL"
        ;;
    ms-chap-v1 | pap)
        start_serve local
        auth=pap; [[ $sc == ms-chap-v1 ]] && auth=mschap
        expect_pass "$sc" "PPP_AUTH=$auth"
        [[ $LAST_RESULT == *" ppp_auth=$auth "* ]] || EXTRA_OK=0
        report "$sc" "$EXTRA_OK" "$EXTRA_DETAIL"
        ;;
    chap-radius)
        if start_freeradius; then
            start_serve radius
            expect_pass "$sc" "PPP_AUTH=chap" "VPN_USER=raduser" "VPN_PASSWORD='radius-pass-5Tm'"
            [[ $LAST_RESULT == *" ppp_auth=chap "* ]] || EXTRA_OK=0
            report "$sc" "$EXTRA_OK" "$EXTRA_DETAIL"
        else
            report "$sc" 0 "freeradius did not start"
        fi
        ;;
    transfer-20mb)
        start_serve local
        expect_pass "$sc" "TRANSFER_MB=20" "TEST_SCRIPT=$(guest_test 20 vmuser "$sc")" "VM_TIMEOUT=600"
        ok=$EXTRA_OK detail=$EXTRA_DETAIL
        # The guest's download (checked byte for byte there) and ctl check.
        dl=$(sed -n 's/.*\[user-test\] download got=\([0-9]*\) want=[0-9]* intact=\([A-Za-z]*\) secs=\([0-9.]*\) kBps=\([0-9]*\).*/\1B\/\3s\/\4kBps:intact=\2/p' "$WORK/vm-$sc.log" | head -n1)
        ctl=$(sed -n 's/.*\[user-test\] ctl check: \(.*\)/\1/p' "$WORK/vm-$sc.log" | head -n1)
        detail+=" download=${dl:-none} ctl_check=${ctl:-none}"
        grep -q "^Username *: vmuser" "$WORK/ctl-show.txt" 2>/dev/null || { ok=0; detail+=" (no ctl show output)"; }
        # What `lns ctl show vpn-sessiondb detail remote filter protocol
        # L2TPOverIPSecOverNatT` said while the client was connected.
        sed -n '/^Username/,/^Bytes Tx/p' "$WORK/ctl-show.txt" 2>/dev/null | head -n 6 | sed 's/^/    ctl| /' >&2
        # The session must be gone from the table after the clean disconnect.
        sleep 1
        "$LNS" ctl --ctl "$CTL" show vpn-sessiondb summary >"$WORK/summary-$sc.txt" 2>&1
        grep -qE "^L2TPOverIPSecOverNatT +: +0 " "$WORK/summary-$sc.txt" || { ok=0; detail+=" (session left after disconnect)"; }
        server_log_since | grep -qE "session [0-9]+: down \(UserRequest\)" || { ok=0; detail+=" (no UserRequest end in the server log)"; }
        report "$sc" "$ok" "$detail"
        ;;
    reconnect)
        # Right after the previous client's disconnect, the same user again.
        start_serve local
        expect_pass "$sc" "PING_COUNT=2"
        report "$sc" "$EXTRA_OK" "$EXTRA_DETAIL"
        ;;
    natt-port-4500-windows-teardown)
        # IKE on 4500 with the non-ESP marker from the first packet, and the
        # teardown order of Windows: LCP Terminate first, then CDN, StopCCN,
        # the IKE Delete.
        start_serve local
        expect_pass "$sc" "SERVER_IKE_PORT=4500" "PPP_TERMINATE_FIRST=yes" "PING_COUNT=2"
        ok=$EXTRA_OK detail=$EXTRA_DETAIL
        server_log_since | grep -qE "session [0-9]+: down \(UserRequest\)" || { ok=0; detail+=" (no UserRequest end in the server log)"; }
        report "$sc" "$ok" "$detail"
        ;;
    wrong-psk)
        start_serve local
        run_client "$sc" FAIL:ike "PSK=not-the-psk" "IKE_TIMEOUT=40"
        ok=$CLIENT_OK detail=$(brief "$LAST_RESULT")
        why=$(server_log_since | grep -iE "pre-shared|psk|hash|decrypt|authenticat" | head -n1)
        [[ -n $why ]] || { ok=0; why="(the server log says nothing about it)"; }
        report "$sc" "$ok" "$detail server: ${why}"
        ;;
    wrong-password)
        start_serve local
        run_client "$sc" FAIL:ppp-auth-failed "VPN_PASSWORD=wrong-password"
        ok=$CLIENT_OK detail=$(brief "$LAST_RESULT")
        why=$(server_log_since | grep -iE "password|authenticat|reject|fail" | head -n1)
        [[ -n $why ]] || { ok=0; why="(the server log says nothing about it)"; }
        report "$sc" "$ok" "$detail server: ${why}"
        ;;
    after-wrong-psk | after-wrong-password)
        start_serve local
        expect_pass "$sc" "VPN_USER=vmother" "VPN_PASSWORD='other-pass-8Hz'" "PING_COUNT=2"
        report "$sc" "$EXTRA_OK" "$EXTRA_DETAIL"
        ;;
    rsa-sig)
        # RSA signatures: the client's certificate (subject DN as its IKE
        # identity, OU=DefaultRAGroup), the gateway's from --cert, one CA;
        # the client offers only aes256-sha1-modp1024, so the rsa-sig
        # policy 5 is the one that matches.
        if h=$(cert_harness) && make_pki; then
            start_serve cert
            HARNESS=$h expect_pass "$sc"
            ok=$EXTRA_OK detail=$EXTRA_DETAIL
            # charon's account (guest) and the negotiated method on the wire.
            auth=$(sed -n "s/.*INTEROP STAGE ike-auth authentication of '\([^']*\)' with \([A-Z0-9_]*\) successful.*/\2/p" "$WORK/vm-$sc.log" | sort -u | paste -sd, -)
            peer_ok=$(grep -c "INTEROP STAGE ike-auth authentication of '.*gw.interop-vm.test.*' with RSA.* successful" "$WORK/vm-$sc.log")
            [[ $auth == *RSA* && $peer_ok -ge 1 ]] || { ok=0; detail+=" (charon did not verify the gateway's RSA signature)"; }
            # (stopped first, so that its capture is complete on disk)
            stop_serve
            wire=$(tshark -r "$WORK/serve-$SERVE_N.pcap" -Y "isakmp.ike.attr.authentication_method" \
                -T fields -e isakmp.ike.attr.authentication_method 2>/dev/null | tr ',' '\n' | sort -u | paste -sd, -)
            [[ $wire == 3 ]] || { ok=0; detail+=" (Main Mode authentication method on the wire: ${wire:-none}, not 3 = RSA signatures)"; }
            detail+=" ike_auth=rsa-sig:${auth:-none} mm_auth_method=${wire:-none}"
            report "$sc" "$ok" "$detail"
        else
            report "$sc" 0 "the certificate harness could not be prepared"
        fi
        ;;
    *)
        echo "interop-vm: unknown scenario $sc (see --list)"; failed=$((failed + 1)) ;;
    esac
    if [[ -n $SERVE ]] && ! kill -0 "$SERVE" 2>/dev/null; then
        echo "interop-vm: lns serve died:"; tail -n 20 "$SERVE_ERR"; SERVE=""; failed=$((failed + 1))
    fi
done

# tshark over the server's captures of these real clients: every packet
# dissected (IKE, ESP decrypted with the run's esp_sa keys, L2TP, PPP), no
# malformed packet, no expert error.
stop_serve
if command -v tshark >/dev/null; then
    for pcap in "$WORK"/serve-*.pcap; do
        [[ -s $pcap ]] || continue
        n=$(basename "$pcap" .pcap)
        if line=$(TSHARK_DECODE_AS="udp.port==18121,radius" python3 "$ROOT/scripts/interop/tshark_session.py" "tshark-$n" "$pcap"); then
            passed=$((passed + 1))
        else
            failed=$((failed + 1))
        fi
        echo "$line"
    done
fi

echo "$passed passed, $failed failed"
((failed == 0))

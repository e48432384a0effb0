#!/usr/bin/env bash
# strongSwan's charon (Debian's 5.9.8, IKEv1) against ike-core, without a VM:
#
#   A. charon initiates (swanctl --initiate) to `lns serve` (the ike-core
#      responder inside sessiondb's Gateway), PSK, Main Mode + Quick Mode,
#      once with plain IKE on 500 and once with NAT-T forced (encap = yes:
#      charon fakes NAT-D, floats to 4500 and adds the non-ESP marker);
#   B. `lns connect` (the ike-core initiator inside sessiondb's Dialer)
#      initiates to charon as responder.
#
# charon and lns run in two network namespaces joined by a veth pair
# (10.99.0.1 charon, 10.99.0.2 lns), so that both may use UDP 500/4500 and
# no packet leaves the machine. This kernel has no ESP (CONFIG_INET_ESP is
# off): charon completes IKE and Quick Mode, then fails to install the
# CHILD_SA in the kernel. The checks read charon's log: the IKE SA
# established, the Quick Mode messages parsed (their HASH verified, else
# charon logs it and stops), and the failure being only the kernel's SAD.
#
#   scripts/interop-strongswan.sh [path/to/lns]    (as root; installs
#   strongswan-charon and strongswan-swanctl when missing)
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/test-pki.sh

LNS="${1:-}"
if [[ -z $LNS ]]; then
    cargo build --release -q -p lns-host || exit 1
    LNS=target/release/lns
fi
LNS="$(realpath "$LNS")"
[[ $(id -u) == 0 ]] || { echo "interop-strongswan: needs root (network namespaces)"; exit 1; }
if [[ ! -x /usr/lib/ipsec/charon ]] || ! command -v swanctl >/dev/null; then
    echo "installing strongswan-charon strongswan-swanctl"
    apt-get update -qq
    # policy-rc.d (as in Debian containers) or no init: the package's own
    # charon is not started.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        strongswan-charon strongswan-swanctl libstrongswan-standard-plugins >/dev/null || exit 1
fi

WORK="$(mktemp -d /tmp/lns-strongswan.XXXXXX)"
tag=$$
NSC=ss-charon-$tag NSL=ss-lns-$tag
CHARON=10.99.0.1 LNSADDR=10.99.0.2
PSK=strongswan-interop-psk-4Rw
pids=() passed=0 failed=0 CHARON_PID=""

cleanup() {
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
    sleep 0.3
    for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
    wait 2>/dev/null
    ip netns del "$NSC" 2>/dev/null
    ip netns del "$NSL" 2>/dev/null
    if ((failed)) || [[ ${KEEP:-0} == 1 ]]; then echo "interop-strongswan: files kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

ip netns add "$NSC" && ip netns add "$NSL" || exit 1
ip link add ssc0 netns "$NSC" type veth peer name ssl0 netns "$NSL"
ip -n "$NSC" addr add $CHARON/24 dev ssc0
ip -n "$NSL" addr add $LNSADDR/24 dev ssl0
for l in "$NSC ssc0" "$NSC lo" "$NSL ssl0" "$NSL lo"; do set -- $l; ip -n "$1" link set "$2" up; done

# charon [ROLE]: (re)starts charon in its namespace with the configuration in $WORK/$ROLE.
start_charon() {
    local role=$1 d="$WORK/$1"
    stop_charon
    cat >"$d/strongswan.conf" <<CONF
charon {
    load = random nonce aes sha1 sha2 md5 hmac gmp openssl pem pkcs1 x509 pubkey kernel-netlink socket-default vici
    install_routes = no
    install_virtual_ip = no
    retransmit_tries = 3
    retransmit_timeout = 2.0
    plugins {
        vici {
            socket = unix://$d/charon.vici
        }
    }
    filelog {
        charon {
            path = $d/charon.log
            default = 1
            ike = 3
            cfg = 2
            knl = 1
            flush_line = yes
        }
    }
    syslog {
        daemon {
            default = -1
        }
    }
}
CONF
    STRONGSWAN_CONF="$d/strongswan.conf" ip netns exec "$NSC" /usr/lib/ipsec/charon \
        >"$d/charon.out" 2>&1 &
    CHARON_PID=$!
    pids+=("$CHARON_PID")
    local i
    for ((i = 0; i < 100; i++)); do [[ -S $d/charon.vici ]] && break; sleep 0.1; done
    [[ -S $d/charon.vici ]] || { echo "charon did not start:"; tail -n 20 "$d/charon.out" "$d/charon.log"; return 1; }
    SWANCTL_DIR="$d" swanctl --load-all --noprompt --file "$d/swanctl.conf" --uri "unix://$d/charon.vici" >"$d/load.out" 2>&1 ||
        { echo "swanctl --load-all failed:"; cat "$d/load.out"; return 1; }
}
stop_charon() {
    [[ -n $CHARON_PID ]] || return 0
    kill -TERM "$CHARON_PID" 2>/dev/null
    for ((i = 0; i < 50; i++)); do kill -0 "$CHARON_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$CHARON_PID" 2>/dev/null
    wait "$CHARON_PID" 2>/dev/null
    CHARON_PID=""
    rm -f /var/run/charon.pid
}

# swanctl_conf DIR ROLE ENCAP [AUTH [ID]]: the connection (L2TP/IPsec as
# Windows: transport, udp/1701); AUTH psk (default) or pubkey (RSA
# certificates from $WORK/pki); ID charon's own identity with pubkey.
swanctl_conf() {
    local d=$1 role=$2 encap=$3 auth=${4:-psk} cert_id=${5:-} remote local_id=$CHARON local_extra="" remote_extra=""
    mkdir -p "$d"
    if [[ $role == initiator ]]; then remote=$LNSADDR; else remote=%any; fi
    if [[ $auth == pubkey ]]; then
        mkdir -p "$d/x509" "$d/x509ca" "$d/private"
        cp "$WORK/pki/client.pem" "$d/x509/" && cp "$WORK/pki/ca.pem" "$d/x509ca/" && cp "$WORK/pki/client.key" "$d/private/"
        # No explicit id: charon sends its certificate's subject DN as
        # encoded in the certificate. A DN given as a string is re-encoded
        # by charon (PrintableString values where openssl wrote
        # UTF8String; see docs/RELIABILITY.md).
        local_id="$cert_id"
        local_extra="certs = client.pem"
        remote_extra="cacerts = ca.pem"
    fi
    cat >"$d/swanctl.conf" <<CONF
connections {
    l2tp {
        version = 1
        local_addrs = $CHARON
        remote_addrs = $remote
        proposals = aes256-sha1-modp1024, aes128-sha1-modp2048, 3des-sha1-modp1024
        encap = $encap
        rekey_time = 0
        send_cert = always
        local {
            auth = $auth
            ${local_id:+id = "$local_id"}
            $local_extra
        }
        remote {
            auth = $auth
            $remote_extra
        }
        children {
            l2tp {
                mode = transport
                local_ts = dynamic[udp/1701]
                remote_ts = dynamic[udp/1701]
                esp_proposals = aes256-sha1, aes128-sha1, 3des-sha1
                rekey_time = 0
                start_action = none
            }
        }
    }
}
secrets {
    ike-lns {
        secret = "$PSK"
    }
}
CONF
}

report() { # NAME OK DETAIL
    local v=FAIL
    if (($2)); then v=PASS; passed=$((passed + 1)); else failed=$((failed + 1)); fi
    printf '%-32s %s %s\n' "$1" "$v" "$3"
}

# check_charon_log LOG ROLE: the IKE SA and Quick Mode as charon saw them.
check_charon_log() {
    local log=$1 role=$2 why=() est qm
    est=$(grep -m1 -oE "IKE_SA l2tp\[[0-9]+\] established between .*" "$log")
    [[ -n $est ]] || why+=("no IKE SA established")
    if [[ $role == initiator ]]; then
        # Ours (responder) answered Quick Mode; charon verified HASH(2)
        # (a mismatch is logged and the message dropped) and went on to
        # install the SA, which comes before it sends HASH(3).
        grep -qE "parsed QUICK_MODE response [0-9]+ \[ HASH SA No( KE)? ID ID" "$log" || why+=("no Quick Mode response parsed")
    else
        # Ours (initiator) sent Quick Mode 1 and 3; charon verified HASH(1) and HASH(3).
        grep -qE "parsed QUICK_MODE request [0-9]+ \[ HASH SA No( KE)? ID ID" "$log" || why+=("no Quick Mode request parsed")
        grep -qE "parsed QUICK_MODE request [0-9]+ \[ HASH \]" "$log" || why+=("no HASH(3) received")
    fi
    local bad="HASH payload does not match|invalid HASH|decryption failed|verification failed|AUTHENTICATION_FAILED|INVALID_PAYLOAD|NO_PROPOSAL_CHOSEN|INVAL_IKE_SPI|INVALID_SPI"
    grep -qiE "$bad" "$log" && why+=("charon: $(grep -m1 -iE "$bad" "$log" | cut -c1-120)")
    qm=$(grep -m1 -oE "unable to install (inbound and outbound )?IPsec SA \(SAD\) in kernel|CHILD_SA l2tp\{[0-9]+\} established.*" "$log")
    [[ -n $qm ]] || why+=("Quick Mode did not reach the SA installation")
    CHECK_WHY="${why[*]:-}"
    CHECK_DETAIL="${est:-} quick-mode: ${qm:-none}"
}

# A CA, the gateway's and the client's RSA certificates (openssl).
CLIENT_DN="C=US, O=Interop Test, OU=DefaultRAGroup, CN=client.interop.test"
make_test_pki "$WORK/pki" "Interop Test" interop.test || { failed=1; exit 1; }

echo "=== A. charon initiator -> lns serve (ike-core responder)"
cat >"$WORK/lns.conf" <<CONF
ip local pool ss 10.98.0.10-10.98.0.50 mask 255.255.255.0
crypto ipsec transform-set AES256-SHA esp-aes-256 esp-sha-hmac
crypto ipsec transform-set AES256-SHA mode transport
crypto ipsec transform-set AES128-SHA esp-aes esp-sha-hmac
crypto ipsec transform-set AES128-SHA mode transport
crypto dynamic-map dyn 10 set transform-set AES256-SHA AES128-SHA
crypto map outside_map 20 ipsec-isakmp dynamic dyn
crypto map outside_map interface outside
crypto isakmp enable outside
crypto isakmp policy 5
 authentication rsa-sig
 encryption aes-256
 hash sha
 group 2
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
crypto isakmp nat-traversal 20
group-policy DfltGrpPolicy attributes
 vpn-tunnel-protocol l2tp-ipsec
tunnel-group DefaultRAGroup general-attributes
 address-pool ss
tunnel-group DefaultRAGroup ipsec-attributes
 pre-shared-key $PSK
 ikev1 trust-point interop
tunnel-group DefaultRAGroup ppp-attributes
 authentication ms-chap-v2
username ssuser password ss-pass mschap
CONF
ip netns exec "$NSL" "$LNS" -v serve --config "$WORK/lns.conf" --pcap "$WORK/serve.pcap" --ctl "$WORK/lns.sock" \
    --cert "$WORK/pki/gw.der" --key "$WORK/pki/gw.key.der" --ca "$WORK/pki/ca.der" \
    >"$WORK/serve.out" 2>"$WORK/serve.err" </dev/null &
SERVE=$!
pids+=("$SERVE")
for ((i = 0; i < 100; i++)); do grep -q "serving on" "$WORK/serve.err" 2>/dev/null && break; sleep 0.1; done
grep -q "serving on" "$WORK/serve.err" || { echo "lns serve did not start"; tail "$WORK/serve.err"; failed=1; exit 1; }
# The gateway's own account of each event and error, in serve.out.
for class in event error; do "$LNS" ctl --ctl "$WORK/lns.sock" debug l2tp $class 255 >/dev/null; done

# pubkey-dn: charon given its identity as the DN string $CLIENT_DN.
for variant in psk:no psk:yes pubkey:yes pubkey-dn:yes; do
    auth=${variant%%:*} encap=${variant#*:} cert_id=""
    name="charon-initiator-$auth-encap-$encap"
    [[ $auth == pubkey ]] && name="charon-initiator-rsa-sig-encap-$encap"
    if [[ $auth == pubkey-dn ]]; then
        auth=pubkey cert_id=$CLIENT_DN name="charon-initiator-rsa-sig-dn-string-encap-$encap"
    fi
    swanctl_conf "$WORK/$name" initiator "$encap" "$auth" "$cert_id"
    if start_charon "$name"; then
        timeout 40 swanctl --initiate --child l2tp --timeout 30 --uri "unix://$WORK/$name/charon.vici" \
            >"$WORK/$name/initiate.out" 2>&1
        sleep 0.5
        check_charon_log "$WORK/$name/charon.log" initiator
        ok=1; [[ -z $CHECK_WHY ]] || ok=0
        if [[ $encap == yes ]]; then
            grep -qE "sending packet: from $CHARON\[4500\] to $LNSADDR\[4500\]" "$WORK/$name/charon.log" ||
                { ok=0; CHECK_WHY+=" no float to 4500"; }
        fi
        report "$name" "$ok" "$CHECK_DETAIL${CHECK_WHY:+ ($CHECK_WHY)}"
    else
        report "$name" 0 "charon did not start"
    fi
    stop_charon
done

echo "=== B. lns connect (ike-core initiator) -> charon responder"
kill -TERM "$SERVE" 2>/dev/null; wait "$SERVE" 2>/dev/null
name=charon-responder-psk
swanctl_conf "$WORK/$name" responder no
if start_charon "$name"; then
    LNS_PSK=$PSK LNS_PASSWORD=unused ip netns exec "$NSL" "$LNS" -v connect --server $CHARON --user nobody \
        --timeout 15 >"$WORK/$name/connect.out" 2>"$WORK/$name/connect.err" </dev/null &
    CONNECT=$!
    pids+=("$CONNECT")
    for ((i = 0; i < 150; i++)); do
        grep -qE "unable to install|CHILD_SA l2tp\{[0-9]+\} established|deleting IKE_SA" "$WORK/$name/charon.log" 2>/dev/null && break
        sleep 0.1
    done
    sleep 0.5
    kill -INT "$CONNECT" 2>/dev/null
    check_charon_log "$WORK/$name/charon.log" responder
    ok=1; [[ -z $CHECK_WHY ]] || ok=0
    report "$name" "$ok" "$CHECK_DETAIL${CHECK_WHY:+ ($CHECK_WHY)}"
else
    report "$name" 0 "charon did not start"
fi
stop_charon

echo "$passed passed, $failed failed"
((failed == 0))

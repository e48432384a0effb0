# The test network of scripts/e2e-netns.sh and scripts/bench-host.sh, to be
# sourced: four network namespaces, a server reached directly by one client
# and through a masquerading NAT by another.
#
#   make_topology SRV CLA NAT CLB
#
#   CLA 192.0.2.2 --- 192.0.2.1 SRV 203.0.113.1 --- 203.0.113.2 NAT
#                                                  NAT 198.18.0.1 --- 198.18.0.2 CLB
#
# CLB's default route is the NAT, which masquerades what leaves towards the
# server. The caller deletes the namespaces.
make_topology() {
    local srv="$1" cla="$2" nat="$3" clb="$4" ns l
    for ns in "$srv" "$cla" "$nat" "$clb"; do
        ip netns add "$ns"
        ip -n "$ns" link set lo up
    done
    ip link add a0 netns "$srv" type veth peer name a1 netns "$cla"
    ip link add n0 netns "$srv" type veth peer name n1 netns "$nat"
    ip link add b0 netns "$nat" type veth peer name b1 netns "$clb"
    ip -n "$srv" addr add 192.0.2.1/24 dev a0
    ip -n "$cla" addr add 192.0.2.2/24 dev a1
    ip -n "$srv" addr add 203.0.113.1/24 dev n0
    ip -n "$nat" addr add 203.0.113.2/24 dev n1
    ip -n "$nat" addr add 198.18.0.1/24 dev b0
    ip -n "$clb" addr add 198.18.0.2/24 dev b1
    for l in "$srv a0" "$srv n0" "$cla a1" "$nat n1" "$nat b0" "$clb b1"; do
        set -- $l
        ip -n "$1" link set "$2" up
    done
    ip -n "$clb" route add default via 198.18.0.1
    ip netns exec "$nat" sysctl -qw net.ipv4.ip_forward=1
    ip netns exec "$nat" nft -f - <<'NFT'
table ip nat {
    chain postrouting {
        type nat hook postrouting priority srcnat; policy accept;
        oifname "n1" masquerade
    }
}
NFT
}

# Sourced by the tests that build a small network on this machine (distributed load, the Slurm cluster): a bridge
# in the root namespace and network namespaces joined to it by veth pairs, so that each namespace is a host of its
# own with an address on one subnet. The caller sets `skip` (exit 77, or a failure under CI=true) before sourcing.

# Skips unless this process may create network namespaces (root with CAP_NET_ADMIN).
netns_require() {
    [ "$(id -u)" = 0 ] || skip "needs root (network namespaces)"
    command -v ip >/dev/null || skip "ip not installed"
    ip netns add "accel-probe-$$" 2>/dev/null || skip "cannot create network namespaces (CAP_NET_ADMIN)"
    ip netns del "accel-probe-$$"
}

# netns_bridge BRIDGE SUBNET: the bridge, at SUBNET.1/24.
netns_bridge() {
    ip link add "$1" type bridge
    ip addr add "$2.1/24" dev "$1"
    ip link set "$1" up
}

# netns_host NAMESPACE HOST_VETH NS_VETH BRIDGE ADDRESS: a namespace with a veth pair (its root-namespace end on the
# bridge), the namespace's end at ADDRESS/24, and loopback up.
netns_host() {
    local ns=$1 host=$2 inner=$3 br=$4 addr=$5
    ip netns add "$ns"
    ip link add "$host" type veth peer name "$inner"
    ip link set "$host" master "$br" up
    ip link set "$inner" netns "$ns"
    ip -n "$ns" addr add "$addr/24" dev "$inner"
    ip -n "$ns" link set "$inner" up
    ip -n "$ns" link set lo up
}

# netns_remove NAMESPACE...: kills every process left in each namespace and deletes it (for cleanup traps).
netns_remove() {
    local ns
    for ns in "$@"; do
        ip netns pids "$ns" 2>/dev/null | xargs -r kill -9
        ip netns del "$ns" 2>/dev/null
    done
    return 0
}

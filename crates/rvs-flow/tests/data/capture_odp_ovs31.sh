#!/usr/bin/env bash
# Regenerates odp_ovs31.txt: datapath flow lines printed by a real Open vSwitch 3.1.
#
#   tools/ovs-oracle.sh start /tmp/oracle-odp
#   crates/rvs-flow/tests/data/capture_odp_ovs31.sh /tmp/oracle-odp > crates/rvs-flow/tests/data/odp_ovs31.txt
#
# Each "@ name" record is either a flow added with `dpctl/add-flow` ("add:" and "actions:") or
# megaflows created by sending packets through OpenFlow rules ("openflow:" and "packet:" lines,
# informational). "nv:" lines are `dpctl/dump-flows`, "v:" lines `dpctl/dump-flows -m`, in the
# same order. The oracle runs with other_config:vlan-limit=2 so that QinQ keys are accepted.
set -euo pipefail
DIR=${1:?oracle run directory}
ROOT=$(cd "$(dirname "$0")/../../../.." && pwd)
A() { "$ROOT/tools/ovs-oracle.sh" appctl "$DIR" "$@"; }
OF() { OVS_RUNDIR=$DIR ovs-ofctl "$@"; }
ovs-vsctl --no-wait --db="unix:$DIR/db.sock" set Open_vSwitch . other_config:vlan-limit=2
# Revalidators would delete flows that ofproto did not create (dpctl/add-flow) between two dumps.
A revalidator/pause >/dev/null
trap 'A revalidator/resume >/dev/null' EXIT

dump() {
    A dpctl/dump-flows | { grep -v '^flow-dump' || echo "(no flows)"; } | sed 's/^/nv: /'
    A dpctl/dump-flows -m | { grep -v '^flow-dump' || echo "(no flows)"; } | sed 's/^/v: /'
}

# add NAME FLOW ACTIONS
add() {
    A dpctl/del-flows >/dev/null
    echo "@ $1"
    echo "add: $2"
    echo "actions: $3"
    A dpctl/add-flow "$2" "$3" >/dev/null
    dump
}

# pkt NAME 'OPENFLOW RULES (;-separated)' PACKET [COUNT]
pkt() {
    OF del-flows br0
    OF -O OpenFlow15 del-groups br0 2>/dev/null || true
    # Forget the ukeys of earlier records (a paused revalidator keeps them, and a packet with a
    # known key would be dropped as a duplicate upcall).
    A revalidator/resume >/dev/null
    A revalidator/purge >/dev/null
    A revalidator/pause >/dev/null
    A dpctl/del-flows >/dev/null
    echo "@ $1"
    echo "openflow: $2"
    echo "packet: $3"
    IFS=';' read -ra rules <<< "$2"
    for r in "${rules[@]}"; do
        case $r in
            group:*) OF -O OpenFlow15 add-group br0 "${r#group:}" ;;
            *) OF -O OpenFlow15 add-flow br0 "$r" ;;
        esac
    done
    for _ in $(seq "${4:-1}"); do
        A netdev-dummy/receive p1 "$3" >/dev/null
    done
    dump
}

echo "# Captured from Open vSwitch 3.1 ($(ovs-vswitchd --version | head -1)) by capture_odp_ovs31.sh."
echo "# Dummy datapath; ports: 0 ovs-dummy, 1-4 p1-p4, 100 br0. Do not edit by hand."

T='in_port(1),eth(),eth_type(0x0800),ipv4(proto=6),tcp(dst=80)'

add ipv4_tcp_masked 'in_port(1),eth(src=50:54:00:00:00:01,dst=50:54:00:00:00:02),eth_type(0x0800),ipv4(src=10.0.0.5/255.255.255.0,dst=10.1.0.0/255.255.0.0,proto=6,tos=0x10/0xfc,ttl=64,frag=no),tcp(src=1024/0xfc00,dst=80)' 2
add eth_masks 'in_port(2),eth(src=50:54:00:00:00:01/ff:ff:ff:00:00:00,dst=01:00:00:00:00:00/01:00:00:00:00:00),eth_type(0x1234/0xff00)' '1,3'
add arp_named_port 'in_port(p3),eth(),eth_type(0x0806),arp(sip=10.0.0.1,tip=10.0.0.0/255.0.0.0,op=2,sha=50:54:00:00:00:03,tha=00:00:00:00:00:00/ff:ff:ff:00:00:00)' drop
add rarp 'in_port(1),eth(),eth_type(0x8035),arp(op=3)' 2
add ipv6_tcp 'in_port(1),eth(),eth_type(0x86dd),ipv6(src=2001:db8::1/ffff:ffff::,dst=fe80::200:ff:fe00:1,label=0x12345/0xf0000,proto=6,tclass=0x20,hlimit=255,frag=no),tcp(dst=443),tcp_flags(syn)' 2
add nd_solicit 'in_port(1),eth(),eth_type(0x86dd),ipv6(proto=58,frag=no),icmpv6(type=135,code=0),nd(target=fe80::1,sll=50:54:00:00:00:01)' 2
add nd_advert_masked 'in_port(1),eth(),eth_type(0x86dd),ipv6(src=::1.2.3.4,proto=58,frag=no),icmpv6(type=136,code=0),nd(target=2001:db8::/ffff:ffff::,tll=00:00:00:00:00:00/ff:ff:ff:ff:ff:ff)' 2
add nd_code_wildcarded 'in_port(1),eth(),eth_type(0x86dd),ipv6(proto=58),icmpv6(type=135),nd()' 2
add mpls 'in_port(1),eth(),eth_type(0x8847),mpls(label=100,tc=3,ttl=64,bos=1)' 2
add mpls_masked 'in_port(1),eth(),eth_type(0x8848),mpls(label=100/0xff,tc=3/0,ttl=64/0xf0,bos=1)' 2
add frag_first 'in_port(1),eth(),eth_type(0x0800),ipv4(proto=17,frag=first),udp(src=53)' 2
add frag_later 'in_port(1),eth(),eth_type(0x0800),ipv4(proto=17,frag=later)' 2
add ipv6_frag_later 'in_port(1),eth(),eth_type(0x86dd),ipv6(proto=17,frag=later)' 2
add vlan 'in_port(1),eth(src=50:54:00:00:00:01),eth_type(0x8100),vlan(vid=10,pcp=3),encap(eth_type(0x0800),ipv4(src=1.2.3.4,proto=17),udp(src=53))' 2
add vlan_masks 'in_port(1),eth(),eth_type(0x8100),vlan(vid=10/0xff0,pcp=0/0x4),encap(eth_type(0x0806),arp(op=1))' 2
add qinq 'in_port(1),eth(),eth_type(0x88a8),vlan(vid=100),encap(eth_type(0x8100),vlan(vid=200,pcp=5),encap(eth_type(0x86dd),ipv6(proto=17,frag=no),udp(dst=4789)))' 2
add metadata 'skb_priority(0x5/0xff),skb_mark(0x10),ct_state(+trk-new+est),ct_zone(5),ct_mark(0x1/0xff),ct_label(0x1/0xff),recirc_id(0x20),dp_hash(0x3/0xf),in_port(1),eth(),eth_type(0x0800),ipv4(proto=6),tcp(dst=22)' 2
add ct_state_names 'ct_state(trk|est),ct_label(0x1234567890abcdef1234567890abcdef),in_port(1),eth(),eth_type(0x0800),ipv4(frag=no)' 2
add tcp_flags_masked 'in_port(1),eth(),eth_type(0x0800),ipv4(proto=6),tcp(),tcp_flags(+syn-ack)' 2
add sctp 'in_port(1),eth(),eth_type(0x0800),ipv4(proto=132),sctp(src=1/0xff,dst=2)' 2
add icmp 'in_port(4),eth(),eth_type(0x0800),ipv4(proto=1,ttl=1),icmp(type=8,code=0/0xf0)' 2
add packet_type_with_eth 'in_port(1),packet_type(ns=0,id=0),eth(),eth_type(0x0800),ipv4(frag=no)' 2
add no_eth_no_packet_type 'in_port(1),eth_type(0x0800),ipv4(src=10.0.0.0/255.255.255.0,proto=6),tcp(dst=80)' 2
add ipv4_partial_fields 'in_port(1),eth(),eth_type(0x0800),ipv4(tos=0x3/0x3,ttl=128/0x80,frag=no)' 2
add ipv6_label_exact 'in_port(1),eth(),eth_type(0x86dd),ipv6(label=0xabcde,tclass=0x1/0xf,frag=no)' 2
add lldp 'in_port(1),eth(dst=01:80:c2:00:00:0e),eth_type(0x88cc)' drop

add act_outputs "$T" '1,2,3,100'
add act_set_ports "$T" 'set(tcp(src=42/0xff)),set(tcp(src=42,dst=43)),set(udp(dst=53)),set(sctp(src=7))'
add act_set_l3 "$T" 'set(ipv4(src=1.1.1.1,dst=2.2.2.2,proto=6,tos=0,ttl=64,frag=no)),set(ipv4(src=10.0.0.1,ttl=9/0xf)),set(ipv6(src=::1,dst=::2,label=0,proto=6,tclass=0,hlimit=64,frag=no)),set(ipv6(dst=fe80::1))'
add act_set_l2 "$T" 'set(eth(src=00:01:02:03:04:05)),set(eth(src=00:01:02:03:04:05,dst=ff:ff:ff:ff:ff:ff)),set(arp(op=1)),set(arp(sip=1.2.3.4,tip=5.6.7.8,op=2,sha=00:00:00:00:00:01,tha=00:00:00:00:00:02)),set(nd(target=::1)),set(mpls(label=5,tc=0,ttl=64,bos=1))'
add act_set_meta "$T" 'set(skb_mark(0x5)),set(skb_priority(0x1/0xf)),set(ct_state(est)),set(vlan(vid=5)),set(icmp(type=0)),set(icmpv6(type=1,code=3)),2'
add act_vlan "$T" 'push_vlan(vid=3,pcp=0),push_vlan(tpid=0x88a8,vid=3,pcp=5,cfi=0),push_vlan(vid=4095,pcp=7,cfi=1),pop_vlan,2'
add act_recirc_meter_trunc "$T" 'meter(3),trunc(200),1,recirc(5)'
add act_userspace_plain "$T" 'userspace(pid=1),userspace(pid=2,userdata(01)),userspace(pid=3,userdata(0102030405060708090a),actions),userspace(pid=4,userdata(ff),tunnel_out_port=3)'
add act_userspace_cookies "$T" 'userspace(pid=0,slow_path(cfm|bfd)),userspace(pid=0,slow_path(match)),userspace(pid=7,controller(reason=1,dont_send=0,continuation=1,recirc_id=1,rule_cookie=0x123,controller_id=0,max_len=65535),actions,tunnel_out_port=3)'
add act_userspace_samples "$T" 'userspace(pid=5,sFlow(vid=10,pcp=3,output=2)),userspace(pid=6,flow_sample(probability=100,collector_set_id=1,obs_domain_id=2,obs_point_id=3,output_port=4,ingress)),userspace(pid=6,flow_sample(probability=65535,collector_set_id=0,obs_domain_id=0,obs_point_id=0,output_port=2)),userspace(pid=8,ipfix(output_port=2))'
add act_ct "$T" 'ct,ct(commit),ct(commit,zone=5,mark=0x1/0xff,label=0x10/0xff),ct(force_commit,zone=65535,mark=0xff,label=0x1,helper=ftp),ct(zone=1,timeout=tp1),ct_clear'
add act_clone_sample "$T" 'clone(1,pop_vlan,2),clone(clone(3)),sample(sample=12.5%,actions(1)),sample(sample=100.0%,actions(clone(2),3)),sample(sample=0.0%,actions())'
add act_drop "$T" drop

P='in_port(1),eth(src=50:54:00:00:00:01,dst=50:54:00:00:00:02),eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2,proto=6,tos=0,ttl=64,frag=no),tcp(src=1234,dst=80),tcp_flags(syn)'
pkt upcall_tcp 'priority=10,tcp,tp_dst=80,actions=output:2' "$P" 3
pkt upcall_push_mpls 'actions=push_mpls:0x8847,set_field:10->mpls_label,output:2' "$P"
pkt upcall_pop_mpls 'mpls,actions=pop_mpls:0x0800,output:2' 'in_port(1),eth(src=50:54:00:00:00:01,dst=50:54:00:00:00:02),eth_type(0x8847),mpls(label=10,tc=0,ttl=64,bos=1)'
pkt upcall_select_group 'group:group_id=1,type=select,selection_method=dp_hash,bucket=output:2,bucket=output:3;actions=group:1' "$P"
pkt upcall_controller 'actions=controller' "$P"
pkt upcall_ct 'table=0,ip,actions=ct(commit,zone=5,table=1);table=1,actions=output:2' "$P"
pkt upcall_arp 'arp,actions=output:2' 'in_port(1),eth(src=50:54:00:00:00:01,dst=ff:ff:ff:ff:ff:ff),eth_type(0x0806),arp(sip=10.0.0.1,tip=10.0.0.2,op=1,sha=50:54:00:00:00:01,tha=00:00:00:00:00:00)'
pkt upcall_vlan_strip 'dl_vlan=10,actions=strip_vlan,output:2' 'in_port(1),eth(src=50:54:00:00:00:01,dst=50:54:00:00:00:02),eth_type(0x8100),vlan(vid=10,pcp=0),encap(eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2,proto=17,tos=0,ttl=64,frag=no),udp(src=1,dst=2))'
pkt upcall_nd 'icmp6,icmpv6_type=135,nd_target=fe80::1,actions=output:2' 'in_port(1),eth(src=50:54:00:00:00:01,dst=33:33:ff:00:00:01),eth_type(0x86dd),ipv6(src=fe80::2,dst=ff02::1:ff00:1,label=0,proto=58,tclass=0,hlimit=255,frag=no),icmpv6(type=135,code=0),nd(target=fe80::1,sll=50:54:00:00:00:01,tll=00:00:00:00:00:00)'
pkt upcall_llc 'actions=output:2' '505400000002505400000001002642420300000000000000000000000000000000000000000000000000000000000000000000000000'
pkt upcall_set_field 'tcp,actions=set_field:192.168.0.1->ip_src,set_field:99->tcp_dst,mod_dl_src:00:00:00:00:00:aa,output:2' "$P"
A dpctl/del-flows >/dev/null
OF del-flows br0

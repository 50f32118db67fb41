#!/usr/bin/env bash
# Regenerates odp_probes_ovs31.tsv: how Open vSwitch 3.1 reads unusual datapath flow text.
#
#   crates/rvs-flow/tests/data/capture_odp_probes_ovs31.sh /tmp/oracle-odp > crates/rvs-flow/tests/data/odp_probes_ovs31.tsv
#
# Each input line below is "KEY<TAB>ACTIONS". Output lines are "KEY<TAB>ACTIONS<TAB>RESULT" where
# RESULT is what `dpctl/dump-flows -m` printed after `dpctl/add-flow` (UFID, statistics and extra
# info removed) or ERR if OVS refused the flow.
set -euo pipefail
DIR=${1:?oracle run directory}
ROOT=$(cd "$(dirname "$0")/../../../.." && pwd)
A() { "$ROOT/tools/ovs-oracle.sh" appctl "$DIR" "$@"; }
ovs-vsctl --no-wait --db="unix:$DIR/db.sock" set Open_vSwitch . other_config:vlan-limit=2
A revalidator/pause >/dev/null
trap 'A revalidator/resume >/dev/null' EXIT
echo "# Captured from Open vSwitch 3.1 ($(ovs-vswitchd --version | head -1)) by capture_odp_probes_ovs31.sh. Do not edit."
while IFS=$'\t' read -r key actions; do
    A dpctl/del-flows >/dev/null
    if A dpctl/add-flow "$key" "$actions" >/dev/null 2>&1; then
        result=$(A dpctl/dump-flows -m | grep -v '^flow-dump' \
            | sed -E 's/^ufid:[^,]*, //; s/, packets:.*, actions:/, actions:/; s/, dp-extra-info:.*//')
    else
        result=ERR
    fi
    printf '%s\t%s\t%s\n' "$key" "$actions" "${result:-(no flow)}"
done <<'CASES'
in_port(1),eth(),eth_type(0x0800),ipv4(proto=300,frag=no)	2
in_port(1),eth(),eth_type(0x0800),ipv4(proto= 6,frag=no),tcp(dst=80)	2
in_port(1),eth(),eth_type(0x0800),ipv4(src=10.0.0.256,frag=no)	2
in_port(1),eth(),eth_type(0x0800),ipv4(src=010.0.0.1,frag=no)	2
in_port(1),eth(src=0x50:54:00:00:00:01),eth_type(0x0800),ipv4(frag=no)	2
in_port(1),eth(src=150:54:00:00:00:01),eth_type(0x0800),ipv4(frag=no)	2
in_port(1),eth(),eth_type(0x0800),ipv4(frag=NO)	2
in_port(1),eth(),eth_type(0x0800),ipv4(frag=no,frag=first),udp()	2
in_port(1),eth(),eth_type(0x0800),ipv4(frag=no,)	2
in_port(1),eth(),eth_type(0x0800),ipv4(,frag=no)	2
in_port(1),eth(),eth_type(0x0800),ipv4(tos=-1,frag=no)	2
in_port(1),eth(),eth_type(0x0800),ipv4(ttl=010,frag=no)	2
in_port(1),eth(),eth_type(0x0800),ipv4(ttl=08,frag=no)	2
in_port(1),eth(),eth_type(0x0800),ipv4(ttl=0x,frag=no)	2
in_port(-1),eth(),eth_type(0x0800),ipv4(frag=no)	2
in_port(0x1/0xffffffff),eth(),eth_type(0x0800),ipv4(frag=no)	2
in_port(1/0xff),eth(),eth_type(0x0800),ipv4(frag=no)	2
in_port(1),eth(),eth_type(0x800),ipv4(frag=no)	2
in_port(1),eth(),eth_type(2048),ipv4(frag=no)	2
in_port(1),eth(),eth_type(0x0800),ipv4(frag=no),tcp(src=70000)	2
in_port(1),eth(),eth_type(0x0800),ipv4(proto=6,frag=no),tcp(src=70000)	2
in_port(1),eth(),eth_type(0x86dd),ipv6(src=::ffff:1.2.3.4,dst=1:2:3:4:5:6:7:8,frag=no)	2
in_port(1),eth(),eth_type(0x86dd),ipv6(src=0:0:0:0:0:0:0:1/ffff::,label=5,frag=no)	2
in_port(1),eth(),eth_type(0x86dd),ipv6(src=2001:db8:0:0:1:0:0:1,dst=::1.0.0.0,frag=no)	2
in_port(1),eth(),eth_type(0x86dd),ipv6(src=fe80::1:0:0:0,dst=1::,tclass=0x1f,hlimit=0xff,frag=later)	2
in_port(1),eth(),eth_type(0x0800),ipv4(proto=6,frag=no),tcp(),tcp_flags(0x12)	2
in_port(1),eth(),eth_type(0x0800),ipv4(proto=6,frag=no),tcp(),tcp_flags(0x12/0x1f)	2
in_port(1),eth(),eth_type(0x0800),ipv4(proto=6,frag=no),tcp(),tcp_flags(syn|0x10)	2
in_port(1),eth(),eth_type(0x0800),ipv4(proto=6,frag=no),tcp(),tcp_flags(-fin)	2
in_port(1),eth(),eth_type(0x0800),ipv4(proto=6,frag=no),tcp(),tcp_flags(0/0xfff)	2
in_port(1),eth(),eth_type(0x0800),ipv4(proto=6,frag=no),tcp(),tcp_flags(fin|syn|rst|psh|ack|urg|ece|cwr|ns)	2
ct_state(0x21),in_port(1),eth(),eth_type(0x0800),ipv4(frag=no)	2
ct_state(0x21/0xff),in_port(1),eth(),eth_type(0x0800),ipv4(frag=no)	2
ct_state(new|rpl|inv|snat|dnat|rel),in_port(1),eth(),eth_type(0x0800),ipv4(frag=no)	2
ct_zone(0x10/0xf0),ct_mark(5),ct_label(5/0xf),in_port(1),eth(),eth_type(0x0800),ipv4(frag=no)	2
ct_label(0x00000000000000000000000000000001),in_port(1),eth(),eth_type(0x0800),ipv4(frag=no)	2
skb_mark(0x0/0x0),skb_priority(7),dp_hash(0xffffffff),in_port(1),eth(),eth_type(0x0800),ipv4(frag=no)	2
recirc_id(0xffffffff),in_port(1),eth(),eth_type(0x0800),ipv4(frag=no)	2
in_port(1),packet_type(ns=0,id=0/0xff),eth(),eth_type(0x0800),ipv4(frag=no)	2
in_port(1),packet_type(ns=1,id=0x800),eth_type(0x0800),ipv4(frag=no)	2
in_port(1),eth(),eth_type(0x8100),vlan(vid=5,pcp=2,cfi=1),encap(eth_type(0x0800),ipv4(frag=no))	2
in_port(1),eth(),eth_type(0x8100),vlan(vid=5/0),encap(eth_type(0x0800),ipv4(frag=no))	2
in_port(1),eth(),eth_type(0x8100),vlan(pcp=7),encap(eth_type(0x0800),ipv4(frag=no))	2
in_port(1),eth(),eth_type(0x8100),vlan(),encap(eth_type(0x0800),ipv4(frag=no))	2
in_port(1),eth(),eth_type(0x8100),vlan(vid=1),encap()	2
in_port(1),eth(),eth_type(0x8100),vlan(vid=1),encap(eth_type(0x0800))	2
in_port(1),eth(),eth_type(0x8100),vlan(vid=1),encap(eth_type(0x0806),arp(op=1/0xf))	2
in_port(1),eth(),eth_type(0x0806),arp(op=256)	2
in_port(1),eth(),eth_type(0x0806),arp(op=255)	2
in_port(1),eth(),eth_type(0x0806),arp(op=1/0xff00)	2
in_port(1),eth(),eth_type(0x8847),mpls(label=1,tc=0,ttl=1,bos=0)	2
in_port(1),eth(),eth_type(0x8847),mpls(bos=1)	2
in_port(1),eth(),eth_type(0x8847),mpls(label=1048575,tc=7,ttl=255,bos=1)	2
in_port(1),eth(),eth_type(0x0800),ipv4(proto=1,frag=no),icmp(type=300,code=1/0x1)	2
in_port(1),eth(),eth_type(0x86dd),ipv6(proto=58,frag=no),icmpv6(type=136,code=0),nd(sll=1:2:3:4:5:6)	2
in_port(1),eth(),eth_type(0x86dd),ipv6(proto=58,frag=no),icmpv6(type=136,code=1),nd(sll=1:2:3:4:5:6)	2
in_port(1),eth(),eth_type(0x86dd),ipv6(proto=58,frag=no),icmpv6(type=136,code=0),nd(target=::1/::ffff)	2
in_port(1) eth() eth_type(0x0800) ipv4(frag=no)	2
ufid:11111111-2222-4333-8444-555555555555 in_port(1),eth(),eth_type(0x0800),ipv4(frag=no)	2
in_port(1),eth(),eth_type(0x0800),ipv4(frag=no),in_port(1)	2
in_port(1),eth(),eth_type(0x0800),ipv4(frag=no)	1 , 2
in_port(1),eth(),eth_type(0x0800),ipv4(frag=no)	clone(2,3)4
in_port(1),eth(),eth_type(0x0800),ipv4(frag=no)	DROP
in_port(1),eth(),eth_type(0x0800),ipv4(frag=no)	ct(commit,)
in_port(1),eth(),eth_type(0x0800),ipv4(frag=no)	ct()
in_port(1),eth(),eth_type(0x0800),ipv4(frag=no)	meter(0x10)
in_port(1),eth(),eth_type(0x0800),ipv4(frag=no)	trunc(-1)
in_port(1),eth(),eth_type(0x0800),ipv4(frag=no)	sample(sample=33.3333%,actions(1))
in_port(1),eth(),eth_type(0x0800),ipv4(frag=no)	sample(sample=1e1%,actions(1))
in_port(1),eth(),eth_type(0x0800),ipv4(frag=no)	set(ipv4(frag=first))
in_port(1),eth(),eth_type(0x0800),ipv4(frag=no)	set(in_port(5)),set(recirc_id(3)),set(packet_type(ns=1,id=2)),set(eth_type(0x1234/0xff))
in_port(1),eth(),eth_type(0x0800),ipv4(frag=no)	set(tcp_flags(syn)),set(tcp_flags(+syn)),set(ct_label(0x5)),set(ct_zone(5/0xf))
in_port(1),eth(),eth_type(0x0800),ipv4(frag=no)	userspace(pid=1,sFlow(vid=5000,pcp=9,output=1))
in_port(1),eth(),eth_type(0x0800),ipv4(frag=no)	userspace(pid=1,slow_path(0x40))
in_port(1),eth(),eth_type(0x0800),ipv4(frag=no)	userspace(pid=1,userdata(01 02.03))
in_port(1),eth(),eth_type(0x0800),ipv4(frag=no)	userspace(pid=1,userdata(0500000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000ff))
in_port(1),eth(),eth_type(0x0800),ipv4(frag=no)	userspace(pid=1,controller(reason=1,dont_send=3,continuation=0,recirc_id=1,rule_cookie=abc,controller_id=0,max_len=65535))
in_port(1),eth(),eth_type(0x0800),ipv4(frag=no)	push_vlan(tpid=0x8100,vid=1,pcp=1)
in_port(1),eth(),eth_type(0x0800),ipv4(frag=no)	push_vlan(vid=0,pcp=0,cfi=0)
in_port(1),eth(),eth_type(0x0800),ipv4(frag=no)	ct(commit,mark=0/0,label=0/0)
in_port(1),eth(),eth_type(0x0800),ipv4(frag=no)	ct(zone=0,helper=abcdefghijklmnop)
recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth_type(0x0800),ipv4(frag=no)	drop
CASES

//! Facts about a packet that learning needs and the flow bits they depend on.
//!
//! # Invariants
//! * Each function un-wildcards exactly the bits Open vSwitch 3.1's translation un-wildcards for
//!   the same question (and nothing when it does not look).

use rvs_flow::flow::{ETH_TYPE_ARP, Flow, Wildcards};

/// ARP opcode "request" (the low byte of the opcode is kept in `nw_proto`).
const ARP_OP_REQUEST: u8 = 1;
/// ARP opcode "reply".
const ARP_OP_REPLY: u8 = 2;

/// Whether `flow` is a gratuitous ARP (OVS's `is_gratuitous_arp`): an ARP to the broadcast
/// address that is a reply, or a request whose sender and target IP addresses are equal
/// (announcements after a VM migration). Reads `dl_type` (always exact in a translation); for
/// ARP un-wildcards `dl_dst`, then for broadcasts the opcode, then for requests both addresses.
pub fn is_gratuitous_arp(flow: &Flow, wc: &mut Wildcards) -> bool {
    if flow.dl_type != ETH_TYPE_ARP {
        return false;
    }
    wc.masks.dl_dst = [0xff; 6];
    if flow.dl_dst != [0xff; 6] {
        return false;
    }
    wc.masks.nw_proto = 0xff;
    match flow.nw_proto {
        ARP_OP_REPLY => true,
        ARP_OP_REQUEST => {
            wc.masks.nw_src = u32::MAX;
            wc.masks.nw_dst = u32::MAX;
            flow.nw_src == flow.nw_dst
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arp(dst: [u8; 6], op: u8, spa: u32, tpa: u32) -> Flow {
        Flow {
            dl_type: ETH_TYPE_ARP,
            dl_dst: dst,
            nw_proto: op,
            nw_src: spa,
            nw_dst: tpa,
            ..Flow::default()
        }
    }

    /// The bits agree with OVS 3.1's megaflows for NORMAL on a trunk port (`ofproto/trace`):
    /// request to broadcast: `dl_dst=ff:ff:ff:ff:ff:ff,arp_spa=1.1.1.1,arp_tpa=1.1.1.1,arp_op=1`;
    /// reply to broadcast: `dl_dst=ff:ff:ff:ff:ff:ff,arp_op=2`; unicast request:
    /// `dl_dst=50:54:00:00:00:02` and no ARP fields.
    #[test]
    fn gratuitous_arp_cases_and_bits() {
        let bcast = [0xff; 6];
        let mut wc = Wildcards::default();
        assert!(!is_gratuitous_arp(
            &Flow {
                dl_type: 0x0800,
                ..Flow::default()
            },
            &mut wc
        ));
        assert_eq!(
            wc,
            Wildcards::default(),
            "non-ARP: nothing read beyond dl_type"
        );

        let mut wc = Wildcards::default();
        assert!(!is_gratuitous_arp(
            &arp([0, 1, 2, 3, 4, 5], 2, 1, 1),
            &mut wc
        ));
        assert_eq!((wc.masks.dl_dst, wc.masks.nw_proto), ([0xff; 6], 0));

        let mut wc = Wildcards::default();
        assert!(is_gratuitous_arp(&arp(bcast, 2, 1, 2), &mut wc));
        assert_eq!(
            (wc.masks.nw_proto, wc.masks.nw_src),
            (0xff, 0),
            "replies: addresses unread"
        );

        let mut wc = Wildcards::default();
        assert!(is_gratuitous_arp(&arp(bcast, 1, 7, 7), &mut wc));
        assert_eq!((wc.masks.nw_src, wc.masks.nw_dst), (u32::MAX, u32::MAX));
        assert!(!is_gratuitous_arp(&arp(bcast, 1, 7, 8), &mut wc));
        assert!(!is_gratuitous_arp(&arp(bcast, 3, 7, 7), &mut wc));
    }
}

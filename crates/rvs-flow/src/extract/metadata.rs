//! Per-packet metadata that the datapath knows before it looks at the bytes.
//!
//! # Invariants
//! [`PacketMetadata::default`] is a fresh Ethernet packet: every field zero, `packet_type` =
//! [`PT_ETH`](crate::flow::PT_ETH). The conntrack fields other than `ct_state` only reach the flow
//! when `ct_state` is nonzero (see [`PacketMetadata::write_to`]).

use crate::flow::Flow;

/// Metadata of one packet, copied into the metadata stage of its [`Flow`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PacketMetadata {
    /// Datapath input port.
    pub in_port: u32,
    /// Recirculation id; 0 for packets fresh from a port.
    pub recirc_id: u32,
    /// Hash computed by a previous `hash` action.
    pub dp_hash: u32,
    /// Packet priority (`skb->priority`).
    pub skb_priority: u32,
    /// Packet mark (`skb->mark`).
    pub skb_mark: u32,
    /// Conntrack state bits; 0 means "not tracked", which also hides the other conntrack fields.
    pub ct_state: u8,
    /// Conntrack zone.
    pub ct_zone: u16,
    /// Conntrack mark.
    pub ct_mark: u32,
    /// Conntrack label, 128 bits in wire order.
    pub ct_label: [u8; 16],
    /// Packet type (namespace << 16 | type); [`PT_ETH`](crate::flow::PT_ETH) for Ethernet frames.
    /// For any other value the frame starts at the L3 header and `dl_type` is the low 16 bits.
    pub packet_type: u32,
}

impl PacketMetadata {
    /// Metadata of a fresh Ethernet packet received on `in_port`.
    pub fn from_port(in_port: u32) -> Self {
        PacketMetadata {
            in_port,
            ..PacketMetadata::default()
        }
    }

    /// Writes the metadata stage of `flow`.
    ///
    /// Like Open vSwitch's `miniflow_extract`, `ct_zone`, `ct_mark` and `ct_label` are only copied
    /// when `ct_state` is nonzero: conntrack leaves them unspecified for untracked packets.
    #[inline]
    pub fn write_to(&self, flow: &mut Flow) {
        flow.in_port = self.in_port;
        flow.recirc_id = self.recirc_id;
        flow.dp_hash = self.dp_hash;
        flow.skb_priority = self.skb_priority;
        flow.skb_mark = self.skb_mark;
        flow.packet_type = self.packet_type;
        if self.ct_state != 0 {
            flow.ct_state = self.ct_state;
            flow.ct_zone = self.ct_zone;
            flow.ct_mark = self.ct_mark;
            flow.ct_label = self.ct_label;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::PT_ETH;

    #[test]
    fn default_is_an_untracked_ethernet_packet() {
        let md = PacketMetadata::default();
        assert_eq!(md.packet_type, PT_ETH);
        let mut flow = Flow::default();
        md.write_to(&mut flow);
        assert_eq!(flow, Flow::default());
    }

    #[test]
    fn conntrack_fields_need_a_state() {
        let md = PacketMetadata {
            in_port: 3,
            recirc_id: 7,
            dp_hash: 9,
            skb_priority: 11,
            skb_mark: 13,
            ct_zone: 5,
            ct_mark: 6,
            ct_label: [1; 16],
            ..PacketMetadata::default()
        };
        let mut flow = Flow::default();
        md.write_to(&mut flow);
        assert_eq!(
            (
                flow.in_port,
                flow.recirc_id,
                flow.dp_hash,
                flow.skb_priority,
                flow.skb_mark
            ),
            (3, 7, 9, 11, 13)
        );
        assert_eq!(
            (flow.ct_state, flow.ct_zone, flow.ct_mark, flow.ct_label),
            (0, 0, 0, [0; 16])
        );

        let tracked = PacketMetadata {
            ct_state: 0x21,
            ..md
        };
        let mut flow = Flow::default();
        tracked.write_to(&mut flow);
        assert_eq!(
            (flow.ct_state, flow.ct_zone, flow.ct_mark, flow.ct_label),
            (0x21, 5, 6, [1; 16])
        );
    }
}

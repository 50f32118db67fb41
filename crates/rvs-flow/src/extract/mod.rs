//! Packet → flow extraction: one pass over a frame fills a [`Flow`] with every field the key
//! knows, following Open vSwitch's `flow_extract()`/`miniflow_extract()` (lib/flow.c, v3.1).
//!
//! # Invariants
//! * Never panics, never allocates, reads each byte at most a couple of times, in one forward
//!   pass; every read goes through a forward-only cursor that checks the length first. The
//!   result depends only on the frame, the metadata and the options.
//! * Extraction never fails. A frame that ends early, or has a header whose lengths cannot be
//!   right, yields the fields read before that header, exactly the ones Open vSwitch keeps, and
//!   the [`HeaderLayout::status`] names the header that stopped it.
//! * Fields of headers not present are zero; padding fields are zero.
//!
//! # Behaviour, and what was decided where Open vSwitch is subtle
//! The reference is the C code of OVS 3.1 (read for behaviour, not copied) and, for every case
//! below that a frame can show, `ovs-ofctl parse-pcap` of OVS 3.1.0, which runs `flow_extract`
//! on each packet of a capture (the unit tests say which expectations came from it).
//!
//! * **Metadata.** Copied from [`PacketMetadata`]; `ct_zone`, `ct_mark` and `ct_label` only when
//!   `ct_state != 0`, as `miniflow_extract` does. With a `packet_type` other than Ethernet the
//!   frame starts at L3 and `dl_type` is the low 16 bits of `packet_type`.
//! * **Runt.** An Ethernet frame under 14 bytes gives a flow with only metadata (no `dl_type`),
//!   no offsets, status `Truncated(Ethernet)`.
//! * **VLAN.** Up to [`ExtractOptions::vlan_limit`] tags (default 2, `flow_extract`'s own limit)
//!   with TPID 0x8100 or 0x88a8, each stored with [`VLAN_CFI`](crate::flow::VLAN_CFI) set. A tag
//!   counts only if 4 more bytes follow its TPID; a VLAN TPID with less behind it becomes the
//!   `dl_type` (status `Truncated(Vlan)`). A tag beyond the limit stays payload: `dl_type` is its
//!   TPID and `l3_offset` points at its TCI. Note that `ovs-vswitchd` lowers the limit to 1 unless
//!   `other_config:vlan-limit` says otherwise (checked on the oracle: a QinQ frame gives
//!   `eth_type(0x88a8),vlan(..),encap(eth_type(0x8100))`); a switch that wants to behave like a
//!   default `ovs-vswitchd` passes `vlan_limit: 1`.
//! * **802.3.** A length field (< 0x600) followed by LLC AA-AA-03 and SNAP OUI 00-00-00 gives the
//!   SNAP ethertype (if it is ≥ 0x600); any other 802.3 frame gets `dl_type` 0x05ff
//!   ([`ETH_TYPE_NONE`](crate::flow::ETH_TYPE_NONE)).
//! * **MPLS.** `mpls_lse` is the top entry; the stack is walked to the bottom-of-stack entry and
//!   `l3_offset` points after it. Nothing under MPLS is parsed (OVS does not either). A stack that
//!   runs off the end is `Truncated(Mpls)` with `l3_offset` at the end of the frame.
//! * **IPv4.** All of OVS's sanity checks must pass before any L3 field is written: at least 20
//!   bytes, IHL ≥ 5, the header with options present, `tot_len` ≤ bytes present, `tot_len` ≥
//!   header length, padding ≤ 65535. If one fails the flow keeps `dl_type` and nothing of L3
//!   (`parse-pcap` shows `nw_src=0.0.0.0,...,nw_ttl=0`): in particular a packet that was cut
//!   short of its `tot_len` loses its addresses too, and one whose `tot_len` is below its IHL is
//!   malformed. The version nibble is not checked (OVS does not). L4 parsing is bounded by
//!   `tot_len`; the bytes after it are reported as [`HeaderLayout::l2_pad_len`]. `nw_frag`: MF
//!   or a nonzero offset sets `FRAG_ANY`, a nonzero offset also `FRAG_LATER`.
//! * **IPv6.** The 40-byte header and `payload_len` must fit (else nothing of L3 is kept), L4 is
//!   bounded by `payload_len`. Hop-by-hop, routing, destination options (length `(n+1)*8`), AH
//!   (`(n+2)*4`) and fragment headers (8) are skipped; each must have 8 bytes and its full length
//!   present. A fragment header with a nonzero offset/flags word sets `FRAG_ANY`, with a nonzero
//!   offset also `FRAG_LATER`, and a non-first fragment reports `nw_proto` 44 (fragment), as OVS
//!   does. If an extension header is cut short OVS has already stored the two addresses but not
//!   the label, traffic class, hop limit, protocol or fragment bits, and so do we
//!   (`Truncated(Ipv6Extension)`, no `l4_offset`).
//! * **L4** is chosen by `nw_proto` alone (an ICMPv6 header in IPv4 is parsed as ICMPv6, as OVS
//!   does) and skipped for non-first fragments, whose L4 fields stay zero. TCP needs 20 bytes, a
//!   data offset ≥ 5 and the whole header with options, else no TCP field is set (OVS shows
//!   `tp_src=0,tp_dst=0,tcp_flags=0`). UDP needs 8 bytes, SCTP 12, ICMP, IGMP and ICMPv6 8 (OVS's
//!   header sizes, even where only type and code are read). IGMP type/code go into
//!   `tp_src`/`tp_dst` like ICMP's (the group address has no field in our key).
//! * **Neighbor discovery** (ICMPv6 type 135/136, code 0): the target into `nd_target`, the
//!   first SLL/TLL options (8 bytes long) into `arp_sha`/`arp_tha`, and the type of the first of
//!   them into `tcp_flags`, OVS's `nd_options_type` overlay (checked on the oracle: a rule on
//!   `nd_options_type=1` matches a solicitation whose first option is an SLL). The reserved word
//!   (`nd_reserved`) has no field in our key and is not kept. A target cut short leaves the ND
//!   fields zero. An option of length 0 or longer than the rest stops the walk and keeps what was
//!   found. A second nonzero SLL (or TLL) makes OVS drop the target and both addresses, but not
//!   the option type; we do the same and report `Malformed(NdOption)`.
//! * **ARP/RARP**: only for hardware type 1, protocol 0x0800, lengths 6 and 4; SPA/TPA into
//!   `nw_src`/`nw_dst`, SHA/THA into `arp_sha`/`arp_tha`, and the opcode into `nw_proto` only if
//!   it is ≤ 0xff (otherwise `nw_proto` stays 0). Other ARP variants keep only `dl_type`.
//!
//! # Status and layout
//! The status names the first header that stopped extraction; trailing bytes of an L4 header OVS
//! does not read (and unknown protocols) do not count. The offsets are those OVS keeps in a
//! `dp_packet` (`l2_5_ofs`, `l3_ofs`, `l4_ofs`) plus the first byte after the L4 header; see
//! [`HeaderLayout`].

mod cursor;
mod l2;
mod l3;
mod l4;
mod layout;
mod metadata;
mod wire;

#[cfg(test)]
mod tests;

pub use layout::{ExtractStatus, HeaderKind, HeaderLayout};
pub use metadata::PacketMetadata;

use crate::flow::{
    ETH_TYPE_ARP, ETH_TYPE_IP, ETH_TYPE_IPV6, ETH_TYPE_MPLS, ETH_TYPE_MPLS_MCAST, ETH_TYPE_RARP,
    Flow, PT_ETH,
};
use cursor::Cursor;
use layout::offset;

/// Settings that change how frames are parsed (not per packet).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ExtractOptions {
    /// Number of VLAN tags parsed, at most 2 (larger values act as 2). Further tags stay payload.
    pub vlan_limit: usize,
}

impl Default for ExtractOptions {
    /// Two VLAN tags, like Open vSwitch's `flow_extract` on its own.
    fn default() -> Self {
        ExtractOptions { vlan_limit: 2 }
    }
}

/// Result of one parsing step: `Err` carries the status that ends extraction early.
type Step<T> = Result<T, ExtractStatus>;

/// State of one extraction: the read position, the flow being filled and the offsets found.
struct Parser<'a, 'f> {
    cur: Cursor<'a>,
    flow: &'f mut Flow,
    layout: HeaderLayout,
}

impl Parser<'_, '_> {
    /// Runs every layer in order; stops at the first header that ends extraction.
    #[inline]
    fn run(&mut self, packet_type: u32, options: &ExtractOptions) -> Step<()> {
        let dl_type = if packet_type == PT_ETH {
            self.ethernet(options.vlan_limit)?
        } else {
            let dl_type = (packet_type & 0xffff) as u16;
            self.flow.dl_type = dl_type;
            dl_type
        };
        if dl_type == ETH_TYPE_MPLS || dl_type == ETH_TYPE_MPLS_MCAST {
            return self.mpls();
        }
        self.layout.l3_offset = offset(self.cur.pos());
        match dl_type {
            ETH_TYPE_IP => self.ipv4()?,
            ETH_TYPE_IPV6 => self.ipv6()?,
            ETH_TYPE_ARP | ETH_TYPE_RARP => return self.arp(),
            _ => return Ok(()),
        }
        self.layout.l4_offset = offset(self.cur.pos());
        if self.flow.is_later_fragment() {
            return Ok(());
        }
        self.transport()
    }
}

/// Extracts the flow of an Ethernet frame (or, per `md.packet_type`, an L3 packet).
///
/// Never fails; see the module documentation for truncated and malformed frames.
#[inline]
pub fn extract(frame: &[u8], md: &PacketMetadata) -> Flow {
    extract_with_options(frame, md, &ExtractOptions::default()).0
}

/// Like [`extract`], and also returns where the headers are and whether the frame was complete.
#[inline]
pub fn extract_with_layout(frame: &[u8], md: &PacketMetadata) -> (Flow, HeaderLayout) {
    extract_with_options(frame, md, &ExtractOptions::default())
}

/// Like [`extract_with_layout`], with explicit [`ExtractOptions`].
#[inline]
pub fn extract_with_options(
    frame: &[u8],
    md: &PacketMetadata,
    options: &ExtractOptions,
) -> (Flow, HeaderLayout) {
    let mut flow = Flow::default();
    let layout = extract_into(frame, md, options, &mut flow);
    (flow, layout)
}

/// Extracts into a caller-owned flow (every field is overwritten) and returns the layout; lets a
/// datapath fill the keys of a whole batch in place without moving 240-byte flows around.
#[inline]
pub fn extract_into(
    frame: &[u8],
    md: &PacketMetadata,
    options: &ExtractOptions,
    flow: &mut Flow,
) -> HeaderLayout {
    *flow = Flow::default();
    md.write_to(flow);
    let mut parser = Parser {
        cur: Cursor::new(frame),
        flow,
        layout: HeaderLayout::default(),
    };
    if let Err(status) = parser.run(md.packet_type, options) {
        parser.layout.status = status;
    }
    parser.layout
}

//! Transport layer: TCP, UDP, SCTP, ICMP, IGMP, ICMPv6 and IPv6 neighbor discovery.
//!
//! # Invariants
//! Called only for the first (or only) fragment of a valid IP packet, with the cursor at the L4
//! header and limited to the IP packet. The protocol is chosen by `nw_proto` alone, whatever the
//! IP version, as Open vSwitch does. A header that is too short leaves every L4 field zero; when a
//! header is complete its fields are written and `payload_offset` is set just past it.

use super::layout::{ExtractStatus, HeaderKind, offset};
use super::wire::{IcmpFixed, NdOption, Ports, Tcp};
use super::{Parser, Step};
use crate::flow::{ipproto, tcp_flags};

/// Length of a TCP header without options.
const TCP_MIN_HEADER_LEN: usize = 20;
/// ICMPv6 type of a neighbor solicitation.
const ND_NEIGHBOR_SOLICIT: u8 = 135;
/// ICMPv6 type of a neighbor advertisement.
const ND_NEIGHBOR_ADVERT: u8 = 136;
/// ND option: source link-layer address.
const ND_OPT_SOURCE_LINKADDR: u8 = 1;
/// ND option: target link-layer address.
const ND_OPT_TARGET_LINKADDR: u8 = 2;
/// Length of an ND link-layer address option carrying an Ethernet address.
const ND_LLA_OPT_LEN: usize = 8;

impl Parser<'_, '_> {
    /// Parses the L4 header selected by `nw_proto`; other protocols are left as payload.
    #[inline]
    pub(super) fn transport(&mut self) -> Step<()> {
        match self.flow.nw_proto {
            ipproto::TCP => self.tcp(),
            ipproto::UDP => self.ports::<4>(HeaderKind::Udp),
            ipproto::SCTP => self.ports::<8>(HeaderKind::Sctp),
            ipproto::ICMP => self.icmp(HeaderKind::Icmp).map(|_| ()),
            ipproto::IGMP => self.icmp(HeaderKind::Igmp).map(|_| ()),
            ipproto::ICMPV6 => self.icmpv6(),
            _ => Ok(()),
        }
    }

    /// TCP: ports and the 12 flag bits, only if the data offset is at least 5 words (else
    /// malformed) and the whole header with options is present (else truncated).
    #[inline]
    fn tcp(&mut self) -> Step<()> {
        let Some(tcp) = self.cur.peek::<Tcp>() else {
            return Err(ExtractStatus::Truncated(HeaderKind::Tcp));
        };
        let offset_flags = tcp.offset_flags.get();
        let header_len = usize::from(offset_flags >> 12) * 4;
        if header_len < TCP_MIN_HEADER_LEN {
            return Err(ExtractStatus::Malformed(HeaderKind::Tcp));
        }
        if !self.cur.skip(header_len) {
            return Err(ExtractStatus::Truncated(HeaderKind::Tcp));
        }
        self.flow.tcp_flags = offset_flags & tcp_flags::MASK;
        self.flow.tp_src = tcp.src.get();
        self.flow.tp_dst = tcp.dst.get();
        self.layout.payload_offset = offset(self.cur.pos());
        Ok(())
    }

    /// UDP (`REST` = 4) or SCTP (`REST` = 8): the two ports that start a `4 + REST`-byte header.
    #[inline]
    fn ports<const REST: usize>(&mut self, header: HeaderKind) -> Step<()> {
        let Some(ports) = self.cur.pull::<Ports<REST>>() else {
            return Err(ExtractStatus::Truncated(header));
        };
        self.flow.tp_src = ports.src.get();
        self.flow.tp_dst = ports.dst.get();
        self.layout.payload_offset = offset(self.cur.pos());
        Ok(())
    }

    /// ICMP, IGMP or ICMPv6: type into `tp_src` and code into `tp_dst`, from the 8-byte fixed
    /// header (Open vSwitch wants all 8 bytes). Returns the type and code.
    #[inline]
    fn icmp(&mut self, header: HeaderKind) -> Step<(u8, u8)> {
        let Some(icmp) = self.cur.pull::<IcmpFixed>() else {
            return Err(ExtractStatus::Truncated(header));
        };
        self.flow.tp_src = u16::from(icmp.msg_type);
        self.flow.tp_dst = u16::from(icmp.code);
        self.layout.payload_offset = offset(self.cur.pos());
        Ok((icmp.msg_type, icmp.code))
    }

    /// ICMPv6, and for neighbor solicitations/advertisements with code 0 the ND fields.
    #[inline]
    fn icmpv6(&mut self) -> Step<()> {
        let (msg_type, code) = self.icmp(HeaderKind::Icmpv6)?;
        if code != 0 || (msg_type != ND_NEIGHBOR_SOLICIT && msg_type != ND_NEIGHBOR_ADVERT) {
            return Ok(());
        }
        self.neighbor_discovery()
    }

    /// Neighbor discovery: the target address into `nd_target`, the first source/target
    /// link-layer address options into `arp_sha`/`arp_tha`, and the type of the first of those
    /// two options into `tcp_flags` (Open vSwitch's `nd_options_type` overlay).
    ///
    /// Mirrors Open vSwitch: a missing target leaves all ND fields zero; an option with length 0
    /// or longer than what is left stops the walk but keeps what was found; a second SLL (or TLL)
    /// option after a nonzero one clears the target and both addresses (not the option type).
    /// Other options, and address options not 8 bytes long, are skipped.
    #[inline]
    fn neighbor_discovery(&mut self) -> Step<()> {
        let Some(target) = self.cur.pull::<[u8; 16]>() else {
            return Err(ExtractStatus::Truncated(HeaderKind::Icmpv6));
        };
        let mut sll = [0u8; 6];
        let mut tll = [0u8; 6];
        let mut first_type = 0u8;
        let mut result = Ok(());
        while self.cur.remaining() >= ND_LLA_OPT_LEN {
            let Some(opt) = self.cur.peek::<NdOption>() else {
                break;
            };
            let opt_len = usize::from(opt.len) * 8;
            if opt_len == 0 {
                result = Err(ExtractStatus::Malformed(HeaderKind::NdOption));
                break;
            }
            if opt_len > self.cur.remaining() {
                result = Err(ExtractStatus::Truncated(HeaderKind::NdOption));
                break;
            }
            if opt_len == ND_LLA_OPT_LEN {
                let slot = match opt.opt_type {
                    ND_OPT_SOURCE_LINKADDR => Some(&mut sll),
                    ND_OPT_TARGET_LINKADDR => Some(&mut tll),
                    _ => None,
                };
                if let Some(slot) = slot {
                    if *slot != [0u8; 6] {
                        self.flow.tcp_flags = u16::from(first_type);
                        return Err(ExtractStatus::Malformed(HeaderKind::NdOption));
                    }
                    *slot = opt.mac;
                    if first_type == 0 {
                        first_type = opt.opt_type;
                    }
                }
            }
            self.cur.skip(opt_len);
        }
        if result.is_ok() && self.cur.remaining() != 0 {
            result = Err(ExtractStatus::Truncated(HeaderKind::NdOption));
        }
        self.flow.nd_target = *target;
        self.flow.arp_sha = sll;
        self.flow.arp_tha = tll;
        self.flow.tcp_flags = u16::from(first_type);
        result
    }
}

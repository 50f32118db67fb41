//! The fields a classifier can build prefix tries on (Open vSwitch's `prefixes` column of the
//! `Flow_Table` table), and how each one is read from a flow and written into wildcards.
//!
//! # Invariants
//! * A field's value is exchanged with the trie left-aligned in a `u128` (first bit of the field =
//!   bit 127), so IPv4 and IPv6 fields share one trie type.
//! * A trie applies to a flow only if the flow satisfies the field's prerequisite (its `dl_type`);
//!   otherwise the classifier must not skip any subtable because of that trie.

use super::trie::prefix_mask;
use rvs_flow::flow::{ETH_TYPE_IP, ETH_TYPE_IPV6};
use rvs_flow::{Flow, Wildcards};

/// Most prefix tries one classifier keeps (Open vSwitch's `CLS_MAX_TRIES`).
pub const MAX_TRIES: usize = 3;

/// Open vSwitch's default trie fields for an OpenFlow table, in lookup order.
pub const DEFAULT_PREFIX_FIELDS: [PrefixField; 2] = [PrefixField::NwDst, PrefixField::NwSrc];

/// A field that can carry a prefix trie.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrefixField {
    /// IPv4 source address (`nw_src`, prerequisite `dl_type=0x0800`).
    NwSrc,
    /// IPv4 destination address (`nw_dst`, prerequisite `dl_type=0x0800`).
    NwDst,
    /// IPv6 source address (`ipv6_src`, prerequisite `dl_type=0x86dd`).
    Ipv6Src,
    /// IPv6 destination address (`ipv6_dst`, prerequisite `dl_type=0x86dd`).
    Ipv6Dst,
}

/// Word index of the 64-bit flow word a byte offset falls in.
const fn word_of(byte_offset: usize) -> usize {
    byte_offset / 8
}

impl PrefixField {
    /// Every supported field.
    pub const ALL: [PrefixField; 4] = [
        PrefixField::NwSrc,
        PrefixField::NwDst,
        PrefixField::Ipv6Src,
        PrefixField::Ipv6Dst,
    ];

    /// The field's name as Open vSwitch prints it in `prefixes`.
    pub fn name(self) -> &'static str {
        match self {
            PrefixField::NwSrc => "nw_src",
            PrefixField::NwDst => "nw_dst",
            PrefixField::Ipv6Src => "ipv6_src",
            PrefixField::Ipv6Dst => "ipv6_dst",
        }
    }

    /// Parses a field name, accepting the same aliases as Open vSwitch (`ip_src`, `ip_dst`).
    pub fn from_name(name: &str) -> Option<PrefixField> {
        match name {
            "nw_src" | "ip_src" => Some(PrefixField::NwSrc),
            "nw_dst" | "ip_dst" => Some(PrefixField::NwDst),
            "ipv6_src" => Some(PrefixField::Ipv6Src),
            "ipv6_dst" => Some(PrefixField::Ipv6Dst),
            _ => None,
        }
    }

    /// Width of the field in bits.
    pub fn bits(self) -> u32 {
        match self {
            PrefixField::NwSrc | PrefixField::NwDst => 32,
            PrefixField::Ipv6Src | PrefixField::Ipv6Dst => 128,
        }
    }

    /// Index of the flow word holding the field's first bits (what a stage map is tested on).
    pub(crate) fn first_word(self) -> usize {
        match self {
            PrefixField::NwSrc => word_of(core::mem::offset_of!(Flow, nw_src)),
            PrefixField::NwDst => word_of(core::mem::offset_of!(Flow, nw_dst)),
            PrefixField::Ipv6Src => word_of(core::mem::offset_of!(Flow, ipv6_src)),
            PrefixField::Ipv6Dst => word_of(core::mem::offset_of!(Flow, ipv6_dst)),
        }
    }

    /// The `dl_type` a flow must have for the field to mean what the trie indexes.
    pub(crate) fn required_dl_type(self) -> u16 {
        match self {
            PrefixField::NwSrc | PrefixField::NwDst => ETH_TYPE_IP,
            PrefixField::Ipv6Src | PrefixField::Ipv6Dst => ETH_TYPE_IPV6,
        }
    }

    /// The field of `flow` (a flow or a mask), left-aligned.
    #[inline]
    pub(crate) fn get(self, flow: &Flow) -> u128 {
        match self {
            PrefixField::NwSrc => u128::from(flow.nw_src) << 96,
            PrefixField::NwDst => u128::from(flow.nw_dst) << 96,
            PrefixField::Ipv6Src => u128::from_be_bytes(flow.ipv6_src),
            PrefixField::Ipv6Dst => u128::from_be_bytes(flow.ipv6_dst),
        }
    }

    /// Stores a left-aligned value into the field of `flow`.
    fn set(self, flow: &mut Flow, value: u128) {
        match self {
            // The low 96 bits of an IPv4 value are zero by construction.
            PrefixField::NwSrc => flow.nw_src = (value >> 96) as u32,
            PrefixField::NwDst => flow.nw_dst = (value >> 96) as u32,
            PrefixField::Ipv6Src => flow.ipv6_src = value.to_be_bytes(),
            PrefixField::Ipv6Dst => flow.ipv6_dst = value.to_be_bytes(),
        }
    }

    /// The CIDR prefix length of the field in `mask`, or 0 if the field is not matched or its
    /// mask is not a contiguous run of leading ones (such subtables do not use the trie).
    pub(crate) fn prefix_len(self, mask: &Wildcards) -> u32 {
        let m = self.get(&mask.masks);
        let ones = m.leading_ones();
        if prefix_mask(ones) == m {
            ones.min(self.bits())
        } else {
            0
        }
    }

    /// Un-wildcards the first `n` bits of the field.
    pub(crate) fn set_prefix_bits(self, wc: &mut Wildcards, n: u32) {
        let m = self.get(&wc.masks) | prefix_mask(n.min(self.bits()));
        self.set(&mut wc.masks, m);
    }

    /// True if the first `n` bits of the field are all un-wildcarded already.
    pub(crate) fn prefix_bits_set(self, wc: &Wildcards, n: u32) -> bool {
        let want = prefix_mask(n.min(self.bits()));
        self.get(&wc.masks) & want == want
    }
}

impl std::fmt::Display for PrefixField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_len_accepts_only_cidr_masks() {
        let mut wc = Wildcards::default();
        assert_eq!(PrefixField::NwDst.prefix_len(&wc), 0);
        wc.masks.nw_dst = 0xffff_ff00;
        assert_eq!(PrefixField::NwDst.prefix_len(&wc), 24);
        wc.masks.nw_dst = u32::MAX;
        assert_eq!(PrefixField::NwDst.prefix_len(&wc), 32);
        wc.masks.nw_dst = 0xff00_ff00;
        assert_eq!(PrefixField::NwDst.prefix_len(&wc), 0);
        wc.masks.nw_dst = 0x00ff_ffff;
        assert_eq!(PrefixField::NwDst.prefix_len(&wc), 0);
        wc.masks.ipv6_src = (u128::MAX << 48).to_be_bytes();
        assert_eq!(PrefixField::Ipv6Src.prefix_len(&wc), 80);
        assert_eq!(PrefixField::Ipv6Dst.prefix_len(&wc), 0);
    }

    #[test]
    fn prefix_bits_round_trip_through_wildcards() {
        let mut wc = Wildcards::default();
        PrefixField::NwSrc.set_prefix_bits(&mut wc, 5);
        assert_eq!(wc.masks.nw_src, 0xf800_0000);
        assert!(PrefixField::NwSrc.prefix_bits_set(&wc, 5));
        assert!(!PrefixField::NwSrc.prefix_bits_set(&wc, 6));
        assert_eq!(wc.masks.nw_dst, 0);
        PrefixField::Ipv6Dst.set_prefix_bits(&mut wc, 79);
        assert_eq!(
            u128::from_be_bytes(wc.masks.ipv6_dst),
            0xffff_ffff_ffff_ffff_fffe_0000_0000_0000
        );
        PrefixField::NwSrc.set_prefix_bits(&mut wc, 0);
        assert_eq!(wc.masks.nw_src, 0xf800_0000);
    }

    #[test]
    fn names_round_trip() {
        for f in PrefixField::ALL {
            assert_eq!(PrefixField::from_name(f.name()), Some(f));
        }
        assert_eq!(PrefixField::from_name("ip_dst"), Some(PrefixField::NwDst));
        assert_eq!(PrefixField::from_name("tp_src"), None);
    }
}

//! OpenFlow protocol variants as Open vSwitch counts them (`enum ofputil_protocol`): which ones a
//! flow or action list can be expressed in, and the names `ovs-ofctl` prints for sets of them.
//!
//! # Invariants
//! * A [`Protocols`] value only ever holds the nine bits of [`Protocols::ANY`].
//! * [`Protocols::to_ovs_string`] names a set exactly as `ofputil_protocols_to_string` does
//!   (abbreviations `any`, `OpenFlow10`, `NXM`, `OXM` first, then single protocols in bit order).

use std::ops::{BitAnd, BitAndAssign, BitOr};

/// A set of OpenFlow protocol variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Protocols(u16);

impl Protocols {
    /// No protocol.
    pub const NONE: Protocols = Protocols(0);
    /// OpenFlow 1.0 with the standard match, without the table-id extension.
    pub const OF10_STD: Protocols = Protocols(1 << 0);
    /// OpenFlow 1.0 with the standard match and the table-id extension.
    pub const OF10_STD_TID: Protocols = Protocols(1 << 1);
    /// OpenFlow 1.0 with Nicira extended matches (NXM), without the table-id extension.
    pub const OF10_NXM: Protocols = Protocols(1 << 2);
    /// OpenFlow 1.0 with NXM and the table-id extension.
    pub const OF10_NXM_TID: Protocols = Protocols(1 << 3);
    /// OpenFlow 1.1.
    pub const OF11_STD: Protocols = Protocols(1 << 4);
    /// OpenFlow 1.2.
    pub const OF12_OXM: Protocols = Protocols(1 << 5);
    /// OpenFlow 1.3.
    pub const OF13_OXM: Protocols = Protocols(1 << 6);
    /// OpenFlow 1.4.
    pub const OF14_OXM: Protocols = Protocols(1 << 7);
    /// OpenFlow 1.5.
    pub const OF15_OXM: Protocols = Protocols(1 << 8);

    /// Every protocol.
    pub const ANY: Protocols = Protocols((1 << 9) - 1);
    /// OpenFlow 1.0 with the standard match.
    pub const OF10_STD_ANY: Protocols = Protocols(0b11);
    /// OpenFlow 1.0 with NXM.
    pub const OF10_NXM_ANY: Protocols = Protocols(0b1100);
    /// Every OpenFlow 1.0 variant.
    pub const OF10_ANY: Protocols = Protocols(0b1111);
    /// OpenFlow 1.2 and later.
    pub const ANY_OXM: Protocols = Protocols(0b1_1110_0000);
    /// NXM, OpenFlow 1.1 and OXM.
    pub const NXM_OF11_UP: Protocols = Protocols(0b1_1111_1100);
    /// NXM and OXM.
    pub const NXM_OXM_ANY: Protocols = Protocols(0b1_1110_1100);
    /// OpenFlow 1.1 and later.
    pub const OF11_UP: Protocols = Protocols(0b1_1111_0000);
    /// OpenFlow 1.2 and later.
    pub const OF12_UP: Protocols = Protocols(0b1_1110_0000);
    /// OpenFlow 1.3 and later.
    pub const OF13_UP: Protocols = Protocols(0b1_1100_0000);
    /// Variants that can name a table in a flow mod.
    pub const TID: Protocols = Protocols(0b1_1111_1010);

    /// True if no protocol is in the set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// True if every protocol of `other` is in the set.
    pub fn contains(self, other: Protocols) -> bool {
        self.0 & other.0 == other.0
    }

    /// True if the sets share a protocol.
    pub fn intersects(self, other: Protocols) -> bool {
        self.0 & other.0 != 0
    }

    /// The set as `ovs-ofctl` names it, e.g. `OXM,OpenFlow10+table_id,NXM+table_id,OpenFlow11`.
    pub fn to_ovs_string(self) -> String {
        const ABBREVIATIONS: [(Protocols, &str); 4] = [
            (Protocols::ANY, "any"),
            (Protocols::OF10_STD_ANY, "OpenFlow10"),
            (Protocols::OF10_NXM_ANY, "NXM"),
            (Protocols::ANY_OXM, "OXM"),
        ];
        const SINGLE: [&str; 9] = [
            "OpenFlow10-table_id",
            "OpenFlow10+table_id",
            "NXM-table_id",
            "NXM+table_id",
            "OpenFlow11",
            "OXM-OpenFlow12",
            "OXM-OpenFlow13",
            "OXM-OpenFlow14",
            "OXM-OpenFlow15",
        ];
        if self.is_empty() {
            return "none".to_owned();
        }
        let mut left = self.0 & Protocols::ANY.0;
        let mut names: Vec<&str> = Vec::new();
        while left != 0 {
            if let Some((p, name)) = ABBREVIATIONS.iter().find(|(p, _)| left & p.0 == p.0) {
                names.push(name);
                left &= !p.0;
                continue;
            }
            let bit = left.trailing_zeros();
            names.push(SINGLE.get(bit as usize).copied().unwrap_or("?"));
            left &= !(1 << bit);
        }
        names.join(",")
    }
}

impl BitAnd for Protocols {
    type Output = Protocols;
    fn bitand(self, rhs: Protocols) -> Protocols {
        Protocols(self.0 & rhs.0)
    }
}

impl BitAndAssign for Protocols {
    fn bitand_assign(&mut self, rhs: Protocols) {
        self.0 &= rhs.0;
    }
}

impl BitOr for Protocols {
    type Output = Protocols;
    fn bitor(self, rhs: Protocols) -> Protocols {
        Protocols(self.0 | rhs.0)
    }
}

/// The OpenFlow dialect a flow table talks to a client in: it decides how actions look after
/// they crossed the wire (what the switch stores for a flow mod, and what a dump prints), which
/// flow-mod fields exist and how `modify` treats cookies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Dialect {
    /// OpenFlow 1.0 with Nicira extensions, what `ovs-ofctl` speaks by default.
    #[default]
    OpenFlow10,
    /// OpenFlow 1.3, as with `ovs-ofctl -O OpenFlow13`.
    OpenFlow13,
}

impl Dialect {
    /// The protocol variants an `ovs-ofctl` client in this dialect may choose from.
    pub fn allowed(self) -> Protocols {
        match self {
            Dialect::OpenFlow10 => Protocols::OF10_ANY,
            Dialect::OpenFlow13 => Protocols::OF13_OXM,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_like_ovs() {
        // Strings seen in `ovs-ofctl parse-flow` output ("usable protocols: ...") of OVS 3.1.
        let tid_all = Protocols::ANY & Protocols::TID;
        assert_eq!(
            tid_all.to_ovs_string(),
            "OXM,OpenFlow10+table_id,NXM+table_id,OpenFlow11"
        );
        assert_eq!(
            (Protocols::NXM_OXM_ANY & Protocols::TID).to_ovs_string(),
            "OXM,NXM+table_id"
        );
        assert_eq!(
            (Protocols::OF10_ANY & Protocols::TID).to_ovs_string(),
            "OpenFlow10+table_id,NXM+table_id"
        );
        assert_eq!(Protocols::ANY.to_ovs_string(), "any");
        assert_eq!(Protocols::OF13_OXM.to_ovs_string(), "OXM-OpenFlow13");
        assert_eq!(Protocols::NONE.to_ovs_string(), "none");
        assert_eq!(Protocols::OF10_ANY.to_ovs_string(), "OpenFlow10,NXM");
    }
}

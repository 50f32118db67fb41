//! Datapath actions (`OVS_ACTION_ATTR_*`) and their text, as `format_odp_actions` prints them and
//! `odp_actions_from_string` reads them.
//!
//! # Invariants
//! * An empty action list means drop and prints as `drop`; the text `drop` parses to it.
//! * Printing then parsing gives back the same text for every value; for values that come from
//!   text, it also gives back the same value.
//! * A `set` carries one key attribute: [`OdpAction::Set`] stores it in flow form (only the fields
//!   of that attribute are meaningful, the rest stay zero); with a mask it is a masked set and
//!   prints `field=value/mask` for partially masked fields and omits unmasked ones.

mod format;
mod parse;
mod userspace;

pub use format::format_actions;
pub use parse::parse_actions;
pub(crate) use parse::parse_actions_at;
pub use userspace::{
    ControllerCookie, CookieKind, SampleDirection, Userdata, UserdataCookie, UserspaceAction,
};

use super::attr::KeyAttrKind;
use crate::flow::{Flow, Wildcards};

/// Hash function of a `hash` action.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HashAlg {
    /// `l4`: the 5-tuple hash.
    L4,
    /// `sym_l4`: a symmetric 5-tuple hash.
    SymL4,
    /// Any other algorithm number (printed as `Unknown hash algorithm(n)`).
    Other(u32),
}

/// A minimal conntrack action: `ct(commit,zone=..,mark=..,label=..)` (no NAT).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct CtAction {
    /// `commit`.
    pub commit: bool,
    /// `force_commit` (exclusive with `commit`).
    pub force_commit: bool,
    /// Conntrack zone; 0 is the default zone and is not printed.
    pub zone: u16,
    /// `(value, mask)` to set the connection mark to.
    pub mark: Option<(u32, u32)>,
    /// `(value, mask)` to set the connection label to.
    pub label: Option<(u128, u128)>,
    /// ALG helper name (1 to 15 characters).
    pub helper: Option<String>,
    /// Timeout policy name (1 to 31 characters).
    pub timeout: Option<String>,
}

/// One datapath action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OdpAction {
    /// Send to a datapath port (printed as its number or name).
    Output(u32),
    /// Set the fields of one key attribute: `set(eth(src=..))`; with `mask`, a masked set
    /// (`set(tcp(src=42/0xff))`).
    Set {
        /// Which attribute is written.
        kind: KeyAttrKind,
        /// New values, in the flow fields that attribute covers (boxed: a flow is 240 bytes).
        value: Box<Flow>,
        /// Bits to write (1 = write); `None` writes the whole attribute.
        mask: Option<Box<Wildcards>>,
    },
    /// Push a VLAN header; `tci` holds VID, PCP and the CFI ("present") bit.
    PushVlan {
        /// Tag protocol identifier (0x8100 unless 802.1ad).
        tpid: u16,
        /// Tag control information.
        tci: u16,
    },
    /// Pop the outer VLAN header.
    PopVlan,
    /// Push an MPLS label stack entry.
    PushMpls {
        /// The entry (label, TC, BoS, TTL as on the wire).
        lse: u32,
        /// Ethertype of the new MPLS packet.
        ethertype: u16,
    },
    /// Pop an MPLS label stack entry.
    PopMpls {
        /// Ethertype of the payload.
        ethertype: u16,
    },
    /// Recirculate with this recirculation id.
    Recirc(u32),
    /// Compute a hash into `dp_hash`.
    Hash {
        /// Algorithm.
        alg: HashAlg,
        /// Basis.
        basis: u32,
    },
    /// Truncate the packet to at most this many bytes for the following outputs.
    Trunc(u32),
    /// Apply a meter.
    Meter(u32),
    /// Send to userspace (an upcall).
    Userspace(UserspaceAction),
    /// Send through connection tracking.
    Ct(CtAction),
    /// Clear conntrack state.
    CtClear,
    /// Run the actions on a copy of the packet.
    Clone(Vec<OdpAction>),
    /// Run the actions on a copy of the packet with the given probability.
    Sample {
        /// Probability, out of `u32::MAX`.
        probability: u32,
        /// Actions to run.
        actions: Vec<OdpAction>,
    },
}

impl OdpAction {
    /// A `push_vlan` from its parts (`vid` 12 bits, `pcp` 3 bits, `cfi` the "present" bit).
    pub fn push_vlan(tpid: u16, vid: u16, pcp: u8, cfi: bool) -> OdpAction {
        let tci = (vid & crate::flow::VLAN_VID_MASK)
            | (u16::from(pcp & 7) << crate::flow::VLAN_PCP_SHIFT)
            | if cfi { crate::flow::VLAN_CFI } else { 0 };
        OdpAction::PushVlan { tpid, tci }
    }
}

#[cfg(test)]
mod tests;

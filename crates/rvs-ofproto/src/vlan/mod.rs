//! VLANs of bridge ports as the NORMAL action sees them (Open vSwitch 3.1 semantics): port VLAN
//! modes (`access`, `trunk`, `native-tagged`, `native-untagged`, `dot1q-tunnel`), the VLAN a
//! packet belongs to, which ports it may reach, and which 802.1Q headers it leaves with.
//!
//! * [`port`]: OVSDB-style settings and their normalized, effective form [`PortVlan`].
//! * [`xvlan`]: pure decision functions ([`input_vid_is_valid`], [`input_translate`],
//!   [`port_includes_vlan`], [`output_flow_vlans`]) and the wildcard bits they depend on.
//! * [`set`]: [`VlanSet`], a 4096-bit VLAN bitmap.
//!
//! # Invariants
//! * Everything here is pure: no state, no locking, no I/O.
//! * A [`PortVlan`] is always normalized as `ofproto-dpif.c` normalizes a bundle (see
//!   [`PortVlan::from_settings`]); the decision functions assume it.

pub mod port;
pub mod set;
pub mod xvlan;

#[cfg(test)]
mod tests;

pub use port::{PortVlan, PortVlanSettings, PriorityTags, VlanMode};
pub use set::VlanSet;
pub use xvlan::{
    OuterTagEdit, VLAN_REFUSAL_TRACE, VlanRefusal, XVlan, XVlanHeader, has_partial_vlan_tag,
    input_translate, input_vid_is_valid, input_vlan, is_vlan_ethertype, outer_tag_edit,
    output_flow_vlans, output_translate, port_includes_vlan, unwildcard_for_normal,
    unwildcard_for_output,
};

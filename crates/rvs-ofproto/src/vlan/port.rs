//! VLAN configuration of a bridge port (an OVS "bundle"): the OVSDB-style settings and the
//! effective configuration NORMAL works with.
//!
//! # Invariants
//! * [`PortVlan`] is always normalized the way `ofproto-dpif.c`'s `bundle_set` does it: `vlan`
//!   is 0 for trunk ports, native ports always trunk their native VLAN and never VLAN 0 (when
//!   the native VLAN is not 0), access ports have no trunk set, and only dot1q-tunnel ports have a
//!   customer-VLAN set.
//! * `trunks == None` (and `cvlans == None`) means "every VLAN", exactly like OVS's NULL bitmap;
//!   an explicit set, even one without VLAN 0, is taken literally.

use super::set::VlanSet;
use rvs_flow::flow::{ETH_TYPE_VLAN_8021AD, ETH_TYPE_VLAN_8021Q};

/// The `vlan_mode` column of OVSDB's `Port` table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VlanMode {
    /// One VLAN (`tag`); packets leave untagged; tagged packets (VID ≠ 0) are dropped on input.
    Access,
    /// The VLANs in `trunks` (all when empty); packets keep their 802.1Q header; untagged packets
    /// are in VLAN 0.
    Trunk,
    /// A trunk whose untagged input belongs to the native VLAN (`tag`), output keeps the tag.
    NativeTagged,
    /// Like native-tagged, but packets in the native VLAN leave untagged.
    NativeUntagged,
    /// 802.1ad tunnel: every input packet gets an outer tag `tag` (`qinq-ethtype`), output strips
    /// the outer tag; `cvlans` limits the customer VLANs.
    Dot1qTunnel,
}

impl VlanMode {
    /// Parses the OVSDB spelling (`access`, `trunk`, `native-tagged`, `native-untagged`,
    /// `dot1q-tunnel`).
    pub fn from_name(name: &str) -> Option<VlanMode> {
        Some(match name {
            "access" => VlanMode::Access,
            "trunk" => VlanMode::Trunk,
            "native-tagged" => VlanMode::NativeTagged,
            "native-untagged" => VlanMode::NativeUntagged,
            "dot1q-tunnel" => VlanMode::Dot1qTunnel,
            _ => return None,
        })
    }

    /// The OVSDB spelling.
    pub fn name(self) -> &'static str {
        match self {
            VlanMode::Access => "access",
            VlanMode::Trunk => "trunk",
            VlanMode::NativeTagged => "native-tagged",
            VlanMode::NativeUntagged => "native-untagged",
            VlanMode::Dot1qTunnel => "dot1q-tunnel",
        }
    }
}

/// `other_config:priority-tags` of a port.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum PriorityTags {
    /// Never add a tag only to carry the priority (the default).
    #[default]
    Never,
    /// `if-nonzero` (or `true`): keep the input PCP on output, adding a VID 0 tag when the PCP is
    /// not zero.
    IfNonzero,
    /// `always`: like `if-nonzero`, and also emit a VID 0 tag with PCP 0 where the internal VLAN
    /// headers still name a TPID.
    Always,
}

impl PriorityTags {
    /// Parses the OVSDB value as `bridge.c` does: `if-nonzero`/`true`, `always`, anything else
    /// (including absent) is `Never`.
    pub fn from_config(value: Option<&str>) -> PriorityTags {
        match value {
            Some("if-nonzero" | "true") => PriorityTags::IfNonzero,
            Some("always") => PriorityTags::Always,
            _ => PriorityTags::Never,
        }
    }
}

/// The VLAN columns of an OVSDB `Port` row, as a user writes them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PortVlanSettings {
    /// `vlan_mode`; `None` means "implicit": access if `tag` is set, trunk otherwise.
    pub vlan_mode: Option<VlanMode>,
    /// `tag`; values outside 0..=4095 count as unset.
    pub tag: Option<i64>,
    /// `trunks`; empty means all VLANs; out-of-range numbers are skipped.
    pub trunks: Vec<i64>,
    /// `cvlans` (dot1q-tunnel only); empty means all.
    pub cvlans: Vec<i64>,
    /// `other_config:qinq-ethtype`: `Some("802.1q")` selects 0x8100, anything else 0x88a8.
    pub qinq_ethtype: Option<String>,
    /// `other_config:priority-tags`.
    pub priority_tags: PriorityTags,
}

impl PortVlanSettings {
    /// Whether OVS would log "port NAME: ignoring trunks in favor of implicit vlan" for these
    /// settings (implicit mode with a tag and trunks or cvlans).
    pub fn ignores_trunks(&self) -> bool {
        self.vlan_mode.is_none()
            && self.valid_tag().is_some()
            && (!self.trunks.is_empty() || !self.cvlans.is_empty())
    }

    fn valid_tag(&self) -> Option<u16> {
        self.tag
            .and_then(|t| u16::try_from(t).ok())
            .filter(|t| *t <= 4095)
    }
}

/// Effective VLAN configuration of a port (OVS's `ofbundle`/`xbundle` VLAN fields).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortVlan {
    /// The mode.
    pub mode: VlanMode,
    /// Access, native or outer (dot1q-tunnel) VLAN; 0 for trunk ports and when no valid tag was
    /// given.
    pub vlan: u16,
    /// Trunked VLANs for trunk and native modes; `None` = all. Always `None` for access ports.
    pub trunks: Option<VlanSet>,
    /// Allowed customer VLANs for dot1q-tunnel ports; `None` = all.
    pub cvlans: Option<VlanSet>,
    /// TPID of the outer tag a dot1q-tunnel port pushes.
    pub qinq_ethtype: u16,
    /// Priority-tag policy on output.
    pub priority_tags: PriorityTags,
}

impl Default for PortVlan {
    /// A port with no VLAN settings: trunk of every VLAN.
    fn default() -> PortVlan {
        PortVlan::trunk(None)
    }
}

impl PortVlan {
    /// An access port in `vlan`.
    pub fn access(vlan: u16) -> PortVlan {
        PortVlan::from_settings(&PortVlanSettings {
            vlan_mode: Some(VlanMode::Access),
            tag: Some(i64::from(vlan)),
            ..PortVlanSettings::default()
        })
    }

    /// A trunk port carrying `trunks` (`None` or an empty list = all VLANs).
    pub fn trunk(trunks: Option<&[u16]>) -> PortVlan {
        PortVlan::from_settings(&PortVlanSettings {
            vlan_mode: Some(VlanMode::Trunk),
            trunks: trunks
                .unwrap_or_default()
                .iter()
                .map(|v| i64::from(*v))
                .collect(),
            ..PortVlanSettings::default()
        })
    }

    /// A native-tagged (`untagged == false`) or native-untagged port with native VLAN `vlan`.
    pub fn native(vlan: u16, trunks: Option<&[u16]>, untagged: bool) -> PortVlan {
        let mode = if untagged {
            VlanMode::NativeUntagged
        } else {
            VlanMode::NativeTagged
        };
        PortVlan::from_settings(&PortVlanSettings {
            vlan_mode: Some(mode),
            tag: Some(i64::from(vlan)),
            trunks: trunks
                .unwrap_or_default()
                .iter()
                .map(|v| i64::from(*v))
                .collect(),
            ..PortVlanSettings::default()
        })
    }

    /// The effective configuration for OVSDB-style settings: `bridge.c`'s `port_configure`
    /// (implicit mode, tag range, qinq-ethtype) followed by `ofproto-dpif.c`'s `bundle_set`
    /// (VLAN normalization and the native-VLAN trunk fix-up).
    pub fn from_settings(settings: &PortVlanSettings) -> PortVlan {
        let tag = settings.valid_tag();
        let mode = settings.vlan_mode.unwrap_or(if tag.is_some() {
            VlanMode::Access
        } else {
            VlanMode::Trunk
        });
        let vlan = if mode == VlanMode::Trunk {
            0
        } else {
            tag.unwrap_or(0)
        };
        let given_trunks = explicit_set(&settings.trunks);
        let trunks = match mode {
            VlanMode::Access | VlanMode::Dot1qTunnel => None,
            VlanMode::Trunk => given_trunks,
            VlanMode::NativeTagged | VlanMode::NativeUntagged => {
                let needs_fix = vlan != 0
                    && given_trunks
                        .as_ref()
                        .is_none_or(|t| !t.contains(vlan) || t.contains(0));
                if needs_fix {
                    // Start from the given set, or from every VLAN when none was given.
                    let mut fixed = given_trunks.unwrap_or_else(|| (0..=4095).collect());
                    fixed.insert(vlan);
                    fixed.remove(0);
                    Some(fixed)
                } else {
                    given_trunks
                }
            }
        };
        let cvlans = if mode == VlanMode::Dot1qTunnel {
            explicit_set(&settings.cvlans)
        } else {
            None
        };
        let qinq_ethtype = if settings.qinq_ethtype.as_deref() == Some("802.1q") {
            ETH_TYPE_VLAN_8021Q
        } else {
            ETH_TYPE_VLAN_8021AD
        };
        PortVlan {
            mode,
            vlan,
            trunks,
            cvlans,
            qinq_ethtype,
            priority_tags: settings.priority_tags,
        }
    }

    /// Whether this port trunks `vid` (OVS's `xbundle_trunks_vlan`): never for access ports,
    /// otherwise when the trunk set is "all" or contains `vid`.
    pub fn trunks_vlan(&self, vid: u16) -> bool {
        self.mode != VlanMode::Access && self.trunks.as_ref().is_none_or(|t| t.contains(vid))
    }

    /// Whether a dot1q-tunnel port admits customer VLAN `vid`.
    pub fn allows_cvlan(&self, vid: u16) -> bool {
        self.cvlans.as_ref().is_none_or(|c| c.contains(vid))
    }
}

/// OVS's `vlan_bitmap_from_array`: `None` (all VLANs) for an empty list, and also when no number
/// in it is a valid VID.
fn explicit_set(vlans: &[i64]) -> Option<VlanSet> {
    let set = VlanSet::from_vlans(vlans.iter().copied());
    (!set.is_empty()).then_some(set)
}

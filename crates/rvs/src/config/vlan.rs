//! The VLAN columns of a port (`tag`, `trunks`, `vlan-mode`, `cvlans`, `qinq-ethtype`,
//! `priority-tags`), checked and turned into [`PortVlanSettings`].
//!
//! # Invariants
//! * Every VLAN ID accepted is in 0..=4095.
//! * Settings that Open vSwitch 3.1 would accept but silently ignore (a `tag` on a trunk port,
//!   `trunks` on an access or dot1q-tunnel port or beside an implicit-mode `tag`, `cvlans` or
//!   `qinq-ethtype` outside dot1q-tunnel) are refused, so that a file means what it says.

use super::ConfigError;
use super::build::Context;
use super::raw::RawPort;
use rvs_ofproto::vlan::{PortVlanSettings, PriorityTags, VlanMode};
use toml::Spanned;

/// Largest VLAN ID.
const MAX_VID: i64 = 4095;

/// A list of VLAN IDs, each in 0..=4095.
fn vid_list(
    cx: &Context<'_>,
    list: &Option<Spanned<Vec<Spanned<i64>>>>,
    key: &str,
) -> Result<Vec<i64>, ConfigError> {
    let Some(list) = list else {
        return Ok(Vec::new());
    };
    list.get_ref()
        .iter()
        .map(|vid| {
            if (0..=MAX_VID).contains(vid.get_ref()) {
                Ok(*vid.get_ref())
            } else {
                Err(cx.error(
                    vid.span(),
                    format!(
                        "`{key}`: VLAN {} is out of range (0 to {MAX_VID})",
                        vid.get_ref()
                    ),
                ))
            }
        })
        .collect()
}

/// The VLAN columns, refusing values OVS would silently ignore.
pub(super) fn vlan_settings(
    cx: &Context<'_>,
    raw: &RawPort,
) -> Result<PortVlanSettings, ConfigError> {
    let port = raw.name.get_ref();
    let vlan_mode = match &raw.vlan_mode {
        Some(mode) => Some(VlanMode::from_name(mode.get_ref()).ok_or_else(|| {
            cx.error(
                mode.span(),
                format!(
                    "unknown vlan-mode `{}`; expected \"access\", \"trunk\", \"native-tagged\", \
                     \"native-untagged\" or \"dot1q-tunnel\"",
                    mode.get_ref()
                ),
            )
        })?),
        None => None,
    };
    let tag = match &raw.tag {
        Some(tag) if !(0..=MAX_VID).contains(tag.get_ref()) => {
            return Err(cx.error(
                tag.span(),
                format!(
                    "`tag` must be between 0 and {MAX_VID}, got {}",
                    tag.get_ref()
                ),
            ));
        }
        Some(tag) => Some(*tag.get_ref()),
        None => None,
    };
    let trunks = vid_list(cx, &raw.trunks, "trunks")?;
    let cvlans = vid_list(cx, &raw.cvlans, "cvlans")?;
    let mode_name = vlan_mode.map_or("", VlanMode::name);
    if let (Some(VlanMode::Trunk), Some(spanned)) = (vlan_mode, &raw.tag) {
        return Err(cx.error(
            spanned.span(),
            format!("port `{port}`: `tag` has no effect with vlan-mode \"trunk\""),
        ));
    }
    if let Some(spanned) = &raw.trunks {
        let ignored_by = match vlan_mode {
            Some(VlanMode::Access | VlanMode::Dot1qTunnel) => {
                Some(format!("with vlan-mode \"{mode_name}\""))
            }
            None if tag.is_some() => Some(
                "when `tag` is set without `vlan-mode` (an access port); set vlan-mode = \
                 \"native-tagged\" or \"native-untagged\" to trunk as well"
                    .to_string(),
            ),
            _ => None,
        };
        if let Some(reason) = ignored_by {
            return Err(cx.error(
                spanned.span(),
                format!("port `{port}`: `trunks` has no effect {reason}"),
            ));
        }
    }
    if let Some(spanned) = &raw.cvlans
        && vlan_mode != Some(VlanMode::Dot1qTunnel)
    {
        return Err(cx.error(
            spanned.span(),
            format!("port `{port}`: `cvlans` is only for vlan-mode \"dot1q-tunnel\""),
        ));
    }
    let qinq_ethtype = match &raw.qinq_ethtype {
        Some(value) => {
            if vlan_mode != Some(VlanMode::Dot1qTunnel) {
                return Err(cx.error(
                    value.span(),
                    format!("port `{port}`: `qinq-ethtype` is only for vlan-mode \"dot1q-tunnel\""),
                ));
            }
            if !matches!(value.get_ref().as_str(), "802.1ad" | "802.1q") {
                return Err(cx.error(
                    value.span(),
                    format!(
                        "unknown qinq-ethtype `{}`; expected \"802.1ad\" or \"802.1q\"",
                        value.get_ref()
                    ),
                ));
            }
            Some(value.get_ref().clone())
        }
        None => None,
    };
    let priority_tags = match &raw.priority_tags {
        Some(value) => match value.get_ref().as_str() {
            "never" => PriorityTags::Never,
            "if-nonzero" => PriorityTags::IfNonzero,
            "always" => PriorityTags::Always,
            other => {
                return Err(cx.error(
                    value.span(),
                    format!(
                        "unknown priority-tags `{other}`; expected \"never\", \"if-nonzero\" or \
                         \"always\""
                    ),
                ));
            }
        },
        None => PriorityTags::Never,
    };
    Ok(PortVlanSettings {
        vlan_mode,
        tag,
        trunks,
        cvlans,
        qinq_ethtype,
        priority_tags,
    })
}

//! Printing actions as `ovs-ofctl` does (`ofpacts_format` in Open vSwitch 3.1).
//!
//! # Invariants
//! * An empty list prints `drop`; otherwise actions are joined by `,` with no spaces.
//! * Each action prints in the spelling its variant records, so the output parses back to the
//!   same list (see the module invariants of [`super`]).
//! * Ports print as numbers or reserved names (`ovs-ofctl` without `--names`).

use super::field::{low_bits, n_bits};
use super::numbers::put_hex;
use super::value::{format_subfield, format_value};
use super::{OfpAction, SetField, Subfield};
use rvs_flow::ofp_match::fields::field_def;
use rvs_flow::ofp_match::port::{OFPP_CONTROLLER, OFPP_IN_PORT, OFPP_MAX, format_port};
use rvs_flow::text::{fmt_hash_hex, fmt_ipv4, fmt_mac};
use std::fmt::Write as _;

/// The action list as text.
pub fn format_actions(actions: &[OfpAction]) -> String {
    let mut out = String::new();
    append_actions(&mut out, actions);
    out
}

/// Appends the action list as text.
pub fn append_actions(out: &mut String, actions: &[OfpAction]) {
    if actions.is_empty() {
        out.push_str("drop");
        return;
    }
    for (i, a) in actions.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        format_action(out, a);
    }
}

/// The contiguous runs of 1 bits of `mask` within the field's `n_bits`, each at most 64 bits
/// long, as `(ofs, n_bits)` (`next_load_segment`).
pub(crate) fn load_segments(mask: u128, width: u32) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    let mask = mask & low_bits(width);
    let mut ofs = 0;
    while ofs < width {
        if mask >> ofs & 1 == 0 {
            ofs += 1;
            continue;
        }
        let limit = (ofs + 64).min(width);
        let mut end = ofs + 1;
        while end < limit && mask >> end & 1 == 1 {
            end += 1;
        }
        out.push((ofs, end - ofs));
        ofs = end;
    }
    out
}

fn format_set_field(out: &mut String, sf: &SetField) {
    let Some(def) = field_def(sf.field) else {
        out.push_str("set_field:<unknown>");
        return;
    };
    if sf.as_load {
        let segments = load_segments(sf.mask, n_bits(def));
        for (i, (ofs, bits)) in segments.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let value = (sf.value >> ofs) & low_bits(*bits);
            out.push_str("load:");
            fmt_hash_hex(out, u64::try_from(value).unwrap_or(u64::MAX));
            out.push_str("->");
            format_subfield(
                out,
                &Subfield {
                    field: sf.field,
                    ofs: *ofs,
                    n_bits: *bits,
                },
            );
        }
    } else {
        out.push_str("set_field:");
        format_value(out, def, sf.value, Some(sf.mask));
        out.push_str("->");
        out.push_str(def.name);
    }
}

/// Appends one action as text.
pub fn format_action(out: &mut String, a: &OfpAction) {
    match a {
        OfpAction::Output { port, max_len } => {
            if *port < OFPP_MAX {
                out.push_str("output:");
            }
            format_port(out, *port);
            if *port == OFPP_CONTROLLER {
                let _ = write!(out, ":{max_len}");
            }
        }
        OfpAction::Controller(c) => {
            if c.is_plain() {
                let _ = write!(out, "CONTROLLER:{}", c.max_len);
                return;
            }
            out.push_str("controller(");
            let mut parts: Vec<String> = Vec::new();
            if c.reason != super::PacketInReason::Action {
                parts.push(format!("reason={}", c.reason.name()));
            }
            if c.max_len != u16::MAX {
                parts.push(format!("max_len={}", c.max_len));
            }
            if c.controller_id != 0 {
                parts.push(format!("id={}", c.controller_id));
            }
            if !c.userdata.is_empty() {
                parts.push(format!("userdata={}", dotted_hex(&c.userdata)));
            }
            if c.pause {
                parts.push("pause".to_owned());
            }
            if let Some(m) = c.meter_id {
                parts.push(format!("meter_id={m}"));
            }
            out.push_str(&parts.join(","));
            out.push(')');
        }
        OfpAction::Enqueue { port, queue } => {
            out.push_str("enqueue:");
            format_port(out, *port);
            let _ = write!(out, ":{queue}");
        }
        OfpAction::OutputReg { src, .. } => {
            out.push_str("output:");
            format_subfield(out, src);
        }
        OfpAction::SetField(sf) => format_set_field(out, sf),
        OfpAction::SetVlanVid {
            vid,
            push_if_needed,
        } => {
            let name = if *push_if_needed {
                "mod_vlan_vid"
            } else {
                "set_vlan_vid"
            };
            let _ = write!(out, "{name}:{vid}");
        }
        OfpAction::SetVlanPcp {
            pcp,
            push_if_needed,
        } => {
            let name = if *push_if_needed {
                "mod_vlan_pcp"
            } else {
                "set_vlan_pcp"
            };
            let _ = write!(out, "{name}:{pcp}");
        }
        OfpAction::StripVlan { pop_vlan } => {
            out.push_str(if *pop_vlan { "pop_vlan" } else { "strip_vlan" });
        }
        OfpAction::PushVlan { ethertype } => {
            out.push_str("push_vlan:");
            put_hex(out, u128::from(*ethertype));
        }
        OfpAction::SetEthSrc(mac) => {
            out.push_str("mod_dl_src:");
            fmt_mac(out, mac);
        }
        OfpAction::SetEthDst(mac) => {
            out.push_str("mod_dl_dst:");
            fmt_mac(out, mac);
        }
        OfpAction::SetIpv4Src(ip) => {
            out.push_str("mod_nw_src:");
            fmt_ipv4(out, *ip);
        }
        OfpAction::SetIpv4Dst(ip) => {
            out.push_str("mod_nw_dst:");
            fmt_ipv4(out, *ip);
        }
        OfpAction::SetIpDscp(v) => {
            let _ = write!(out, "mod_nw_tos:{v}");
        }
        OfpAction::SetIpEcn(v) => {
            let _ = write!(out, "mod_nw_ecn:{v}");
        }
        OfpAction::SetIpTtl(v) => {
            let _ = write!(out, "mod_nw_ttl:{v}");
        }
        OfpAction::SetL4SrcPort(v) => {
            let _ = write!(out, "mod_tp_src:{v}");
        }
        OfpAction::SetL4DstPort(v) => {
            let _ = write!(out, "mod_tp_dst:{v}");
        }
        OfpAction::RegMove { src, dst } => {
            out.push_str("move:");
            format_subfield(out, src);
            out.push_str("->");
            format_subfield(out, dst);
        }
        OfpAction::StackPush(sf) => {
            out.push_str("push:");
            format_subfield(out, sf);
        }
        OfpAction::StackPop(sf) => {
            out.push_str("pop:");
            format_subfield(out, sf);
        }
        OfpAction::DecTtl { controller_ids } => {
            out.push_str("dec_ttl");
            if let Some(ids) = controller_ids {
                let ids: Vec<String> = ids.iter().map(u16::to_string).collect();
                let _ = write!(out, "({})", ids.join(","));
            }
        }
        OfpAction::SetMplsLabel(v) => {
            let _ = write!(out, "set_mpls_label({v})");
        }
        OfpAction::SetMplsTc(v) => {
            let _ = write!(out, "set_mpls_tc({v})");
        }
        OfpAction::SetMplsTtl(v) => {
            let _ = write!(out, "set_mpls_ttl({v})");
        }
        OfpAction::DecMplsTtl => out.push_str("dec_mpls_ttl"),
        OfpAction::PushMpls { ethertype } => {
            let _ = write!(out, "push_mpls:0x{ethertype:04x}");
        }
        OfpAction::PopMpls { ethertype } => {
            let _ = write!(out, "pop_mpls:0x{ethertype:04x}");
        }
        OfpAction::SetQueue(q) => {
            let _ = write!(out, "set_queue:{q}");
        }
        OfpAction::PopQueue => out.push_str("pop_queue"),
        OfpAction::Resubmit { in_port, table, ct } => {
            if *in_port != OFPP_IN_PORT && table.is_none() && !ct {
                out.push_str("resubmit:");
                format_port(out, *in_port);
                return;
            }
            out.push_str("resubmit(");
            if *in_port != OFPP_IN_PORT {
                format_port(out, *in_port);
            }
            out.push(',');
            if let Some(t) = table {
                let _ = write!(out, "{t}");
            }
            if *ct {
                out.push_str(",ct");
            }
            out.push(')');
        }
        OfpAction::Note(bytes) => {
            out.push_str("note:");
            out.push_str(&dotted_hex(bytes));
        }
        OfpAction::Exit => out.push_str("exit"),
        OfpAction::ClearActions => out.push_str("clear_actions"),
        OfpAction::WriteMetadata { value, mask } => {
            out.push_str("write_metadata:");
            fmt_hash_hex(out, *value);
            if *mask != u64::MAX {
                out.push('/');
                fmt_hash_hex(out, *mask);
            }
        }
        OfpAction::GotoTable(t) => {
            let _ = write!(out, "goto_table:{t}");
        }
    }
}

/// Bytes as `01.02.03` (`format_hex_arg`).
fn dotted_hex(bytes: &[u8]) -> String {
    let parts: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
    parts.join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments() {
        assert_eq!(load_segments(0xff00, 32), vec![(8, 8)]);
        assert_eq!(load_segments(0b1011, 32), vec![(0, 2), (3, 1)]);
        assert_eq!(load_segments(u128::MAX, 128), vec![(0, 64), (64, 64)]);
        assert_eq!(load_segments(0, 32), vec![]);
    }
}

//! Printing datapath actions (`format_odp_actions`).
//!
//! # Invariants
//! * Output is what OVS prints for the same actions: `drop` for none, ports as numbers or names,
//!   `recirc(%#x)`, `sample(sample=%.1f%%,actions(..))`, `set(..)` in verbose form, masked sets in
//!   non-verbose form with masks.

use std::fmt::Write as _;

use super::super::PortNames;
use super::super::attr::{Attr, KeyAttrKind};
use super::super::build::get_attr;
use super::super::key_format::{Ctx, fmt_u128_hex, format_attr, format_mpls_lse, format_vlan_tci};
use super::userspace::format_userspace;
use super::{CtAction, HashAlg, OdpAction};
use crate::flow::{ETH_TYPE_VLAN_8021Q, Flow};
use crate::text::fmt_hash_hex;

/// Appends `actions` as text; `port_names` names output ports.
pub fn format_actions(out: &mut String, actions: &[OdpAction], port_names: Option<&dyn PortNames>) {
    if actions.is_empty() {
        out.push_str("drop");
        return;
    }
    for (i, a) in actions.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        format_action(out, a, port_names);
    }
}

/// The attribute a `set` action writes, read from its flow form.
pub(crate) fn set_attr(kind: KeyAttrKind, data: &Flow, is_mask: bool) -> Attr {
    match (kind, get_attr(kind, data, is_mask)) {
        // A set value keeps the plain 8-bit opcode (OVS widens 0xff only as a mask).
        (KeyAttrKind::Arp, Attr::Arp(mut a)) if !is_mask => {
            a.op = u16::from(data.nw_proto);
            Attr::Arp(a)
        }
        (_, a) => a,
    }
}

fn format_action(out: &mut String, a: &OdpAction, ports: Option<&dyn PortNames>) {
    match a {
        OdpAction::Output(port) => match ports.and_then(|p| p.port_name(*port)) {
            Some(name) => out.push_str(name),
            None => {
                let _ = write!(out, "{port}");
            }
        },
        OdpAction::Set { kind, value, mask } => {
            out.push_str("set(");
            let ctx = Ctx {
                ports: None,
                verbose: mask.is_none(),
            };
            let v = set_attr(*kind, value, false);
            match mask {
                None => format_attr(out, &v, None, ctx),
                Some(m) => format_attr(out, &v, Some(&set_attr(*kind, &m.masks, true)), ctx),
            }
            out.push(')');
        }
        OdpAction::PushVlan { tpid, tci } => {
            out.push_str("push_vlan(");
            if *tpid != ETH_TYPE_VLAN_8021Q {
                let _ = write!(out, "tpid=0x{tpid:04x},");
            }
            format_vlan_tci(out, *tci, u16::MAX, false);
            out.push(')');
        }
        OdpAction::PopVlan => out.push_str("pop_vlan"),
        OdpAction::PushMpls { lse, ethertype } => {
            out.push_str("push_mpls(");
            format_mpls_lse(out, *lse);
            let _ = write!(out, ",eth_type=0x{ethertype:x})");
        }
        OdpAction::PopMpls { ethertype } => {
            let _ = write!(out, "pop_mpls(eth_type=0x{ethertype:x})");
        }
        OdpAction::Recirc(id) => {
            out.push_str("recirc(");
            fmt_hash_hex(out, u64::from(*id));
            out.push(')');
        }
        OdpAction::Hash { alg, basis } => {
            let _ = match alg {
                HashAlg::L4 => write!(out, "hash(l4({basis}))"),
                HashAlg::SymL4 => write!(out, "hash(sym_l4({basis}))"),
                HashAlg::Other(n) => write!(out, "hash(Unknown hash algorithm({n}))"),
            };
        }
        OdpAction::Trunc(len) => {
            let _ = write!(out, "trunc({len})");
        }
        OdpAction::Meter(id) => {
            let _ = write!(out, "meter({id})");
        }
        OdpAction::Userspace(u) => format_userspace(out, u, ports),
        OdpAction::Ct(ct) => format_ct(out, ct),
        OdpAction::CtClear => out.push_str("ct_clear"),
        OdpAction::Clone(inner) => {
            out.push_str("clone(");
            format_actions(out, inner, ports);
            out.push(')');
        }
        OdpAction::Sample {
            probability,
            actions,
        } => {
            let percentage = 100.0 * f64::from(*probability) / f64::from(u32::MAX);
            let _ = write!(out, "sample(sample={percentage:.1}%,actions(");
            format_actions(out, actions, ports);
            out.push_str("))");
        }
    }
}

fn format_ct(out: &mut String, ct: &CtAction) {
    out.push_str("ct");
    let any = ct.commit
        || ct.force_commit
        || ct.zone != 0
        || ct.mark.is_some()
        || ct.label.is_some()
        || ct.helper.is_some()
        || ct.timeout.is_some();
    if !any {
        return;
    }
    out.push('(');
    if ct.commit {
        out.push_str("commit,");
    }
    if ct.force_commit {
        out.push_str("force_commit,");
    }
    if ct.zone != 0 {
        let _ = write!(out, "zone={},", ct.zone);
    }
    if let Some((v, m)) = ct.mark {
        out.push_str("mark=");
        fmt_hash_hex(out, u64::from(v));
        out.push('/');
        fmt_hash_hex(out, u64::from(m));
        out.push(',');
    }
    if let Some((v, m)) = ct.label {
        out.push_str("label=");
        fmt_u128_hex(out, v);
        if m != u128::MAX {
            out.push('/');
            fmt_u128_hex(out, m);
        }
        out.push(',');
    }
    if let Some(h) = &ct.helper {
        let _ = write!(out, "helper={h},");
    }
    if let Some(t) = &ct.timeout {
        let _ = write!(out, "timeout={t},");
    }
    if out.ends_with(',') {
        out.pop();
    }
    out.push(')');
}

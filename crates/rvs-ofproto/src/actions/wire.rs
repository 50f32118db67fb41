//! The action list a switch ends up with after a list crossed the wire in one dialect: what
//! Open vSwitch 3.1 gets from encoding its actions for the protocol (`ofpacts_put_openflow_*`)
//! and decoding them again. `ovs-ofctl dump-flows` prints that form, and the switch stores the
//! form of the dialect the flow was added in.
//!
//! OpenFlow 1.0 (with Nicira extensions): `set_field` on a field OpenFlow 1.0 has an action for
//! becomes that action (`mod_nw_src`, `mod_vlan_vid`, ... — ignoring a mask, as Open vSwitch
//! does), other `set_field`s and `mod_nw_ecn`/`mod_nw_ttl` become `load`s, `goto_table` becomes
//! `resubmit(,N)`, `clear_actions` disappears, `set_vlan_*` reads back as `mod_vlan_*`.
//!
//! OpenFlow 1.3: the `mod_*` actions become `set_field`s (`mod_vlan_vid` with a `push_vlan`
//! first when the flow has no tag), masked `set_field`s become `load`s, `strip_vlan` becomes
//! `pop_vlan`, `enqueue` becomes `set_queue,output,pop_queue`.
//!
//! In both, a `load` is split into one `load` per contiguous run of at most 64 bits, and a note
//! is zero-padded to the Nicira action's 8-byte alignment.
//!
//! # Invariants
//! * `wire_form(wire_form(a)) == wire_form(a)` for a fixed dialect and match.
//! * The tracked flow facts (VLAN present, IP protocol) are those of [`super::check_actions`].

use super::check::{Before, FlowTracker, OfpError};
use super::field::n_bits;
use super::format::load_segments;
use super::value::value_mask;
use super::{Dialect, OfpAction, SetField};
use rvs_flow::Match;
use rvs_flow::flow::ipproto;
use rvs_flow::ofp_match::fields::{FieldId, field_def};
use rvs_flow::ofp_match::port::OFPP_IN_PORT;

/// The actions as a switch stores them after receiving `actions` for a rule with match
/// `flow_match` in `dialect`. Fails with the error Open vSwitch's decoder reports for the few
/// lists that do not survive the trip (`set_field` of a `vlan_vid` without the present bit in
/// OpenFlow 1.3).
pub fn wire_form(
    actions: &[OfpAction],
    dialect: Dialect,
    flow_match: &Match,
) -> Result<Vec<OfpAction>, OfpError> {
    let mut tracker = FlowTracker::new(flow_match);
    let mut out = Vec::with_capacity(actions.len());
    for a in actions {
        let before = tracker.before();
        match dialect {
            Dialect::OpenFlow10 => of10(a, &mut out),
            Dialect::OpenFlow13 => of13(a, before, &mut out)?,
        }
        tracker.apply(a);
    }
    Ok(out)
}

/// The `load`s a register load of `sf` is sent as.
fn loads(sf: &SetField, out: &mut Vec<OfpAction>) {
    let Some(def) = field_def(sf.field) else {
        return;
    };
    for (ofs, bits) in load_segments(sf.mask, n_bits(def)) {
        let seg = super::field::low_bits(bits) << ofs;
        out.push(OfpAction::SetField(SetField {
            field: sf.field,
            value: sf.value & seg,
            mask: seg,
            as_load: true,
        }));
    }
}

fn load_of(field: FieldId, value: u128, mask: u128) -> SetField {
    SetField {
        field,
        value: value & mask,
        mask,
        as_load: true,
    }
}

/// A zero-padded note, as decoded from a Nicira note action.
fn padded_note(bytes: &[u8]) -> OfpAction {
    let len = (bytes.len() + 10).div_ceil(8) * 8 - 10;
    let mut b = bytes.to_vec();
    b.resize(len, 0);
    OfpAction::Note(b)
}

fn mac(v: u128) -> [u8; 6] {
    let b = v.to_be_bytes();
    [b[10], b[11], b[12], b[13], b[14], b[15]]
}

#[allow(clippy::cast_possible_truncation)]
fn of10(a: &OfpAction, out: &mut Vec<OfpAction>) {
    match a {
        OfpAction::SetField(sf) if sf.as_load => loads(sf, out),
        OfpAction::SetField(sf) => match sf.field {
            FieldId::VlanTci => {
                let tci = sf.value as u16;
                if tci & 0x1000 != 0 {
                    out.push(OfpAction::SetVlanVid {
                        vid: tci & 0x0fff,
                        push_if_needed: true,
                    });
                    out.push(OfpAction::SetVlanPcp {
                        pcp: (tci >> 13) as u8,
                        push_if_needed: true,
                    });
                } else {
                    out.push(OfpAction::StripVlan { pop_vlan: false });
                }
            }
            FieldId::VlanVid => out.push(OfpAction::SetVlanVid {
                vid: sf.value as u16 & 0x0fff,
                push_if_needed: true,
            }),
            FieldId::VlanPcp => out.push(OfpAction::SetVlanPcp {
                pcp: sf.value as u8,
                push_if_needed: true,
            }),
            FieldId::EthSrc => out.push(OfpAction::SetEthSrc(mac(sf.value))),
            FieldId::EthDst => out.push(OfpAction::SetEthDst(mac(sf.value))),
            FieldId::Ipv4Src => out.push(OfpAction::SetIpv4Src(sf.value as u32)),
            FieldId::Ipv4Dst => out.push(OfpAction::SetIpv4Dst(sf.value as u32)),
            FieldId::IpDscp => out.push(OfpAction::SetIpDscp(sf.value as u8)),
            FieldId::IpDscpShifted => out.push(OfpAction::SetIpDscp((sf.value as u8) << 2)),
            FieldId::IpEcn => out.push(OfpAction::SetField(load_of(FieldId::IpEcn, sf.value, 3))),
            FieldId::TcpSrc | FieldId::UdpSrc => {
                out.push(OfpAction::SetL4SrcPort(sf.value as u16));
            }
            FieldId::TcpDst | FieldId::UdpDst => {
                out.push(OfpAction::SetL4DstPort(sf.value as u16));
            }
            _ => loads(sf, out),
        },
        OfpAction::SetVlanVid { vid, .. } => out.push(OfpAction::SetVlanVid {
            vid: *vid,
            push_if_needed: true,
        }),
        OfpAction::SetVlanPcp { pcp, .. } => out.push(OfpAction::SetVlanPcp {
            pcp: *pcp,
            push_if_needed: true,
        }),
        OfpAction::StripVlan { .. } => out.push(OfpAction::StripVlan { pop_vlan: false }),
        OfpAction::PushVlan { .. } | OfpAction::ClearActions => {}
        OfpAction::SetIpEcn(e) => out.push(OfpAction::SetField(load_of(
            FieldId::IpEcn,
            u128::from(*e),
            3,
        ))),
        OfpAction::SetIpTtl(t) => out.push(OfpAction::SetField(load_of(
            FieldId::IpTtl,
            u128::from(*t),
            0xff,
        ))),
        OfpAction::GotoTable(t) => out.push(OfpAction::Resubmit {
            in_port: OFPP_IN_PORT,
            table: Some(*t).filter(|t| *t != 255),
            ct: false,
        }),
        OfpAction::Note(bytes) => out.push(padded_note(bytes)),
        other => out.push(other.clone()),
    }
}

fn set_field(field: FieldId, value: u128) -> OfpAction {
    let mask = field_def(field).map_or(u128::MAX, value_mask);
    OfpAction::SetField(SetField {
        field,
        value: value & mask,
        mask,
        as_load: false,
    })
}

fn of13(a: &OfpAction, before: Before, out: &mut Vec<OfpAction>) -> Result<(), OfpError> {
    let push_tag = |push_if_needed: bool, out: &mut Vec<OfpAction>| {
        if push_if_needed && !before.flow_has_vlan {
            out.push(OfpAction::PushVlan { ethertype: 0x8100 });
        }
    };
    let l4_field = |src: bool| match (before.ip_proto, src) {
        (ipproto::TCP, true) => Some(FieldId::TcpSrc),
        (ipproto::TCP, false) => Some(FieldId::TcpDst),
        (ipproto::UDP, true) => Some(FieldId::UdpSrc),
        (ipproto::UDP, false) => Some(FieldId::UdpDst),
        (ipproto::SCTP, true) => Some(FieldId::SctpSrc),
        (ipproto::SCTP, false) => Some(FieldId::SctpDst),
        _ => None,
    };
    let mac_value = |m: &[u8; 6]| m.iter().fold(0u128, |acc, b| (acc << 8) | u128::from(*b));
    match a {
        OfpAction::SetField(sf) if sf.as_load => loads(sf, out),
        OfpAction::SetField(sf) => {
            let full = field_def(sf.field).map_or(u128::MAX, value_mask);
            if sf.mask & full != full {
                loads(sf, out);
            } else if sf.field == FieldId::InPortOxm
                || (sf.field == FieldId::VlanVid && sf.value & 0x1000 == 0)
            {
                return Err(OfpError::BadSetArgument);
            } else {
                out.push(set_field(sf.field, sf.value));
            }
        }
        OfpAction::Enqueue { port, queue } => {
            out.push(OfpAction::SetQueue(*queue));
            // Open vSwitch sends max_len 65535, which only matters for CONTROLLER (not a valid
            // enqueue port); rvs keeps the parser's 0 so the form reads back unchanged.
            out.push(OfpAction::Output {
                port: *port,
                max_len: 0,
            });
            out.push(OfpAction::PopQueue);
        }
        OfpAction::SetVlanVid {
            vid,
            push_if_needed,
        } => {
            push_tag(*push_if_needed, out);
            out.push(set_field(FieldId::VlanVid, u128::from(*vid) | 0x1000));
        }
        OfpAction::SetVlanPcp {
            pcp,
            push_if_needed,
        } => {
            push_tag(*push_if_needed, out);
            out.push(set_field(FieldId::VlanPcp, u128::from(*pcp)));
        }
        OfpAction::StripVlan { .. } => out.push(OfpAction::StripVlan { pop_vlan: true }),
        OfpAction::SetEthSrc(m) => out.push(set_field(FieldId::EthSrc, mac_value(m))),
        OfpAction::SetEthDst(m) => out.push(set_field(FieldId::EthDst, mac_value(m))),
        OfpAction::SetIpv4Src(ip) => out.push(set_field(FieldId::Ipv4Src, u128::from(*ip))),
        OfpAction::SetIpv4Dst(ip) => out.push(set_field(FieldId::Ipv4Dst, u128::from(*ip))),
        OfpAction::SetIpDscp(d) => {
            out.push(set_field(FieldId::IpDscpShifted, u128::from(*d >> 2)));
        }
        OfpAction::SetIpEcn(e) => out.push(set_field(FieldId::IpEcn, u128::from(*e))),
        OfpAction::SetL4SrcPort(p) => match l4_field(true) {
            Some(field) => out.push(set_field(field, u128::from(*p))),
            None => out.push(a.clone()),
        },
        OfpAction::SetL4DstPort(p) => match l4_field(false) {
            Some(field) => out.push(set_field(field, u128::from(*p))),
            None => out.push(a.clone()),
        },
        OfpAction::SetMplsLabel(l) => out.push(set_field(FieldId::MplsLabel, u128::from(*l))),
        OfpAction::SetMplsTc(t) => out.push(set_field(FieldId::MplsTc, u128::from(*t))),
        OfpAction::Note(bytes) => out.push(padded_note(bytes)),
        other => out.push(other.clone()),
    }
    Ok(())
}

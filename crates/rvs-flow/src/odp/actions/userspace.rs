//! The `userspace(...)` action and its userdata: the 48-byte cookie ofproto puts there
//! (`struct user_action_cookie`: sFlow, slow path, flow sample, IPFIX, controller) or raw bytes.
//!
//! # Invariants
//! * Userdata is at least 8 bytes on the wire; shorter raw userdata is zero-padded when parsed, as
//!   OVS does. Raw userdata of exactly 48 bytes whose type field names a known cookie prints as
//!   that cookie, like in OVS.
//! * Cookie bytes use the x86-64 layout of OVS (host order for integers, network order for the
//!   sFlow TCI and the rule cookie).

use std::fmt::Write as _;

use super::super::PortNames;
use super::super::flags::{SLOW_PATH_REASON_MASK, format_flags, slow_path_name};
use super::super::scan::Cursor;
use crate::flow::{VLAN_CFI, VLAN_PCP_SHIFT, VLAN_VID_MASK};

/// Size of `struct user_action_cookie`.
const COOKIE_LEN: usize = 48;

/// `OFPP_NONE`, the in_port of cookies built from text.
const OFPP_NONE: u16 = 0xffff;

/// A `userspace` action.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct UserspaceAction {
    /// Netlink port id of the handler to send to.
    pub pid: u32,
    /// Data passed back with the upcall.
    pub userdata: Option<Userdata>,
    /// Whether the upcall carries the flow's actions (`,actions`).
    pub actions: bool,
    /// Egress tunnel port (`,tunnel_out_port=`).
    pub tunnel_out_port: Option<u32>,
}

/// Userdata of a `userspace` action.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Userdata {
    /// An ofproto cookie.
    Cookie(UserdataCookie),
    /// Opaque bytes (`userdata(0102...)`).
    Raw(Vec<u8>),
}

/// An ofproto userspace cookie (`struct user_action_cookie`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UserdataCookie {
    /// OpenFlow input port (`OFPP_NONE` when built from text).
    pub ofp_in_port: u16,
    /// UUID of the ofproto that installed the flow (zero when built from text).
    pub ofproto_uuid: [u8; 16],
    /// What the upcall is for.
    pub kind: CookieKind,
}

/// The purpose of a cookie, with its fields.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CookieKind {
    /// Per-bridge sFlow sampling.
    SFlow {
        /// Destination VLAN TCI.
        vlan_tci: u16,
        /// sFlow "output" value.
        output: u32,
    },
    /// The flow must be handled in userspace; `reasons` are `slow_path_reason` bits.
    SlowPath {
        /// Reason bits (cfm, bfd, lacp, stp, lldp, action, match).
        reasons: u32,
    },
    /// Per-flow IPFIX sampling.
    FlowSample {
        /// Sampling probability out of 65535.
        probability: u16,
        /// IPFIX collector set.
        collector_set_id: u32,
        /// Observation domain.
        obs_domain_id: u32,
        /// Observation point.
        obs_point_id: u32,
        /// Datapath output port.
        output_port: u32,
        /// Sampling direction.
        direction: SampleDirection,
    },
    /// Per-bridge IPFIX sampling.
    Ipfix {
        /// Datapath output port.
        output_port: u32,
    },
    /// Send to an OpenFlow controller.
    Controller(ControllerCookie),
}

/// Direction of a flow sample (`enum nx_action_sample_direction`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SampleDirection {
    /// Not specified.
    #[default]
    Default,
    /// Ingress.
    Ingress,
    /// Egress.
    Egress,
}

/// The controller cookie.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ControllerCookie {
    /// Do not actually send the packet-in.
    pub dont_send: bool,
    /// Send as a continuation.
    pub continuation: bool,
    /// Packet-in reason.
    pub reason: u16,
    /// Recirculation id to resume at.
    pub recirc_id: u32,
    /// Cookie of the rule that sent the packet.
    pub rule_cookie: u64,
    /// Controller connection id.
    pub controller_id: u16,
    /// Bytes of packet to send.
    pub max_len: u16,
}

impl UserdataCookie {
    /// Reads a cookie from 48 bytes of userdata; `None` if the length or type does not fit.
    pub fn from_bytes(b: &[u8]) -> Option<UserdataCookie> {
        if b.len() != COOKIE_LEN {
            return None;
        }
        let u16_at = |i: usize| {
            b.get(i..i + 2)
                .and_then(|s| s.try_into().ok())
                .map(u16::from_le_bytes)
        };
        let u32_at = |i: usize| {
            b.get(i..i + 4)
                .and_then(|s| s.try_into().ok())
                .map(u32::from_le_bytes)
        };
        let kind = match u16_at(0)? {
            1 => CookieKind::SFlow {
                vlan_tci: u16::from_be_bytes(b.get(20..22)?.try_into().ok()?),
                output: u32_at(24)?,
            },
            2 => CookieKind::SlowPath {
                reasons: u32_at(24)?,
            },
            3 => CookieKind::FlowSample {
                probability: u16_at(20)?,
                collector_set_id: u32_at(24)?,
                obs_domain_id: u32_at(28)?,
                obs_point_id: u32_at(32)?,
                output_port: u32_at(36)?,
                direction: match u32_at(40)? {
                    1 => SampleDirection::Ingress,
                    2 => SampleDirection::Egress,
                    _ => SampleDirection::Default,
                },
            },
            4 => CookieKind::Ipfix {
                output_port: u32_at(20)?,
            },
            5 => CookieKind::Controller(ControllerCookie {
                dont_send: *b.get(20)? != 0,
                continuation: *b.get(21)? != 0,
                reason: u16_at(22)?,
                recirc_id: u32_at(24)?,
                rule_cookie: u64::from_be_bytes(b.get(28..36)?.try_into().ok()?),
                controller_id: u16_at(36)?,
                max_len: u16_at(38)?,
            }),
            _ => return None,
        };
        let ofproto_uuid = b.get(4..20)?.try_into().ok()?;
        Some(UserdataCookie {
            ofp_in_port: u16_at(2)?,
            ofproto_uuid,
            kind,
        })
    }

    /// The cookie's 48 bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = vec![0u8; COOKIE_LEN];
        let mut put = |at: usize, bytes: &[u8]| {
            if let Some(dst) = b.get_mut(at..at + bytes.len()) {
                dst.copy_from_slice(bytes);
            }
        };
        let kind: u16 = match &self.kind {
            CookieKind::SFlow { vlan_tci, output } => {
                put(20, &vlan_tci.to_be_bytes());
                put(24, &output.to_le_bytes());
                1
            }
            CookieKind::SlowPath { reasons } => {
                put(24, &reasons.to_le_bytes());
                2
            }
            CookieKind::FlowSample {
                probability,
                collector_set_id,
                obs_domain_id,
                obs_point_id,
                output_port,
                direction,
            } => {
                put(20, &probability.to_le_bytes());
                put(24, &collector_set_id.to_le_bytes());
                put(28, &obs_domain_id.to_le_bytes());
                put(32, &obs_point_id.to_le_bytes());
                put(36, &output_port.to_le_bytes());
                let d: u32 = match direction {
                    SampleDirection::Default => 0,
                    SampleDirection::Ingress => 1,
                    SampleDirection::Egress => 2,
                };
                put(40, &d.to_le_bytes());
                3
            }
            CookieKind::Ipfix { output_port } => {
                put(20, &output_port.to_le_bytes());
                4
            }
            CookieKind::Controller(c) => {
                put(20, &[u8::from(c.dont_send), u8::from(c.continuation)]);
                put(22, &c.reason.to_le_bytes());
                put(24, &c.recirc_id.to_le_bytes());
                put(28, &c.rule_cookie.to_be_bytes());
                put(36, &c.controller_id.to_le_bytes());
                put(38, &c.max_len.to_le_bytes());
                5
            }
        };
        put(0, &kind.to_le_bytes());
        put(2, &self.ofp_in_port.to_le_bytes());
        put(4, &self.ofproto_uuid);
        b
    }
}

/// A port as `odp_portno_name_format` prints it.
fn put_port(out: &mut String, port: u32, ports: Option<&dyn PortNames>) {
    match ports.and_then(|p| p.port_name(port)) {
        Some(name) => out.push_str(name),
        None => {
            let _ = write!(out, "{port}");
        }
    }
}

/// `userspace(pid=..[,cookie|,userdata(..)][,actions][,tunnel_out_port=..])`.
pub(crate) fn format_userspace(
    out: &mut String,
    u: &UserspaceAction,
    ports: Option<&dyn PortNames>,
) {
    let _ = write!(out, "userspace(pid={}", u.pid);
    match &u.userdata {
        None => {}
        Some(Userdata::Cookie(c)) => format_cookie(out, &c.kind, ports),
        Some(Userdata::Raw(bytes)) => match UserdataCookie::from_bytes(bytes) {
            Some(c) => format_cookie(out, &c.kind, ports),
            None => {
                out.push_str(",userdata(");
                for b in bytes {
                    let _ = write!(out, "{b:02x}");
                }
                out.push(')');
            }
        },
    }
    if u.actions {
        out.push_str(",actions");
    }
    if let Some(port) = u.tunnel_out_port {
        out.push_str(",tunnel_out_port=");
        put_port(out, port, ports);
    }
    out.push(')');
}

fn format_cookie(out: &mut String, kind: &CookieKind, ports: Option<&dyn PortNames>) {
    match kind {
        CookieKind::SFlow { vlan_tci, output } => {
            let _ = write!(
                out,
                ",sFlow(vid={},pcp={},output={output})",
                vlan_tci & VLAN_VID_MASK,
                vlan_tci >> VLAN_PCP_SHIFT
            );
        }
        CookieKind::SlowPath { reasons } => {
            out.push_str(",slow_path(");
            format_flags(out, slow_path_name, *reasons, ',');
            out.push(')');
        }
        CookieKind::FlowSample {
            probability,
            collector_set_id,
            obs_domain_id,
            obs_point_id,
            output_port,
            direction,
        } => {
            let _ = write!(
                out,
                ",flow_sample(probability={probability},collector_set_id={collector_set_id},\
                 obs_domain_id={obs_domain_id},obs_point_id={obs_point_id},output_port="
            );
            put_port(out, *output_port, ports);
            match direction {
                SampleDirection::Default => {}
                SampleDirection::Ingress => out.push_str(",ingress"),
                SampleDirection::Egress => out.push_str(",egress"),
            }
            out.push(')');
        }
        CookieKind::Ipfix { output_port } => {
            out.push_str(",ipfix(output_port=");
            put_port(out, *output_port, ports);
            out.push(')');
        }
        CookieKind::Controller(c) => {
            let _ = write!(
                out,
                ",controller(reason={},dont_send={},continuation={},recirc_id={},rule_cookie=",
                c.reason,
                u8::from(c.dont_send),
                u8::from(c.continuation),
                c.recirc_id
            );
            crate::text::fmt_hash_hex(out, c.rule_cookie);
            let _ = write!(
                out,
                ",controller_id={},max_len={})",
                c.controller_id, c.max_len
            );
        }
    }
}

/// Parses `userspace(...)` at the cursor (`parse_odp_userspace_action`).
pub(crate) fn parse_userspace(
    c: &mut Cursor<'_>,
    ports: Option<&dyn PortNames>,
) -> Option<UserspaceAction> {
    if !c.eat("userspace(pid=") {
        return None;
    }
    let pid = c.scan_u32()?;
    let cookie = |kind| {
        Userdata::Cookie(UserdataCookie {
            ofp_in_port: OFPP_NONE,
            ofproto_uuid: [0; 16],
            kind,
        })
    };
    let port = |c: &mut Cursor<'_>| {
        c.scan_u32().or_else(|| {
            let ports = ports?;
            c.attempt(|c| {
                let name = c.take_until(b",)");
                ports.port_number(name)
            })
        })
    };
    let userdata = if let Some(kind) = c.attempt(parse_sflow) {
        cookie(kind)
    } else if c.eat(",slow_path(") {
        cookie(CookieKind::SlowPath {
            reasons: parse_slow_path(c)?,
        })
    } else if let Some(kind) = c.attempt(|c| parse_flow_sample(c, port)) {
        cookie(kind)
    } else if let Some(kind) = c.attempt(|c| {
        (c.eat(",ipfix(output_port=")).then_some(())?;
        let output_port = port(c)?;
        c.eat_byte(b')')
            .then_some(CookieKind::Ipfix { output_port })
    }) {
        cookie(kind)
    } else if let Some(kind) = c.attempt(parse_controller) {
        cookie(kind)
    } else if c.eat(",userdata(") {
        let mut bytes = Vec::new();
        loop {
            c.skip_set(b" .\t\r\n");
            let hi = c.peek().and_then(|b| char::from(b).to_digit(16));
            let lo = c.peek_at(1).and_then(|b| char::from(b).to_digit(16));
            let (Some(hi), Some(lo)) = (hi, lo) else {
                break;
            };
            bytes.push(((hi << 4) | lo) as u8);
            c.set_pos(c.pos() + 2);
        }
        if !c.eat_byte(b')') {
            return None;
        }
        if bytes.len() < 8 {
            bytes.resize(8, 0);
        }
        Userdata::Raw(bytes)
    } else {
        // No userdata given: OVS sends an all-zero cookie.
        Userdata::Raw(vec![0; COOKIE_LEN])
    };
    let actions = c.eat(",actions");
    let tunnel_out_port = if c.eat(",tunnel_out_port=") {
        let p = port(c)?;
        (p != u32::MAX).then_some(p)
    } else {
        None
    };
    c.eat_byte(b')').then_some(UserspaceAction {
        pid,
        userdata: Some(userdata),
        actions,
        tunnel_out_port,
    })
}

fn parse_sflow(c: &mut Cursor<'_>) -> Option<CookieKind> {
    if !c.eat(",sFlow(vid=") {
        return None;
    }
    let vid = c.scan_int(0)? as i32;
    c.eat(",pcp=").then_some(())?;
    let pcp = c.scan_int(0)? as i32;
    c.eat(",output=").then_some(())?;
    let output = c.scan_u32()?;
    c.eat_byte(b')').then_some(())?;
    let mut tci = (vid | pcp.wrapping_shl(u32::from(VLAN_PCP_SHIFT))) as u16;
    if tci != 0 {
        tci |= VLAN_CFI;
    }
    Some(CookieKind::SFlow {
        vlan_tci: tci,
        output,
    })
}

/// Reasons separated by `|` (what OVS reads) or `,` (what OVS prints), or numbers; up to `)`.
fn parse_slow_path(c: &mut Cursor<'_>) -> Option<u32> {
    let mut reasons = 0u32;
    while !c.eat_byte(b')') {
        if let Some(v) = c.scan_int(0) {
            reasons |= v as u32;
        } else {
            let bit = (0..7).map(|i| 1u32 << i).find(|bit| {
                slow_path_name(*bit).is_some_and(|n| {
                    c.rest().strip_prefix(n).is_some_and(|after| {
                        matches!(after.bytes().next(), Some(b'|' | b',' | b')'))
                    })
                })
            })?;
            c.eat(slow_path_name(bit).unwrap_or(""));
            reasons |= bit;
        }
        if reasons & !SLOW_PATH_REASON_MASK != 0 {
            return None;
        }
        if !c.eat_byte(b'|') && !c.eat_byte(b',') && c.peek() != Some(b')') {
            return None;
        }
    }
    Some(reasons)
}

fn parse_flow_sample(
    c: &mut Cursor<'_>,
    port: impl Fn(&mut Cursor<'_>) -> Option<u32>,
) -> Option<CookieKind> {
    c.eat(",flow_sample(probability=").then_some(())?;
    let probability = c.scan_u32()? as u16;
    c.eat(",collector_set_id=").then_some(())?;
    let collector_set_id = c.scan_u32()?;
    c.eat(",obs_domain_id=").then_some(())?;
    let obs_domain_id = c.scan_u32()?;
    c.eat(",obs_point_id=").then_some(())?;
    let obs_point_id = c.scan_u32()?;
    c.eat(",output_port=").then_some(())?;
    let output_port = port(c)?;
    let direction = if c.eat(",ingress") {
        SampleDirection::Ingress
    } else if c.eat(",egress") {
        SampleDirection::Egress
    } else {
        SampleDirection::Default
    };
    c.eat_byte(b')').then_some(CookieKind::FlowSample {
        probability,
        collector_set_id,
        obs_domain_id,
        obs_point_id,
        output_port,
        direction,
    })
}

/// `,controller(reason=%hu,dont_send=%hhu,continuation=%hhu,recirc_id=%u,rule_cookie=%llx,
/// controller_id=%hu,max_len=%hu)`.
fn parse_controller(c: &mut Cursor<'_>) -> Option<CookieKind> {
    let dec = |c: &mut Cursor<'_>, lit: &str| c.eat(lit).then(|| c.scan_int(10)).flatten();
    let reason = dec(c, ",controller(reason=")? as u16;
    let dont_send = dec(c, ",dont_send=")? as u8 != 0;
    let continuation = dec(c, ",continuation=")? as u8 != 0;
    let recirc_id = dec(c, ",recirc_id=")? as u32;
    c.eat(",rule_cookie=").then_some(())?;
    let rule_cookie = c.scan_int(16)?;
    let controller_id = dec(c, ",controller_id=")? as u16;
    let max_len = dec(c, ",max_len=")? as u16;
    c.eat_byte(b')')
        .then_some(CookieKind::Controller(ControllerCookie {
            dont_send,
            continuation,
            reason,
            recirc_id,
            rule_cookie,
            controller_id,
            max_len,
        }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_bytes_round_trip() {
        let kinds = [
            CookieKind::SFlow {
                vlan_tci: 0x1005,
                output: 7,
            },
            CookieKind::SlowPath { reasons: 0x21 },
            CookieKind::FlowSample {
                probability: 9,
                collector_set_id: 1,
                obs_domain_id: 2,
                obs_point_id: 3,
                output_port: 4,
                direction: SampleDirection::Egress,
            },
            CookieKind::Ipfix { output_port: 5 },
            CookieKind::Controller(ControllerCookie {
                reason: 1,
                rule_cookie: 0x123,
                max_len: 65535,
                ..Default::default()
            }),
        ];
        for kind in kinds {
            let c = UserdataCookie {
                ofp_in_port: 3,
                ofproto_uuid: [7; 16],
                kind,
            };
            assert_eq!(UserdataCookie::from_bytes(&c.to_bytes()), Some(c));
        }
        assert_eq!(UserdataCookie::from_bytes(&[0; 48]), None);
        assert_eq!(UserdataCookie::from_bytes(&[1; 8]), None);
    }
}

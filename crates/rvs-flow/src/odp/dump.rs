//! One line of `ovs-appctl dpctl/dump-flows [-m]`: key, statistics, actions (`format_dpif_flow`
//! and `dpif_flow_stats_format` of Open vSwitch).
//!
//! Layout: `[ufid:<uuid>, ]<key>, packets:<n>, bytes:<n>, used:<never|S.SSSs>[, flags:<f>]
//! [, offloaded:yes|partial][, dp:<layer>], actions:<actions>[, dp-extra-info:<x>]`, where the
//! UFID, `offloaded`, `dp` and `dp-extra-info` parts appear only in verbose output.
//!
//! # Invariants
//! * `used` is printed relative to a caller-supplied "now" (milliseconds, like `used_ms`) and read
//!   back relative to the same "now", so a printed line parses back to the same statistics.
//! * `flags:` appears exactly when the TCP flags are nonzero, as `S F P R U . E C N` letters.

use std::fmt::Write as _;

use super::actions::{OdpAction, format_actions, parse_actions_at};
use super::{FormatOptions, PortNames, format_key, parse_key_at, token_at};
use crate::flow::{Flow, Wildcards};
use crate::text::ParseError;
use crate::ufid::Ufid;

/// Statistics of a datapath flow (`struct dpif_flow_stats`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct DpFlowStats {
    /// Packets that hit the flow.
    pub n_packets: u64,
    /// Bytes that hit the flow.
    pub n_bytes: u64,
    /// Time of the last hit in milliseconds, 0 for never.
    pub used_ms: u64,
    /// OR of the TCP flags of all hits.
    pub tcp_flags: u16,
}

/// The verbose-only attributes of a dumped flow (`struct dpif_flow_attrs`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct DumpExtras {
    /// Whether the flow is (partly) offloaded to hardware.
    pub offloaded: bool,
    /// Datapath layer that holds the flow (`ovs` for the userspace datapath).
    pub dp_layer: Option<String>,
    /// Free-form datapath details (`miniflow_bits(4,1)`).
    pub dp_extra_info: Option<String>,
}

/// Everything a dump line says about one flow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DumpLine {
    /// The flow's UFID (verbose lines only).
    pub ufid: Option<Ufid>,
    /// Key.
    pub flow: Flow,
    /// Mask.
    pub wc: Wildcards,
    /// Statistics.
    pub stats: DpFlowStats,
    /// Actions (empty for drop).
    pub actions: Vec<OdpAction>,
    /// Verbose-only attributes.
    pub extras: DumpExtras,
}

/// TCP flag letters in OVS's order (`packet_format_tcp_flags`).
const FLAG_LETTERS: [(u16, &str); 12] = [
    (0x002, "S"),
    (0x001, "F"),
    (0x008, "P"),
    (0x004, "R"),
    (0x020, "U"),
    (0x010, "."),
    (0x040, "E"),
    (0x080, "C"),
    (0x100, "N"),
    (0x200, "[200]"),
    (0x400, "[400]"),
    (0x800, "[800]"),
];

/// Appends `packets:N, bytes:N, used:...[, flags:...]` (OVS's `dpif_flow_stats_format`), the
/// age relative to `now_ms`; no newline.
pub fn format_stats(out: &mut String, stats: &DpFlowStats, now_ms: u64) {
    let _ = write!(
        out,
        "packets:{}, bytes:{}, used:",
        stats.n_packets, stats.n_bytes
    );
    if stats.used_ms == 0 {
        out.push_str("never");
    } else {
        // `%.3f` of (now - used) / 1000.0, done in integers so that every value reads back exactly
        // (OVS's double only differs beyond 2^53 ms).
        let age = i128::from(now_ms) - i128::from(stats.used_ms);
        let sign = if age < 0 { "-" } else { "" };
        let _ = write!(out, "{sign}{}.{:03}s", age.abs() / 1000, age.abs() % 1000);
    }
    if stats.tcp_flags != 0 {
        out.push_str(", flags:");
        for (bit, letter) in FLAG_LETTERS {
            if stats.tcp_flags & bit != 0 {
                out.push_str(letter);
            }
        }
    }
}

/// Appends one dump line (no newline).
///
/// The UFID, `offloaded:`, `dp:` and `dp-extra-info:` parts are printed only when
/// `opts.verbose`, and then only if present. `now_ms` is the current time on the same clock as
/// `stats.used_ms`.
#[allow(clippy::too_many_arguments)]
pub fn format_dump_line(
    out: &mut String,
    ufid: Option<&Ufid>,
    flow: &Flow,
    wc: &Wildcards,
    stats: &DpFlowStats,
    now_ms: u64,
    actions: &[OdpAction],
    extras: &DumpExtras,
    opts: &FormatOptions<'_>,
) {
    if opts.verbose
        && let Some(u) = ufid
    {
        let _ = write!(out, "ufid:{u}, ");
    }
    format_key(out, flow, Some(wc), opts);
    out.push_str(", ");
    format_stats(out, stats, now_ms);
    if opts.verbose {
        if extras.offloaded {
            let partial = extras.dp_layer.as_deref() == Some("ovs");
            out.push_str(if partial {
                ", offloaded:partial"
            } else {
                ", offloaded:yes"
            });
        }
        if let Some(layer) = &extras.dp_layer {
            let _ = write!(out, ", dp:{layer}");
        }
    }
    out.push_str(", actions:");
    format_actions(out, actions, opts.port_names);
    if opts.verbose
        && let Some(info) = &extras.dp_extra_info
    {
        let _ = write!(out, ", dp-extra-info:{info}");
    }
}

/// Parses one dump line; `now_ms` must be the "now" it was printed with (see
/// [`format_dump_line`]). Port names are resolved with `port_names`.
pub fn parse_dump_line(
    text: &str,
    now_ms: u64,
    port_names: Option<&dyn PortNames>,
) -> Result<DumpLine, ParseError> {
    let err = |pos: usize, msg: &str| ParseError::new(msg, token_at(text, pos), pos);
    let mut pos = 0;
    let mut ufid = None;
    if text.starts_with("ufid:") {
        let (u, rest) = Ufid::parse_prefix(text).ok_or_else(|| err(0, "invalid ufid"))?;
        pos = text.len() - rest.len();
        let rest = rest
            .strip_prefix(", ")
            .or_else(|| rest.strip_prefix(' '))
            .ok_or_else(|| err(pos, "expected \", \""))?;
        pos = text.len() - rest.len();
        ufid = Some(u);
    }
    let key_end = text
        .get(pos..)
        .and_then(|r| r.find(", packets:"))
        .map(|i| pos + i)
        .ok_or_else(|| err(pos, "missing \"packets:\""))?;
    let (flow, wc) = parse_key_at(text, pos, key_end, port_names, true)?;
    let mut c = Fields {
        text,
        pos: key_end + ", ".len(),
    };
    let n_packets = c.number("packets:")?;
    let n_bytes = c.number("bytes:")?;
    let used_ms = c.used(now_ms)?;
    let mut stats = DpFlowStats {
        n_packets,
        n_bytes,
        used_ms,
        tcp_flags: 0,
    };
    let mut extras = DumpExtras::default();
    if let Some(flags) = c.optional("flags:") {
        stats.tcp_flags = parse_stat_flags(flags).ok_or_else(|| err(c.pos, "invalid TCP flags"))?;
        c.pos += "flags:".len() + flags.len() + 2;
    }
    if let Some(v) = c.optional("offloaded:") {
        if v != "yes" && v != "partial" {
            return Err(err(c.pos, "invalid offloaded value"));
        }
        extras.offloaded = true;
        c.pos += "offloaded:".len() + v.len() + 2;
    }
    if let Some(layer) = c.optional("dp:") {
        extras.dp_layer = Some(layer.to_string());
        c.pos += "dp:".len() + layer.len() + 2;
    }
    let rest = text.get(c.pos..).unwrap_or("");
    if !rest.starts_with("actions:") {
        return Err(err(c.pos, "missing \"actions:\""));
    }
    let actions_start = c.pos + "actions:".len();
    let actions_end = text
        .get(actions_start..)
        .and_then(|r| r.find(", dp-extra-info:"))
        .map_or(text.len(), |i| actions_start + i);
    if actions_end < text.len() {
        let info = text
            .get(actions_end + ", dp-extra-info:".len()..)
            .unwrap_or("");
        extras.dp_extra_info = Some(info.to_string());
    }
    let actions = parse_actions_at(
        text.get(..actions_end).unwrap_or(""),
        actions_start,
        port_names,
    )?;
    Ok(DumpLine {
        ufid,
        flow,
        wc,
        stats,
        actions,
        extras,
    })
}

/// Reads `name:value, ` fields of the statistics part.
struct Fields<'t> {
    text: &'t str,
    pos: usize,
}

impl Fields<'_> {
    fn err(&self, msg: &str) -> ParseError {
        ParseError::new(msg, token_at(self.text, self.pos), self.pos)
    }

    /// The value of `name:` up to the next `, ` (or the end), without moving.
    fn optional(&self, name: &str) -> Option<&str> {
        let rest = self.text.get(self.pos..)?.strip_prefix(name)?;
        Some(
            rest.find(", ")
                .map_or(rest, |i| rest.get(..i).unwrap_or("")),
        )
    }

    /// A required `name:<decimal>, `.
    fn number(&mut self, name: &str) -> Result<u64, ParseError> {
        let v = self
            .optional(name)
            .ok_or_else(|| self.err(&format!("missing \"{name}\"")))?;
        let n = v
            .parse::<u64>()
            .map_err(|_| self.err(&format!("invalid \"{name}\" value")))?;
        self.pos += name.len() + v.len() + 2;
        Ok(n)
    }

    /// `used:never, ` or `used:S.SSSs, `, turned back into a timestamp.
    fn used(&mut self, now_ms: u64) -> Result<u64, ParseError> {
        let v = self
            .optional("used:")
            .ok_or_else(|| self.err("missing \"used:\""))?;
        let used = if v == "never" {
            0
        } else {
            let age = v
                .strip_suffix('s')
                .and_then(parse_millis)
                .ok_or_else(|| self.err("invalid \"used:\" value"))?;
            let used = i128::from(now_ms) - age;
            u64::try_from(used)
                .ok()
                .filter(|u| *u != 0)
                .ok_or_else(|| self.err("\"used:\" is before the clock's start"))?
        };
        self.pos += "used:".len() + v.len() + 2;
        Ok(used)
    }
}

/// A decimal number of seconds as whole milliseconds, rounded to nearest.
fn parse_millis(s: &str) -> Option<i128> {
    let (negative, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if int.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    if int.len() > 20 {
        return None;
    }
    let mut ms = int.parse::<i128>().ok()?.checked_mul(1000)?;
    let mut scale = 100;
    for (i, d) in frac.bytes().enumerate() {
        let d = i128::from(d - b'0');
        if i < 3 {
            ms += d * scale;
            scale /= 10;
        } else {
            if i == 3 && d >= 5 {
                ms += 1;
            }
            break;
        }
    }
    Some(if negative { -ms } else { ms })
}

/// `S.` style TCP flags.
fn parse_stat_flags(s: &str) -> Option<u16> {
    if s == "none" {
        return Some(0);
    }
    let mut flags = 0u16;
    let mut rest = s;
    while !rest.is_empty() {
        let (bit, letter) = FLAG_LETTERS.iter().find(|(_, l)| rest.starts_with(l))?;
        flags |= bit;
        rest = rest.get(letter.len()..)?;
    }
    Some(flags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_text() {
        let mut s = String::new();
        format_stats(
            &mut s,
            &DpFlowStats {
                n_packets: 3,
                n_bytes: 180,
                used_ms: 9_500,
                tcp_flags: 0x12,
            },
            10_000,
        );
        assert_eq!(s, "packets:3, bytes:180, used:0.500s, flags:S.");
        let mut s = String::new();
        format_stats(
            &mut s,
            &DpFlowStats {
                used_ms: 10_250,
                ..DpFlowStats::default()
            },
            10_000,
        );
        assert_eq!(s, "packets:0, bytes:0, used:-0.250s");
        assert_eq!(parse_millis("1.2345"), Some(1235));
        assert_eq!(parse_millis("-0.250"), Some(-250));
        assert_eq!(parse_millis("12"), Some(12_000));
        assert_eq!(parse_millis(".5"), None);
        assert_eq!(parse_stat_flags("SFPRU.ECN[200]"), Some(0x3ff));
        assert_eq!(parse_stat_flags("X"), None);
    }
}

//! `dpctl/dump-flows [-m] [--names] [dp] [filter=..] [type=..] [pmd=..]`.
//!
//! # Invariants
//! * Trailing `filter=`, `type=` and `pmd=` arguments are taken off from the end, in any order;
//!   a second `filter=` or `type=` stays an ordinary argument, a second `pmd=` overrides.
//! * A flow is shown when the filter (an OpenFlow-style exact flow) matches its key on the
//!   bits both the filter names and the flow's mask covers: for every bit of the filter's mask,
//!   `key & flow_mask == filter & flow_mask` (OVS masks the filter by the dumped mask, and
//!   its dumped keys are masked; checked with `filter=dl_src=..` on a masked `eth(src=..)`).
//! * A `flow-dump from ...` header is printed before the first shown flow of each forwarding
//!   thread id when no `pmd=` was given. As in OVS, the header belongs to the first flow of a
//!   thread that passes the filter: if that flow then fails the `type=` check, the header is
//!   lost with it.

use rvs_flow::odp::{FormatOptions, PortNames, format_dump_line};
use rvs_flow::ofp_match::parse_exact_flow;
use rvs_flow::ofp_match::parser::ExactFlow;
use rvs_flow::{Flow, Wildcards};

use super::stats::{dump_extras, dump_stats};
use super::{Ctx, Failed, KEY_ORDER};
use crate::datapath::MAX_FLOWS_PER_NEXT;
use crate::dpif::{Dpif, DpifFlow, NON_PMD_CORE_ID, PMD_ID_NULL};

/// Which flows `type=` asks for (OVS's `struct dump_types`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct DumpTypes {
    ovs: bool,
    tc: bool,
    dpdk: bool,
    offloaded: bool,
    non_offloaded: bool,
    partially_offloaded: bool,
}

impl DumpTypes {
    const ALL: DumpTypes = DumpTypes {
        ovs: true,
        tc: true,
        dpdk: true,
        offloaded: true,
        non_offloaded: true,
        partially_offloaded: true,
    };

    /// Reads a comma-separated list; the error is the first unknown (possibly empty) name.
    fn parse(list: &str) -> Result<DumpTypes, String> {
        let mut types = DumpTypes::default();
        let mut rest = list;
        while !rest.is_empty() {
            let (name, tail) = rest.split_once(',').unwrap_or((rest, ""));
            rest = tail;
            match name {
                "ovs" => types.ovs = true,
                "tc" => types.tc = true,
                "dpdk" => types.dpdk = true,
                "offloaded" => types.offloaded = true,
                "non-offloaded" => types.non_offloaded = true,
                "partially-offloaded" => types.partially_offloaded = true,
                "all" => types = DumpTypes::ALL,
                other => return Err(other.to_string()),
            }
        }
        Ok(types)
    }

    /// Whether `flow` is of a requested kind.
    fn passes(&self, flow: &DpifFlow) -> bool {
        let layer = flow.attrs.dp_layer;
        let offloaded = flow.attrs.offloaded;
        (self.ovs && layer == "ovs")
            || (self.tc && layer == "tc")
            || (self.dpdk && layer == "dpdk")
            || (self.offloaded && offloaded && layer != "ovs")
            || (self.partially_offloaded && offloaded && layer == "ovs")
            || (self.non_offloaded && !offloaded)
    }
}

/// `%d` as `ovs_scan` reads it after `pmd=`: optional spaces, sign, decimal digits; the rest
/// ignored. Out-of-range values wrap to 32 bits.
fn scan_int(text: &str) -> Option<i32> {
    let t = text.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (negative, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, t.get(1..).unwrap_or("")),
        Some(b'+') => (false, t.get(1..).unwrap_or("")),
        _ => (false, t),
    };
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    let digits = digits.get(..end).unwrap_or("");
    if digits.is_empty() {
        return None;
    }
    let mut value: i64 = 0;
    for b in digits.bytes() {
        value = value
            .wrapping_mul(10)
            .wrapping_add(i64::from(b.wrapping_sub(b'0')));
    }
    let value = if negative {
        value.wrapping_neg()
    } else {
        value
    };
    Some(value as i32)
}

/// Whether `key` (with mask `mask`) passes `filter`: equal on the bits both masks cover.
fn filter_matches(filter: &ExactFlow, key: &Flow, mask: &Wildcards) -> bool {
    let f = filter.flow.words();
    let fm = filter.wc.masks.words();
    let k = key.words();
    let m = mask.masks.words();
    (0..f.len()).all(|i| {
        let (Some(fv), Some(fmv), Some(kv), Some(mv)) = (f.get(i), fm.get(i), k.get(i), m.get(i))
        else {
            return false;
        };
        ((kv & mv) ^ (fv & mv)) & fmv == 0
    })
}

/// Runs `dump-flows`.
pub(super) fn dump_flows(ctx: &mut Ctx<'_>, argv: &[&str]) -> Result<(), Failed> {
    let mut argv = argv.to_vec();
    let mut filter_text = None;
    let mut types_text = None;
    let mut pmd_filter = None;
    loop {
        if argv.len() <= 1 {
            break;
        }
        let Some(last) = argv.last().copied() else {
            break;
        };
        if let Some(f) = last
            .strip_prefix("filter=")
            .filter(|_| filter_text.is_none())
        {
            filter_text = Some(f);
        } else if let Some(t) = last.strip_prefix("type=").filter(|_| types_text.is_none()) {
            types_text = Some(t);
        } else if let Some(p) = last.strip_prefix("pmd=") {
            let Some(id) = scan_int(p) else {
                // OVS fails without a message.
                return Err(Failed);
            };
            pmd_filter = Some(if id == -1 { NON_PMD_CORE_ID } else { id as u32 });
        } else {
            break;
        }
        argv.pop();
    }
    ctx.open_optional(&argv, 2)?;
    let ports = ctx.port_names();
    let filter = match filter_text {
        None => None,
        Some(text) => {
            let lookup = |name: &str| ports.port_number(name).map(|p| p as u16);
            match parse_exact_flow(text, Some(&lookup)) {
                Ok(f) => Some(f),
                Err(e) => return ctx.fail(&format!("Failed to parse filter ({e})"), None),
            }
        }
    };
    let types = match types_text.map(DumpTypes::parse) {
        None => DumpTypes::ALL,
        Some(Ok(t)) => t,
        Some(Err(name)) => {
            return ctx.fail(
                &format!("Failed to parse type ({name})"),
                Some(&super::invalid()),
            );
        }
    };
    let names = ctx.params.names.then_some(&ports);
    let opts = FormatOptions {
        verbose: ctx.params.verbosity > 0,
        key_order: KEY_ORDER,
        port_names: names.map(|n| n as &dyn PortNames),
    };
    let now = ctx.dp.now_ms();
    let mut current_pmd = pmd_filter.unwrap_or(PMD_ID_NULL);
    let dump = ctx.dp.flow_dump(false);
    let mut thread = dump.thread();
    let mut batch = Vec::new();
    while thread.next(&mut batch, MAX_FLOWS_PER_NEXT) > 0 {
        for flow in batch.drain(..) {
            let key = flow.key.unwrap_or_default();
            let mask = flow.mask.unwrap_or_default();
            if let Some(f) = &filter
                && !filter_matches(f, &key, &mask)
            {
                continue;
            }
            let mut header = String::new();
            if pmd_filter.is_none() && current_pmd != flow.pmd_id {
                header = if flow.pmd_id == NON_PMD_CORE_ID {
                    "flow-dump from the main thread:\n".to_string()
                } else {
                    format!("flow-dump from pmd on cpu core: {}\n", flow.pmd_id as i32)
                };
                current_pmd = flow.pmd_id;
            }
            if current_pmd != flow.pmd_id || !types.passes(&flow) {
                continue;
            }
            ctx.out.push_str(&header);
            let actions = flow.actions.clone().unwrap_or_default();
            format_dump_line(
                &mut ctx.out,
                flow.ufid_present.then_some(&flow.ufid),
                &key,
                &mask,
                &dump_stats(&flow.stats),
                now,
                &actions,
                &dump_extras(&flow),
                &opts,
            );
            ctx.out.push('\n');
        }
    }
    Ok(())
}

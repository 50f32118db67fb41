//! `dpif/show` and `dpif/dump-flows`: the datapath as one bridge sees it (OVS's ofproto-dpif
//! unixctl commands, the form OVS's own megaflow tests read).
//!
//! # Invariants
//! * `dpif/dump-flows BRIDGE` prints only flows whose input port belongs to `BRIDGE`, with no
//!   header lines; `-m` adds `ufid:<uuid> ` (a space, no comma) and verbose keys; port names are
//!   on with `-m` unless `--no-names`, as in OVS 3.1.
//! * `dpif/show` lists bridges and, within each, ports sorted by name.

use std::collections::BTreeSet;

use rvs_dpif::dpif::Dpif;
use rvs_flow::odp::{
    DpFlowStats, DumpExtras, FormatOptions, KeyOrder, PortNames, format_dump_line,
};

use super::Inner;

/// The datapath's port names, for `in_port(NAME)` and `output` actions.
struct DpPortNames(Vec<rvs_dpif::dpif::DpPort>);

impl PortNames for DpPortNames {
    fn port_name(&self, port: u32) -> Option<&str> {
        self.0
            .iter()
            .find(|p| p.port_no == port)
            .map(|p| p.name.as_str())
    }

    fn port_number(&self, name: &str) -> Option<u32> {
        self.0.iter().find(|p| p.name == name).map(|p| p.port_no)
    }
}

/// Flows fetched per dump call.
const BATCH: usize = 50;

/// `dpif/dump-flows [-m] [--names | --no-names] bridge`.
pub(super) fn dump_flows(inner: &Inner, args: &[String]) -> Result<String, String> {
    let Some((bridge, options)) = args.split_last() else {
        return Err("no such bridge".into());
    };
    let bridge_ports: BTreeSet<u32> = {
        let ports = inner.ports.lock();
        ports
            .values()
            .filter(|p| &p.bridge == bridge)
            .map(|p| p.odp_port)
            .collect()
    };
    if bridge_ports.is_empty() {
        return Err("no such bridge".into());
    }
    let mut verbose = false;
    let mut names = None;
    for arg in options {
        match arg.as_str() {
            "-m" => verbose = true,
            "--names" => names = Some(true),
            "--no-names" => names = Some(false),
            _ => {}
        }
    }
    let names = names.unwrap_or(verbose);
    let table = DpPortNames(inner.dp.port_list());
    let opts = FormatOptions {
        verbose,
        key_order: KeyOrder::Ovs31,
        port_names: names.then_some(&table as &dyn PortNames),
    };
    let now = inner.dp.now_ms();
    let mut out = String::new();
    let dump = inner.dp.flow_dump(false);
    let mut thread = dump.thread();
    let mut batch = Vec::new();
    while thread.next(&mut batch, BATCH) > 0 {
        for flow in batch.drain(..) {
            let Some(key) = flow.key else { continue };
            if !bridge_ports.contains(&key.in_port) {
                continue;
            }
            if verbose {
                out.push_str(&format!("ufid:{} ", flow.ufid));
            }
            let stats = DpFlowStats {
                n_packets: flow.stats.n_packets,
                n_bytes: flow.stats.n_bytes,
                used_ms: flow.stats.used,
                tcp_flags: flow.stats.tcp_flags,
            };
            let actions = flow.actions.clone().unwrap_or_default();
            format_dump_line(
                &mut out,
                None,
                &key,
                &flow.mask.unwrap_or_default(),
                &stats,
                now,
                &actions,
                &DumpExtras::default(),
                &opts,
            );
            out.push('\n');
        }
    }
    Ok(out)
}

/// `dpif/show`: the datapath's hit/miss counters, then each bridge's ports as
/// `name ofport/odp_port: (type)`.
pub(super) fn show(inner: &Inner) -> String {
    let stats = inner.dp.dp_stats();
    let mut out = format!(
        "{}: hit:{} missed:{}\n",
        inner.dp.name(),
        stats.n_hit,
        stats.n_missed
    );
    let ports = inner.ports.lock();
    let mut bridges = inner.ofproto.bridges();
    bridges.sort();
    for bridge in bridges {
        out.push_str(&format!("  {bridge}:\n"));
        // The port map is a BTreeMap: its order is by name.
        for (name, p) in ports.iter().filter(|(_, p)| p.bridge == bridge) {
            let ofport = if p.ofport == rvs_flow::ofp_match::port::OFPP_LOCAL {
                "65534".to_owned()
            } else {
                p.ofport.to_string()
            };
            out.push_str(&format!(
                "    {name} {ofport}/{}: ({})\n",
                p.odp_port, p.kind
            ));
        }
    }
    out
}

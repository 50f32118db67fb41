//! `rvs demo`: the layers built so far, working together on built-in traffic.
//!
//! Frames are extracted into flow keys; a miss is "translated" by looking the flow up in the OpenFlow
//! classifier, which also returns the bits it had to examine; those bits (plus the ones translation always
//! matches) become a megaflow, installed in the datapath's megaflow classifier and printed in
//! `ovs-appctl dpctl/dump-flows` text. Then thousands of packets run through the cache and only the first
//! packet of each megaflow goes up.
//!
//! # Invariants
//! * Statistics follow the datapath contract: the packet that caused a miss is executed by the upcall path
//!   and is not counted in the megaflow it installed.
//! * Time is virtual (one millisecond per packet), so the output is the same on every run except UFIDs,
//!   which are seeded per process as in Open vSwitch.
//! * The rule → datapath-action mapping here is a stand-in until OpenFlow translation (issue #4) lands; the
//!   megaflow masks come from the real classifier.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result};
use rvs_dpif::dpcls::Dpcls;
use rvs_flow::extract::{PacketMetadata, extract};
use rvs_flow::flow::{ETH_TYPE_IP, ETH_TYPE_IPV6, FRAG_MASK};
use rvs_flow::odp::{self, DpFlowStats, DumpExtras, FormatOptions, OdpAction};
use rvs_flow::ofp_match::{format_match, format_megaflow, parse_match_and_priority};
use rvs_flow::ufid::{Ufid, UfidGenerator};
use rvs_flow::{Flow, Match, Wildcards};
use rvs_ofproto::classifier::{Classifier, Rule, Version};

use crate::frames;

/// The rules of the demo table: OpenFlow match text and the port the stand-in translation outputs to.
const RULES: &[(&str, Option<u32>)] = &[
    ("priority=300,tcp,nw_dst=10.0.0.0/24,tp_dst=80", Some(2)),
    ("priority=200,udp,nw_dst=10.0.0.0/24,tp_dst=53", Some(3)),
    ("priority=100,ip,nw_src=192.168.0.0/16", Some(4)),
    ("priority=50,arp", Some(1)),
    ("priority=0", None),
];

/// One installed megaflow.
struct Megaflow {
    ufid: Ufid,
    key: Flow,
    mask: Wildcards,
    actions: Vec<OdpAction>,
    packets: AtomicU64,
    bytes: AtomicU64,
    used: AtomicU64,
}

/// A small datapath: megaflow classifier plus counters.
struct DemoDatapath {
    cls: Classifier<Option<u32>>,
    version: Version,
    megaflows: Dpcls<Megaflow>,
    installed: Vec<Arc<Megaflow>>,
    ufids: UfidGenerator,
    hits: u64,
    misses: u64,
}

const MAC_A: [u8; 6] = [0x50, 0x54, 0x00, 0x00, 0x00, 0x01];
const MAC_B: [u8; 6] = [0x50, 0x54, 0x00, 0x00, 0x00, 0x02];

/// The traffic mix: (in_port, frame) generators indexed by packet number.
fn frame_for(i: usize) -> (u32, Vec<u8>) {
    let n = i as u16;
    match i % 6 {
        0 | 1 => (
            1,
            frames::tcp(
                MAC_A,
                MAC_B,
                [172, 16, 0, 5],
                [10, 0, 0, (i % 7) as u8 + 1],
                (40000 + n % 500, 80),
                0x18,
            ),
        ),
        2 => (
            1,
            frames::udp(
                MAC_A,
                MAC_B,
                [172, 16, 0, 5],
                [10, 0, 0, 9],
                (5000 + n % 300, 53),
            ),
        ),
        3 => (
            3,
            frames::tcp(
                MAC_B,
                MAC_A,
                [192, 168, (i % 3) as u8, 7],
                [8, 8, 8, 8],
                (33000 + n % 100, 443),
                0x10,
            ),
        ),
        4 => (
            2,
            frames::arp_request(MAC_B, [10, 0, 0, 2], [10, 0, 0, (i % 5) as u8 + 1]),
        ),
        _ => (
            4,
            frames::udp(MAC_B, MAC_A, [172, 17, 0, 1], [172, 17, 0, 2], (123, 123)),
        ),
    }
}

impl DemoDatapath {
    fn new() -> Result<DemoDatapath> {
        let mut cls = Classifier::new();
        let version = Version(1);
        for (text, port) in RULES {
            let (m, prio) =
                parse_match_and_priority(text).with_context(|| format!("demo rule {text}"))?;
            cls.insert(Rule::new(m, u32::from(prio), *port), version);
        }
        Ok(DemoDatapath {
            cls,
            version,
            megaflows: Dpcls::new(),
            installed: Vec::new(),
            ufids: UfidGenerator::process(),
            hits: 0,
            misses: 0,
        })
    }

    /// The upcall path: classify, build the megaflow mask, install. Returns the new megaflow.
    fn upcall(&mut self, flow: &Flow) -> Arc<Megaflow> {
        let mut wc = Wildcards::default();
        let out_port = self
            .cls
            .lookup(flow, self.version, &mut wc)
            .and_then(|r| r.payload);
        // Bits every translation matches, whatever the rules say (OVS's xlate_wc_init/finish).
        let m = &mut wc.masks;
        m.recirc_id = u32::MAX;
        m.in_port = u32::MAX;
        m.packet_type = u32::MAX;
        m.dl_type = u16::MAX;
        if flow.dl_type == ETH_TYPE_IP || flow.dl_type == ETH_TYPE_IPV6 {
            m.nw_frag = FRAG_MASK;
        }
        let actions = out_port.map(OdpAction::Output).into_iter().collect();
        let mf = Arc::new(Megaflow {
            ufid: self.ufids.ufid_of_flow(flow),
            key: *flow,
            mask: wc,
            actions,
            packets: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            used: AtomicU64::new(0),
        });
        // Megaflows never overlap, so an insert cannot collide; if it did we would keep the first.
        let _ = self.megaflows.insert(flow, &wc, Arc::clone(&mf));
        self.installed.push(Arc::clone(&mf));
        mf
    }

    /// The fast path for one frame.
    fn receive(&mut self, in_port: u32, frame: &[u8], now: u64) -> (bool, Flow) {
        let flow = extract(
            frame,
            &PacketMetadata {
                in_port,
                ..PacketMetadata::default()
            },
        );
        if let Some(mf) = self.megaflows.lookup(&flow) {
            mf.packets.fetch_add(1, Ordering::Relaxed);
            mf.bytes.fetch_add(frame.len() as u64, Ordering::Relaxed);
            mf.used.store(now, Ordering::Relaxed);
            self.hits += 1;
            (true, flow)
        } else {
            self.misses += 1;
            self.upcall(&flow);
            (false, flow)
        }
    }
}

fn dump_line(mf: &Megaflow, now: u64, verbose: bool) -> String {
    let stats = DpFlowStats {
        n_packets: mf.packets.load(Ordering::Relaxed),
        n_bytes: mf.bytes.load(Ordering::Relaxed),
        used_ms: mf.used.load(Ordering::Relaxed),
        tcp_flags: 0,
    };
    let extras = DumpExtras {
        dp_layer: Some("ovs".into()),
        ..DumpExtras::default()
    };
    let opts = FormatOptions {
        verbose,
        ..FormatOptions::default()
    };
    let mut s = String::new();
    odp::format_dump_line(
        &mut s,
        Some(&mf.ufid),
        &mf.key,
        &mf.mask,
        &stats,
        now,
        &mf.actions,
        &extras,
        &opts,
    );
    s
}

/// Runs the demo, writing to `out`.
pub(crate) fn run(packets: usize, out: &mut impl Write) -> Result<()> {
    let mut dp = DemoDatapath::new()?;
    writeln!(
        out,
        "rvs demo: the flow layer, the OpenFlow classifier and the megaflow cache\n"
    )?;
    writeln!(
        out,
        "== OpenFlow table 0 (ovs-ofctl syntax, printed back by rvs) =="
    )?;
    for (text, port) in RULES {
        let (m, prio) = parse_match_and_priority(text)?;
        let mut s = String::new();
        format_match(&mut s, &m, Some(prio));
        let action = port.map_or("drop".to_string(), |p| format!("output:{p}"));
        writeln!(
            out,
            "  {} actions={action}",
            if s.is_empty() {
                "(match all)".into()
            } else {
                s
            }
        )?;
    }

    writeln!(
        out,
        "\n== First packet of each kind: miss → upcall → megaflow =="
    )?;
    let mut now = 1_000_000u64;
    let mut shown = 0;
    for i in 0..12 {
        let (port, frame) = frame_for(i);
        now += 1;
        let before = dp.installed.len();
        let (hit, flow) = dp.receive(port, &frame, now);
        if hit || dp.installed.len() == before || shown >= 4 {
            continue;
        }
        shown += 1;
        let mut key = String::new();
        odp::format_key(
            &mut key,
            &flow,
            None,
            &FormatOptions {
                verbose: true,
                ..FormatOptions::default()
            },
        );
        let mf = &dp.installed[dp.installed.len() - 1];
        let mut megaflow = String::new();
        format_megaflow(&mut megaflow, &Match::new(&mf.key, &mf.mask));
        writeln!(
            out,
            "miss upcall on port {port}, {} bytes:\n  {key}",
            frame.len()
        )?;
        writeln!(out, "  Megaflow: {megaflow}")?;
        writeln!(out, "  installed: {}\n", dump_line(mf, now, false))?;
    }

    writeln!(out, "== {packets} more packets through the cache ==")?;
    let (hits0, misses0) = (dp.hits, dp.misses);
    for i in 12..12 + packets {
        let (port, frame) = frame_for(i);
        now += 1;
        dp.receive(port, &frame, now);
    }
    let (hits, misses) = (dp.hits - hits0, dp.misses - misses0);
    writeln!(
        out,
        "  hit:{hits} missed:{misses}  megaflows:{}  masks:{}  ({:.1}% of packets never left the fast path)\n",
        dp.megaflows.len(),
        dp.megaflows.subtable_count(),
        100.0 * hits as f64 / (hits + misses).max(1) as f64
    )?;

    writeln!(
        out,
        "== ovs-appctl dpctl/dump-flows ==\nflow-dump from the main thread:"
    )?;
    for mf in &dp.installed {
        writeln!(out, "{}", dump_line(mf, now, false))?;
    }
    writeln!(
        out,
        "\n== ovs-appctl dpctl/dump-flows -m (first two) ==\nflow-dump from the main thread:"
    )?;
    for mf in dp.installed.iter().take(2) {
        writeln!(out, "{}", dump_line(mf, now, true))?;
    }
    let counted: u64 = dp
        .installed
        .iter()
        .map(|mf| mf.packets.load(Ordering::Relaxed))
        .sum();
    writeln!(
        out,
        "\nEvery packet is accounted for: {counted} counted in megaflows + {} first packets executed by upcalls = {} sent.",
        dp.misses,
        12 + packets
    )?;
    anyhow::ensure!(
        counted + dp.misses == (12 + packets) as u64,
        "statistics do not add up"
    );
    writeln!(
        out,
        "\nNext: the daemon that runs the upcall engine over this datapath (see README: Status)."
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_runs_and_accounts_for_every_packet() {
        let mut out = Vec::new();
        run(600, &mut out).expect("demo runs");
        let text = String::from_utf8(out).expect("utf-8");
        assert!(text.contains("flow-dump from the main thread:"));
        assert!(text.contains("Every packet is accounted for"));
        // The web rule matches tp_dst only: one megaflow per destination covers every source port.
        assert!(text.contains("tcp(dst=80)"), "{text}");
        assert!(
            text.contains("Megaflow: recirc_id=0,eth,tcp,in_port=1"),
            "{text}"
        );
    }
}

//! Cost of one revalidation re-translation through [`OfprotoDpif`] (the daemon's translator),
//! old way against new way, printed as JSON lines (`name`, `flows`, `ns_per_flow` = median over
//! passes, `raw` = every pass):
//! * `fresh`: `translate(for_revalidation)`, slow-path substitution, compare with the installed
//!   actions, replace the xlate cache (what the revalidator did before `Translator::revalidate`);
//! * `revalidate`: [`Translator::revalidate`] (scratch buffers, cache kept when unchanged).
//!
//! Workloads: `compare` = the compare bench's rule set (`udp,nw_dst=198.19.0.0/16,tp_dst=80`
//! with two `move`s and `output:2`, plus `priority=0,actions=drop`), one flow per 5-tuple;
//! `normal` = `priority=0,actions=NORMAL` with learned MACs; `pipeline` = 3 tables of resubmits.
//! An unrelated `add-flow` precedes the rounds, as in the compare bench.
//!
//! Run: `cargo run --release -p rvs --example reval_xlate_bench [-- FLOWS PASSES [NAME]]`.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use rvs::ofproto_dpif::OfprotoDpif;
use rvs_dpif::clock::VirtualClock;
use rvs_dpif::dpif::Actions;
use rvs_flow::Flow;
use rvs_flow::flow::{ETH_TYPE_IP, ipproto};
use rvs_ofproto::vlan::PortVlanSettings;
use rvs_upcall::xlate::{Translator, XlateCache, XlateRequest};

/// An installed flow: its key, actions and xlate cache.
type Installed = (Flow, Actions, Option<Box<dyn XlateCache>>);

fn world(rules: &[&str]) -> OfprotoDpif {
    let ofproto = OfprotoDpif::new(Arc::new(VirtualClock::new(1000)));
    if let Err(e) = ofproto.add_bridge("br0", 100, false) {
        panic!("bridge: {e}");
    }
    for p in 1..=4u16 {
        if let Err(e) = ofproto.add_port(
            "br0",
            &format!("p{p}"),
            u32::from(p),
            Some(p),
            &PortVlanSettings::default(),
        ) {
            panic!("port: {e}");
        }
    }
    for r in rules {
        if let Err(e) = ofproto.ofctl("br0", "add-flow", &[(*r).to_owned()]) {
            panic!("add-flow {r}: {e}");
        }
    }
    ofproto
}

fn udp_flow(i: u32, normal: bool) -> Flow {
    let mut f = Flow {
        in_port: if normal { 1 + i % 4 } else { 1 },
        dl_type: ETH_TYPE_IP,
        nw_proto: ipproto::UDP,
        nw_src: 0x0a00_0000 | (i >> 8),
        nw_dst: 0xc613_0000 | (i & 0xffff),
        nw_ttl: 64,
        tp_src: 1024 + (i & 0xff) as u16,
        tp_dst: 80,
        ..Flow::default()
    };
    let h = i % 64;
    f.dl_src = [0, 0, 0, 0, (h >> 8) as u8, h as u8];
    f.dl_dst = [0, 0, 0, 0, 1, ((i + 1) % 64) as u8];
    if normal {
        f.dl_dst = [0, 0, 0, 0, 0, ((i + 1) % 64) as u8];
    }
    f
}

fn req(flow: &Flow, for_revalidation: bool, v: u64) -> XlateRequest<'_> {
    XlateRequest {
        flow,
        tcp_flags: 0,
        for_revalidation,
        tables_version: v,
    }
}

fn install(ofproto: &OfprotoDpif, flows: impl Iterator<Item = Flow>) -> Vec<Installed> {
    flows
        .map(|f| {
            let out = match ofproto.translate(&req(&f, false, ofproto.tables_version())) {
                Ok(out) => out,
                Err(e) => panic!("translate: {e}"),
            };
            let actions = if out.slow_path != 0 {
                ofproto.slow_path_actions(&f, out.slow_path)
            } else {
                out.actions
            };
            (f, actions, out.xcache)
        })
        .collect()
}

/// The old revalidator path for one flow; returns whether the actions changed.
fn fresh(ofproto: &OfprotoDpif, v: u64, slot: &mut Installed) -> bool {
    let (f, actions, xcache) = slot;
    let Ok(out) = ofproto.translate(&req(f, true, v)) else {
        return true;
    };
    *xcache = out.xcache;
    let new = if out.slow_path != 0 {
        ofproto.slow_path_actions(f, out.slow_path)
    } else {
        out.actions
    };
    black_box(out.wc);
    *new != **actions
}

/// The new path for one flow; returns whether the actions changed.
fn reuse(ofproto: &OfprotoDpif, v: u64, slot: &mut Installed) -> bool {
    let (f, actions, xcache) = slot;
    match ofproto.revalidate(&req(f, true, v), actions, xcache) {
        Ok(out) => {
            black_box(out.wc);
            out.new_actions.is_some()
        }
        Err(_) => true,
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n: u32 = args.first().and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let passes: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(21);
    let filter = args.get(2);
    let compare = [
        "priority=10,udp,nw_dst=198.19.0.0/16,tp_dst=80,actions=move:NXM_OF_IP_SRC[]->NXM_NX_REG0[],move:NXM_OF_UDP_SRC[]->NXM_NX_REG1[0..15],output:2",
        "priority=0,actions=drop",
    ];
    let normal = ["priority=0,actions=NORMAL"];
    let pipeline = [
        "priority=10,udp,actions=resubmit(,1)",
        "table=1,priority=10,nw_dst=198.19.0.0/16,actions=resubmit(,2)",
        "table=2,priority=10,tp_dst=80,actions=mod_nw_tos:4,output:2",
        "priority=0,actions=drop",
    ];
    let cases: [(&str, &[&str], bool); 3] = [
        ("compare", &compare, false),
        ("normal", &normal, true),
        ("pipeline", &pipeline, false),
    ];
    for (name, rules, is_normal) in cases {
        if filter.is_some_and(|f| !name.contains(f.as_str())) {
            continue;
        }
        let ofproto = world(rules);
        // NORMAL learns every source first, so installed flows do not flood.
        install(&ofproto, (0..n).map(|i| udp_flow(i, is_normal)));
        let mut a = install(&ofproto, (0..n).map(|i| udp_flow(i, is_normal)));
        let mut b = install(&ofproto, (0..n).map(|i| udp_flow(i, is_normal)));
        if let Err(e) = ofproto.ofctl(
            "br0",
            "add-flow",
            &["priority=1,tcp,tp_dst=9999,actions=drop".to_owned()],
        ) {
            panic!("flow-mod: {e}");
        }
        let v = ofproto.tables_version();
        let (mut t_fresh, mut t_reuse) = (Vec::new(), Vec::new());
        let mut changed = 0usize;
        for pass in 0..=passes {
            let t = Instant::now();
            for slot in a.iter_mut() {
                changed += usize::from(fresh(&ofproto, v, slot));
            }
            let fresh_ns = t.elapsed().as_nanos() as f64 / f64::from(n);
            let t = Instant::now();
            for slot in b.iter_mut() {
                changed += usize::from(reuse(&ofproto, v, slot));
            }
            let reuse_ns = t.elapsed().as_nanos() as f64 / f64::from(n);
            if pass > 0 {
                t_fresh.push(fresh_ns);
                t_reuse.push(reuse_ns);
            }
        }
        assert_eq!(changed, 0, "the unrelated flow-mod changed no actions");
        for (variant, times) in [("fresh", &mut t_fresh), ("revalidate", &mut t_reuse)] {
            let raw: Vec<String> = times.iter().map(|t| format!("{t:.1}")).collect();
            println!(
                "{{\"name\":\"{name}/{variant}\",\"flows\":{n},\"ns_per_flow\":{:.1},\"raw\":[{}]}}",
                median(times),
                raw.join(",")
            );
        }
    }
}

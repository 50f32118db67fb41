//! `dpctl/show` data and text.
//!
//! # Invariants
//! * [`DpShow`]'s `Display` prints what OVS 3.1's `dpctl/show` prints for a userspace datapath
//!   (checked on the oracle with the dummy datapath): the name line, `lookups:` and `flows:`, then one
//!   line per port sorted by number, `(type[: key=value, ...])` after the name. OVS's userspace
//!   datapath reports its mask and cache counters as unsupported, so it prints no `masks:` or
//!   `cache:` lines; [`DpShow::with_masks`] adds them, in OVS's kernel-datapath format, with this
//!   datapath's real values.

use std::fmt;

use super::Datapath;
use crate::dpif::{DpStats, Dpif};

/// One port as `dpctl/show` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShowPort {
    /// Port number.
    pub port_no: u32,
    /// Name.
    pub name: String,
    /// Type (`system` is printed without parentheses, as OVS does).
    pub kind: String,
    /// Configuration pairs, sorted by key.
    pub config: Vec<(String, String)>,
}

/// Everything `dpctl/show` prints about a datapath.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DpShow {
    /// Full name (`dummy@ovs-dummy`).
    pub name: String,
    /// Datapath counters.
    pub stats: DpStats,
    /// Ports, sorted by number.
    pub ports: Vec<ShowPort>,
    /// Print the `masks:` and `cache:` lines.
    pub with_masks: bool,
}

impl Datapath {
    /// The `dpctl/show` data of this datapath (without the `masks:`/`cache:` lines, as OVS).
    pub fn show(&self) -> DpShow {
        let ports = self
            .shared
            .ports
            .load()
            .iter()
            .map(|p| ShowPort {
                port_no: p.port_no,
                name: p.name.clone(),
                kind: p.kind.clone(),
                config: p.config.clone(),
            })
            .collect();
        DpShow {
            name: self.name().to_owned(),
            stats: self.dp_stats(),
            ports,
            with_masks: false,
        }
    }
}

impl fmt::Display for DpShow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.stats;
        writeln!(f, "{}:", self.name)?;
        writeln!(
            f,
            "  lookups: hit:{} missed:{} lost:{}",
            s.n_hit, s.n_missed, s.n_lost
        )?;
        writeln!(f, "  flows: {}", s.n_flows)?;
        if self.with_masks {
            let n_pkts = s.n_hit.wrapping_add(s.n_missed);
            let ratio = |x: u64| {
                if n_pkts == 0 {
                    0.0
                } else {
                    x as f64 / n_pkts as f64
                }
            };
            writeln!(
                f,
                "  masks: hit:{} total:{} hit/pkt:{:.2}",
                s.n_mask_hit,
                s.n_masks,
                ratio(s.n_mask_hit)
            )?;
            writeln!(
                f,
                "  cache: hit:{} hit-rate:{:.2}%",
                s.n_cache_hit,
                ratio(s.n_cache_hit) * 100.0
            )?;
        }
        for p in &self.ports {
            write!(f, "  port {}: {}", p.port_no, p.name)?;
            if p.kind != "system" {
                write!(f, " ({}", p.kind)?;
                for (i, (k, v)) in p.config.iter().enumerate() {
                    write!(f, "{} {k}={v}", if i == 0 { ':' } else { ',' })?;
                }
                write!(f, ")")?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

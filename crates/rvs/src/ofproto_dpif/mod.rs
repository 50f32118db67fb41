//! The OpenFlow bridges of one datapath presented to the upcall engine as its
//! [`rvs_upcall::xlate::Translator`] (Open vSwitch's `ofproto-dpif` glue).
//!
//! * [`OfprotoDpif`]: every bridge of one datapath (ports, versioned OpenFlow tables, MAC
//!   table), the global tables version and the change hook.
//! * `xlate`: the [`Translator`](rvs_upcall::xlate::Translator) implementation and its cache.
//! * `ofctl`: the `ovs-ofctl` flow commands of the control socket.
//! * `trace`: `ofproto/trace` argument handling.
//! * `bridge`: the per-bridge state and its locks.
//! * `journal`: the changes since a translation and whether they can affect it.
//!
//! # Invariants
//! * Datapath port numbers and port names are unique across the whole datapath; OpenFlow port
//!   numbers are unique within a bridge.
//! * `tables_version` grows after every committed OpenFlow table change of any bridge (flow
//!   mods, expiry) and after bridge and port additions and deletions, always *after* the change
//!   is visible to translations; the change hook is called after every such bump and after every
//!   MAC table change (learn, move, expiry, flush), never for a change-free packet.
//! * Every change the hook is called for is recorded in the change journal first: flow-table
//!   changes as their per-table summaries (`tables_changed`), anything else as an opaque change
//!   (`changed`, `notify`), which makes every earlier translation count as affected.
//! * The change hook is called with no lock of this module held.
//! * Nothing from outside (command text, flows, packets) can panic: errors are returned as text.
//!
//! Partial (compared with OVS 3.1): `dump-flows --names` accepts names but still prints port
//! numbers; switch-side flow-mod errors print as `OFPT_ERROR: <error>` without OVS's echo of the
//! offending message; translation errors (recursion too deep, too many resubmits) install a
//! drop flow; `ofproto/trace` ignores `--l7`, `--ct-next` and `--consistent` and does not
//! execute the packet (see `trace`); `dump-flows` prints rules in `rvs_ofproto`'s order, which
//! is not always OVS's hash-table order.

mod bridge;
mod journal;
mod ofctl;
#[cfg(test)]
mod reval_tests;
#[cfg(test)]
mod test_bridge;
mod trace;
#[cfg(test)]
mod unchanged_tests;
mod xlate;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::RwLock;
use rvs_dpif::clock::Clock;
use rvs_ofproto::actions::Dialect;
use rvs_ofproto::mac_learning::fdb_text::{FDB_FLUSH_REPLY, NO_SUCH_BRIDGE};
use rvs_ofproto::mac_learning::ofp_port_label;
use rvs_ofproto::table::Ofctl;
use rvs_ofproto::vlan::{PortVlan, PortVlanSettings};
use rvs_ofproto::xlate::{Bridge, BridgePort};

use bridge::BridgeState;

pub use xlate::DpifXlateCache;

/// The change hook: called after anything that must revalidate cached flows.
type ChangeHook = Arc<dyn Fn() + Send + Sync>;

/// All OpenFlow bridges of one datapath.
pub struct OfprotoDpif {
    clock: Arc<dyn Clock>,
    bridges: RwLock<Vec<Arc<BridgeState>>>,
    tables_version: AtomicU64,
    journal: journal::ChangeJournal,
    hook: RwLock<Option<ChangeHook>>,
    /// Datapath type for `ofproto/trace DPNAME odp_flow` (`dummy`, `netdev`).
    dp_type: RwLock<String>,
}

impl std::fmt::Debug for OfprotoDpif {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OfprotoDpif")
            .field("bridges", &self.bridges())
            .field(
                "tables_version",
                &self.tables_version.load(Ordering::Relaxed),
            )
            .finish()
    }
}

impl OfprotoDpif {
    /// No bridges yet; times come from `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> OfprotoDpif {
        OfprotoDpif {
            clock,
            bridges: RwLock::new(Vec::new()),
            tables_version: AtomicU64::new(1),
            journal: journal::ChangeJournal::default(),
            hook: RwLock::new(None),
            dp_type: RwLock::new("dummy".to_owned()),
        }
    }

    /// Sets the datapath type `ofproto/trace` accepts as its datapath-name argument
    /// (`dummy` by default; `ovs-<type>` is accepted too, as in OVS).
    pub fn set_datapath_type(&self, dp_type: &str) {
        *self.dp_type.write() = dp_type.to_owned();
    }

    fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }

    fn now_ms_signed(&self) -> i64 {
        i64::try_from(self.now_ms()).unwrap_or(i64::MAX)
    }

    /// The bridge called `name`.
    fn bridge(&self, name: &str) -> Option<Arc<BridgeState>> {
        self.bridges.read().iter().find(|b| b.name == name).cloned()
    }

    /// The bridge owning datapath port `odp_port`.
    fn bridge_of_odp_port(&self, odp_port: u32) -> Option<Arc<BridgeState>> {
        self.bridges
            .read()
            .iter()
            .find(|b| b.ports.read().by_odp_port(odp_port).is_some())
            .cloned()
    }

    /// Records an opaque change, bumps the tables version and calls the change hook (a
    /// committed change of bridges, ports or settings).
    fn changed(&self) {
        self.journal.record_opaque();
        self.tables_version.fetch_add(1, Ordering::AcqRel);
        self.call_hook();
    }

    /// Records committed flow-table changes (`Tables::take_changes` after the commit), bumps the
    /// tables version and calls the change hook.
    fn tables_changed(&self, changes: Vec<rvs_ofproto::table::TableChange>) {
        self.journal.record_tables(changes);
        self.tables_version.fetch_add(1, Ordering::AcqRel);
        self.call_hook();
    }

    /// Records an opaque change (the MAC table) and calls the change hook.
    fn notify(&self) {
        self.journal.record_opaque();
        self.call_hook();
    }

    /// Calls the change hook (no lock of ours is held by the callers).
    fn call_hook(&self) {
        let hook = self.hook.read().clone();
        if let Some(hook) = hook {
            hook();
        }
    }

    /// Adds a bridge with its LOCAL port (OpenFlow `LOCAL`, datapath port `local_odp_port`,
    /// named like the bridge), OVS's hidden internal rules in table 254, and, if
    /// `default_normal_flow`, the visible `priority=0 actions=NORMAL` rule in table 0 that a
    /// fresh OVS bridge in standalone fail mode shows in `ovs-ofctl dump-flows`.
    pub fn add_bridge(
        &self,
        name: &str,
        local_odp_port: u32,
        default_normal_flow: bool,
    ) -> Result<(), String> {
        if name.is_empty() {
            return Err("bridge name must not be empty".to_owned());
        }
        let mut bridges = self.bridges.write();
        if bridges.iter().any(|b| b.name == name) {
            return Err(format!("bridge {name} already exists"));
        }
        if let Some(owner) = bridges.iter().find(|b| {
            let ports = b.ports.read();
            ports.by_name(name).is_some() || ports.by_odp_port(local_odp_port).is_some()
        }) {
            return Err(format!(
                "bridge {name}: port name or datapath port {local_odp_port} already in use on bridge {}",
                owner.name
            ));
        }
        let br = BridgeState::new(name, self.now_ms_signed());
        let local = rvs_flow::ofp_match::port::OFPP_LOCAL;
        br.ports
            .write()
            .add_port(local, local_odp_port, name, PortVlan::default());
        if default_normal_flow {
            let mut tables = br.tables.write();
            // OpenFlow 1.3 so that no `reset_counts` flag is stored (OVS adds it internally).
            Ofctl::new(Dialect::OpenFlow13)
                .add_flow(
                    &mut tables,
                    "priority=0,actions=NORMAL",
                    self.now_ms_signed(),
                )
                .map_err(|e| format!("default flow: {e}"))?;
            let version = tables.version();
            tables.purge(version);
        }
        // A new bridge is an opaque change (`changed` below): its rules need no summary.
        let _ = br.tables.write().take_changes();
        bridges.push(Arc::new(br));
        drop(bridges);
        self.changed();
        Ok(())
    }

    /// Adds port `name` (datapath port `odp_port`) to `bridge` with OpenFlow number `ofport`,
    /// or the lowest free number from 1 on if `None` (as OVS picks one); returns the number.
    pub fn add_port(
        &self,
        bridge: &str,
        name: &str,
        odp_port: u32,
        ofport: Option<u16>,
        vlan: &PortVlanSettings,
    ) -> Result<u16, String> {
        let bridges = self.bridges.read();
        let Some(br) = bridges.iter().find(|b| b.name == bridge).cloned() else {
            return Err(format!("no bridge named {bridge}"));
        };
        for b in bridges.iter() {
            let ports = b.ports.read();
            if ports.by_name(name).is_some() {
                return Err(format!("port {name} already exists on bridge {}", b.name));
            }
            if let Some(p) = ports.by_odp_port(odp_port) {
                return Err(format!(
                    "datapath port {odp_port} is already used by port {} on bridge {}",
                    p.name, b.name
                ));
            }
        }
        let mut ports = br.ports.write();
        let number = match ofport {
            Some(n) if n == 0 || n >= rvs_flow::ofp_match::port::OFPP_MAX => {
                return Err(format!(
                    "port {name}: OpenFlow port number {n} is out of range 1..65279"
                ));
            }
            Some(n) => {
                if let Some(p) = ports.by_ofport(n) {
                    return Err(format!(
                        "port {name}: OpenFlow port number {n} is already used by port {} on bridge {bridge}",
                        p.name
                    ));
                }
                n
            }
            None => (1..rvs_flow::ofp_match::port::OFPP_MAX)
                .find(|n| ports.by_ofport(*n).is_none())
                .ok_or_else(|| format!("bridge {bridge}: no free OpenFlow port number"))?,
        };
        if !ports.add_port(number, odp_port, name, PortVlan::from_settings(vlan)) {
            return Err(format!(
                "port {name}: could not be added to bridge {bridge}"
            ));
        }
        drop(ports);
        drop(bridges);
        self.changed();
        Ok(number)
    }

    /// Removes port `name` (not a bridge's LOCAL port); returns its bridge and datapath port.
    /// Its MAC entries go with it; rules that name it stay (as in OVS).
    pub fn del_port(&self, name: &str) -> Result<(String, u32), String> {
        let bridges = self.bridges.read();
        let Some(br) = bridges
            .iter()
            .find(|b| b.ports.read().by_name(name).is_some())
            .cloned()
        else {
            return Err(format!("no port named {name}"));
        };
        if br.name == name {
            return Err(format!("port {name} is the local port of its bridge"));
        }
        let mut ports = br.ports.write();
        let mut rebuilt = Bridge::new();
        let mut removed = None;
        for p in ports.ports() {
            if p.name == name {
                removed = Some((p.ofport, p.odp_port));
            } else {
                rebuilt.add_port(p.ofport, p.odp_port, &p.name, p.vlan.clone());
            }
        }
        let Some((ofport, odp_port)) = removed else {
            return Err(format!("no port named {name}"));
        };
        *ports = rebuilt;
        drop(ports);
        drop(bridges);
        br.mac.flush_port(&ofport);
        self.changed();
        Ok((br.name.clone(), odp_port))
    }

    /// The bridges' names, in creation order.
    pub fn bridges(&self) -> Vec<String> {
        self.bridges.read().iter().map(|b| b.name.clone()).collect()
    }

    /// The bridge that has a port called `name`.
    pub fn bridge_of_port(&self, name: &str) -> Option<String> {
        self.bridges
            .read()
            .iter()
            .find(|b| b.ports.read().by_name(name).is_some())
            .map(|b| b.name.clone())
    }

    /// The ports of `bridge` (LOCAL first, then in the order they were added).
    pub fn ports(&self, bridge: &str) -> Option<Vec<BridgePort>> {
        self.bridge(bridge).map(|b| b.ports.read().ports().to_vec())
    }

    /// Sets the hook called after any change that must revalidate cached flows (flow-table
    /// change, port change, MAC learn/move/expiry/flush); the daemon passes
    /// `move || udpif.revalidate()`.
    pub fn set_change_hook(&self, hook: Box<dyn Fn() + Send + Sync>) {
        *self.hook.write() = Some(Arc::from(hook));
    }

    /// Periodic work (about once a second): OpenFlow idle and hard timeouts, MAC aging, purge
    /// of table versions no translation can use any more. Calls the change hook if anything
    /// changed.
    pub fn run(&self) {
        let now = self.now_ms();
        let now_signed = self.now_ms_signed();
        let bridges: Vec<Arc<BridgeState>> = self.bridges.read().clone();
        let mut tables_changed = false;
        let mut changes = Vec::new();
        let mut mac_changed = false;
        for br in &bridges {
            {
                let mut tables = br.tables.write();
                if !tables.expire(now_signed).is_empty() {
                    tables_changed = true;
                }
                changes.extend(tables.take_changes());
                // Translations hold the read lock for their whole run, so none can be using an
                // older version now.
                let version = tables.version();
                tables.purge(version);
            }
            if br.mac.run(now).needed {
                mac_changed = true;
            }
        }
        if tables_changed {
            self.tables_changed(changes);
        }
        if mac_changed {
            self.notify();
        }
    }

    /// Sets the prefix-trie fields of table `table` of `bridge` (OVS's `Flow_Table` `prefixes`
    /// column): `fields` is a comma list of `nw_src`, `nw_dst`, `ipv6_src`, `ipv6_dst` (at most
    /// three), or `none`/empty for no tries. Revalidates cached flows if anything changed.
    pub fn set_prefixes(&self, bridge: &str, table: &str, fields: &str) -> Result<String, String> {
        let br = self
            .bridge(bridge)
            .ok_or_else(|| format!("{bridge}: no such bridge"))?;
        let table: u8 = table
            .parse()
            .ok()
            .filter(|t| *t < 255)
            .ok_or_else(|| format!("{table}: a table number from 0 to 254 is expected"))?;
        let mut parsed = Vec::new();
        if fields != "none" {
            for name in fields.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                let field =
                    rvs_ofproto::classifier::PrefixField::from_name(name).ok_or_else(|| {
                        format!("{name}: not a prefix field (nw_src, nw_dst, ipv6_src, ipv6_dst)")
                    })?;
                if !parsed.contains(&field) {
                    parsed.push(field);
                }
            }
        }
        if parsed.len() > rvs_ofproto::classifier::MAX_TRIES {
            return Err(format!(
                "at most {} prefix fields per table",
                rvs_ofproto::classifier::MAX_TRIES
            ));
        }
        let changed = br.tables.write().set_prefix_fields(table, &parsed);
        if changed {
            self.changed();
        }
        Ok(String::new())
    }

    /// Total OpenFlow rules of every bridge, hidden ones included (`memory/show` `rules:`).
    pub fn n_rules(&self) -> usize {
        let bridges: Vec<Arc<BridgeState>> = self.bridges.read().clone();
        bridges
            .iter()
            .map(|b| {
                let tables = b.tables.read();
                tables.rule_count(tables.version())
            })
            .sum()
    }

    /// `fdb/show BRIDGE`.
    pub fn fdb_show(&self, bridge: &str) -> Result<String, String> {
        let br = self
            .bridge(bridge)
            .ok_or_else(|| NO_SUCH_BRIDGE.to_owned())?;
        Ok(br.mac.fdb_show(self.now_ms(), |p| ofp_port_label(*p)))
    }

    /// `fdb/flush [BRIDGE]`: removes the learned entries of one bridge or of all.
    pub fn fdb_flush(&self, bridge: Option<&str>) -> Result<String, String> {
        let targets = match bridge {
            Some(name) => vec![self.bridge(name).ok_or_else(|| NO_SUCH_BRIDGE.to_owned())?],
            None => self.bridges.read().clone(),
        };
        let mut flushed = 0;
        for br in &targets {
            flushed += br.mac.flush();
        }
        if flushed > 0 {
            self.notify();
        }
        Ok(FDB_FLUSH_REPLY.to_owned())
    }
}

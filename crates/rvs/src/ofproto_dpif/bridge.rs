//! One OpenFlow bridge of the datapath: its ports, its versioned tables and its MAC table, each
//! behind its own lock so that translations (readers) and flow mods (writers) never block on
//! unrelated state.
//!
//! # Invariants
//! * Lock order, everywhere: the bridge list of [`super::OfprotoDpif`], then `ports`, then
//!   `tables`; the MAC table's lock is a leaf (taken inside translation, never held across
//!   another lock acquisition by this module).
//! * A translation holds the `ports` and `tables` read locks for its whole duration, so it sees
//!   one consistent snapshot (one [`Tables::version`]); flow mods take the `tables` write lock.

use parking_lot::RwLock;
use rvs_ofproto::mac_learning::MacLearning;
use rvs_ofproto::table::Tables;
use rvs_ofproto::xlate::Bridge;

/// One bridge (OVS's `ofproto_dpif`).
#[derive(Debug)]
pub(crate) struct BridgeState {
    /// Its name (also the name of its LOCAL port).
    pub(crate) name: String,
    /// Its ports (OpenFlow ↔ datapath numbers, names, VLAN modes).
    pub(crate) ports: RwLock<Bridge>,
    /// Its OpenFlow tables.
    pub(crate) tables: RwLock<Tables>,
    /// NORMAL's MAC table, keyed by OpenFlow port.
    pub(crate) mac: MacLearning<u16>,
}

impl BridgeState {
    /// A bridge with no ports and OVS's hidden internal rules (table 254).
    pub(crate) fn new(name: &str, now_ms: i64) -> BridgeState {
        BridgeState {
            name: name.to_owned(),
            ports: RwLock::new(Bridge::new()),
            tables: RwLock::new(Tables::with_internal_flows(now_ms)),
            mac: MacLearning::new(),
        }
    }
}

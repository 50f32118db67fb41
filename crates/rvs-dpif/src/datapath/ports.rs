//! The datapath's ports: an immutable, sorted snapshot republished on every change, so forwarding
//! threads read it without locks.
//!
//! # Invariants
//! * Port numbers and names are unique within a snapshot; the list is sorted by number.
//! * Port 0 is the datapath's local port (named after the datapath); it cannot be deleted.
//! * Changes are serialised by the port mutex; each publishes a fresh snapshot.

use std::sync::Arc;

use rvs_netdev::Netdev;

use crate::dpif::DpPort;

/// The local port's number (`ODPP_LOCAL`).
pub const LOCAL_PORT: u32 = 0;
/// `ODPP_NONE`: never a port number.
const PORT_NONE: u32 = u32::MAX;

/// One datapath port.
pub struct Port {
    /// Datapath port number.
    pub port_no: u32,
    /// Name (the netdev's).
    pub name: String,
    /// Type as `dpctl/show` prints it (`dummy`, `dummy-internal`, `afpacket`, ...).
    pub kind: String,
    /// Configuration pairs `dpctl/show` prints after the type (`ifindex=1`), sorted by key.
    pub config: Vec<(String, String)>,
    /// The device.
    pub netdev: Arc<dyn Netdev>,
}

impl std::fmt::Debug for Port {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Port({}: {} ({}))", self.port_no, self.name, self.kind)
    }
}

/// A snapshot of the ports, sorted by number.
#[derive(Default, Debug)]
pub(crate) struct PortTable {
    ports: Vec<Arc<Port>>,
}

impl PortTable {
    /// The port numbered `port_no`.
    #[inline]
    pub(crate) fn get(&self, port_no: u32) -> Option<&Arc<Port>> {
        self.ports
            .binary_search_by_key(&port_no, |p| p.port_no)
            .ok()
            .and_then(|i| self.ports.get(i))
    }

    /// The port named `name`.
    pub(crate) fn by_name(&self, name: &str) -> Option<&Arc<Port>> {
        self.ports.iter().find(|p| p.name == name)
    }

    /// Every port, by number.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Arc<Port>> {
        self.ports.iter()
    }

    /// Number of ports.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.ports.len()
    }

    /// A copy with `port` added.
    pub(crate) fn with(&self, port: Port) -> PortTable {
        let mut ports = self.ports.clone();
        let at = ports.partition_point(|p| p.port_no < port.port_no);
        ports.insert(at, Arc::new(port));
        PortTable { ports }
    }

    /// A copy without port `port_no`.
    pub(crate) fn without(&self, port_no: u32) -> PortTable {
        PortTable {
            ports: self
                .ports
                .iter()
                .filter(|p| p.port_no != port_no)
                .cloned()
                .collect(),
        }
    }

    /// The port list for `Dpif::port_list`.
    pub(crate) fn list(&self) -> Vec<DpPort> {
        self.ports
            .iter()
            .map(|p| DpPort {
                port_no: p.port_no,
                name: p.name.clone(),
                kind: p.kind.clone(),
            })
            .collect()
    }

    /// The number a new port called `name` gets: with `test_numbering` (OVS's dummy datapaths), the
    /// first number in the name (plus 100 if the name starts with `br`) when that is free, otherwise
    /// the smallest free number from 1.
    pub(crate) fn choose_number(&self, name: &str, test_numbering: bool) -> Option<u32> {
        if test_numbering {
            let base = if name.starts_with("br") { 100 } else { 0 };
            if let Some(start) = name.find(|c: char| c.is_ascii_digit()) {
                let digits: String = name[start..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                if let Some(n) = digits.parse::<u32>().ok().and_then(|n| n.checked_add(base))
                    && n > 0
                    && n != PORT_NONE
                    && self.get(n).is_none()
                {
                    return Some(n);
                }
            }
        }
        (1..=u32::from(u16::MAX)).find(|n| self.get(*n).is_none())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rvs_netdev::DummyNetdev;

    fn port(no: u32, name: &str) -> Port {
        Port {
            port_no: no,
            name: name.into(),
            kind: "dummy".into(),
            config: Vec::new(),
            netdev: Arc::new(DummyNetdev::new(name)),
        }
    }

    #[test]
    fn numbering_follows_ovs_dummy_rules() {
        // OVS 3.1 oracle (`dpctl/show` of the dummy datapath): p1..p4 are ports 1..4, br0 is 100.
        let t = PortTable::default().with(port(0, "ovs-dummy"));
        assert_eq!(t.choose_number("p3", true), Some(3));
        assert_eq!(t.choose_number("br0", true), Some(100));
        assert_eq!(t.choose_number("eth", true), Some(1));
        let t = t.with(port(3, "p3"));
        assert_eq!(t.choose_number("q3", true), Some(1));
        assert_eq!(t.choose_number("p3x", false), Some(1));
        assert_eq!(t.choose_number("p99999999999999", true), Some(1));
    }

    #[test]
    fn sorted_lookup() {
        let t = PortTable::default()
            .with(port(5, "a"))
            .with(port(1, "b"))
            .with(port(3, "c"));
        let order: Vec<u32> = t.iter().map(|p| p.port_no).collect();
        assert_eq!(order, vec![1, 3, 5]);
        assert_eq!(t.get(3).map(|p| p.name.as_str()), Some("c"));
        assert!(t.get(2).is_none());
        assert_eq!(t.without(3).len(), 2);
        assert_eq!(t.by_name("a").map(|p| p.port_no), Some(5));
    }
}

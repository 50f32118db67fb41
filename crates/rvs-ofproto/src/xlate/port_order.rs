//! The order Open vSwitch 3.1 visits a bridge's ports for FLOOD and ALL: the iteration order of
//! its port hash map (keyed by a 32-bit murmur-style hash of the OpenFlow port number, basis 0;
//! buckets grow to keep at most two entries per bucket on average, a new entry goes to the
//! front of its bucket's chain, and growing re-inserts entries bucket by bucket).
//!
//! # Invariants
//! * The result is a permutation of the input; it depends only on the port numbers and the
//!   order they were added in.
//! * This models OVS's generic (non-SSE4.2) hash; it matches OVS 3.1's `ofproto/trace` output
//!   for the oracle's bridge (LOCAL added first, then p1..p4), see the trace fixtures.

/// One mixing step of the word hash.
fn mix_word(hash: u32, data: u32) -> u32 {
    let mut h = hash;
    if data != 0 {
        let d = data
            .wrapping_mul(0xcc9e_2d51)
            .rotate_left(15)
            .wrapping_mul(0x1b87_3593);
        h ^= d;
    }
    h.rotate_left(13).wrapping_mul(5).wrapping_add(0xe654_6b64)
}

/// Final avalanche of the word hash.
fn finish(hash: u32) -> u32 {
    let mut h = hash;
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

/// The hash of an OpenFlow port number (two words: the port and a zero basis).
pub(super) fn port_hash(ofport: u16) -> u32 {
    finish(mix_word(mix_word(u32::from(ofport), 0), 0) ^ 8)
}

/// The bucket mask a map of `n` entries grows to.
fn grown_mask(n: usize) -> usize {
    let mut mask = n / 2;
    let mut shift = 1;
    while shift < usize::BITS {
        mask |= mask >> shift;
        shift *= 2;
    }
    mask | ((mask & 1) << 1)
}

/// The iteration order of a hash map into which `ports` were inserted in order.
pub(super) fn hash_map_order(ports: &[u16]) -> Vec<u16> {
    let mut buckets: Vec<Vec<u16>> = vec![Vec::new()];
    let mut n = 0usize;
    for &p in ports {
        let mask = buckets.len() - 1;
        // The front of a chain is the end of its Vec.
        if let Some(chain) = buckets.get_mut(port_hash(p) as usize & mask) {
            chain.push(p);
        }
        n += 1;
        if n / 2 > mask {
            let new_mask = grown_mask(n);
            if new_mask > mask {
                let mut grown: Vec<Vec<u16>> = vec![Vec::new(); new_mask + 1];
                for chain in &buckets {
                    for &q in chain.iter().rev() {
                        if let Some(c) = grown.get_mut(port_hash(q) as usize & new_mask) {
                            c.push(q);
                        }
                    }
                }
                buckets = grown;
            }
        }
    }
    buckets
        .iter()
        .flat_map(|chain| chain.iter().rev().copied())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oracle_bridge_order() {
        // OVS 3.1 `ofproto/trace` with actions=flood from p2 printed "4,100,1,3" and from p3
        // with actions=all "4,100,1,2" (LOCAL = datapath port 100).
        assert_eq!(
            hash_map_order(&[0xfffe, 1, 2, 3, 4]),
            vec![4, 0xfffe, 1, 2, 3]
        );
    }

    #[test]
    fn is_a_permutation() {
        let ports: Vec<u16> = (1..=40).collect();
        let mut order = hash_map_order(&ports);
        order.sort_unstable();
        assert_eq!(order, ports);
    }
}

//! The 32-bit hash Open vSwitch prints as `hash=%08x` in `coverage/show`.
//!
//! OVS builds it from its generic `hash_int` and `hash_string` helpers. On x86-64 builds without
//! SSE4.2 (the Debian/Ubuntu packages) those use a Murmur3-style 32-bit mixer; this is that
//! variant, checked against the installed OVS 3.1 (`hash=63852afc` for no hit counters,
//! `hash=91b78cb1` for a recorded 32-counter list). Builds with SSE4.2 use CRC32 instead and print
//! other values; rvs does not reproduce those.
//!
//! Invariant: pure functions on `u32` with wrapping arithmetic; no input can make them panic.

/// Folds one 32-bit word into a running hash (zero words leave the word mix out).
fn add_word(hash: u32, word: u32) -> u32 {
    let mixed = if word == 0 {
        hash
    } else {
        let w = word
            .wrapping_mul(0xcc9e_2d51)
            .rotate_left(15)
            .wrapping_mul(0x1b87_3593);
        hash ^ w
    };
    mixed
        .rotate_left(13)
        .wrapping_mul(5)
        .wrapping_add(0xe654_6b64)
}

/// Final avalanche after xoring in the input length.
fn finish(hash: u32, length: u32) -> u32 {
    let mut h = hash ^ length;
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

/// Hash of one 32-bit integer with a basis (OVS `hash_int`, i.e. `hash_2words(x, basis)`).
pub(super) fn hash_int(value: u32, basis: u32) -> u32 {
    finish(add_word(add_word(value, 0), basis), 8)
}

/// Hash of a byte string with a basis (OVS `hash_bytes`; little-endian words, zero-padded tail).
pub(super) fn hash_bytes(bytes: &[u8], basis: u32) -> u32 {
    let mut hash = basis;
    let mut chunks = bytes.chunks_exact(4);
    for chunk in chunks.by_ref() {
        let mut word = [0u8; 4];
        word.copy_from_slice(chunk);
        hash = add_word(hash, u32::from_le_bytes(word));
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        let mut word = [0u8; 4];
        word[..tail.len()].copy_from_slice(tail);
        hash = add_word(hash, u32::from_le_bytes(word));
    }
    // OVS passes the length as a size_t truncated to 32 bits.
    finish(hash, bytes.len() as u32)
}

/// The `coverage/show` hash of a set of counter totals: counters with a non-zero total, ordered by
/// total (largest first) then name, grouped by equal total; each group mixes in its starting rank
/// and then its names; the number of groups is mixed in last.
pub(super) fn coverage_hash(totals: &[(&str, u64)]) -> u32 {
    let mut hit: Vec<(&str, u64)> = totals.iter().copied().filter(|&(_, t)| t != 0).collect();
    hit.sort_by(|a, b| {
        b.1.cmp(&a.1)
            .then_with(|| a.0.as_bytes().cmp(b.0.as_bytes()))
    });
    let mut hash = 0u32;
    let mut groups = 0u32;
    let mut start = 0usize;
    while let Some(&(_, group_total)) = hit.get(start) {
        groups = groups.wrapping_add(1);
        hash = hash_int(start as u32, hash);
        let mut end = start;
        while let Some(&(name, total)) = hit.get(end) {
            if total != group_total {
                break;
            }
            hash = hash_bytes(name.as_bytes(), hash);
            end += 1;
        }
        start = end;
    }
    hash_int(groups, hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_set_matches_ovs() {
        // Recorded from OVS 3.1 `coverage/show` right after start (no counter hit yet).
        assert_eq!(coverage_hash(&[]), 0x6385_2afc);
        assert_eq!(coverage_hash(&[("a", 0), ("b", 0)]), 0x6385_2afc);
    }

    #[test]
    fn order_of_input_does_not_matter() {
        let a = [("x", 3), ("y", 3), ("z", 1)];
        let b = [("z", 1), ("y", 3), ("x", 3)];
        assert_eq!(coverage_hash(&a), coverage_hash(&b));
        assert_ne!(
            coverage_hash(&a),
            coverage_hash(&[("x", 3), ("y", 2), ("z", 1)])
        );
    }

    #[test]
    fn tail_bytes_are_hashed() {
        assert_ne!(hash_bytes(b"abcde", 0), hash_bytes(b"abcdf", 0));
        assert_ne!(hash_bytes(b"", 0), hash_bytes(b"\0", 0));
    }
}

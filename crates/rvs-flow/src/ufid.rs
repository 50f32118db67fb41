//! Unique flow identifiers (UFIDs): 128-bit names for datapath flows.
//!
//! A UFID is MurmurHash3 x64_128 of the **unmasked** flow key, seeded with a 32-bit secret drawn once per
//! process, with the UUID version-4 bits forced in, so that it reads as a random UUID. It is printed the way
//! Open vSwitch prints it: `%08x-%04x-%04x-%04x-%04x%08x` over four 32-bit parts.
//!
//! # Invariants
//! * Within one [`UfidGenerator`] (one process, by [`UfidGenerator::process`]) the same key always gives the
//!   same UFID; different processes give different UFIDs for the same key (as in OVS, UFIDs do not survive a
//!   restart).
//! * `parts[0..2]` are the low and high halves of MurmurHash3's `h1`, `parts[2..4]` those of `h2` (OVS's
//!   little-endian `ovs_u128` layout), and every generated UFID has the v4 bits set.
//! * Parsing accepts exactly what printing produces, with or without the `ufid:` prefix.

use std::fmt;
use std::sync::OnceLock;

use zerocopy::IntoBytes;

use crate::flow::Flow;

/// A 128-bit unique flow id, as four 32-bit parts in OVS's order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ufid {
    /// The four parts; `parts[0]` is printed first.
    pub parts: [u32; 4],
}

impl Ufid {
    /// Builds a UFID from MurmurHash3's `(h1, h2)` without touching the version bits.
    pub fn from_halves(lo: u64, hi: u64) -> Ufid {
        Ufid {
            parts: [lo as u32, (lo >> 32) as u32, hi as u32, (hi >> 32) as u32],
        }
    }

    /// The low 64 bits (`h1`).
    pub fn lo(&self) -> u64 {
        u64::from(self.parts[0]) | (u64::from(self.parts[1]) << 32)
    }

    /// The high 64 bits (`h2`).
    pub fn hi(&self) -> u64 {
        u64::from(self.parts[2]) | (u64::from(self.parts[3]) << 32)
    }

    /// Forces the UUID version-4 and variant bits, as OVS does after hashing.
    pub fn with_v4_bits(mut self) -> Ufid {
        self.parts[2] = (self.parts[2] & !0xc000_0000) | 0x8000_0000;
        self.parts[1] = (self.parts[1] & !0x0000_f000) | 0x4000;
        self
    }

    /// Parses `[ufid:]xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`; the whole string must be consumed.
    pub fn parse(s: &str) -> Option<Ufid> {
        let (ufid, rest) = Ufid::parse_prefix(s)?;
        rest.is_empty().then_some(ufid)
    }

    /// Parses a UFID at the start of `s`, returning it and the rest of the string.
    pub fn parse_prefix(s: &str) -> Option<(Ufid, &str)> {
        let body = s.strip_prefix("ufid:").unwrap_or(s);
        let uuid = body.get(..36)?;
        let groups: Vec<&str> = uuid.split('-').collect();
        let [g0, g1, g2, g3, g4] = groups.as_slice() else {
            return None;
        };
        let sizes_ok = [(g0, 8), (g1, 4), (g2, 4), (g3, 4), (g4, 12)]
            .iter()
            .all(|(g, n)| g.len() == *n && g.bytes().all(|b| b.is_ascii_hexdigit()));
        if !sizes_ok {
            return None;
        }
        let hex = |g: &str| u32::from_str_radix(g, 16).ok();
        let parts = [
            hex(g0)?,
            (hex(g1)? << 16) | hex(g2)?,
            (hex(g3)? << 16) | hex(g4.get(..4)?)?,
            hex(g4.get(4..)?)?,
        ];
        Some((Ufid { parts }, &body[36..]))
    }
}

impl fmt::Display for Ufid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = &self.parts;
        write!(
            f,
            "{:08x}-{:04x}-{:04x}-{:04x}-{:04x}{:08x}",
            p[0],
            p[1] >> 16,
            p[1] & 0xffff,
            p[2] >> 16,
            p[2] & 0xffff,
            p[3]
        )
    }
}

/// Computes UFIDs with one secret seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UfidGenerator {
    secret: u32,
}

impl UfidGenerator {
    /// A generator with a fixed secret (tests, reproducible tools).
    pub fn with_secret(secret: u32) -> UfidGenerator {
        UfidGenerator { secret }
    }

    /// The process-wide generator, seeded once from the OS's random source.
    ///
    /// If the OS has no randomness to give, the seed falls back to the process id mixed with the address of
    /// a static, which still differs across restarts.
    pub fn process() -> UfidGenerator {
        static SECRET: OnceLock<u32> = OnceLock::new();
        let secret = *SECRET.get_or_init(|| {
            let mut buf = [0u8; 4];
            match getrandom::fill(&mut buf) {
                Ok(()) => u32::from_ne_bytes(buf),
                Err(_) => {
                    std::process::id().wrapping_mul(0x9e37_79b9)
                        ^ (&SECRET as *const _ as usize as u32)
                }
            }
        });
        UfidGenerator { secret }
    }

    /// The seed in use.
    pub fn secret(&self) -> u32 {
        self.secret
    }

    /// UFID of arbitrary key bytes.
    pub fn ufid_of_bytes(&self, key: &[u8]) -> Ufid {
        let (h1, h2) = murmur3_x64_128(key, self.secret);
        Ufid::from_halves(h1, h2).with_v4_bits()
    }

    /// UFID of an unmasked flow key (the semantics of OVS's userspace datapath).
    pub fn ufid_of_flow(&self, flow: &Flow) -> Ufid {
        self.ufid_of_bytes(flow.as_bytes())
    }
}

#[inline]
fn fmix64(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^ (k >> 33)
}

const C1: u64 = 0x87c3_7b91_1142_53d5;
const C2: u64 = 0x4cf5_ad43_2745_937f;

#[inline]
fn mix_k1(k1: u64) -> u64 {
    k1.wrapping_mul(C1).rotate_left(31).wrapping_mul(C2)
}

#[inline]
fn mix_k2(k2: u64) -> u64 {
    k2.wrapping_mul(C2).rotate_left(33).wrapping_mul(C1)
}

/// MurmurHash3 x64_128 of `data` with a 32-bit seed (h1 = h2 = seed), returning `(h1, h2)`.
pub fn murmur3_x64_128(data: &[u8], seed: u32) -> (u64, u64) {
    let mut h1 = u64::from(seed);
    let mut h2 = u64::from(seed);
    let mut blocks = data.chunks_exact(16);
    for block in &mut blocks {
        let (a, b) = block.split_at(8);
        let k1 = u64::from_le_bytes(a.try_into().unwrap_or([0; 8]));
        let k2 = u64::from_le_bytes(b.try_into().unwrap_or([0; 8]));
        h1 ^= mix_k1(k1);
        h1 = h1
            .rotate_left(27)
            .wrapping_add(h2)
            .wrapping_mul(5)
            .wrapping_add(0x52dc_e729);
        h2 ^= mix_k2(k2);
        h2 = h2
            .rotate_left(31)
            .wrapping_add(h1)
            .wrapping_mul(5)
            .wrapping_add(0x3849_5ab5);
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        let mut padded = [0u8; 16];
        padded[..tail.len()].copy_from_slice(tail);
        let (a, b) = padded.split_at(8);
        let k1 = u64::from_le_bytes(a.try_into().unwrap_or([0; 8]));
        let k2 = u64::from_le_bytes(b.try_into().unwrap_or([0; 8]));
        if tail.len() > 8 {
            h2 ^= mix_k2(k2);
        }
        h1 ^= mix_k1(k1);
    }
    let len = data.len() as u64;
    h1 ^= len;
    h2 ^= len;
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    h1 = fmix64(h1);
    h2 = fmix64(h2);
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    (h1, h2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_vectors() {
        // Published MurmurHash3_x64_128 vectors (seed 0): empty input is all zero.
        assert_eq!(murmur3_x64_128(b"", 0), (0, 0));
        let (h1, h2) = murmur3_x64_128(b"hello", 0);
        assert_eq!((h1, h2), (0xcbd8_a7b3_41bd_9b02, 0x5b1e_906a_48ae_1d19));
    }

    #[test]
    fn text_round_trip_and_v4_bits() {
        let g = UfidGenerator::with_secret(7);
        let u = g.ufid_of_flow(&Flow {
            in_port: 1,
            ..Flow::default()
        });
        let text = u.to_string();
        assert_eq!(text.len(), 36);
        assert_eq!(&text[14..15], "4", "version nibble");
        assert!(
            matches!(&text[19..20], "8" | "9" | "a" | "b"),
            "variant nibble in {text}"
        );
        assert_eq!(Ufid::parse(&text), Some(u));
        assert_eq!(Ufid::parse(&format!("ufid:{text}")), Some(u));
        assert_eq!(Ufid::parse(&text[1..]), None);
        assert_eq!(Ufid::parse(&format!("{text}x")), None);
        assert_eq!(Ufid::parse("344522cc-4815-450f-a847-c88dae76531g"), None);
    }

    #[test]
    fn ovs_printed_ufid_round_trips() {
        // Printed by ovs-appctl dpctl/dump-flows -m on Open vSwitch 3.1.
        let text = "344522cc-4815-450f-a847-c88dae765318";
        let u = Ufid::parse(text).expect("valid ufid");
        assert_eq!(
            u.parts,
            [0x3445_22cc, 0x4815_450f, 0xa847_c88d, 0xae76_5318]
        );
        assert_eq!(u.to_string(), text);
    }

    #[test]
    fn same_key_same_ufid_other_secret_other_ufid() {
        let f = Flow {
            nw_src: 0x0a00_0001,
            ..Flow::default()
        };
        let a = UfidGenerator::with_secret(1);
        assert_eq!(a.ufid_of_flow(&f), a.ufid_of_flow(&f));
        assert_ne!(
            a.ufid_of_flow(&f),
            UfidGenerator::with_secret(2).ufid_of_flow(&f)
        );
        assert_eq!(UfidGenerator::process(), UfidGenerator::process());
    }

    proptest! {
        #[test]
        fn matches_reference_murmur3(data in proptest::collection::vec(any::<u8>(), 0..300), seed in any::<u32>()) {
            let (h1, h2) = murmur3_x64_128(&data, seed);
            let (r1, r2) = mur3::murmurhash3_x64_128(&data, seed);
            prop_assert_eq!((h1, h2), (r1, r2));
        }

        #[test]
        fn display_parse_round_trip(parts in any::<[u32; 4]>()) {
            let u = Ufid { parts };
            prop_assert_eq!(Ufid::parse(&u.to_string()), Some(u));
        }
    }
}

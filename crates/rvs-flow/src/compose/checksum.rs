//! The Internet checksum (RFC 1071) as the composer needs it: a running one's-complement sum over
//! big-endian 16-bit words, and the IPv4/IPv6 pseudo-headers.
//!
//! # Invariants
//! * [`Sum`] never overflows: it folds carries on every addition.
//! * An odd trailing byte counts as the high byte of a word padded with zero, as RFC 1071 says.

/// A partial one's-complement sum (carries folded as they appear).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Sum(u32);

impl Sum {
    /// Adds one 16-bit word.
    pub(super) fn add16(self, word: u16) -> Sum {
        let total = self.0 + u32::from(word);
        Sum((total & 0xffff) + (total >> 16))
    }

    /// Adds a 32-bit value as two words.
    pub(super) fn add32(self, value: u32) -> Sum {
        self.add16((value >> 16) as u16).add16(value as u16)
    }

    /// Adds `bytes` as big-endian words.
    pub(super) fn add_bytes(self, bytes: &[u8]) -> Sum {
        let mut sum = self;
        let mut pairs = bytes.chunks_exact(2);
        for pair in pairs.by_ref() {
            if let [hi, lo] = pair {
                sum = sum.add16(u16::from_be_bytes([*hi, *lo]));
            }
        }
        if let [last] = pairs.remainder() {
            sum = sum.add16(u16::from(*last) << 8);
        }
        sum
    }

    /// The checksum field value: the complement of the folded sum.
    pub(super) fn finish(self) -> u16 {
        !(self.0 as u16)
    }
}

/// Checksum of `bytes` alone (IPv4 header, ICMP, IGMP).
pub(super) fn checksum(bytes: &[u8]) -> u16 {
    Sum::default().add_bytes(bytes).finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1071_example() {
        // RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2 (folded), checksum 220d.
        let bytes = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(checksum(&bytes), 0x220d);
    }

    #[test]
    fn odd_byte_is_high_half() {
        assert_eq!(checksum(&[0x12]), !0x1200);
        assert_eq!(checksum(&[0x12, 0x00]), checksum(&[0x12]));
    }
}

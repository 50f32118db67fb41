//! Checksum arithmetic for header rewrites: incremental Internet checksum updates (RFC 1624) and
//! CRC32c for SCTP.
//!
//! # Invariants
//! * `update16`/`update32`/`update_bytes` give the checksum a full recomputation would give, provided
//!   the old checksum was right; a wrong checksum stays wrong by the same amount (as in OVS), so a
//!   rewrite never "repairs" or breaks a packet's checksum status.
//! * Nothing here indexes out of bounds: callers pass slices, lengths are checked.

/// The checksum after one 16-bit word of the covered data changed from `old` to `new`
/// (RFC 1624 eqn. 3: `HC' = ~(~HC + ~m + m')`).
#[inline]
pub(crate) fn update16(csum: u16, old: u16, new: u16) -> u16 {
    let mut sum = u32::from(!csum) + u32::from(!old) + u32::from(new);
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    !(sum as u16)
}

/// The checksum after a 32-bit word changed.
#[inline]
pub(crate) fn update32(csum: u16, old: u32, new: u32) -> u16 {
    let c = update16(csum, (old >> 16) as u16, (new >> 16) as u16);
    update16(c, old as u16, new as u16)
}

/// The checksum after a byte string at an **even** offset of the covered data changed from `old` to
/// `new` (same length; an odd length is padded with a zero byte, which is right at an even offset).
pub(crate) fn update_bytes(mut csum: u16, old: &[u8], new: &[u8]) -> u16 {
    for (o, n) in old.chunks(2).zip(new.chunks(2)) {
        let word = |c: &[u8]| {
            u16::from_be_bytes([
                c.first().copied().unwrap_or(0),
                c.get(1).copied().unwrap_or(0),
            ])
        };
        csum = update16(csum, word(o), word(n));
    }
    csum
}

/// Reads a big-endian u16 at `off`, if present.
#[inline]
pub(crate) fn get16(p: &[u8], off: usize) -> Option<u16> {
    let b = p.get(off..off.checked_add(2)?)?;
    Some(u16::from_be_bytes([b[0], b[1]]))
}

/// Writes a big-endian u16 at `off`; false (and no write) if it does not fit.
#[inline]
pub(crate) fn put16(p: &mut [u8], off: usize, v: u16) -> bool {
    match off.checked_add(2).and_then(|end| p.get_mut(off..end)) {
        Some(b) => {
            b.copy_from_slice(&v.to_be_bytes());
            true
        }
        None => false,
    }
}

/// Reads a big-endian u32 at `off`, if present.
#[inline]
pub(crate) fn get32(p: &[u8], off: usize) -> Option<u32> {
    let b = p.get(off..off.checked_add(4)?)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// Writes a big-endian u32 at `off`; false (and no write) if it does not fit.
#[inline]
pub(crate) fn put32(p: &mut [u8], off: usize, v: u32) -> bool {
    match off.checked_add(4).and_then(|end| p.get_mut(off..end)) {
        Some(b) => {
            b.copy_from_slice(&v.to_be_bytes());
            true
        }
        None => false,
    }
}

/// CRC32c (Castagnoli, reflected polynomial 0x82f63b78) lookup table, built at compile time.
const CRC32C_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u32;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0x82f6_3b78
            } else {
                crc >> 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
};

/// CRC32c of `data` as SCTP stores it (the value to write in little-endian byte order into the
/// checksum field, as RFC 3309 / OVS's `crc32c` produce it).
pub(crate) fn crc32c(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc = CRC32C_TABLE[((crc ^ u32::from(b)) & 0xff) as usize] ^ (crc >> 8);
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Full Internet checksum of `data` (for checking the incremental updates).
    fn full(data: &[u8]) -> u16 {
        let mut sum: u32 = data
            .chunks(2)
            .map(|c| u32::from(u16::from_be_bytes([c[0], c.get(1).copied().unwrap_or(0)])))
            .sum();
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        !(sum as u16)
    }

    #[test]
    fn incremental_equals_full() {
        let mut data: Vec<u8> = (0..40u8).map(|i| i.wrapping_mul(37)).collect();
        let c0 = full(&data);
        let old = get32(&data, 12).expect("in range");
        assert!(put32(&mut data, 12, 0xdead_beef));
        assert_eq!(update32(c0, old, 0xdead_beef), full(&data));
        let before = data.clone();
        data[20..26].copy_from_slice(&[1, 2, 3, 4, 5, 6]);
        assert_eq!(
            update_bytes(full(&before), &before[20..26], &data[20..26]),
            full(&data)
        );
    }

    #[test]
    fn crc32c_check_value() {
        // The standard check value of CRC-32C over "123456789".
        assert_eq!(crc32c(b"123456789"), 0xe306_9283);
    }

    #[test]
    fn accessors_refuse_out_of_range() {
        let mut p = [0u8; 3];
        assert!(!put32(&mut p, 0, 1));
        assert!(!put16(&mut p, 2, 1));
        assert!(put16(&mut p, 1, 0x0102));
        assert_eq!(get16(&p, 1), Some(0x0102));
        assert_eq!(get16(&p, usize::MAX), None);
        assert_eq!(get32(&p, 0), None);
    }
}

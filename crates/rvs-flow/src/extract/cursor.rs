//! A read position inside a frame that only moves forward and never reads out of bounds.
//!
//! # Invariants
//! `rest` is always the sub-slice `frame[pos..end]` of the original frame, where `end` starts at the
//! frame length and may only shrink (to drop link-layer padding after an IP packet). Every read
//! checks the length of `rest` first and reports `None` instead of panicking.

use zerocopy::{FromBytes, Immutable, KnownLayout, Unaligned};

/// Forward-only reader over one frame.
#[derive(Clone, Copy)]
pub(super) struct Cursor<'a> {
    rest: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `frame`.
    #[inline]
    pub(super) fn new(frame: &'a [u8]) -> Self {
        Cursor {
            rest: frame,
            pos: 0,
        }
    }

    /// Bytes left before the end (or the limit set by [`Cursor::limit`]).
    #[inline]
    pub(super) fn remaining(&self) -> usize {
        self.rest.len()
    }

    /// Offset of the read position from the start of the frame.
    #[inline]
    pub(super) fn pos(&self) -> usize {
        self.pos
    }

    /// A view of the header at the read position, without moving.
    #[inline]
    pub(super) fn peek<T: FromBytes + KnownLayout + Immutable + Unaligned>(&self) -> Option<&'a T> {
        T::ref_from_prefix(self.rest).ok().map(|(header, _)| header)
    }

    /// A view of the header at the read position, moving past it.
    #[inline]
    pub(super) fn pull<T: FromBytes + KnownLayout + Immutable + Unaligned>(
        &mut self,
    ) -> Option<&'a T> {
        let (header, rest) = T::ref_from_prefix(self.rest).ok()?;
        self.pos += size_of::<T>();
        self.rest = rest;
        Some(header)
    }

    /// Moves `n` bytes forward; false (and no move) if fewer than `n` bytes remain.
    #[inline]
    pub(super) fn skip(&mut self, n: usize) -> bool {
        match self.rest.get(n..) {
            Some(rest) => {
                self.rest = rest;
                self.pos += n;
                true
            }
            None => false,
        }
    }

    /// Drops everything beyond the next `len` bytes; no effect if fewer remain.
    #[inline]
    pub(super) fn limit(&mut self, len: usize) {
        if let Some(rest) = self.rest.get(..len) {
            self.rest = rest;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::wire::IcmpFixed;

    #[test]
    fn reads_check_length_and_never_move_on_failure() {
        let bytes = [1u8, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
        let mut c = Cursor::new(&bytes);
        assert!(c.skip(2));
        let fixed = c
            .pull::<IcmpFixed>()
            .expect("9 bytes hold an 8-byte header");
        assert_eq!((fixed.msg_type, fixed.code), (3, 4));
        assert_eq!((c.pos(), c.remaining()), (10, 1));
        assert!(c.pull::<IcmpFixed>().is_none());
        assert!(c.peek::<IcmpFixed>().is_none());
        assert!(!c.skip(2));
        assert_eq!((c.pos(), c.remaining()), (10, 1));
    }

    #[test]
    fn limit_only_shrinks() {
        let bytes = [0u8; 10];
        let mut c = Cursor::new(&bytes);
        c.limit(20);
        assert_eq!(c.remaining(), 10);
        c.limit(4);
        assert_eq!(c.remaining(), 4);
        assert!(!c.skip(5));
        assert!(c.skip(4));
        assert_eq!(c.pos(), 4);
    }
}

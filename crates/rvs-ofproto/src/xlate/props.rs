//! Megaflow soundness property test (filled in below).

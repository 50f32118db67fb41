//! Datapath tests.

//! Tests of tables, flow mods and dumps.

mod dump;
mod scenarios;
mod versions;

//! Tests of tables, flow mods and dumps.

mod scenarios;

//! The `rvs` binary: today the `demo` subcommand; the daemon and its control tools come next.

mod demo;
mod frames;

use clap::{Parser, Subcommand};

/// rvs: a userspace OpenFlow virtual switch with Open vSwitch's megaflow cache design.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Show the machine working on built-in traffic: frames → flow keys → OpenFlow classifier →
    /// megaflows (in `dpctl/dump-flows` text) → megaflow cache hits. Takes no setup and ends by itself.
    Demo {
        /// Packets to drive through the cache after the first pass.
        #[arg(long, default_value_t = 5000)]
        packets: usize,
    },
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Demo { packets } => demo::run(packets, &mut std::io::stdout().lock()),
    }
}

//! The command line: `rvs vswitchd`, `rvs appctl`, `rvs ofctl`, `rvs dpctl`, `rvs demo`.
//!
//! # Invariants
//! * Exit statuses follow OVS's tools: 0 on success, 1 when the daemon cannot be reached or the
//!   daemon cannot start, 2 when the daemon answered with an error (as `ovs-appctl`).
//! * Nothing here panics on user input; clap reports bad usage with status 2.

mod client;
mod vswitchd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use client::{appctl, run_appctl};

/// rvs: a userspace OpenFlow virtual switch with Open vSwitch's megaflow cache design.
#[derive(Parser, Debug)]
#[command(version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where a client finds the daemon.
#[derive(clap::Args, Debug, Clone)]
pub struct Target {
    /// The daemon to talk to: a control socket path (starting with `/`), or a program name whose
    /// pidfile is read from the run directory (default `rvs`), as `ovs-appctl -t`.
    #[arg(short = 't', long = "target", default_value = "rvs")]
    pub target: String,
    /// The run directory (default: `$RVS_RUNDIR`, `/var/run/rvs` for root, else
    /// `$XDG_RUNTIME_DIR/rvs` or `/tmp/rvs-<uid>`).
    #[arg(long)]
    pub rundir: Option<PathBuf>,
    /// Give up after this many seconds (0 = wait forever).
    #[arg(short = 'T', long, default_value_t = 0)]
    pub timeout: u64,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the switch: bridges, ports, datapath, handlers, revalidators and the control socket.
    /// Without --config: one bridge `br0` with dummy ports p1..p4 and the NORMAL rule.
    Vswitchd(vswitchd::VswitchdArgs),
    /// Send a command to a running daemon over its control socket (like `ovs-appctl`); try
    /// `rvs appctl list-commands`.
    Appctl {
        #[command(flatten)]
        target: Target,
        /// The command (e.g. `upcall/show`, `dpctl/dump-flows`).
        command: String,
        /// Its arguments.
        #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
        args: Vec<String>,
    },
    /// OpenFlow table management on a running daemon, in `ovs-ofctl` style:
    /// `rvs ofctl add-flow br0 'priority=10,tcp,tp_dst=80,actions=drop'`,
    /// `rvs ofctl add-flows br0 FILE` (`-` = stdin), `mod-flows`, `del-flows`,
    /// `replace-flows br0 FILE`, `dump-flows br0 [FLOW]`.
    Ofctl {
        #[command(flatten)]
        target: Target,
        /// add-flow, add-flows, mod-flows, del-flows, replace-flows or dump-flows.
        command: String,
        /// The bridge.
        bridge: String,
        /// The flow (or FILE for add-flows and replace-flows), and options.
        #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
        args: Vec<String>,
    },
    /// Datapath flow management on a running daemon, in `ovs-dpctl` style: `show`,
    /// `dump-flows [-m]`, `add-flow FLOW ACTIONS`, `mod-flow`, `del-flow`, `del-flows`, `get-flow`.
    Dpctl {
        #[command(flatten)]
        target: Target,
        /// The dpctl command.
        command: String,
        /// Its arguments.
        #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
        args: Vec<String>,
    },
    /// Start a private daemon with dummy ports, drive mixed traffic through an L2 NORMAL bridge
    /// with VLANs and an ACL table, change a rule, and show megaflows, revalidation and
    /// statistics. Ends by itself in seconds and cleans up.
    Demo {
        /// Packets of mixed traffic to send.
        #[arg(long, default_value_t = 3000)]
        packets: usize,
        /// Keep the demo daemon running at the end, so it can be poked with `rvs appctl`.
        #[arg(long)]
        keep_running: bool,
    },
}

/// Runs the command line; returns the process exit status.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Vswitchd(args) => vswitchd::run(args),
        Command::Appctl {
            target,
            command,
            args,
        } => run_appctl(&target, &command, &args, "rvs appctl"),
        Command::Ofctl {
            target,
            command,
            bridge,
            args,
        } => client::run_ofctl(&target, &command, &bridge, &args),
        Command::Dpctl {
            target,
            command,
            args,
        } => run_appctl(&target, &format!("dpctl/{command}"), &args, "rvs dpctl"),
        Command::Demo {
            packets,
            keep_running,
        } => crate::demo::run(packets, keep_running),
    }
}

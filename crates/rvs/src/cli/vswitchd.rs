//! `rvs vswitchd`: load the configuration, start logging, run the daemon until `exit` or a
//! termination signal, shut down cleanly.
//!
//! # Invariants
//! * SIGINT and SIGTERM are blocked before any thread starts and received by one thread, so they
//!   always end in an orderly shutdown (flows purged and credited, sockets and pidfile removed).
//! * A configuration error is printed as `rvs: <file>:<line>:<col>: <what>` and exits with 1
//!   before anything is created.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::config::Config;
use crate::daemon::{Daemon, StartOptions, block_termination_signals, forward_signals};
use crate::rundir::choose_rundir;
use crate::vlog::Vlog;

/// Options of `rvs vswitchd`.
#[derive(clap::Args, Debug)]
pub(super) struct VswitchdArgs {
    /// The TOML configuration file (see docs/configuration.md). Without it: bridge `br0` with
    /// dummy ports p1..p4.
    #[arg(short, long)]
    config: Option<PathBuf>,
    /// The run directory for the pidfile and control sockets (overrides the configuration).
    #[arg(long)]
    rundir: Option<PathBuf>,
    /// Log levels, vlog/set style (`info`, `dbg`, `upcall:dbg`); repeatable; overrides the
    /// configuration's `log`.
    #[arg(long)]
    log: Vec<String>,
    /// Also log to this file.
    #[arg(long)]
    log_file: Option<PathBuf>,
    /// Leave the datapath flows in place at exit (default: purge them, crediting their
    /// statistics to the OpenFlow rules).
    #[arg(long)]
    keep_flows: bool,
    /// Check the configuration and exit.
    #[arg(long)]
    check_config: bool,
}

/// Runs the daemon; returns the exit status.
pub(super) fn run(args: VswitchdArgs) -> ExitCode {
    let config = match &args.config {
        Some(path) => match Config::load(path) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("rvs: {e}");
                return ExitCode::from(1);
            }
        },
        None => Config::default_config(),
    };
    if args.check_config {
        println!("configuration OK: {} bridge(s)", config.bridges.len());
        return ExitCode::SUCCESS;
    }
    let signals = match block_termination_signals() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("rvs: {e}");
            return ExitCode::from(1);
        }
    };
    let log_specs = if args.log.is_empty() {
        config.log.clone()
    } else {
        args.log.clone()
    };
    let log_file = args.log_file.clone().or_else(|| config.log_file.clone());
    let vlog = match Vlog::init(&log_specs, log_file.as_deref()) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("rvs: log: {e}");
            return ExitCode::from(1);
        }
    };
    let rundir = choose_rundir(args.rundir.as_deref(), config.rundir.as_deref());
    let mut config = config;
    if args.keep_flows {
        config.keep_flows_on_exit = true;
    }
    let daemon = match Daemon::start(StartOptions {
        config,
        rundir,
        vlog,
    }) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("rvs: {e:#}");
            return ExitCode::from(1);
        }
    };
    if let Err(e) = forward_signals(signals, daemon.exit_sender()) {
        eprintln!("rvs: cannot watch signals: {e}");
        daemon.shutdown(&crate::daemon::ExitReason::Signal("none".into()));
        return ExitCode::from(1);
    }
    let reason = daemon.wait_for_exit();
    daemon.shutdown(&reason);
    ExitCode::SUCCESS
}

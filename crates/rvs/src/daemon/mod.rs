//! `rvs vswitchd`: the running switch. One userspace datapath shared by every bridge (as
//! `dpif-netdev` is), the OpenFlow bridges on top of it ([`OfprotoDpif`]), the upcall engine
//! (handlers and revalidators), forwarding threads polling the ports, a housekeeping thread, and
//! the control socket.
//!
//! * [`Daemon::start`] builds all of it from a [`Config`] and binds the control socket.
//! * [`Daemon::wait_for_exit`] blocks until `exit` on the control socket or SIGINT/SIGTERM.
//! * [`Daemon::shutdown`] stops everything in order; datapath flows are deleted (their
//!   statistics credited to their rules first) unless `keep-flows-on-exit` is set.
//!
//! # Invariants
//! * Every port is in three places kept in step under the `ports` mutex: the datapath, its
//!   bridge in [`OfprotoDpif`], and the daemon's port map.
//! * Control-socket handlers never panic on their arguments: every argument is parsed into a
//!   value or answered with an error text, and a failed command changes nothing.
//! * The engine's translator holds the bridges; the bridges reach the engine only through a weak
//!   reference (their change hook), so dropping the daemon frees everything.
//! * Misses are handled inline by the forwarding thread that missed (the engine's callback
//!   registered with the datapath, as OVS's dpif-netdev does): no upcall is queued or lost for a
//!   miss. Handler threads still run, for `userspace()` action upcalls. The environment variable
//!   `RVS_UPCALL_MODE=queued` selects the queued path for misses too (for comparisons); the
//!   datapath holds the callback weakly, so dropping the daemon still frees everything.

mod commands;
mod dpif_cmds;
mod ports;
mod receive;
mod settings;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{Context, anyhow};
use crossbeam_channel::{Receiver, Sender};
use parking_lot::Mutex;
use rvs_ctl::unixctl::{Commands, Server};
use rvs_dpif::clock::Clock;
use rvs_dpif::datapath::{Datapath, DatapathConfig, ForwardingThreads};
use rvs_dpif::dpif::Dpif;
use rvs_netdev::DummyNetdev;
use rvs_upcall::config::{UpcallConfig, default_thread_counts};
use rvs_upcall::{Udpif, UpcallEngine};

use crate::clock::MonotonicClock;
use crate::config::{Config, DatapathKind, OtherConfig};
use crate::coverage_report::CoverageReport;
use crate::ofproto_dpif::OfprotoDpif;
use crate::rundir::RunDir;
use crate::vlog::Vlog;

pub use ports::PortEntry;

/// Upcalls each handler's queue holds before further misses are counted as lost.
const UPCALL_QUEUE_LEN: usize = 16_384;
/// The environment variable that selects how misses reach the engine: `queued` (handler threads)
/// or anything else / unset (inline, the default).
const UPCALL_MODE_ENV: &str = "RVS_UPCALL_MODE";

/// The version string `version` replies with (as `ovs-vswitchd (Open vSwitch) 3.1.0`).
pub fn version_text() -> String {
    format!("rvs-vswitchd (rvs) {}", env!("CARGO_PKG_VERSION"))
}

/// Why the daemon stops.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExitReason {
    /// `exit` on the control socket (`cleanup` = `exit --cleanup`).
    Command {
        /// Delete datapath flows even if `keep-flows-on-exit` is set.
        cleanup: bool,
    },
    /// A termination signal (its name).
    Signal(String),
}

/// The state every control command reaches.
pub struct Inner {
    /// The clock of the datapath and the engine.
    pub clock: Arc<dyn Clock>,
    /// The same clock, for `time/stop` and `time/warp`.
    pub warp_clock: Arc<MonotonicClock>,
    /// The userspace datapath.
    pub dp: Datapath,
    /// The OpenFlow bridges.
    pub ofproto: Arc<OfprotoDpif>,
    /// The upcall engine's shared state.
    pub udpif: Arc<Udpif>,
    /// The handler and revalidator threads.
    pub engine: UpcallEngine,
    /// The run-time knobs as last set.
    pub other: Mutex<OtherConfig>,
    /// Ports by name.
    pub ports: Mutex<BTreeMap<String, PortEntry>>,
    /// The running forwarding threads.
    pub forwarding: Mutex<Option<ForwardingThreads>>,
    /// Logging.
    pub vlog: Vlog,
    /// Coverage rate history.
    pub coverage: Mutex<CoverageReport>,
    /// Where `exit` and signals are announced.
    pub exit_tx: Sender<ExitReason>,
    /// Keep datapath flows at exit.
    pub keep_flows_on_exit: AtomicBool,
    /// `revalidator-placement=spread`, read by each revalidator thread as it starts.
    pub spread_revalidators: Arc<AtomicBool>,
    /// Number of CPUs, for OVS's default thread counts.
    pub cores: usize,
    /// The datapath type (`dummy` or `netdev`).
    pub datapath_kind: DatapathKind,
}

impl Inner {
    /// Every coverage counter total: the engine's and the datapath's.
    pub fn coverage_totals(&self) -> Vec<(&'static str, u64)> {
        let mut totals = self.udpif.coverage().snapshot();
        totals.extend(self.dp.coverage());
        totals
    }

    /// The engine's thread counts for the current knobs.
    pub fn thread_counts(&self, other: &OtherConfig) -> (usize, usize) {
        default_thread_counts(
            self.cores,
            other.n_handler_threads.unwrap_or(0),
            other.n_revalidator_threads.unwrap_or(0),
        )
    }

    /// (Re)starts `n` forwarding threads.
    pub fn restart_forwarding(&self, n: usize) -> std::io::Result<()> {
        let mut fwd = self.forwarding.lock();
        if let Some(running) = fwd.take() {
            running.stop();
        }
        *fwd = Some(self.dp.spawn_forwarding_threads(n)?);
        Ok(())
    }
}

/// A running daemon.
pub struct Daemon {
    inner: Arc<Inner>,
    exit_rx: Receiver<ExitReason>,
    server: Option<Server>,
    rundir: RunDir,
    housekeeping: Option<(Arc<AtomicBool>, JoinHandle<()>)>,
}

/// How [`Daemon::start`] is asked to run.
#[derive(Debug)]
pub struct StartOptions {
    /// The configuration.
    pub config: Config,
    /// The run directory (pidfile and sockets).
    pub rundir: PathBuf,
    /// Logging, already initialised.
    pub vlog: Vlog,
}

impl Daemon {
    /// Builds the switch and opens its control socket.
    pub fn start(opts: StartOptions) -> anyhow::Result<Daemon> {
        let StartOptions {
            config,
            rundir,
            vlog,
        } = opts;
        let pid = std::process::id();
        let rundir = RunDir::claim(&rundir, pid)
            .with_context(|| format!("cannot use run directory {}", rundir.display()))?;
        let warp_clock = Arc::new(MonotonicClock::new());
        let clock: Arc<dyn Clock> = Arc::clone(&warp_clock) as Arc<dyn Clock>;
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let other = config.other.clone();
        let (n_handlers, n_revalidators) = default_thread_counts(
            cores,
            other.n_handler_threads.unwrap_or(0),
            other.n_revalidator_threads.unwrap_or(0),
        );

        let mut dp_config = match config.datapath {
            DatapathKind::Dummy => DatapathConfig::dummy(),
            DatapathKind::Netdev => DatapathConfig::netdev(),
        };
        dp_config.vlan_limit = other.effective_vlan_limit();
        dp_config.emc_insert_inv_prob = other.emc_insert_inv_prob;
        dp_config.n_handlers = n_handlers.max(1);
        // OVS handles a userspace datapath's misses inline, so it never loses one to a queue;
        // rvs's handler threads get a deep queue so that a burst of new flows at line rate
        // waits instead of being lost (the side-by-side benchmark lost 74% of a 200k burst
        // with 1024).
        dp_config.upcall_queue_len = UPCALL_QUEUE_LEN;
        let dp = Datapath::new(dp_config, Arc::clone(&clock));
        let ofproto = Arc::new(OfprotoDpif::new(Arc::clone(&clock)));
        if matches!(config.datapath, DatapathKind::Netdev) {
            ofproto.set_datapath_type("netdev");
        }

        let upcall_config = UpcallConfig::default();
        settings::apply_upcall_knobs(&upcall_config, &other);
        let udpif = Arc::new(Udpif::with_config(
            Arc::new(dp.clone()) as Arc<dyn Dpif>,
            Arc::clone(&ofproto) as Arc<dyn rvs_upcall::xlate::Translator>,
            Arc::clone(&clock),
            upcall_config,
        ));
        if std::env::var(UPCALL_MODE_ENV).as_deref() != Ok("queued") {
            udpif.enable_inline_upcalls();
        }
        let weak = Arc::downgrade(&udpif);
        ofproto.set_change_hook(Box::new(move || {
            if let Some(udpif) = weak.upgrade() {
                udpif.revalidate();
            }
        }));
        let engine = UpcallEngine::new(Arc::clone(&udpif));
        let spread_revalidators = Arc::new(AtomicBool::new(other.spread_revalidators));
        let spread = Arc::clone(&spread_revalidators);
        engine.set_on_revalidator_start(Some(Arc::new(move |index, n| {
            // `revalidator-placement=spread`: two or more revalidators get one processor each (see
            // `pin_current_thread_in_group`; docs/configuration.md says why).
            if n >= 2 && spread.load(Ordering::Relaxed) {
                let _ = rvs_netdev::pin_current_thread_in_group(index, n);
            }
        })));
        let (exit_tx, exit_rx) = crossbeam_channel::unbounded();
        let inner = Arc::new(Inner {
            clock,
            warp_clock,
            dp,
            ofproto,
            udpif,
            engine,
            other: Mutex::new(other.clone()),
            ports: Mutex::new(BTreeMap::new()),
            forwarding: Mutex::new(None),
            vlog,
            coverage: Mutex::new(CoverageReport::new()),
            exit_tx,
            keep_flows_on_exit: AtomicBool::new(config.keep_flows_on_exit),
            spread_revalidators,
            cores,
            datapath_kind: config.datapath,
        });

        for bridge in &config.bridges {
            ports::add_bridge(&inner, bridge).with_context(|| format!("bridge {}", bridge.name))?;
        }
        inner.engine.start(n_handlers, n_revalidators);
        inner
            .restart_forwarding(other.n_forwarding_threads)
            .context("cannot start forwarding threads")?;

        let mut commands = Commands::new(&version_text());
        commands::register_all(&mut commands, &inner);
        let server =
            Server::bind(&rundir.socket_path(), Arc::new(commands)).with_context(|| {
                format!(
                    "cannot bind control socket {}",
                    rundir.socket_path().display()
                )
            })?;
        rundir
            .link_stable_socket()
            .context("cannot link the stable control socket name")?;
        let housekeeping = spawn_housekeeping(&inner).context("cannot start housekeeping")?;
        tracing::info!(
            target: "rvs",
            "rvs {} started: {} bridge(s), {} handler(s), {} revalidator(s), control socket {}, allocator {}",
            env!("CARGO_PKG_VERSION"),
            config.bridges.len(),
            n_handlers,
            n_revalidators,
            rundir.socket_path().display(),
            crate::allocator_name()
        );
        Ok(Daemon {
            inner,
            exit_rx,
            server: Some(server),
            rundir,
            housekeeping: Some(housekeeping),
        })
    }

    /// The shared state (for tests and the demo).
    pub fn inner(&self) -> &Arc<Inner> {
        &self.inner
    }

    /// The control socket's path.
    pub fn socket_path(&self) -> PathBuf {
        self.rundir.socket_path()
    }

    /// The run directory.
    pub fn rundir(&self) -> PathBuf {
        self.rundir.dir().to_path_buf()
    }

    /// A sender that makes [`Daemon::wait_for_exit`] return (signal handlers use it).
    pub fn exit_sender(&self) -> Sender<ExitReason> {
        self.inner.exit_tx.clone()
    }

    /// Blocks until `exit` or a termination signal.
    pub fn wait_for_exit(&self) -> ExitReason {
        self.exit_rx
            .recv()
            .unwrap_or_else(|_| ExitReason::Signal("channel closed".into()))
    }

    /// Stops everything in order: the control socket, forwarding, the engine (after crediting
    /// and deleting datapath flows unless they are kept), housekeeping, the run directory files.
    pub fn shutdown(mut self, reason: &ExitReason) {
        let inner = Arc::clone(&self.inner);
        tracing::info!(target: "rvs", "shutting down ({reason:?})");
        if let Some(server) = self.server.take() {
            server.shutdown();
        }
        if let Some(fwd) = inner.forwarding.lock().take() {
            fwd.stop();
        }
        let cleanup = matches!(reason, ExitReason::Command { cleanup: true });
        if cleanup || !inner.keep_flows_on_exit.load(Ordering::Relaxed) {
            // Purge credits every flow's last statistics to its rules, then deletes it.
            inner.engine.purge();
            inner.dp.flow_flush();
        }
        inner.engine.stop();
        if let Some((stop, handle)) = self.housekeeping.take() {
            stop.store(true, Ordering::Release);
            let _ = handle.join();
        }
        self.rundir.cleanup();
    }
}

/// A forwarding context inside one batch for this long is reported (a batch takes microseconds;
/// an inline miss at most milliseconds, even on a loaded machine).
const STALL_REPORT_MS: u64 = 5000;

/// Logs (once per episode) each forwarding context that has been inside one batch for
/// [`STALL_REPORT_MS`] or more: it forwards and installs nothing meanwhile. `reported` holds the
/// episodes already logged, `(pmd_id, batch start)`, and keeps only the current ones.
fn report_stalls(inner: &Inner, reported: &mut Vec<(u32, u64)>) {
    let stalls = inner
        .dp
        .stalled_contexts(inner.clock.now_ms(), STALL_REPORT_MS);
    reported.retain(|(pmd, since)| {
        stalls
            .iter()
            .any(|s| s.pmd_id == *pmd && s.since_ms == *since)
    });
    for stall in stalls {
        if !reported.contains(&(stall.pmd_id, stall.since_ms)) {
            reported.push((stall.pmd_id, stall.since_ms));
            tracing::warn!(
                target: "rvs_dpif",
                "forwarding context {} has been processing one batch for {} ms: it forwards \
                 and installs nothing until it returns",
                stall.pmd_id,
                stall.busy_ms
            );
        }
    }
}

/// Once a second: OpenFlow timeouts and MAC aging, coverage rate samples, stuck forwarding
/// contexts.
fn spawn_housekeeping(inner: &Arc<Inner>) -> std::io::Result<(Arc<AtomicBool>, JoinHandle<()>)> {
    let stop = Arc::new(AtomicBool::new(false));
    let weak = Arc::downgrade(inner);
    let stop2 = Arc::clone(&stop);
    let handle = std::thread::Builder::new()
        .name("housekeeping".into())
        .spawn(move || {
            let mut stalls_reported = Vec::new();
            while !stop2.load(Ordering::Acquire) {
                let Some(inner) = weak.upgrade() else { return };
                inner.ofproto.run();
                let totals = inner.coverage_totals();
                inner.coverage.lock().sample(inner.clock.now_ms(), &totals);
                report_stalls(&inner, &mut stalls_reported);
                drop(inner);
                for tick in 0..10 {
                    if stop2.load(Ordering::Acquire) {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                    // With the clock stopped, revalidators still run a round every 500 ms of
                    // real time, as OVS's do after `time/stop`.
                    if tick % 5 == 4
                        && let Some(inner) = weak.upgrade()
                        && inner.warp_clock.is_stopped()
                    {
                        inner.udpif.request_round();
                    }
                }
            }
        })?;
    Ok((stop, handle))
}

/// Blocks SIGINT and SIGTERM in the calling thread (and the threads it spawns later) and starts a
/// thread that turns them into [`ExitReason::Signal`]. Call before any other thread starts.
pub fn block_termination_signals() -> anyhow::Result<nix::sys::signal::SigSet> {
    use nix::sys::signal::{SigSet, Signal};
    let mut set = SigSet::empty();
    set.add(Signal::SIGINT);
    set.add(Signal::SIGTERM);
    set.thread_block()
        .map_err(|e| anyhow!("cannot block signals: {e}"))?;
    Ok(set)
}

/// Waits for the signals in `set` on a thread of its own and announces them on `tx`.
pub fn forward_signals(
    set: nix::sys::signal::SigSet,
    tx: Sender<ExitReason>,
) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            loop {
                match set.wait() {
                    Ok(sig) => {
                        let _ = tx.send(ExitReason::Signal(sig.as_str().to_owned()));
                        return;
                    }
                    Err(nix::errno::Errno::EINTR) => continue,
                    Err(_) => return,
                }
            }
        })?;
    Ok(())
}

/// A dummy port's device, if `name` is a dummy port.
pub fn dummy_port(inner: &Inner, name: &str) -> Option<Arc<DummyNetdev>> {
    inner.ports.lock().get(name).and_then(|p| p.dummy.clone())
}

//! The threaded engine: handler threads, revalidator threads, and the control operations
//! (`upcall/*`, `revalidator/*`): pause, resume, purge, wait, flow limit, thread counts, show.
//!
//! # Invariants
//! * Control operations are serialised by one mutex; pause is idempotent, and purge pauses the
//!   revalidators around itself unless they are already paused (bug 26).
//! * Revalidator threads are scoped threads of one group thread, so the round's dump (which
//!   borrows the datapath) is shared by reference; they are all joined before `stop` returns.
//! * Changing thread counts stops and restarts the threads without purging: ukeys live in the
//!   [`Udpif`], not in threads, so installed flows and their ukeys survive (the rule; OVS
//!   purges here). The sweep slices simply follow the new revalidator count.
//! * `upcall/show` iterates over the live revalidators only (bug 30).

mod round_loop;
mod work;

pub(crate) use round_loop::{Control, RoundWork, revalidator_loop};

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use parking_lot::Mutex;

use crate::udpif::Udpif;
use work::ThreadedRound;

/// How long an idle handler sleeps in `recv_wait` before re-checking its exit flag.
const HANDLER_POLL: Duration = Duration::from_millis(20);

struct Running {
    n_handlers: usize,
    n_revalidators: usize,
    handlers: Vec<JoinHandle<()>>,
    handler_exit: Arc<AtomicBool>,
    group: Option<JoinHandle<()>>,
    control: Arc<Control>,
    revalidator_ids: Arc<Mutex<Vec<u64>>>,
    paused: bool,
}

/// Called by each revalidator thread as it starts, with its index and the number of revalidator
/// threads (the daemon uses it to place them on processors).
pub type RevalidatorStart = Arc<dyn Fn(usize, usize) + Send + Sync>;

/// The threaded upcall engine over one [`Udpif`].
pub struct UpcallEngine {
    udpif: Arc<Udpif>,
    running: Mutex<Option<Running>>,
    on_revalidator_start: Mutex<Option<RevalidatorStart>>,
}

impl std::fmt::Debug for UpcallEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "UpcallEngine({:?})", self.udpif)
    }
}

impl Drop for UpcallEngine {
    fn drop(&mut self) {
        self.stop();
    }
}

impl UpcallEngine {
    /// An engine with no threads yet.
    pub fn new(udpif: Arc<Udpif>) -> UpcallEngine {
        UpcallEngine {
            udpif,
            running: Mutex::new(None),
            on_revalidator_start: Mutex::new(None),
        }
    }

    /// Sets what each revalidator thread started from now on calls first (`None`: nothing).
    pub fn set_on_revalidator_start(&self, hook: Option<RevalidatorStart>) {
        *self.on_revalidator_start.lock() = hook;
    }

    /// The shared state.
    pub fn udpif(&self) -> &Arc<Udpif> {
        &self.udpif
    }

    /// `(handlers, revalidators)` running, or `None`.
    pub fn thread_counts(&self) -> Option<(usize, usize)> {
        self.running
            .lock()
            .as_ref()
            .map(|r| (r.n_handlers, r.n_revalidators))
    }

    /// Starts `n_handlers` handler threads (0 is allowed) and `n_revalidators` (at least 1)
    /// revalidator threads, if none are running.
    pub fn start(&self, n_handlers: usize, n_revalidators: usize) {
        let mut running = self.running.lock();
        if running.is_none() {
            *running = Some(self.spawn(n_handlers, n_revalidators.max(1)));
        }
    }

    /// Stops every thread (flows and ukeys stay).
    pub fn stop(&self) {
        let mut running = self.running.lock();
        if let Some(r) = running.take() {
            Self::join(&self.udpif, r);
        }
    }

    /// Changes the thread counts; threads are torn down and rebuilt only if a count changed.
    /// Installed flows and ukeys are kept.
    pub fn set_threads(&self, n_handlers: usize, n_revalidators: usize) {
        let n_revalidators = n_revalidators.max(1);
        let mut running = self.running.lock();
        if let Some(r) = running.as_ref()
            && r.n_handlers == n_handlers
            && r.n_revalidators == n_revalidators
        {
            return;
        }
        if let Some(r) = running.take() {
            Self::join(&self.udpif, r);
        }
        *running = Some(self.spawn(n_handlers, n_revalidators));
    }

    /// Stops the threads and starts the same numbers again (flows and ukeys stay), e.g. for a new
    /// [`UpcallEngine::set_on_revalidator_start`] hook to apply; nothing if none are running.
    pub fn restart(&self) {
        let mut running = self.running.lock();
        if let Some(r) = running.take() {
            let (n_handlers, n_revalidators) = (r.n_handlers, r.n_revalidators);
            Self::join(&self.udpif, r);
            *running = Some(self.spawn(n_handlers, n_revalidators));
        }
    }

    fn spawn(&self, n_handlers: usize, n_revalidators: usize) -> Running {
        self.udpif.dpif.handlers_set(n_handlers);
        self.udpif.env.log.write(
            crate::log::Level::Info,
            format!("Starting {} threads", n_handlers + n_revalidators),
        );
        let handler_exit = Arc::new(AtomicBool::new(false));
        let handlers = (0..n_handlers)
            .filter_map(|id| {
                let udpif = Arc::clone(&self.udpif);
                let exit = Arc::clone(&handler_exit);
                std::thread::Builder::new()
                    .name(format!("handler{id}"))
                    .spawn(move || handler_main(&udpif, id, &exit))
                    .ok()
            })
            .collect();
        let control = Arc::new(Control::new(n_revalidators));
        let revalidator_ids = Arc::new(Mutex::new(vec![0; n_revalidators]));
        let group = {
            let udpif = Arc::clone(&self.udpif);
            let control = Arc::clone(&control);
            let ids = Arc::clone(&revalidator_ids);
            let hook = self.on_revalidator_start.lock().clone();
            std::thread::Builder::new()
                .name("revalidators".into())
                .spawn(move || {
                    revalidator_group(&udpif, &control, n_revalidators, &ids, hook.as_ref())
                })
                .ok()
        };
        Running {
            n_handlers,
            n_revalidators,
            handlers,
            handler_exit,
            group,
            control,
            revalidator_ids,
            paused: false,
        }
    }

    fn join(udpif: &Udpif, r: Running) {
        r.handler_exit.store(true, Ordering::Release);
        r.control.request_exit();
        udpif.wake.ring();
        if r.paused {
            r.control.resume();
        }
        for h in r.handlers {
            let _ = h.join();
        }
        if let Some(g) = r.group {
            let _ = g.join();
        }
    }

    /// Parks every revalidator between rounds (`revalidator/pause`); idempotent.
    pub fn pause(&self) {
        let mut running = self.running.lock();
        if let Some(r) = running.as_mut()
            && !r.paused
        {
            r.control.pause(&|| self.udpif.wake.ring());
            r.paused = true;
        }
    }

    /// Releases paused revalidators (`revalidator/resume`).
    pub fn resume(&self) {
        let mut running = self.running.lock();
        if let Some(r) = running.as_mut()
            && r.paused
        {
            r.control.resume();
            r.paused = false;
        }
    }

    /// Deletes every flow that has a ukey, crediting its statistics, and frees the ukeys
    /// (`revalidator/purge`); revalidators are paused around it.
    pub fn purge(&self) {
        let mut running = self.running.lock();
        match running.as_mut() {
            Some(r) => {
                let was_paused = r.paused;
                if !was_paused {
                    r.control.pause(&|| self.udpif.wake.ring());
                }
                self.udpif.purge_all(r.n_revalidators);
                if !was_paused {
                    r.control.resume();
                }
            }
            None => self.udpif.purge_all(1),
        }
    }

    /// Waits until a round ends after this call (`revalidator/wait`); false on timeout.
    pub fn wait(&self, timeout: Duration) -> bool {
        let seq = self.udpif.dump_seq();
        self.udpif.wait_dump_seq_after(seq, timeout)
    }

    /// `upcall/set-flow-limit N`: stores N now (clamped by the next round); returns the reply.
    pub fn set_flow_limit(&self, limit: u32) -> String {
        self.udpif.set_flow_limit(limit);
        format!("set flow_limit to {limit}\n")
    }

    /// The live revalidators' thread ids, leader first.
    pub fn revalidator_ids(&self) -> Vec<u64> {
        self.running
            .lock()
            .as_ref()
            .map(|r| r.revalidator_ids.lock().clone())
            .unwrap_or_default()
    }

    /// `upcall/show` for this engine.
    pub fn show(&self) -> String {
        self.udpif.show(&self.revalidator_ids())
    }
}

fn handler_main(udpif: &Udpif, id: usize, exit: &AtomicBool) {
    let mut buf = Vec::with_capacity(crate::config::UPCALL_MAX_BATCH);
    while !exit.load(Ordering::Acquire) {
        if udpif.recv_upcalls(id, &mut buf) == 0 {
            udpif.dpif.recv_wait(id, HANDLER_POLL);
        }
    }
}

fn revalidator_group(
    udpif: &Udpif,
    control: &Control,
    n: usize,
    ids: &Mutex<Vec<u64>>,
    hook: Option<&RevalidatorStart>,
) {
    let work = ThreadedRound::new(udpif, n);
    std::thread::scope(|s| {
        for index in 0..n {
            let work = &work;
            let spawned = std::thread::Builder::new()
                .name(format!("revalidator{index}"))
                .spawn_scoped(s, move || {
                    if let Some(hook) = hook {
                        hook(index, n);
                    }
                    if let Some(slot) = ids.lock().get_mut(index) {
                        *slot = crate::env::thread_id();
                    }
                    revalidator_loop(control, index, work);
                });
            if spawned.is_err() {
                udpif.env.log.write(
                    crate::log::Level::Err,
                    format!("could not start revalidator {index}"),
                );
            }
        }
    });
}

//! A datapath wrapper that runs a test's code inside `operate`, before the wrapped datapath does
//! the ops: the way to put a revalidator action exactly between a handler's ukey install and its
//! flow put.

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use rvs_dpif::dpif::{Capabilities, DpPort, DpStats, Dpif, DpifOp, FlowDump, OpResult, Upcall};
use rvs_upcall::testing::FakeDpif;

type Hook = Box<dyn FnOnce() + Send>;

/// `FakeDpif` plus a one-shot hook run at the start of the next `operate` that has a put.
pub(crate) struct HookDpif {
    pub(crate) inner: Arc<FakeDpif>,
    hook: Mutex<Option<Hook>>,
}

impl HookDpif {
    pub(crate) fn new(inner: Arc<FakeDpif>) -> HookDpif {
        HookDpif {
            inner,
            hook: Mutex::new(None),
        }
    }

    pub(crate) fn set_hook(&self, hook: Hook) {
        *self.hook.lock() = Some(hook);
    }
}

impl Dpif for HookDpif {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    fn operate(&self, ops: Vec<DpifOp>) -> Vec<OpResult> {
        if ops.iter().any(|o| matches!(o, DpifOp::Put(_)))
            && let Some(hook) = self.hook.lock().take()
        {
            hook();
        }
        self.inner.operate(ops)
    }
    fn flow_flush(&self) {
        self.inner.flow_flush()
    }
    fn flow_dump(&self, terse: bool) -> Box<dyn FlowDump + '_> {
        self.inner.flow_dump(terse)
    }
    fn dp_stats(&self) -> DpStats {
        self.inner.dp_stats()
    }
    fn port_list(&self) -> Vec<DpPort> {
        self.inner.port_list()
    }
    fn recv(&self, handler_id: usize, out: &mut Vec<Upcall>, max: usize) -> usize {
        self.inner.recv(handler_id, out, max)
    }
    fn recv_wait(&self, handler_id: usize, timeout: Duration) {
        self.inner.recv_wait(handler_id, timeout)
    }
    fn handlers_set(&self, n_handlers: usize) {
        self.inner.handlers_set(n_handlers)
    }
}

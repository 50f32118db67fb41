//! The translation contract: what the engine asks of OpenFlow (`rvs-ofproto` implements it later;
//! tests use `testing::FakeTranslator`).
//!
//! # Invariants
//! * `translate` never credits packets to rules. Packets are credited only through
//!   [`Translator::push_stats`] on a cache a translation returned, so every packet is credited
//!   exactly once: the miss packet by its handler, datapath hits by revalidators as deltas.
//! * `for_revalidation = true` asks for a side-effect-free translation (OVS's revalidation xlate
//!   with no packet counts); `false` is an upcall or a cache build, which may learn.
//! * [`Translator::revalidate`] gives exactly what `translate` + slow-path substitution + a
//!   compare with the installed actions would give; it may only save work (buffers, the cache).
//! * [`Translator::translation_unchanged`] answers true only if translating the flow again would
//!   give the same actions, the same wildcards and the same cache as the translation that built
//!   the cache; the engine then keeps the flow as a steady round would.
//! * The returned wildcards are datapath wildcards: bits of pipeline-only fields (`metadata`,
//!   registers) are ignored by the engine, and `in_port` is always made exact.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use rvs_dpif::dpif::{Actions, FlowStats};
use rvs_flow::odp::{CookieKind, OdpAction, Userdata, UserdataCookie, UserspaceAction};
use rvs_flow::{Flow, Wildcards};

/// Slow-path reason bit `action` (OVS's `SLOW_ACTION`: the actions need userspace).
pub const SLOW_ACTION: u32 = 0x20;
/// Slow-path reason bit `match` (OVS's `SLOW_MATCH`: the datapath cannot match precisely enough).
pub const SLOW_MATCH: u32 = 0x40;

/// A translation request.
#[derive(Clone, Copy, Debug)]
pub struct XlateRequest<'a> {
    /// The (unmasked) flow to translate.
    pub flow: &'a Flow,
    /// TCP flags seen (for `fin_timeout` and the like).
    pub tcp_flags: u16,
    /// True for a side-effect-free revalidation.
    pub for_revalidation: bool,
    /// The OpenFlow tables version to translate against (read once, before translating).
    pub tables_version: u64,
}

/// What a translation produced.
#[derive(Debug)]
pub struct XlateOutput {
    /// Datapath actions (for a slow-pathed flow: what to execute on the upcalled packet).
    pub actions: Actions,
    /// Every flow bit the translation looked at.
    pub wc: Wildcards,
    /// Slow-path reason bits; 0 means the flow may be installed with `actions`.
    pub slow_path: u32,
    /// A cache of the translation's side effects (rules hit, ...), used to credit statistics
    /// later without translating again; `None` if the translation must not be cached (OVS's
    /// `avoid_caching`), which makes revalidators delete the flow.
    pub xcache: Option<Box<dyn XlateCache>>,
}

/// What a revalidation translation ([`Translator::revalidate`]) found.
#[derive(Debug)]
pub struct RevalidateOutput {
    /// Every flow bit the translation looked at (as [`XlateOutput::wc`]).
    pub wc: Wildcards,
    /// The actions the flow must be installed with (for a slow-pathed flow: its
    /// [`Translator::slow_path_actions`]), or `None` if they equal the installed ones.
    pub new_actions: Option<Actions>,
}

/// Why a translation failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum XlateError {
    /// No bridge owns the flow's input port (OVS's `ENODEV` from `xlate_lookup`).
    #[error("no ofproto for in_port {0}")]
    NoOfproto(u32),
    /// Any other translation error.
    #[error("translation failed: {0}")]
    Failed(String),
}

/// A translation's side-effect cache (OVS's `xlate_cache`), opaque to the engine.
pub trait XlateCache: Send + Sync + fmt::Debug {
    /// For the translator to get its own type back.
    fn as_any(&self) -> &dyn Any;

    /// Reads a word of the cache's own allocation, so that using it soon after finds it in the
    /// processor's cache; the value means nothing. The default reads nothing.
    fn touch(&self) -> u64 {
        0
    }
}

/// OpenFlow translation, as the engine needs it.
pub trait Translator: Send + Sync {
    /// The current tables version (an acquire load; changes with every committed flow-table change).
    fn tables_version(&self) -> u64;

    /// Translates a flow.
    fn translate(&self, req: &XlateRequest<'_>) -> Result<XlateOutput, XlateError>;

    /// Re-translates an installed flow for revalidation (`req.for_revalidation` is true) and
    /// compares the actions the flow needs with `installed`. On success `*xcache` holds the
    /// new translation's cache (`None` = must not be cached), which an implementation may
    /// produce by keeping or updating the given one in place when it is unchanged; the
    /// outcome must equal [`Translator::translate`]'s. On error `*xcache` is unspecified.
    ///
    /// The default translates afresh and compares.
    fn revalidate(
        &self,
        req: &XlateRequest<'_>,
        installed: &Actions,
        xcache: &mut Option<Box<dyn XlateCache>>,
    ) -> Result<RevalidateOutput, XlateError> {
        let out = self.translate(req)?;
        *xcache = out.xcache;
        let actions = if out.slow_path != 0 {
            self.slow_path_actions(req.flow, out.slow_path)
        } else {
            out.actions
        };
        Ok(RevalidateOutput {
            wc: out.wc,
            new_actions: (*actions != **installed).then_some(actions),
        })
    }

    /// True if nothing that changed since the translation that built `xcache` can change what
    /// translating its flow again would give (actions, wildcards, cache), so a revalidation
    /// after a change may keep the flow without translating it. An implementation that answers
    /// true may record in the cache that it is current. The default answers false: every
    /// revalidation after a change translates again, as Open vSwitch does.
    fn translation_unchanged(&self, xcache: &dyn XlateCache) -> bool {
        let _ = xcache;
        false
    }

    /// Credits `delta` to everything `xcache` recorded (rules, tables, ports, learn...).
    fn push_stats(&self, xcache: &dyn XlateCache, delta: &FlowStats);

    /// The actions a slow-pathed flow is installed with: an upcall carrying a slow-path cookie.
    fn slow_path_actions(&self, flow: &Flow, reasons: u32) -> Actions {
        let cookie = UserdataCookie {
            ofp_in_port: u16::try_from(flow.in_port).unwrap_or(u16::MAX),
            ofproto_uuid: [0; 16],
            kind: CookieKind::SlowPath { reasons },
        };
        Arc::from(vec![OdpAction::Userspace(UserspaceAction {
            pid: 0,
            userdata: Some(Userdata::Cookie(cookie)),
            actions: false,
            tunnel_out_port: None,
        })])
    }
}

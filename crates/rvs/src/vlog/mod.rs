//! Logging for the daemon on `tracing`, controlled with Open vSwitch's `vlog/*` commands.
//!
//! Every tracing event belongs to one vlog module, found from its target by [`MODULES`] (the
//! longest matching target prefix on a `::` boundary; targets no module claims belong to
//! `vswitchd`). Each module has a level per destination:
//!
//! * `console`: standard error, lines like `2026-11-26T10:29:27Z|00001|vlog|INFO|text`;
//! * `file`: the log file given to [`Vlog::init`], same lines with milliseconds;
//! * `syslog`: listed and settable as in OVS, but **rvs has no syslog output**: the column has no
//!   effect on what is logged.
//!
//! Defaults are OVS's for a process that does not detach: INFO for every module at every
//! destination (OVS turns the console OFF only when it daemonizes). Levels map onto tracing as
//! ERROR→`err`, WARN→`warn`, INFO→`info`, DEBUG and TRACE→`dbg`; tracing has no emergency
//! level, so `emer` lets nothing through (like `off`). Spans are not printed.
//!
//! `vlog/set PATTERN:<destination>:<pattern>` and `FACILITY:<name>` are accepted and stored
//! (shown by [`Vlog::list_pattern`]) but **do not change the output**, which always uses OVS's
//! default layout. There is no rate limiting, so `vlog/list` never shows
//! `(rate limiting disabled)`.
//!
//! Invariants: control commands never panic, whatever their arguments; a spec that fails to parse
//! changes nothing (earlier specs of the same command stay applied, as in OVS); after each change
//! tracing's per-callsite interest cache is rebuilt, so disabled events cost one cached check.

mod output;
mod spec;
mod startup;
#[cfg(test)]
mod tests;

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, Ordering};

use parking_lot::Mutex;
use tracing_subscriber::layer::SubscriberExt as _;

use output::{ConsoleSink, VlogLayer};
use spec::{Action, Destination, Level};
use startup::initial_actions;

/// The vlog modules of rvs with the tracing targets each one covers, named after the OVS module
/// that does the same job.
pub const MODULES: &[(&str, &[&str])] = &[
    ("coverage", &["rvs::coverage_report"]),
    ("dpif", &["rvs_dpif::dpif"]),
    ("dpif_netdev", &["rvs_dpif"]),
    ("flow", &["rvs_flow"]),
    ("netdev", &["rvs_netdev"]),
    ("netdev_dummy", &["rvs_netdev::dummy"]),
    ("odp_util", &["rvs_flow::odp"]),
    ("ofproto", &["rvs_ofproto"]),
    ("ofproto_dpif", &["rvs::ofproto_dpif"]),
    ("ofproto_dpif_upcall", &["rvs_upcall"]),
    ("ofproto_dpif_xlate", &["rvs_ofproto::xlate"]),
    ("unixctl", &["rvs_ctl"]),
    ("vlog", &["rvs::vlog"]),
    ("vswitchd", &["rvs"]),
];

/// The module that owns targets no entry of [`MODULES`] claims.
const FALLBACK_MODULE: &str = "vswitchd";

/// The tracing target of this module's own messages.
const OWN_TARGET: &str = "rvs::vlog";

/// Index in [`MODULES`] of the module an event target belongs to.
fn module_for_target(target: &str) -> usize {
    let mut best: Option<(usize, usize)> = None;
    for (index, (_, targets)) in MODULES.iter().enumerate() {
        for prefix in *targets {
            let matches = target
                .strip_prefix(prefix)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"));
            if matches && best.is_none_or(|(_, len)| prefix.len() > len) {
                best = Some((index, prefix.len()));
            }
        }
    }
    best.map(|(index, _)| index)
        .unwrap_or_else(|| module_index(FALLBACK_MODULE).unwrap_or(0))
}

/// Index in [`MODULES`] of the module named `name` (ASCII case ignored).
fn module_index(name: &str) -> Option<usize> {
    MODULES
        .iter()
        .position(|(m, _)| m.eq_ignore_ascii_case(name))
}

/// State shared by the control handle and the tracing layer.
struct Shared {
    /// Per module, per destination (indexed by `Destination as usize`), a `Level as u8`.
    levels: Vec<[AtomicU8; 3]>,
    /// Stored patterns per destination (not used for output).
    patterns: Mutex<[String; 3]>,
    /// Stored syslog facility (not used).
    facility: Mutex<String>,
    /// The configured log file, if any.
    log_path: Option<PathBuf>,
    /// The open log file.
    file: Mutex<Option<File>>,
    /// Whether `file` is `Some` (read without the lock on every callsite check).
    file_open: AtomicBool,
    /// Where console lines go.
    console: ConsoleSink,
    /// Last message sequence number.
    sequence: AtomicU32,
}

/// OVS's default output patterns, in destination order (syslog, console, file).
const DEFAULT_PATTERNS: [&str; 3] = [
    "ovs|%05N|%c%T|%p|%m",
    "%D{%Y-%m-%dT%H:%M:%SZ}|%05N|%c%T|%p|%m",
    "%D{%Y-%m-%dT%H:%M:%S.###Z}|%05N|%c%T|%p|%m",
];

impl Shared {
    fn new(console: ConsoleSink, log_path: Option<PathBuf>) -> Shared {
        let info = Level::Info as u8;
        Shared {
            levels: MODULES
                .iter()
                .map(|_| [0; 3].map(|_: u8| AtomicU8::new(info)))
                .collect(),
            patterns: Mutex::new(DEFAULT_PATTERNS.map(str::to_string)),
            facility: Mutex::new("daemon".to_string()),
            log_path,
            file: Mutex::new(None),
            file_open: AtomicBool::new(false),
            console,
            sequence: AtomicU32::new(0),
        }
    }

    fn level(&self, module: usize, destination: Destination) -> Level {
        self.levels
            .get(module)
            .and_then(|row| row.get(destination as usize))
            .map_or(Level::Off, |l| Level::from_u8(l.load(Ordering::Relaxed)))
    }

    /// The most verbose level any destination that produces output takes for `module`.
    fn effective_level(&self, module: usize) -> Level {
        let console = self.level(module, Destination::Console);
        if self.file_is_open() {
            console.max(self.level(module, Destination::File))
        } else {
            console
        }
    }

    fn file_is_open(&self) -> bool {
        self.file_open.load(Ordering::Relaxed)
    }

    fn next_sequence(&self) -> u32 {
        self.sequence
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_add(1)
    }

    fn write_file(&self, line: &[u8]) {
        if let Some(file) = self.file.lock().as_mut() {
            let _ = file.write_all(line);
        }
    }

    fn apply(&self, action: Action) {
        match action {
            Action::Levels {
                module,
                destination,
                level,
            } => {
                for (index, row) in self.levels.iter().enumerate() {
                    if module.is_some_and(|m| m != index) {
                        continue;
                    }
                    for d in Destination::ALL {
                        if destination.is_none_or(|want| want == d)
                            && let Some(cell) = row.get(d as usize)
                        {
                            cell.store(level as u8, Ordering::Relaxed);
                        }
                    }
                }
            }
            Action::Pattern {
                destination,
                pattern,
            } => {
                let mut patterns = self.patterns.lock();
                for d in Destination::ALL {
                    if destination.is_none_or(|want| want == d)
                        && let Some(slot) = patterns.get_mut(d as usize)
                    {
                        slot.clone_from(&pattern);
                    }
                }
            }
            Action::Facility(name) => *self.facility.lock() = name,
        }
    }
}

/// Text of an OS error without Rust's ` (os error N)` suffix, as C's `strerror` gives it.
fn os_error_text(error: &std::io::Error) -> String {
    let text = error.to_string();
    text.split(" (os error ")
        .next()
        .unwrap_or_default()
        .to_string()
}

fn open_log(path: &Path) -> std::io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

/// Tells tracing to ask the layer again about every callsite after levels changed.
fn refresh_interest() {
    tracing::callsite::rebuild_interest_cache();
}

/// Handle on the daemon's logging: the `vlog/*` control commands. Cheap to clone.
#[derive(Clone)]
pub struct Vlog {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Vlog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vlog")
    }
}

impl Vlog {
    /// Installs the global tracing subscriber: console = standard error, file = `log_file` if
    /// given (opened for appending). `initial` holds `vlog/set`-style specs applied in order
    /// (e.g. `"dbg"`, `"ofproto:file:warn"`); tracing/EnvFilter words are also accepted
    /// (`debug`, `trace`, `error`, `warning`, and `target_or_module=level` lists). Fails on a bad
    /// spec, an unopenable log file, or when a global subscriber is already installed.
    pub fn init(initial: &[String], log_file: Option<&Path>) -> Result<Vlog, String> {
        let (vlog, layer) = Vlog::build(ConsoleSink::Stderr, initial, log_file)?;
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::set_global_default(subscriber).map_err(|_| {
            "logging is already initialised (a global tracing subscriber is installed)".to_string()
        })?;
        refresh_interest();
        if let Some(path) = log_file {
            tracing::info!(target: OWN_TARGET, "opened log file {}", path.display());
        }
        Ok(vlog)
    }

    /// A handle and its layer, not installed anywhere.
    fn build(
        console: ConsoleSink,
        initial: &[String],
        log_file: Option<&Path>,
    ) -> Result<(Vlog, VlogLayer), String> {
        let shared = Arc::new(Shared::new(console, log_file.map(Path::to_path_buf)));
        for spec in initial {
            for action in initial_actions(spec)? {
                shared.apply(action);
            }
        }
        if let Some(path) = log_file {
            let file =
                open_log(path).map_err(|e| format!("{}: {}", path.display(), os_error_text(&e)))?;
            *shared.file.lock() = Some(file);
            shared.file_open.store(true, Ordering::Relaxed);
        }
        let layer = VlogLayer {
            shared: Arc::clone(&shared),
        };
        Ok((Vlog { shared }, layer))
    }

    /// `vlog/set [SPEC...]`: applies each spec in order; no spec sets every module at every
    /// destination to `dbg`. Success replies with an empty text; the first bad spec stops with
    /// OVS's error text (earlier specs stay applied).
    pub fn set(&self, args: &[String]) -> Result<String, String> {
        let result = self.set_all(args);
        refresh_interest();
        result
    }

    fn set_all(&self, args: &[String]) -> Result<String, String> {
        if args.is_empty() {
            self.shared.apply(Action::Levels {
                module: None,
                destination: None,
                level: Level::Dbg,
            });
        }
        for arg in args {
            self.shared.apply(spec::parse(arg, module_index)?);
        }
        Ok(String::new())
    }

    /// `vlog/list`: a header naming the console, syslog and file columns, then one line per
    /// module, sorted, exactly in OVS's layout.
    pub fn list(&self) -> String {
        let mut text = String::from(
            "                 console    syslog    file\n                 -------    ------    ------\n",
        );
        let mut lines: Vec<String> = MODULES
            .iter()
            .enumerate()
            .map(|(index, (name, _))| {
                let level = |d| self.shared.level(index, d).name();
                format!(
                    "{name:<16}  {:>4}       {:>4}       {:>4}\n",
                    level(Destination::Console),
                    level(Destination::Syslog),
                    level(Destination::File)
                )
            })
            .collect();
        lines.sort();
        lines.iter().for_each(|line| text.push_str(line));
        text
    }

    /// `vlog/list-pattern`: the stored pattern of each destination in OVS's layout. The patterns
    /// are not used for output; the syslog prefix shows `none` since rvs has no syslog writer.
    pub fn list_pattern(&self) -> String {
        let mut text = String::from(
            "         prefix                            format\n         ------                            ------\n",
        );
        let patterns = self.shared.patterns.lock();
        for (d, pattern) in Destination::ALL.iter().zip(patterns.iter()) {
            let name = d.name().to_ascii_uppercase();
            text.push_str(&format!("{name:<7}  {:<32}  {pattern}\n", "none"));
        }
        text
    }

    /// `vlog/reopen`: reopens the log file (after rotation). Empty reply on success; errors
    /// `Logging to file not configured` or the OS error text.
    pub fn reopen(&self) -> Result<String, String> {
        let Some(path) = self.shared.log_path.as_deref() else {
            return Err("Logging to file not configured".to_string());
        };
        let new_file = open_log(path).map_err(|e| os_error_text(&e))?;
        let same_file = {
            let current = self.shared.file.lock();
            match (current.as_ref().map(File::metadata), new_file.metadata()) {
                (Some(Ok(old)), Ok(new)) => old.dev() == new.dev() && old.ino() == new.ino(),
                _ => false,
            }
        };
        if same_file {
            return Ok(String::new());
        }
        if self.shared.file_is_open() {
            tracing::info!(target: OWN_TARGET, "closing log file");
        }
        *self.shared.file.lock() = Some(new_file);
        self.shared.file_open.store(true, Ordering::Relaxed);
        refresh_interest();
        tracing::info!(target: OWN_TARGET, "opened log file {}", path.display());
        Ok(String::new())
    }
}

//! The `tracing` layer that filters events by module and level and writes them in OVS's line
//! format: `<UTC time>|<sequence:05>|<module>|<LEVEL>|<message>` (the console shows whole
//! seconds, the file milliseconds, as OVS's default patterns do).
//!
//! Invariants: the layer's answers to `register_callsite`, `enabled` and `max_level_hint` always
//! agree with the level table (after every change the owner rebuilds tracing's interest cache);
//! an event is formatted once and gets one sequence number whatever the number of destinations;
//! write errors are ignored (logging never fails the caller).

use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing::subscriber::Interest;
use tracing::{Event, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

use super::spec::{Destination, Level};
use super::{MODULES, Shared};

/// Filters and writes events for one [`super::Vlog`].
pub(super) struct VlogLayer {
    pub(super) shared: Arc<Shared>,
}

impl<S: Subscriber> Layer<S> for VlogLayer {
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        if self.wants(metadata) {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, metadata: &Metadata<'_>, _ctx: Context<'_, S>) -> bool {
        self.wants(metadata)
    }

    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        use tracing::level_filters::LevelFilter;
        let most = (0..MODULES.len())
            .map(|m| self.shared.effective_level(m))
            .max()
            .unwrap_or(Level::Off);
        Some(match most {
            Level::Off | Level::Emer => LevelFilter::OFF,
            Level::Err => LevelFilter::ERROR,
            Level::Warn => LevelFilter::WARN,
            Level::Info => LevelFilter::INFO,
            Level::Dbg => LevelFilter::TRACE,
        })
    }

    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let metadata = event.metadata();
        let module = super::module_for_target(metadata.target());
        let level = Level::of_tracing(*metadata.level());
        let to_console = self.shared.level(module, Destination::Console) >= level;
        let to_file =
            self.shared.file_is_open() && self.shared.level(module, Destination::File) >= level;
        if !to_console && !to_file {
            return;
        }
        let mut message = MessageText::default();
        event.record(&mut message);
        let sequence = self.shared.next_sequence();
        let name = MODULES.get(module).map_or("", |m| m.0);
        let text = message.finish();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        if to_console {
            let line = log_line(now.as_secs(), None, sequence, name, level, &text);
            self.shared.console.write_line(line.as_bytes());
        }
        if to_file {
            let millis = Some(now.subsec_millis());
            let line = log_line(now.as_secs(), millis, sequence, name, level, &text);
            self.shared.write_file(line.as_bytes());
        }
    }
}

impl VlogLayer {
    /// Whether any active destination of the callsite's module takes its level.
    fn wants(&self, metadata: &Metadata<'_>) -> bool {
        let module = super::module_for_target(metadata.target());
        self.shared.effective_level(module) >= Level::of_tracing(*metadata.level())
    }
}

/// Where console lines go.
pub(super) enum ConsoleSink {
    /// The process's standard error.
    Stderr,
    /// A buffer (tests).
    #[cfg(test)]
    Buffer(Arc<parking_lot::Mutex<Vec<u8>>>),
}

impl ConsoleSink {
    fn write_line(&self, line: &[u8]) {
        match self {
            ConsoleSink::Stderr => {
                let _ = std::io::stderr().lock().write_all(line);
            }
            #[cfg(test)]
            ConsoleSink::Buffer(buffer) => buffer.lock().extend_from_slice(line),
        }
    }
}

/// Collects the message and the other fields of an event as `message key=value ...`.
#[derive(Default)]
struct MessageText {
    message: String,
    fields: String,
}

impl MessageText {
    fn finish(self) -> String {
        match (self.message.is_empty(), self.fields.is_empty()) {
            (_, true) => self.message,
            (true, false) => self.fields,
            (false, false) => format!("{} {}", self.message, self.fields),
        }
    }

    fn push_field(&mut self, name: &str, value: std::fmt::Arguments<'_>) {
        if !self.fields.is_empty() {
            self.fields.push(' ');
        }
        let _ = write!(self.fields, "{name}={value}");
    }
}

impl Visit for MessageText {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            self.push_field(field.name(), format_args!("{value}"));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            self.push_field(field.name(), format_args!("{value:?}"));
        }
    }
}

/// One output line in OVS's default layout (console without `millis`, file with them).
fn log_line(
    unix_seconds: u64,
    millis: Option<u32>,
    sequence: u32,
    module: &str,
    level: Level,
    text: &str,
) -> String {
    let time = utc_timestamp(unix_seconds, millis);
    format!("{time}|{sequence:05}|{module}|{}|{text}\n", level.name())
}

/// `YYYY-MM-DDTHH:MM:SSZ`, or with `.mmm` before the `Z` when `millis` is given.
pub(super) fn utc_timestamp(unix_seconds: u64, millis: Option<u32>) -> String {
    let days = unix_seconds / 86_400;
    let second_of_day = unix_seconds % 86_400;
    let (year, month, day) = civil_from_days(days);
    let (h, m, s) = (
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60,
    );
    match millis {
        Some(ms) => format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{ms:03}Z"),
        None => format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}Z"),
    }
}

/// Gregorian date of a day count since 1970-01-01 (the classic era-based conversion).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(utc_timestamp(0, None), "1970-01-01T00:00:00Z");
        // 2026-11-26T10:29:27Z, the time of an OVS oracle log line.
        assert_eq!(
            utc_timestamp(1_795_688_967, Some(7)),
            "2026-11-26T10:29:27.007Z"
        );
        assert_eq!(utc_timestamp(951_782_400, None), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn lines_match_ovs() {
        // First line of an OVS 3.1 ovs-vswitchd log file (oracle) and its console twin.
        let text = "opened log file /tmp/oracle-vlog/ovs-vswitchd.log";
        assert_eq!(
            log_line(1_795_688_967, Some(660), 1, "vlog", Level::Info, text),
            "2026-11-26T10:29:27.660Z|00001|vlog|INFO|opened log file /tmp/oracle-vlog/ovs-vswitchd.log\n"
        );
        assert_eq!(
            log_line(1_795_688_967, None, 123_456, "vlog", Level::Dbg, "x"),
            "2026-11-26T10:29:27Z|123456|vlog|DBG|x\n"
        );
    }
}

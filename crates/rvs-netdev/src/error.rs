//! The error type of every port operation.
//!
//! Invariant: an error is returned only when the operation as a whole could not be done (the port
//! could not be opened, the socket broke). A single bad or undeliverable frame is never an error:
//! it is counted in the port's statistics (`rx_errors`, `tx_dropped`, ...) and the batch goes on.

use std::io;

/// What went wrong in a port operation.
#[derive(Debug, thiserror::Error)]
pub enum NetdevError {
    /// A system call failed; `op` names the call or the step that made it.
    #[error("{port}: {op}: {source}")]
    Io {
        /// The port (interface or file) the call was made for.
        port: String,
        /// The call or step that failed, e.g. `setsockopt(PACKET_RX_RING)`.
        op: &'static str,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// A configuration value is out of range or inconsistent with another one.
    #[error("{port}: invalid configuration: {reason}")]
    InvalidConfig {
        /// The port being configured.
        port: String,
        /// Which value is wrong and why.
        reason: String,
    },
    /// A capture file could not be read or written.
    #[error("{port}: pcap file {path}: {source}")]
    Pcap {
        /// The port the file belongs to.
        port: String,
        /// The file.
        path: String,
        /// The pcap library's error.
        #[source]
        source: pcap_file::PcapError,
    },
}

/// The result type of port operations.
pub type Result<T> = std::result::Result<T, NetdevError>;

impl NetdevError {
    /// Builds an [`NetdevError::Io`] for `port` from an `io::Error` raised by step `op`.
    pub(crate) fn io(port: &str, op: &'static str, source: io::Error) -> Self {
        NetdevError::Io {
            port: port.to_owned(),
            op,
            source,
        }
    }

    /// Builds an [`NetdevError::InvalidConfig`].
    pub(crate) fn config(port: &str, reason: impl Into<String>) -> Self {
        NetdevError::InvalidConfig {
            port: port.to_owned(),
            reason: reason.into(),
        }
    }
}

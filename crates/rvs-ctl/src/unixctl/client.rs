//! The blocking client side, as `ovs-appctl` uses it: one request at a time, ids counting from 0.
//!
//! # Invariants
//! * Answers are matched by id; messages with other ids are skipped (as OVS's
//!   `jsonrpc_transact_block` does).
//! * A `result` or `error` that is not a JSON string, an answer that is not valid JSON-RPC, a
//!   closed connection or a timeout is an `io::Error`, never a panic.

use super::CommandResult;
use crate::jsonrpc::{Decoder, Message};
use serde_json::Value;
use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

/// Largest answer accepted, in bytes (flow dumps can be big).
const MAX_REPLY_LEN: usize = 256 << 20;

/// A connection to a unixctl server.
#[derive(Debug)]
pub struct Client {
    stream: UnixStream,
    decoder: Decoder,
    next_id: u64,
}

impl Client {
    /// Connects to the server socket at `path`.
    pub fn connect(path: &Path) -> io::Result<Client> {
        Ok(Client {
            stream: UnixStream::connect(path)?,
            decoder: Decoder::new(MAX_REPLY_LEN),
            next_id: 0,
        })
    }

    /// Limits how long one read or write may block (`None`: forever, the default).
    pub fn set_timeout(&mut self, t: Option<Duration>) {
        // Only a zero duration is rejected, and it is mapped to the smallest real one.
        let t = t.map(|d| d.max(Duration::from_nanos(1)));
        let _ = self.stream.set_read_timeout(t);
        let _ = self.stream.set_write_timeout(t);
    }

    /// Runs `method` with `params` and waits for its answer: `Ok(Ok(text))` for a result,
    /// `Ok(Err(text))` for an error answer (texts as sent, newline rule already applied by the
    /// server).
    pub fn transact(&mut self, method: &str, params: &[String]) -> io::Result<CommandResult> {
        let id = self.next_id;
        self.next_id += 1;
        let request = Message::Request {
            method: method.to_owned(),
            params: params.iter().cloned().map(Value::String).collect(),
            id: Value::from(id),
        };
        self.stream
            .write_all(&request.to_bytes())
            .map_err(timeout_kind)?;
        let want = Value::from(id);
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match self.decoder.next_message() {
                Ok(Some(Message::Reply { result, id })) if id == want => {
                    return match result {
                        Value::String(text) => Ok(Ok(text)),
                        other => Err(invalid(format!(
                            "unexpected result type in JSON rpc reply: {}",
                            json_type(&other)
                        ))),
                    };
                }
                Ok(Some(Message::Error { error, id })) if id == want => {
                    return match error {
                        Value::String(text) => Ok(Err(text)),
                        other => Err(invalid(format!(
                            "unexpected error type in JSON RPC reply: {}",
                            json_type(&other)
                        ))),
                    };
                }
                Ok(Some(_)) => continue,
                Ok(None) => {}
                Err(e) => return Err(invalid(e.to_string())),
            }
            let n = match self.stream.read(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(timeout_kind(e)),
            };
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "connection closed by the server before it answered",
                ));
            }
            self.decoder.feed(buf.get(..n).unwrap_or_default());
        }
    }
}

fn invalid(text: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, text)
}

/// A socket timeout shows up as `WouldBlock`; report it as `TimedOut`.
fn timeout_kind(e: io::Error) -> io::Error {
    if e.kind() == io::ErrorKind::WouldBlock {
        io::Error::new(io::ErrorKind::TimedOut, "timed out waiting for the server")
    } else {
        e
    }
}

/// OVS's `json_type_to_string` names.
fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(false) => "false",
        Value::Bool(true) => "true",
        Value::Number(n) if n.is_f64() => "real",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

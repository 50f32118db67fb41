//! Incremental decoding of a byte stream of back-to-back JSON-RPC messages.
//!
//! # Invariants
//! * Bytes may arrive split anywhere (even inside a UTF-8 sequence); the messages returned are the
//!   same as for the whole stream at once.
//! * Each message must start with `{` (after optional JSON whitespace); this keeps bare top-level
//!   numbers, whose end cannot be seen until the next byte arrives, out of the stream.
//! * No single message, complete or still arriving, may exceed `max_message_len` bytes; the limit is
//!   checked on buffered bytes, so memory stays bounded by about `max_message_len` plus one `feed`.
//! * Errors are sticky: after the first [`DecodeError`] every later call returns it again (the byte
//!   stream has lost its framing; the connection should be closed).
//! * Work is linear in the bytes fed: a cheap scanner tracks bracket depth outside strings, and the
//!   full JSON parser runs on an unfinished message only while it is short (at most
//!   [`EAGER_PARSE_LEN`] bytes, so syntax errors in small requests are reported at once) or when it
//!   has doubled in size since the last attempt; otherwise it waits for the scanner to see the
//!   closing `}`. A syntax error in a long unfinished message may therefore be reported late (at
//!   the latest when the message closes or passes the size limit).

use super::{DecodeError, Message};
use serde_json::Value;

/// Incremental decoder over a byte stream of back-to-back JSON objects (no delimiters).
#[derive(Debug)]
pub struct Decoder {
    /// Bytes received but not yet consumed by a returned message.
    buffer: Vec<u8>,
    /// Limit on the size of one message in bytes.
    max_message_len: usize,
    /// The first error met, returned again by every later call.
    failed: Option<DecodeError>,
    /// Bracket scanner over the message at the start of `buffer`.
    scan: Scan,
    /// Buffer length at the last full parse attempt of the current (unfinished) message.
    last_attempt_len: usize,
    /// Full JSON parses run so far (for tests of the linear-work invariant).
    full_parses: usize,
}

/// Unfinished messages up to this many bytes are fully parsed on every call.
const EAGER_PARSE_LEN: usize = 64 * 1024;

/// Where the bracket scanner stands in the message at the start of the buffer.
#[derive(Debug, Default, Clone, Copy)]
struct Scan {
    /// Bytes of the buffer scanned so far.
    pos: usize,
    /// Open `{`/`[` outside strings.
    depth: usize,
    in_string: bool,
    escaped: bool,
}

impl Scan {
    /// Scans `bytes` from `self.pos`; true once the first top-level value has closed.
    fn closed(&mut self, bytes: &[u8]) -> bool {
        let Some(new) = bytes.get(self.pos..) else {
            return false;
        };
        for &b in new {
            self.pos += 1;
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                } else if b == b'\\' {
                    self.escaped = true;
                } else if b == b'"' {
                    self.in_string = false;
                }
                continue;
            }
            match b {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => {
                    self.depth = self.depth.saturating_sub(1);
                    if self.depth == 0 {
                        return true;
                    }
                }
                _ => {}
            }
        }
        false
    }
}

impl Decoder {
    /// A decoder that rejects messages longer than `max_message_len` bytes.
    pub fn new(max_message_len: usize) -> Decoder {
        Decoder {
            buffer: Vec::new(),
            max_message_len,
            failed: None,
            scan: Scan::default(),
            last_attempt_len: 0,
            full_parses: 0,
        }
    }

    /// Appends received bytes.
    pub fn feed(&mut self, bytes: &[u8]) {
        if self.failed.is_none() {
            self.buffer.extend_from_slice(bytes);
        }
    }

    /// Number of bytes buffered and not yet returned as part of a message.
    pub fn buffered_len(&self) -> usize {
        self.buffer.len()
    }

    /// How many times the full JSON parser has run (a measure of the work done).
    pub fn full_parse_count(&self) -> usize {
        self.full_parses
    }

    /// The next complete message: `Ok(None)` means more bytes are needed.
    pub fn next_message(&mut self) -> Result<Option<Message>, DecodeError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        let result = self.next_inner();
        if let Err(error) = &result {
            self.failed = Some(error.clone());
            self.buffer = Vec::new();
        }
        result
    }

    fn next_inner(&mut self) -> Result<Option<Message>, DecodeError> {
        let start = self
            .buffer
            .iter()
            .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
            .unwrap_or(self.buffer.len());
        if start > 0 {
            self.buffer.drain(..start);
            self.restart_scan();
        }
        match self.buffer.first() {
            None => return Ok(None),
            Some(b'{') => {}
            Some(_) => {
                return Err(DecodeError::Invalid(
                    "message is not a JSON object".to_owned(),
                ));
            }
        }
        let closed = self.scan.closed(&self.buffer);
        let len = self.buffer.len();
        if !closed {
            if len > self.max_message_len {
                return Err(self.too_large());
            }
            let worth_trying = len <= EAGER_PARSE_LEN || len >= self.last_attempt_len * 2;
            if !worth_trying {
                return Ok(None);
            }
            self.last_attempt_len = len;
        }
        self.full_parses += 1;
        let mut stream = serde_json::Deserializer::from_slice(&self.buffer).into_iter::<Value>();
        match stream.next() {
            // Unreachable: the buffer starts with '{'. Treated as "need more".
            None => Ok(None),
            Some(Ok(value)) => {
                let used = stream.byte_offset();
                if used > self.max_message_len {
                    return Err(self.too_large());
                }
                self.buffer.drain(..used);
                self.restart_scan();
                Message::from_value(value).map(Some)
            }
            Some(Err(e)) if e.is_eof() => {
                if self.buffer.len() > self.max_message_len {
                    Err(self.too_large())
                } else {
                    Ok(None)
                }
            }
            Some(Err(e)) => Err(DecodeError::Syntax(e.to_string())),
        }
    }

    /// The buffer start moved: the next message is scanned from its beginning.
    fn restart_scan(&mut self) {
        self.scan = Scan::default();
        self.last_attempt_len = 0;
    }

    fn too_large(&self) -> DecodeError {
        DecodeError::TooLarge {
            limit: self.max_message_len,
        }
    }
}

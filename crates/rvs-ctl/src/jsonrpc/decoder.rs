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
}

impl Decoder {
    /// A decoder that rejects messages longer than `max_message_len` bytes.
    pub fn new(max_message_len: usize) -> Decoder {
        Decoder {
            buffer: Vec::new(),
            max_message_len,
            failed: None,
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
        self.buffer.drain(..start);
        match self.buffer.first() {
            None => return Ok(None),
            Some(b'{') => {}
            Some(_) => {
                return Err(DecodeError::Invalid(
                    "message is not a JSON object".to_owned(),
                ));
            }
        }
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

    fn too_large(&self) -> DecodeError {
        DecodeError::TooLarge {
            limit: self.max_message_len,
        }
    }
}

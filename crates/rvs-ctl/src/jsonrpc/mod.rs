//! JSON-RPC 1.0 messages exactly as Open vSwitch's `lib/jsonrpc.c` classifies and validates them.
//!
//! A JSON object becomes a [`Message`] by these rules (same order as OVS): `null` members count as
//! absent; it is a reply if `result` is present, else an error if `error` is present, else a request
//! if `id` is present, else a notification. Then every member must be allowed for that kind (a
//! request has `method`, `params` and `id` only; a notification `method` and `params`; a reply
//! `result` and `id`; an error `error` and `id`), `params` must be an array and no other member may
//! appear. The error texts are OVS's.
//!
//! # Invariants
//! * [`Message::from_value`] accepts exactly the messages OVS's `jsonrpc_msg_from_json` accepts
//!   (duplicate keys aside: the last one wins here).
//! * [`Message::to_bytes`] output always parses back (through [`Decoder`]) to an equal message, except
//!   that an [`Message::Error`] or [`Message::Reply`] with a `null` id is not valid JSON-RPC (OVS rejects
//!   it too); the server only sends such an error when the request had no usable id.
//! * Member order on the wire is fixed: requests and notifications `method, params, id`; replies
//!   `id, result, error` (with `"error":null`); errors `id, error` (no `result`, as `ovs-vswitchd`
//!   3.1 writes them: recorded from the OVS oracle).

mod decoder;

pub use decoder::Decoder;

use serde_json::{Map, Value};

/// One JSON-RPC 1.0 message as OVS classifies it (reply if `result` is non-null, error if `error`
/// is non-null, request if `id` is present, else notification).
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// A call that expects an answer carrying the same `id`.
    Request {
        /// Name of the command.
        method: String,
        /// Positional arguments (unixctl requires strings; any JSON is valid here).
        params: Vec<Value>,
        /// Caller-chosen identifier, never `null`.
        id: Value,
    },
    /// A call without an answer (`"id":null` on the wire).
    Notify {
        /// Name of the notification.
        method: String,
        /// Positional arguments.
        params: Vec<Value>,
    },
    /// A successful answer.
    Reply {
        /// The result (a string for unixctl).
        result: Value,
        /// The id of the request answered.
        id: Value,
    },
    /// A failed answer.
    Error {
        /// The error (a string for unixctl).
        error: Value,
        /// The id of the request answered.
        id: Value,
    },
}

/// Why bytes could not be turned into a [`Message`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The bytes are not JSON (the text comes from `serde_json`).
    #[error("JSON syntax error: {0}")]
    Syntax(String),
    /// One message (or the unfinished start of one) is longer than the decoder's limit.
    #[error("JSON-RPC message exceeds the maximum size of {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// Valid JSON that is not a valid JSON-RPC message; the text is OVS's wording
    /// (e.g. `message has unexpected member "x"`).
    #[error("{0}")]
    Invalid(String),
}

impl Message {
    /// The kind name OVS uses in its messages: `request`, `notification`, `reply` or `error`.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Message::Request { .. } => "request",
            Message::Notify { .. } => "notification",
            Message::Reply { .. } => "reply",
            Message::Error { .. } => "error",
        }
    }

    /// The message as compact JSON bytes (no trailing delimiter), members in the fixed order given
    /// in the module docs.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        out.push(b'{');
        match self {
            Message::Request { method, params, id } => {
                put_member(&mut out, "method", &Value::String(method.clone()), false);
                put_member(&mut out, "params", &Value::Array(params.clone()), true);
                put_member(&mut out, "id", id, true);
            }
            Message::Notify { method, params } => {
                put_member(&mut out, "method", &Value::String(method.clone()), false);
                put_member(&mut out, "params", &Value::Array(params.clone()), true);
                put_member(&mut out, "id", &Value::Null, true);
            }
            Message::Reply { result, id } => {
                put_member(&mut out, "id", id, false);
                put_member(&mut out, "result", result, true);
                put_member(&mut out, "error", &Value::Null, true);
            }
            Message::Error { error, id } => {
                put_member(&mut out, "id", id, false);
                put_member(&mut out, "error", error, true);
            }
        }
        out.push(b'}');
        out
    }

    /// Classifies and validates one decoded JSON value with OVS's rules and error texts.
    pub fn from_value(v: Value) -> Result<Message, DecodeError> {
        let Value::Object(mut object) = v else {
            return Err(invalid("message is not a JSON object"));
        };
        let method = match object.remove("method") {
            None => None,
            Some(Value::String(s)) => Some(s),
            Some(_) => return Err(invalid("method is not a JSON string")),
        };
        let params = take_non_null(&mut object, "params");
        let result = take_non_null(&mut object, "result");
        let error = take_non_null(&mut object, "error");
        let id = take_non_null(&mut object, "id");
        let kind = if result.is_some() {
            Kind::Reply
        } else if error.is_some() {
            Kind::Error
        } else if id.is_some() {
            Kind::Request
        } else {
            Kind::Notify
        };
        if let Some((name, _)) = object.iter().next() {
            return Err(DecodeError::Invalid(format!(
                "message has unexpected member \"{name}\""
            )));
        }
        let params = match params {
            None => None,
            Some(Value::Array(items)) => Some(items),
            Some(_) => return Err(invalid("\"params\" must be JSON array")),
        };
        let (want_method, want_params, want_result, want_error, want_id) = match kind {
            Kind::Request => (true, true, false, false, true),
            Kind::Notify => (true, true, false, false, false),
            Kind::Reply => (false, false, true, false, true),
            Kind::Error => (false, false, false, true, true),
        };
        let checks = [
            ("method", method.is_some(), want_method),
            ("params", params.is_some(), want_params),
            ("result", result.is_some(), want_result),
            ("error", error.is_some(), want_error),
            ("id", id.is_some(), want_id),
        ];
        for (member, present, wanted) in checks {
            if present != wanted {
                let not = if wanted { "" } else { " not" };
                return Err(DecodeError::Invalid(format!(
                    "{} must{not} have \"{member}\"",
                    kind.name()
                )));
            }
        }
        // The checks above guarantee the members each kind needs; `unwrap_or_default` never
        // actually substitutes anything.
        Ok(match kind {
            Kind::Request => Message::Request {
                method: method.unwrap_or_default(),
                params: params.unwrap_or_default(),
                id: id.unwrap_or_default(),
            },
            Kind::Notify => Message::Notify {
                method: method.unwrap_or_default(),
                params: params.unwrap_or_default(),
            },
            Kind::Reply => Message::Reply {
                result: result.unwrap_or_default(),
                id: id.unwrap_or_default(),
            },
            Kind::Error => Message::Error {
                error: error.unwrap_or_default(),
                id: id.unwrap_or_default(),
            },
        })
    }
}

/// The four kinds, before the members are checked.
#[derive(Clone, Copy)]
enum Kind {
    Request,
    Notify,
    Reply,
    Error,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Request => "request",
            Kind::Notify => "notification",
            Kind::Reply => "reply",
            Kind::Error => "error",
        }
    }
}

fn invalid(text: &str) -> DecodeError {
    DecodeError::Invalid(text.to_owned())
}

fn take_non_null(object: &mut Map<String, Value>, name: &str) -> Option<Value> {
    object.remove(name).filter(|v| !v.is_null())
}

fn put_member(out: &mut Vec<u8>, name: &str, value: &Value, comma: bool) {
    if comma {
        out.push(b',');
    }
    out.push(b'"');
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\":");
    // Serializing a `Value` into a Vec cannot fail (no I/O, string keys only).
    if serde_json::to_writer(&mut *out, value).is_err() {
        out.extend_from_slice(b"null");
    }
}

#[cfg(test)]
mod tests;

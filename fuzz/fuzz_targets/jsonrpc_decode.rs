#![no_main]
//! JSON-RPC stream decoding: arbitrary bytes fed in arbitrary chunks must never panic, must return
//! the same messages (or the same first error) as the whole input fed at once, and every decoded
//! message must encode and decode back to itself.
use libfuzzer_sys::fuzz_target;
use rvs_ctl::jsonrpc::{DecodeError, Decoder, Message};

const LIMIT: usize = 4096;

/// Decodes `data` fed in chunks whose lengths come from `cuts`; stops at the first error.
fn decode(data: &[u8], cuts: &[u8]) -> (Vec<Message>, Option<DecodeError>) {
    let mut d = Decoder::new(LIMIT);
    let mut out = Vec::new();
    let mut rest = data;
    let mut cut = cuts.iter().cycle();
    while !rest.is_empty() {
        let n = usize::from(*cut.next().unwrap_or(&255))
            .max(1)
            .min(rest.len());
        let (chunk, tail) = rest.split_at(n);
        rest = tail;
        d.feed(chunk);
        loop {
            match d.next_message() {
                Ok(Some(m)) => out.push(m),
                Ok(None) => break,
                Err(e) => return (out, Some(e)),
            }
        }
    }
    (out, None)
}

fuzz_target!(|input: &[u8]| {
    // First byte: how many following bytes describe chunk lengths; the rest is the stream.
    let Some((&n_cuts, rest)) = input.split_first() else {
        return;
    };
    let n_cuts = usize::from(n_cuts % 16).min(rest.len());
    let (cuts, data) = rest.split_at(n_cuts);
    let (chunked, chunked_err) = decode(data, cuts);
    let (whole, whole_err) = decode(data, &[255]);
    // A message over the limit can be reported as soon as the buffered part passes the limit, so
    // only compare runs that ended without a size error.
    let size_error = |e: &Option<DecodeError>| matches!(e, Some(DecodeError::TooLarge { .. }));
    if !size_error(&chunked_err) && !size_error(&whole_err) {
        assert_eq!(chunked, whole);
        assert_eq!(chunked_err.is_some(), whole_err.is_some());
    }
    for m in &chunked {
        let mut d = Decoder::new(usize::MAX);
        d.feed(&m.to_bytes());
        match (m, d.next_message()) {
            // Null ids do not survive (OVS treats `"id":null` as absent).
            (Message::Reply { id, .. } | Message::Error { id, .. }, _) if id.is_null() => {}
            (_, Ok(Some(back))) => assert_eq!(&back, m),
            (_, other) => panic!("{m:?} re-decoded as {other:?}"),
        }
    }
});

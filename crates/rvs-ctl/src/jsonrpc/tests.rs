use super::*;
use proptest::prelude::*;
use serde_json::json;

fn decode_all(chunks: &[&[u8]]) -> Result<Vec<Message>, DecodeError> {
    let mut d = Decoder::new(1 << 20);
    let mut out = Vec::new();
    for c in chunks {
        d.feed(c);
        while let Some(m) = d.next_message()? {
            out.push(m);
        }
    }
    Ok(out)
}

fn parse(text: &str) -> Result<Message, DecodeError> {
    let v: Value = serde_json::from_str(text).expect("test JSON");
    Message::from_value(v)
}

#[test]
fn wire_forms_match_what_ovs_writes() {
    // Request form from ovs-upcall.md §7.1; reply and error forms recorded from the OVS 3.1 oracle
    // (ovs-vswitchd answering raw requests on its control socket).
    let req = Message::Request {
        method: "upcall/set-flow-limit".into(),
        params: vec![json!("5000")],
        id: json!(0),
    };
    assert_eq!(
        req.to_bytes(),
        br#"{"method":"upcall/set-flow-limit","params":["5000"],"id":0}"#
    );
    let reply = Message::Reply {
        result: json!("ovs-vswitchd (Open vSwitch) 3.1.0\n"),
        id: json!(0),
    };
    assert_eq!(
        reply.to_bytes(),
        br#"{"id":0,"result":"ovs-vswitchd (Open vSwitch) 3.1.0\n","error":null}"#
    );
    let error = Message::Error {
        error: json!("\"version\" command takes at most 0 arguments\n"),
        id: json!("abc"),
    };
    assert_eq!(
        error.to_bytes(),
        br#"{"id":"abc","error":"\"version\" command takes at most 0 arguments\n"}"#
    );
    let notify = Message::Notify {
        method: "echo".into(),
        params: vec![],
    };
    assert_eq!(
        notify.to_bytes(),
        br#"{"method":"echo","params":[],"id":null}"#
    );
}

#[test]
fn classification_follows_ovs() {
    assert!(matches!(
        parse(r#"{"id":7,"error":"x"}"#),
        Ok(Message::Error { .. })
    ));
    assert!(matches!(
        parse(r#"{"id":7,"result":"x","error":null}"#),
        Ok(Message::Reply { .. })
    ));
    assert!(matches!(
        parse(r#"{"method":"m","params":[],"id":{"a":[1]}}"#),
        Ok(Message::Request { .. })
    ));
    assert!(matches!(
        parse(r#"{"method":"m","params":[1],"id":null}"#),
        Ok(Message::Notify { .. })
    ));
}

#[test]
fn invalid_message_texts_are_ovs_wording() {
    // Texts from lib/jsonrpc.c (jsonrpc_msg_from_json, jsonrpc_msg_is_valid); the first four were also
    // seen in the OVS oracle's log ("received bad JSON-RPC message: ...").
    let cases = [
        (
            r#"{"method":"version","params":[],"id":0,"x":1}"#,
            "message has unexpected member \"x\"",
        ),
        (
            r#"{"method":"version","params":{},"id":0}"#,
            "\"params\" must be JSON array",
        ),
        (
            r#"{"method":"version","id":0}"#,
            "request must have \"params\"",
        ),
        ("[1,2]", "message is not a JSON object"),
        (r#"{"method":5,"params":[]}"#, "method is not a JSON string"),
        (r#"{"result":"x"}"#, "reply must have \"id\""),
        (
            r#"{"result":"x","error":"y","id":1}"#,
            "reply must not have \"error\"",
        ),
        (
            r#"{"error":"y","params":[],"id":1}"#,
            "error must not have \"params\"",
        ),
        (
            r#"{"method":"m","result":1,"id":1}"#,
            "reply must not have \"method\"",
        ),
        (r#"{"params":[]}"#, "notification must have \"method\""),
        (r#"{}"#, "notification must have \"method\""),
    ];
    for (text, want) in cases {
        assert_eq!(
            parse(text),
            Err(DecodeError::Invalid(want.to_owned())),
            "{text}"
        );
    }
}

#[test]
fn back_to_back_messages_and_partial_input() {
    let stream =
        br##"{"method":"a","params":[],"id":0}  {"method":"b","params":["x"],"id":1}{"id""##;
    let mut d = Decoder::new(1024);
    d.feed(stream);
    assert!(matches!(d.next_message(), Ok(Some(Message::Request { method, .. })) if method == "a"));
    assert!(matches!(d.next_message(), Ok(Some(Message::Request { method, .. })) if method == "b"));
    assert_eq!(d.next_message(), Ok(None));
    d.feed(br#":3,"result":"ok","error":null}"#);
    assert_eq!(
        d.next_message(),
        Ok(Some(Message::Reply {
            result: json!("ok"),
            id: json!(3)
        }))
    );
    assert_eq!(d.next_message(), Ok(None));
    assert_eq!(d.buffered_len(), 0);
}

#[test]
fn utf8_split_inside_a_character() {
    let msg = Message::Request {
        method: "é€😀".into(),
        params: vec![json!("ü")],
        id: json!(1),
    };
    let bytes = msg.to_bytes();
    for cut in 0..bytes.len() {
        let got = decode_all(&[&bytes[..cut], &bytes[cut..]]).expect("decodes");
        assert_eq!(got, vec![msg.clone()], "cut at {cut}");
    }
}

#[test]
fn every_cut_of_tricky_tokens() {
    // Numbers, literals and escapes whose prefix is also a token (or an error) must wait for more.
    let text = r#" {"method":"m","params":[-1.5e-3,0,1E+2,true,false,null,"\u00e9\n\"x",[],{}],"id":-0.0}"#;
    let whole = decode_all(&[text.as_bytes()]).expect("whole");
    assert_eq!(whole.len(), 1);
    let bytes = text.as_bytes();
    for a in 0..bytes.len() {
        for b in a..bytes.len() {
            let got = decode_all(&[&bytes[..a], &bytes[a..b], &bytes[b..]]);
            assert_eq!(got.as_ref(), Ok(&whole), "cuts at {a}, {b}");
        }
    }
}

#[test]
fn big_message_in_small_chunks_is_parsed_a_few_times_only() {
    let msg = Message::Reply {
        result: Value::String("x{\"[".repeat(1 << 20)),
        id: json!(1),
    };
    let bytes = msg.to_bytes();
    let mut d = Decoder::new(16 << 20);
    let mut got = None;
    for chunk in bytes.chunks(1024) {
        d.feed(chunk);
        if let Some(m) = d.next_message().expect("valid") {
            got = Some(m);
        }
    }
    assert_eq!(got, Some(msg));
    // 64 eager attempts while short, then one per doubling, then the final one; re-parsing on
    // every chunk would be about 5000.
    assert!(d.full_parse_count() < 100, "{}", d.full_parse_count());
}

#[test]
fn syntax_error_in_a_short_unfinished_message_is_reported_at_once() {
    let mut d = Decoder::new(1 << 20);
    d.feed(br#"{"method" 5, "#);
    assert!(matches!(d.next_message(), Err(DecodeError::Syntax(_))));
}

#[test]
fn size_limit_applies_to_complete_and_partial_messages() {
    let mut d = Decoder::new(20);
    d.feed(br#"{"method":"a","params":[],"id":0}"#);
    assert_eq!(d.next_message(), Err(DecodeError::TooLarge { limit: 20 }));
    let mut d = Decoder::new(20);
    d.feed(br#"{"method":"aaaaaaaaaaaaaaaa"#);
    assert_eq!(d.next_message(), Err(DecodeError::TooLarge { limit: 20 }));
    // Exactly at the limit is fine.
    let exact = br#"{"method":"a","params":[],"id":0}"#;
    let mut d = Decoder::new(exact.len());
    d.feed(exact);
    assert!(matches!(d.next_message(), Ok(Some(_))));
}

#[test]
fn syntax_errors_are_sticky() {
    let mut d = Decoder::new(1024);
    d.feed(b"{\"method\" 5}");
    let first = d.next_message();
    assert!(matches!(first, Err(DecodeError::Syntax(_))), "{first:?}");
    d.feed(br#"{"method":"a","params":[],"id":0}"#);
    assert_eq!(d.next_message(), first);
    let mut d = Decoder::new(1024);
    d.feed(b"garbage");
    assert_eq!(
        d.next_message(),
        Err(DecodeError::Invalid("message is not a JSON object".into()))
    );
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let mut text = String::from("{\"method\":\"m\",\"params\":");
    text.push_str(&"[".repeat(100_000));
    let mut d = Decoder::new(1 << 20);
    d.feed(text.as_bytes());
    assert!(matches!(d.next_message(), Err(DecodeError::Syntax(_))));
}

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        "\\PC{0,12}".prop_map(Value::String),
    ]
}

fn json_value() -> BoxedStrategy<Value> {
    json_leaf()
        .prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("[a-z]{1,4}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
        .boxed()
}

fn non_null_value() -> impl Strategy<Value = Value> {
    json_value().prop_filter("non-null", |v| !v.is_null())
}

fn message() -> impl Strategy<Value = Message> {
    let params = prop::collection::vec(json_value(), 0..4);
    prop_oneof![
        ("\\PC{0,10}", params.clone(), non_null_value())
            .prop_map(|(method, params, id)| Message::Request { method, params, id }),
        ("\\PC{0,10}", params).prop_map(|(method, params)| Message::Notify { method, params }),
        (non_null_value(), non_null_value()).prop_map(|(result, id)| Message::Reply { result, id }),
        (non_null_value(), non_null_value()).prop_map(|(error, id)| Message::Error { error, id }),
    ]
}

proptest! {
    #[test]
    fn split_stream_gives_same_messages(
        messages in prop::collection::vec(message(), 0..6),
        spaces in prop::collection::vec(0usize..3, 6),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
    ) {
        let mut stream = Vec::new();
        for (i, m) in messages.iter().enumerate() {
            stream.extend_from_slice(&m.to_bytes());
            stream.extend(std::iter::repeat_n(b' ', spaces[i % spaces.len()]));
        }
        let mut points: Vec<usize> = cuts.iter().map(|c| c.index(stream.len() + 1)).collect();
        points.sort_unstable();
        let mut chunks: Vec<&[u8]> = Vec::new();
        let mut at = 0;
        for p in points {
            chunks.push(&stream[at..p]);
            at = p;
        }
        chunks.push(&stream[at..]);
        let got = decode_all(&chunks);
        prop_assert_eq!(got, Ok(messages));
    }

    #[test]
    fn garbage_never_panics(
        chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 0..8),
        limit in 0usize..200,
    ) {
        let mut d = Decoder::new(limit);
        for c in &chunks {
            d.feed(c);
            for _ in 0..4 {
                match d.next_message() {
                    Ok(Some(_)) => {}
                    Ok(None) | Err(_) => break,
                }
            }
            prop_assert!(d.buffered_len() <= limit + c.len());
        }
    }

    #[test]
    fn garbage_after_valid_prefix_never_panics(
        m in message(),
        tail in prop::collection::vec(any::<u8>(), 0..60),
    ) {
        let mut bytes = m.to_bytes();
        bytes.extend_from_slice(&tail);
        let mut d = Decoder::new(1 << 16);
        d.feed(&bytes);
        prop_assert_eq!(d.next_message(), Ok(Some(m)));
        let _ = d.next_message();
    }
}

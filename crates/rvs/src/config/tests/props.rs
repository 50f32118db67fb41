//! Property tests: no text panics the loader, and `set` never leaves a knob out of range.

use super::*;
use proptest::prelude::*;

/// Fragments of plausible configuration text, to reach past the TOML parser more often than
/// random characters would.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("[[bridge]]\nname = \"br0\"\n".to_string()),
        Just("[[bridge.port]]\n".to_string()),
        Just("[other_config]\n".to_string()),
        Just("name = \"p1\"\n".to_string()),
        Just("type = \"afpacket\"\n".to_string()),
        Just("type = \"pcap\"\n".to_string()),
        Just("vlan-mode = \"trunk\"\n".to_string()),
        Just("flows = [\"actions=NORMAL\"]\n".to_string()),
        (-5i64..70_000).prop_map(|n| format!("ofport = {n}\n")),
        (-5i64..5000).prop_map(|n| format!("tag = {n}\n")),
        prop::collection::vec(-2i64..5000, 0..3).prop_map(|v| format!("trunks = {v:?}\n")),
        (0u64..100_000).prop_map(|n| format!("flow-limit = {n}\n")),
        "[a-z\\-]{1,12} = [0-9]{1,4}\n",
        "flows = \\[\"[ -~]{0,30}\"\\]\n",
        "\\PC{0,20}",
    ]
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        let _ = Config::from_toml_str(&text, Some(Path::new("x.toml")));
    }

    #[test]
    fn config_like_text_never_panics(parts in prop::collection::vec(fragment(), 0..12)) {
        let text = parts.concat();
        if let Err(err) = Config::from_toml_str(&text, None) {
            // Every refusal of text has a position inside the text.
            let line = err.line().expect("a position");
            prop_assert!(line >= 1 && line <= text.lines().count() + 1);
            prop_assert!(!err.message().is_empty());
        }
    }

    #[test]
    fn set_never_leaves_a_knob_out_of_range(key in "[a-z\\-]{0,22}", value in "\\PC{0,12}") {
        let keys: Vec<_> = OtherConfig::keys().collect();
        let key = keys.iter().copied().find(|k| k.starts_with(&key) && !key.is_empty()).unwrap_or(&key);
        let mut other = OtherConfig::default();
        if other.set(key, &value).is_ok() {
            // The accepted value reads back and reloads through the file format.
            let text = format!("[other_config]\n{}", other.describe().lines()
                .filter(|l| !l.ends_with('='))
                .map(|l| {
                    // Quoted: the file takes every knob as a string too (names need it).
                    let (k, v) = l.split_once('=').expect("key=value");
                    format!("{k} = \"{v}\"\n")
                })
                .collect::<String>());
            let reloaded = Config::from_toml_str(&text, None).expect("describe output is a valid file");
            prop_assert_eq!(reloaded.other, other);
        } else {
            prop_assert_eq!(other, OtherConfig::default());
        }
    }
}

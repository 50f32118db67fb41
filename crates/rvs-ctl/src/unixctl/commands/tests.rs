use super::*;
use serde_json::json;
use std::sync::Arc;

fn registry() -> Commands {
    let mut c = Commands::new("rvs (rvs) 0.1.0");
    c.register(
        "upcall/set-flow-limit",
        "flow-limit-number",
        1,
        1,
        Arc::new(|args: &[String]| Ok(format!("set flow_limit to {}\n", args.join(" ")))),
    );
    c.register(
        "dpctl/add-flow",
        "[dp] flow actions",
        2,
        3,
        Arc::new(|_: &[String]| Err("updating flow table".to_owned())),
    );
    c.register_hidden(
        "revalidator/pause",
        "",
        0,
        0,
        Arc::new(|_: &[String]| Ok(String::new())),
    );
    c
}

#[test]
fn server_error_texts_are_ovs_wording() {
    // Recorded from the OVS 3.1 oracle (raw requests to ovs-vswitchd's control socket); the
    // newline the server appends is not part of `dispatch`'s text.
    let c = registry();
    assert_eq!(
        c.dispatch("foo/bar", &[]),
        Err("\"foo/bar\" is not a valid command (use \"list-commands\" to see a list of valid commands)".into())
    );
    assert_eq!(
        c.dispatch("version", &[json!("x")]),
        Err("\"version\" command takes at most 0 arguments".into())
    );
    assert_eq!(
        c.dispatch("dpctl/add-flow", &[]),
        Err("\"dpctl/add-flow\" command requires at least 2 arguments".into())
    );
    // From lib/unixctl.c (process_command).
    assert_eq!(
        c.dispatch("upcall/set-flow-limit", &[json!(5000)]),
        Err("\"upcall/set-flow-limit\" command has non-string argument".into())
    );
    // The count is checked before the types (oracle: revalidator/purge with [1]).
    assert_eq!(
        c.dispatch("version", &[json!(1)]),
        Err("\"version\" command takes at most 0 arguments".into())
    );
}

#[test]
fn handlers_get_string_arguments() {
    let c = registry();
    assert_eq!(
        c.dispatch("upcall/set-flow-limit", &[json!("5000")]),
        Ok("set flow_limit to 5000\n".into())
    );
    assert_eq!(
        c.dispatch("dpctl/add-flow", &[json!("a"), json!("b")]),
        Err("updating flow table".into())
    );
    assert_eq!(c.dispatch("revalidator/pause", &[]), Ok(String::new()));
    assert_eq!(c.dispatch("version", &[]), Ok("rvs (rvs) 0.1.0".into()));
}

#[test]
fn list_commands_layout() {
    // Header and "  %-23s %s" lines as the OVS 3.1 oracle prints them (`list-commands` and
    // `version` have an empty usage, so their lines end in a space). Hidden commands are absent.
    let c = registry();
    let text = c.dispatch("list-commands", &[]).expect("list");
    assert_eq!(
        text,
        "The available commands are:\n\
         \x20 dpctl/add-flow          [dp] flow actions\n\
         \x20 list-commands           \n\
         \x20 set-options             [--format text|json]\n\
         \x20 upcall/set-flow-limit   flow-limit-number\n\
         \x20 version                 \n"
    );
    assert!(c.contains("revalidator/pause"));
}

#[test]
fn first_registration_wins() {
    let mut c = registry();
    c.register(
        "version",
        "x",
        0,
        5,
        Arc::new(|_: &[String]| Ok("other".into())),
    );
    assert_eq!(c.dispatch("version", &[]), Ok("rvs (rvs) 0.1.0".into()));
}

#[test]
fn json_mode_wraps_text_and_lists_as_object() {
    let c = registry();
    let mut format = OutputFormat::Text;
    let set = c
        .execute(
            "set-options",
            &[json!("--format"), json!("json")],
            &mut format,
        )
        .map(Answer::into_result);
    assert_eq!(set, Ok(json!({"reply-format": "plain", "reply": ""})));
    assert_eq!(format, OutputFormat::Json);
    let v = c
        .execute("version", &[], &mut format)
        .map(Answer::into_result);
    assert_eq!(
        v,
        Ok(json!({"reply-format": "plain", "reply": "rvs (rvs) 0.1.0"}))
    );
    let list = c
        .execute("list-commands", &[], &mut format)
        .map(Answer::into_result)
        .expect("list");
    assert_eq!(
        list.get("upcall/set-flow-limit"),
        Some(&json!("flow-limit-number"))
    );
    assert_eq!(list.get("revalidator/pause"), None);
    let back = c.execute("set-options", &[json!("-ftext")], &mut format);
    assert!(back.is_ok());
    assert_eq!(format, OutputFormat::Text);
    assert_eq!(
        c.execute("version", &[], &mut format)
            .map(Answer::into_result),
        Ok(json!("rvs (rvs) 0.1.0\n"))
    );
}

#[test]
fn set_options_errors() {
    let cases: &[(&[&str], &str)] = &[
        (&["--format", "xml"], "option format has invalid value xml"),
        (&["--format"], "option '--format' requires an argument"),
        (&["-f"], "option '-f' requires an argument"),
        (&["--bogus"], "unrecognized option '--bogus'"),
        (&["-x"], "unrecognized option 'x'"),
    ];
    for (args, want) in cases {
        let params: Vec<Value> = args.iter().map(|a| json!(a)).collect();
        let mut format = OutputFormat::Text;
        assert_eq!(
            registry()
                .execute("set-options", &params, &mut format)
                .map(Answer::into_result),
            Err((*want).to_owned()),
            "{args:?}"
        );
    }
    let mut format = OutputFormat::Text;
    let ok = registry().execute("set-options", &[json!("--form=JSON")], &mut format);
    assert!(ok.is_ok());
    assert_eq!(format, OutputFormat::Json);
}

//! `dpctl/add-flow`, `mod-flow`, `del-flow`, `get-flow` and `del-flows`.
//!
//! # Invariants
//! * A flow argument is an optional `ufid:<uuid>` (anything after it, spaces included, is the
//!   key) and a datapath key as `rvs_flow::odp::parse_key` reads it, with port names. A key that
//!   is empty or all spaces is the empty key OVS's parser accepts, read as every field
//!   wildcarded (so a put of it fails, where OVS would install an exact-match flow).
//! * Puts and deletes without a UFID name the flow by its key (the datapath derives the UFID
//!   from the key, as ovs-vswitchd's appctl path does with `odp_flow_key_hash`).
//! * Every put and delete is for all forwarding threads ([`PMD_ID_NULL`]).
//! * `del-flows FILE` never fails: each line's failure is reported and the next line is read.

use std::sync::Arc;

use rvs_flow::odp::{FormatOptions, PortNames, format_dump_line, parse_actions, parse_key};
use rvs_flow::ufid::Ufid;
use rvs_flow::{Flow, Wildcards};

use super::stats::{dump_extras, dump_stats, format_stats};
use super::{Ctx, Failed, KEY_ORDER, PutKind};
use crate::dpif::{
    Dpif, DpifError, FlowDel, FlowGet, FlowPut, FlowRef, FlowStats, PMD_ID_NULL, PutFlags,
};

/// A flow argument split into its UFID and key text.
enum UfidPrefix<'a> {
    /// No `ufid:` prefix; the whole text is the key.
    Absent(&'a str),
    /// `ufid:<uuid>` then the key text.
    Present(Ufid, &'a str),
    /// `ufid:` not followed by a UUID.
    Invalid,
}

/// OVS's `odp_ufid_from_string`: a leading `ufid:<uuid>` is taken off.
fn split_ufid(text: &str) -> UfidPrefix<'_> {
    if !text.starts_with("ufid:") {
        return UfidPrefix::Absent(text);
    }
    match Ufid::parse_prefix(text) {
        Some((ufid, rest)) => UfidPrefix::Present(ufid, rest),
        None => UfidPrefix::Invalid,
    }
}

/// Why key text was not accepted.
enum KeyError {
    /// Text OVS's parser rejects too: the message is OVS's.
    Syntax(String),
    /// Text OVS's parser reads but its datapath rejects (OVS decodes keys only there): a
    /// put fails with `EINVAL`, a delete by key finds nothing.
    Undecodable,
}

/// Parses key text; the empty key (nothing but spaces) is every field wildcarded.
fn parse_flow_key(text: &str, ports: &dyn PortNames) -> Result<(Flow, Wildcards), KeyError> {
    if text.trim_matches([' ', '\t', '\r', '\n']).is_empty() {
        return Ok((Flow::default(), Wildcards::default()));
    }
    parse_key(text, Some(ports)).map_err(|e| {
        let message = e.to_string();
        if message.starts_with("syntax error") {
            KeyError::Syntax(message)
        } else {
            KeyError::Undecodable
        }
    })
}

/// The argument at `index`, or "" where OVS would read outside its argument list.
fn arg<'a>(argv: &[&'a str], index: Option<usize>) -> &'a str {
    index.and_then(|i| argv.get(i)).copied().unwrap_or("")
}

/// `add-flow` / `mod-flow [dp] flow actions`.
pub(super) fn put_flow(ctx: &mut Ctx<'_>, argv: &[&str], kind: PutKind) -> Result<(), Failed> {
    ctx.open_optional(argv, 4)?;
    let n = argv.len();
    let key = arg(argv, n.checked_sub(2));
    let actions = arg(argv, n.checked_sub(1));
    let flags = match kind {
        PutKind::Add => PutFlags::CREATE,
        PutKind::Modify => PutFlags {
            create: ctx.params.may_create,
            modify: true,
            zero_stats: ctx.params.clear,
            probe: false,
        },
    };
    put_one(ctx, key, actions, flags)
}

/// OVS's `dpctl_put_flow_dpif`: one put from flow and action text.
fn put_one(
    ctx: &mut Ctx<'_>,
    key_text: &str,
    actions: &str,
    flags: PutFlags,
) -> Result<(), Failed> {
    let (ufid, key_text) = match split_ufid(key_text) {
        UfidPrefix::Absent(k) => (None, k),
        UfidPrefix::Present(u, k) => (Some(u), k),
        UfidPrefix::Invalid => return ctx.fail("parsing flow ufid", Some(&super::invalid())),
    };
    let ports = ctx.port_names();
    let parsed = match parse_flow_key(key_text, &ports) {
        Ok(parsed) => Some(parsed),
        Err(KeyError::Undecodable) => None,
        Err(KeyError::Syntax(e)) => {
            return ctx.fail(&format!("parsing flow key ({e})"), Some(&super::invalid()));
        }
    };
    let Ok(actions) = parse_actions(actions, None) else {
        return ctx.fail("parsing actions", Some(&super::invalid()));
    };
    let Some((key, mask)) = parsed else {
        return ctx.fail("updating flow table", Some(&super::invalid()));
    };
    let put = FlowPut {
        owner: None,
        flags,
        key,
        mask,
        actions: Arc::from(actions),
        ufid,
        pmd_id: PMD_ID_NULL,
    };
    match ctx.dp.flow_put(put) {
        Ok(stats) => {
            print_stats(ctx, &stats);
            Ok(())
        }
        Err(e) => ctx.fail("updating flow table", Some(&e)),
    }
}

/// Under `-s`, appends the statistics line of a put or delete.
fn print_stats(ctx: &mut Ctx<'_>, stats: &FlowStats) {
    if ctx.params.statistics {
        let now = ctx.dp.now_ms();
        format_stats(&mut ctx.out, stats, now);
        ctx.out.push('\n');
    }
}

/// `get-flow [dp] ufid`.
pub(super) fn get_flow(ctx: &mut Ctx<'_>, argv: &[&str]) -> Result<(), Failed> {
    let text = arg(argv, argv.len().checked_sub(1));
    ctx.open_optional(argv, 3)?;
    let ufid = match split_ufid(text) {
        UfidPrefix::Present(u, _) => u,
        // OVS reports these but does not fail the command.
        UfidPrefix::Absent(_) => {
            ctx.error("parsing flow ufid", None);
            return Ok(());
        }
        UfidPrefix::Invalid => {
            ctx.error("parsing flow ufid", Some(&super::invalid()));
            return Ok(());
        }
    };
    let get = FlowGet {
        flow: FlowRef::Ufid(ufid),
        pmd_id: PMD_ID_NULL,
    };
    let flow = match ctx.dp.flow_get(get) {
        Ok(flow) => flow,
        Err(e) => return ctx.fail("getting flow", Some(&e)),
    };
    let names = ctx.params.names.then(|| ctx.port_names());
    let opts = FormatOptions {
        verbose: ctx.params.verbosity > 0,
        key_order: KEY_ORDER,
        port_names: names.as_ref().map(|n| n as &dyn PortNames),
    };
    let now = ctx.dp.now_ms();
    let key = flow.key.unwrap_or_default();
    let mask = flow.mask.unwrap_or_default();
    let actions = flow.actions.clone().unwrap_or_else(|| Arc::from([]));
    format_dump_line(
        &mut ctx.out,
        flow.ufid_present.then_some(&flow.ufid),
        &key,
        &mask,
        &dump_stats(&flow.stats),
        now,
        &actions,
        &dump_extras(&flow),
        &opts,
    );
    ctx.out.push('\n');
    Ok(())
}

/// `del-flow [dp] flow`.
pub(super) fn del_flow(ctx: &mut Ctx<'_>, argv: &[&str]) -> Result<(), Failed> {
    let text = arg(argv, argv.len().checked_sub(1));
    ctx.open_optional(argv, 3)?;
    del_one(ctx, text)
}

/// OVS's `dpctl_del_flow_dpif`: one delete from flow text.
fn del_one(ctx: &mut Ctx<'_>, text: &str) -> Result<(), Failed> {
    let (ufid, key_text) = match split_ufid(text) {
        UfidPrefix::Absent(k) => (None, k),
        UfidPrefix::Present(u, k) => (Some(u), k),
        UfidPrefix::Invalid => return ctx.fail("parsing flow ufid", Some(&super::invalid())),
    };
    let ports = ctx.port_names();
    let key = match parse_flow_key(key_text, &ports) {
        Ok((key, _)) => Some(key),
        Err(KeyError::Undecodable) => None,
        Err(KeyError::Syntax(e)) => return ctx.fail(&e, Some(&super::invalid())),
    };
    let result = match (ufid, key) {
        (Some(u), _) => ctx.dp.flow_del(FlowDel {
            flow: FlowRef::Ufid(u),
            pmd_id: PMD_ID_NULL,
        }),
        (None, Some(key)) => ctx.dp.flow_del(FlowDel {
            flow: FlowRef::Key(Box::new(key)),
            pmd_id: PMD_ID_NULL,
        }),
        // OVS names the flow by a hash of the key text's attributes; no flow has that name.
        (None, None) => Err(DpifError::NotFound),
    };
    match result {
        Ok(stats) => {
            print_stats(ctx, &stats);
            Ok(())
        }
        Err(e) => {
            ctx.error("deleting flow", Some(&e));
            // OVS 3.1 prints the hint for an explicit UFID too (it reads an uninitialised flag).
            if e == DpifError::NotFound {
                ctx.out.push_str("Perhaps you need to specify a UFID?\n");
            }
            Err(Failed)
        }
    }
}

/// `del-flows [dp] [file]`.
pub(super) fn del_flows(ctx: &mut Ctx<'_>, argv: &[&str]) -> Result<(), Failed> {
    let named = argv.get(1).is_some_and(|a| *a == ctx.dp.name());
    if (!named && argv.len() == 2) || argv.len() > 2 {
        return process_file(ctx, argv);
    }
    ctx.open_optional(argv, 2)?;
    ctx.dp.flow_flush();
    Ok(())
}

/// What a line of a flow file asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LineCommand {
    Add,
    Modify,
    Delete,
}

/// OVS's `dpctl_process_flows` for `del-flows FILE`: runs each line of the file.
fn process_file(ctx: &mut Ctx<'_>, argv: &[&str]) -> Result<(), Failed> {
    let file = arg(argv, argv.len().checked_sub(1));
    // OVS picks the default from argv[0], which is the last option when there were options.
    let default = if argv.first().is_some_and(|a| a.contains("del-flows")) {
        LineCommand::Delete
    } else {
        LineCommand::Add
    };
    ctx.open_optional(argv, 4)?;
    let contents = if file == "-" {
        String::new()
    } else {
        match std::fs::read(file) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            // OVS opens a directory fine and then reads nothing from it.
            Err(_) if std::path::Path::new(file).is_dir() => String::new(),
            Err(e) => {
                let reason = io_strerror(&e);
                ctx.error(&format!("Opening file \"{file}\" failed"), Some(&reason));
                return Ok(());
            }
        }
    };
    for (index, line) in contents.split('\n').enumerate() {
        let line = line.split('#').next().unwrap_or("");
        if line.trim_matches([' ', '\t', '\n']).is_empty() {
            continue;
        }
        let line_number = index + 1;
        let (command, flow, actions) = parse_flow_line(default, line);
        let valid = !matches!(
            (command, flow, actions),
            (_, None, None)
                | (LineCommand::Add | LineCommand::Modify, _, None)
                | (LineCommand::Delete, _, Some(_))
        );
        if !valid {
            ctx.error(
                &format!("Failed parsing line number {line_number}, skipped!"),
                None,
            );
            continue;
        }
        let flow = flow.unwrap_or("");
        let actions = actions.unwrap_or("");
        // Failures are reported and the next line is read.
        let _ = match command {
            LineCommand::Add => put_one(ctx, flow, actions, PutFlags::CREATE),
            LineCommand::Modify => put_one(ctx, flow, actions, PutFlags::MODIFY),
            LineCommand::Delete => del_one(ctx, flow),
        };
    }
    Ok(())
}

/// The text of an I/O error as `strerror` gives it.
fn io_strerror(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(end) => text.get(..end).unwrap_or(&text).to_string(),
        None => text,
    }
}

/// Splits a file line into command, flow and actions like OVS's `dpctl_parse_flow_line`: an
/// optional leading `add`/`delete`/`modify` (or any non-empty prefix of one), the flow up to
/// the next space, then the rest.
fn parse_flow_line(default: LineCommand, line: &str) -> (LineCommand, Option<&str>, Option<&str>) {
    const SPACES: [char; 4] = [' ', '\t', '\r', '\n'];
    let line = line.trim_start_matches(SPACES);
    let word_end = line
        .find([',', ' ', '\t', '\r', '\n'])
        .unwrap_or(line.len());
    let word = line.get(..word_end).unwrap_or("");
    let mut command = default;
    let mut rest = line;
    let keyword = [
        ("add", LineCommand::Add),
        ("delete", LineCommand::Delete),
        ("modify", LineCommand::Modify),
    ]
    .into_iter()
    .find(|(name, _)| name.starts_with(word));
    if let Some((_, c)) = keyword {
        command = c;
        rest = line.get(word_end..).unwrap_or("");
    }
    let rest = rest.trim_start_matches(SPACES);
    let flow_end = rest.find(SPACES).unwrap_or(rest.len());
    if flow_end == 0 {
        return (command, None, None);
    }
    let flow = rest.get(..flow_end);
    let actions = rest
        .get(flow_end..)
        .unwrap_or("")
        .trim_start_matches(SPACES);
    (command, flow, (!actions.is_empty()).then_some(actions))
}

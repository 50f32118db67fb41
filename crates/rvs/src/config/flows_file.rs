//! Initial OpenFlow rules: the rules of a `flows-file`, read the way `ovs-ofctl add-flows FILE`
//! reads its file, and the check that every rule (inline or from a file) parses.
//!
//! # Invariants
//! * A `#` starts a comment that runs to the end of the line; lines that are blank after removing
//!   the comment are skipped; the other lines are kept trimmed, in file order.
//! * Rules are checked with `rvs_ofproto`'s `ovs-ofctl` parser in flows-file mode
//!   ([`ParseMode::FileLine`]: an optional leading command, then the flow); port names resolve to
//!   the bridge's ports (a port without a requested `ofport` gets a stand-in number, as only the
//!   syntax is checked) and the bridge name to `LOCAL`.

use super::PortConfig;
use rvs_flow::ofp_match::port::OFPP_LOCAL;
use rvs_ofproto::table::{ParseMode, parse_flow_mod};

/// A rule of a flows file and the byte offset where it starts in the file.
pub(crate) struct FileRule {
    /// Offset of the first byte of `text` in the file.
    pub(crate) offset: usize,
    /// The rule, without comment and surrounding white space.
    pub(crate) text: String,
}

/// The rules in flows-file `text`.
pub(crate) fn rules_of(text: &str) -> Vec<FileRule> {
    let mut rules = Vec::new();
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        let without_comment = line.split_once('#').map_or(line, |(rule, _)| rule);
        let rule = without_comment.trim();
        if !rule.is_empty() {
            let leading = without_comment.len() - without_comment.trim_start().len();
            rules.push(FileRule {
                offset: line_start + leading,
                text: rule.to_string(),
            });
        }
        line_start += line.len();
    }
    rules
}

/// Checks that `rule` parses for the bridge `bridge` with `ports`; on error returns the byte
/// offset in `rule` of the offending text and the parser's message.
pub(crate) fn check_rule(
    rule: &str,
    bridge: &str,
    ports: &[PortConfig],
) -> Result<(), (usize, String)> {
    let lookup = |name: &str| -> Option<u16> {
        if name == bridge {
            return Some(OFPP_LOCAL);
        }
        ports
            .iter()
            .find(|port| port.name == name)
            .map(|port| port.ofport.unwrap_or(1))
    };
    parse_flow_mod(rule, ParseMode::FileLine, Some(&lookup))
        .map(|_| ())
        .map_err(|e| (e.position().min(rule.len()), e.message().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_and_blank_lines_are_dropped() {
        let text = "# all traffic\n\npriority=0,actions=NORMAL  # default\n  \t\n  in_port=1,actions=drop\r\n";
        let rules = rules_of(text);
        let texts: Vec<_> = rules.iter().map(|r| r.text.as_str()).collect();
        assert_eq!(
            texts,
            ["priority=0,actions=NORMAL", "in_port=1,actions=drop"]
        );
        assert_eq!(&text[rules[1].offset..rules[1].offset + 7], "in_port");
    }

    #[test]
    fn rules_resolve_port_and_bridge_names() {
        let ports = [PortConfig {
            name: "p1".into(),
            kind: super::super::PortKind::Dummy,
            ofport: Some(1),
            vlan: Default::default(),
        }];
        assert_eq!(
            check_rule("in_port=p1,actions=output:br0", "br0", &ports),
            Ok(())
        );
        assert!(check_rule("in_port=p9,actions=drop", "br0", &ports).is_err());
        assert!(check_rule("priority=0,actions=NORMAL", "br0", &[]).is_ok());
    }
}

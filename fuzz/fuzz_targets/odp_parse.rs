#![no_main]
//! Datapath flow text: any input that parses (as a key, as actions, as a dump line) must print,
//! parse back, and print the same text again; nothing may panic.
use libfuzzer_sys::fuzz_target;
use rvs_flow::odp::{
    DumpLine, FormatOptions, KeyOrder, PortNames, format_actions, format_dump_line, format_key,
    parse_actions, parse_dump_line, parse_dumped_key, parse_key,
};

const PORTS: &[(u32, &str)] = &[(1, "p1"), (2, "p2"), (100, "br0")];
const NOW: u64 = 1_000_000;

fn key_text(flow: &rvs_flow::Flow, wc: &rvs_flow::Wildcards, o: &FormatOptions<'_>) -> String {
    let mut s = String::new();
    format_key(&mut s, flow, Some(wc), o);
    s
}

fn line_text(l: &DumpLine, o: &FormatOptions<'_>) -> String {
    let mut s = String::new();
    format_dump_line(
        &mut s,
        l.ufid.as_ref(),
        &l.flow,
        &l.wc,
        &l.stats,
        NOW,
        &l.actions,
        &l.extras,
        o,
    );
    s
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let ports: Option<&dyn PortNames> = Some(&PORTS);
    for order in [KeyOrder::Current, KeyOrder::Ovs31] {
        let o = FormatOptions {
            verbose: true,
            key_order: order,
            port_names: ports,
        };
        for parsed in [parse_key(text, ports), parse_dumped_key(text, ports)] {
            let Ok((flow, wc)) = parsed else { continue };
            let t1 = key_text(&flow, &wc, &o);
            let (f2, w2) =
                parse_dumped_key(&t1, ports).unwrap_or_else(|e| panic!("{t1}: {}", e.detailed()));
            let t2 = key_text(&f2, &w2, &o);
            assert_eq!(t1, t2);
            assert_eq!(parse_dumped_key(&t2, ports).ok(), Some((f2, w2)));
        }
    }
    if let Ok(actions) = parse_actions(text, ports) {
        let mut t1 = String::new();
        format_actions(&mut t1, &actions, ports);
        let a2 = parse_actions(&t1, ports).unwrap_or_else(|e| panic!("{t1}: {}", e.detailed()));
        let mut t2 = String::new();
        format_actions(&mut t2, &a2, ports);
        assert_eq!(t1, t2);
        assert_eq!(parse_actions(&t2, ports).ok(), Some(a2));
    }
    if let Ok(line) = parse_dump_line(text, NOW, ports) {
        let o = FormatOptions {
            verbose: true,
            key_order: KeyOrder::Ovs31,
            port_names: ports,
        };
        let t1 = line_text(&line, &o);
        let l2 =
            parse_dump_line(&t1, NOW, ports).unwrap_or_else(|e| panic!("{t1}: {}", e.detailed()));
        let t2 = line_text(&l2, &o);
        assert_eq!(t1, t2);
    }
});

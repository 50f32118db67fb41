//! `fwd_bench`: the userspace datapath forwarding between real interfaces, driven by a benchmark
//! script (`bench/fwd/run.sh` at the repository root) through standard input and output.
//!
//! ```text
//! fwd_bench --port NAME=NO [--port NAME=NO ...] --flows FILE [--threads N]
//!           [--emc-insert-inv-prob P] [--max-seconds S]
//! ```
//!
//! * Opens each `NAME` as an AF_PACKET port (in the network namespace the process runs in; run it
//!   under `ip netns exec`) and adds it as datapath port `NO`.
//! * Installs every line of `FILE` as a datapath flow: `KEY ACTIONS`, the key as
//!   `ovs-appctl dpctl/dump-flows` prints it (attributes that are fully wildcarded may be left
//!   out) and the actions as `dpctl/add-flow` takes them (e.g.
//!   `recirc_id(0),in_port(1),eth_type(0x0800),ipv4(src=198.18.0.0/255.254.0.0,proto=17,frag=no) 2`);
//!   empty lines and lines starting with `#` are skipped.
//! * Prints each installed flow as `dpctl/dump-flows` prints it (`flow <line>`), then `ready`, and
//!   starts `N` forwarding threads (default 1).
//! * Reads commands from standard input, one per line, and answers on standard output:
//!   `stats` → `stats {json}` (datapath and port counters, elapsed seconds); `show` → the
//!   `dpctl/show` text (with the `masks:`/`cache:` lines) followed by `end`; `flows` → the flows with
//!   their statistics, then `end`; `quit` or end of input → stops the threads and exits.
//!
//! # Invariants
//! * The datapath has no upcall handler: a packet that matches no flow is counted as lost and
//!   dropped, never queued.
//! * The process never runs longer than `--max-seconds` (default 600): a watchdog exits it.
//! * Malformed arguments or flow lines end the program with an error message and exit status 2;
//!   nothing read from outside can make it panic.

use std::fmt::Write as _;
use std::io::{BufRead, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rvs_dpif::clock::Clock;
use rvs_dpif::datapath::{Datapath, DatapathConfig};
use rvs_dpif::dpif::{Dpif, DpifFlow, FlowPut, PMD_ID_NULL, PutFlags};
use rvs_flow::odp::{
    DpFlowStats, DumpExtras, FormatOptions, KeyOrder, format_dump_line, parse_actions,
    parse_dumped_key,
};
use rvs_netdev::{AfPacketConfig, AfPacketNetdev, Netdev};

/// Milliseconds since the clock was made, plus 1 (0 means "never used" to flow statistics).
struct MonotonicClock(Instant);

impl Clock for MonotonicClock {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.0.elapsed().as_millis())
            .unwrap_or(u64::MAX - 1)
            .saturating_add(1)
    }
}

/// The command line.
struct Options {
    ports: Vec<(String, u32)>,
    flows: String,
    threads: usize,
    emc_insert_inv_prob: u32,
    max_seconds: u64,
}

fn parse_options(args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options {
        ports: Vec::new(),
        flows: String::new(),
        threads: 1,
        emc_insert_inv_prob: rvs_dpif::emc::DEFAULT_INSERT_INV_PROB,
        max_seconds: 600,
    };
    let mut args = args;
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        let number = |text: String| {
            text.parse::<u64>()
                .map_err(|e| format!("{flag} {text}: {e}"))
        };
        match flag.as_str() {
            "--port" => {
                let spec = value()?;
                let (name, no) = spec
                    .split_once('=')
                    .ok_or_else(|| format!("--port {spec}: expected NAME=NUMBER"))?;
                let no = no
                    .parse::<u32>()
                    .map_err(|e| format!("--port {spec}: {e}"))?;
                options.ports.push((name.to_owned(), no));
            }
            "--flows" => options.flows = value()?,
            "--threads" => {
                options.threads =
                    usize::try_from(number(value()?)?).map_err(|e| format!("--threads: {e}"))?;
            }
            "--emc-insert-inv-prob" => {
                options.emc_insert_inv_prob = u32::try_from(number(value()?)?)
                    .map_err(|e| format!("--emc-insert-inv-prob: {e}"))?;
            }
            "--max-seconds" => options.max_seconds = number(value()?)?,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if options.ports.is_empty() || options.flows.is_empty() {
        return Err(
            "usage: fwd_bench --port NAME=NO ... --flows FILE [--threads N] \
                    [--emc-insert-inv-prob P] [--max-seconds S]"
                .into(),
        );
    }
    if options.threads == 0 {
        return Err("--threads must be at least 1".into());
    }
    Ok(options)
}

/// Installs each `KEY ACTIONS` line of `text`; returns how many flows were installed.
fn install_flows(dp: &Datapath, text: &str) -> Result<usize, String> {
    let mut installed = 0;
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key_text, actions_text) = line
            .rsplit_once(char::is_whitespace)
            .ok_or_else(|| format!("flow line {}: expected KEY ACTIONS", number + 1))?;
        let (key, mask) = parse_dumped_key(key_text.trim(), None)
            .map_err(|e| format!("flow line {}: key: {e}", number + 1))?;
        let actions = parse_actions(actions_text, None)
            .map_err(|e| format!("flow line {}: actions: {e}", number + 1))?;
        dp.flow_put(FlowPut {
            owner: None,
            flags: PutFlags::CREATE,
            key,
            mask,
            actions: actions.into(),
            ufid: None,
            pmd_id: PMD_ID_NULL,
        })
        .map_err(|e| format!("flow line {}: put: {e}", number + 1))?;
        installed += 1;
    }
    Ok(installed)
}

/// Every flow of the datapath (bounded: at most 1,000,000).
fn dump_flows(dp: &Datapath) -> Vec<DpifFlow> {
    let dump = dp.flow_dump(false);
    let mut thread = dump.thread();
    let mut flows = Vec::new();
    while flows.len() < 1_000_000 && thread.next(&mut flows, 50) > 0 {}
    flows
}

/// `flow` as one `dpctl/dump-flows` line (OVS 3.1 attribute order).
fn dump_line(flow: &DpifFlow, now_ms: u64) -> String {
    let mut out = String::new();
    let (Some(key), Some(mask), Some(actions)) = (&flow.key, &flow.mask, &flow.actions) else {
        return out;
    };
    let stats = DpFlowStats {
        n_packets: flow.stats.n_packets,
        n_bytes: flow.stats.n_bytes,
        used_ms: flow.stats.used,
        tcp_flags: flow.stats.tcp_flags,
    };
    let opts = FormatOptions {
        key_order: KeyOrder::Ovs31,
        ..FormatOptions::default()
    };
    format_dump_line(
        &mut out,
        None,
        key,
        mask,
        &stats,
        now_ms,
        actions,
        &DumpExtras::default(),
        &opts,
    );
    out
}

/// The counters the driver reads, as one JSON object.
fn stats_json(dp: &Datapath, ports: &[(u32, Arc<AfPacketNetdev>)], start: Instant) -> String {
    let s = dp.dp_stats();
    let mut out = format!(
        "{{\"t\": {:.6}, \"hit\": {}, \"missed\": {}, \"lost\": {}, \"flows\": {}, \"masks\": {}, \
         \"mask_hit\": {}, \"cache_hit\": {}, \"ports\": {{",
        start.elapsed().as_secs_f64(),
        s.n_hit,
        s.n_missed,
        s.n_lost,
        s.n_flows,
        s.n_masks,
        s.n_mask_hit,
        s.n_cache_hit
    );
    for (i, (no, port)) in ports.iter().enumerate() {
        let p = port.stats();
        let _ = write!(
            out,
            "{}\"{}\": {{\"port_no\": {no}, \"rx_packets\": {}, \"tx_packets\": {}, \
             \"rx_dropped\": {}, \"tx_dropped\": {}, \"rx_errors\": {}, \"tx_errors\": {}}}",
            if i == 0 { "" } else { ", " },
            port.name(),
            p.rx_packets,
            p.tx_packets,
            p.rx_dropped,
            p.tx_dropped,
            p.rx_errors,
            p.tx_errors
        );
    }
    out.push_str("}}");
    out
}

fn run(options: Options) -> Result<(), String> {
    let start = Instant::now();
    let max = Duration::from_secs(options.max_seconds);
    std::thread::Builder::new()
        .name("watchdog".into())
        .spawn(move || {
            std::thread::sleep(max);
            eprintln!("fwd_bench: --max-seconds reached, exiting");
            std::process::exit(3);
        })
        .map_err(|e| format!("watchdog thread: {e}"))?;

    let clock = Arc::new(MonotonicClock(start));
    let config = DatapathConfig {
        n_handlers: 0,
        emc_insert_inv_prob: options.emc_insert_inv_prob,
        ..DatapathConfig::netdev()
    };
    let dp = Datapath::new(config, clock.clone());
    let mut ports = Vec::new();
    for (name, no) in &options.ports {
        let port = Arc::new(
            AfPacketNetdev::open(name, &AfPacketConfig::default())
                .map_err(|e| format!("open {name}: {e}"))?,
        );
        let netdev: Arc<dyn Netdev> = port.clone();
        dp.port_add(netdev, "afpacket", Vec::new(), Some(*no))
            .map_err(|e| format!("add port {name} as {no}: {e}"))?;
        ports.push((*no, port));
    }
    let text = std::fs::read_to_string(&options.flows)
        .map_err(|e| format!("read {}: {e}", options.flows))?;
    let installed = install_flows(&dp, &text)?;

    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let say = |out: &mut std::io::StdoutLock<'_>, text: &str| -> Result<(), String> {
        writeln!(out, "{text}")
            .and_then(|()| out.flush())
            .map_err(|e| format!("stdout: {e}"))
    };
    for flow in dump_flows(&dp) {
        say(
            &mut out,
            &format!("flow {}", dump_line(&flow, clock.now_ms())),
        )?;
    }
    let threads = dp
        .spawn_forwarding_threads(options.threads)
        .map_err(|e| format!("forwarding threads: {e}"))?;
    say(
        &mut out,
        &format!(
            "ready {{\"flows\": {installed}, \"threads\": {}, \"emc_insert_inv_prob\": {}}}",
            options.threads, options.emc_insert_inv_prob
        ),
    )?;

    let stdin = std::io::stdin();
    for line in stdin.lock().lines() {
        let line = line.map_err(|e| format!("stdin: {e}"))?;
        match line.trim() {
            "stats" => say(
                &mut out,
                &format!("stats {}", stats_json(&dp, &ports, start)),
            )?,
            "show" => {
                let mut show = dp.show();
                show.with_masks = true;
                say(&mut out, &format!("{show}end"))?;
            }
            "flows" => {
                for flow in dump_flows(&dp) {
                    say(&mut out, &dump_line(&flow, clock.now_ms()))?;
                }
                say(&mut out, "end")?;
            }
            "quit" => break,
            "" => {}
            other => say(&mut out, &format!("error unknown command {other}"))?,
        }
    }
    threads.stop();
    Ok(())
}

fn main() {
    let result = parse_options(std::env::args().skip(1)).and_then(run);
    if let Err(message) = result {
        eprintln!("fwd_bench: {message}");
        std::process::exit(2);
    }
}

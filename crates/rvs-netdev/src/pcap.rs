//! [`PcapNetdev`]: a port that receives the frames of a capture file and records what it sends.
//!
//! Invariants:
//! - Frames are received in file order. With `looped`, the file starts over at its end (a file
//!   with no frame is then simply finished); without it the port goes quiet after the last frame.
//! - With a rate, frame `n` (counting from the first `rx_batch` call) is not delivered before
//!   `n / rate` seconds; a receiver that fell behind gets at most one batch of catch-up, so the
//!   rate is never exceeded by more than [`MAX_BURST`](crate::MAX_BURST) frames.
//! - A record that cannot be read counts one `rx_errors` and ends the pass through the file.
//! - Sent frames go to the transmit capture (created empty at open, flushed after every batch);
//!   without one they are counted as `tx_dropped`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::capture::{PcapSink, PcapSource};
use crate::error::{NetdevError, Result};
use crate::netdev::{EthAddr, Netdev, NetdevKind};
use crate::packet::{MAX_BURST, Packet, PacketBatch};
use crate::stats::{Counters, NetdevStats};

/// How a [`PcapNetdev`] is set up.
#[derive(Debug, Clone, PartialEq)]
pub struct PcapConfig {
    /// The capture whose frames are received; `None` receives nothing.
    pub rx_path: Option<PathBuf>,
    /// The capture sent frames are written to (created or truncated); `None` discards them.
    pub tx_path: Option<PathBuf>,
    /// Start over at the end of the receive capture.
    pub looped: bool,
    /// Deliver at most this many frames per second; `None` delivers as fast as the port is polled.
    pub rate_pps: Option<f64>,
    /// The MTU reported.
    pub mtu: u32,
    /// The MAC address reported.
    pub mac: EthAddr,
}

impl Default for PcapConfig {
    fn default() -> Self {
        PcapConfig {
            rx_path: None,
            tx_path: None,
            looped: false,
            rate_pps: None,
            mtu: 1500,
            mac: [0x02, 0, 0, 0, 0, 0x01],
        }
    }
}

/// Where the receive side stands.
#[derive(Debug)]
struct RxState {
    source: Option<PcapSource>,
    /// When the next frame may be delivered (paced ports, after the first call).
    next_due: Option<Instant>,
    finished: bool,
}

/// A port backed by capture files.
#[derive(Debug)]
pub struct PcapNetdev {
    name: String,
    looped: bool,
    interval: Option<Duration>,
    mtu: u32,
    mac: EthAddr,
    rx: Mutex<RxState>,
    tx: Mutex<Option<PcapSink>>,
    counters: Counters,
}

impl PcapNetdev {
    /// Opens the captures named in `config`.
    pub fn open(name: &str, config: PcapConfig) -> Result<Self> {
        let interval = match config.rate_pps {
            None => None,
            Some(rate) if rate.is_finite() && rate > 0.0 => {
                Some(Duration::from_secs_f64(1.0 / rate))
            }
            Some(rate) => {
                return Err(NetdevError::config(
                    name,
                    format!("rate {rate} is not a positive number"),
                ));
            }
        };
        let pcap_error = |path: &PathBuf, source| NetdevError::Pcap {
            port: name.to_owned(),
            path: path.display().to_string(),
            source,
        };
        let source = match &config.rx_path {
            Some(path) => Some(PcapSource::open(path).map_err(|e| pcap_error(path, e))?),
            None => None,
        };
        let sink = match &config.tx_path {
            Some(path) => Some(PcapSink::create(path).map_err(|e| pcap_error(path, e))?),
            None => None,
        };
        Ok(PcapNetdev {
            name: name.to_owned(),
            looped: config.looped,
            interval,
            mtu: config.mtu,
            mac: config.mac,
            rx: Mutex::new(RxState {
                finished: source.is_none(),
                source,
                next_due: None,
            }),
            tx: Mutex::new(sink),
            counters: Counters::default(),
        })
    }

    /// True once every frame of a non-looped capture has been delivered (or there is none).
    pub fn rx_finished(&self) -> bool {
        self.rx.lock().finished
    }

    /// Reads the next frame, starting over at the end if looped; `None` when finished.
    fn next_frame(&self, state: &mut RxState, packet: &mut Packet) -> Option<()> {
        let source = state.source.as_mut()?;
        let mut rewound = false;
        loop {
            match source.next_into(packet) {
                Ok(Some(_timestamp)) => return Some(()),
                Ok(None) => {}
                Err(_) => self.counters.rx_errors(1),
            }
            // End of the file (or an unreadable record): start over once, or stop.
            if !self.looped || rewound || source.rewind().is_err() {
                state.finished = true;
                return None;
            }
            rewound = true;
        }
    }
}

impl Netdev for PcapNetdev {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> NetdevKind {
        NetdevKind::Pcap
    }

    fn rx_batch(&self, out: &mut PacketBatch) -> Result<usize> {
        let mut state = self.rx.lock();
        let now = Instant::now();
        if let Some(interval) = self.interval {
            let catch_up = interval * (MAX_BURST as u32 - 1);
            let catch_up_limit = now.checked_sub(catch_up).unwrap_or(now);
            state.next_due = Some(state.next_due.map_or(now, |due| due.max(catch_up_limit)));
        }
        let (mut delivered, mut bytes) = (0usize, 0u64);
        while !out.is_full() && !state.finished {
            if let (Some(interval), Some(due)) = (self.interval, state.next_due) {
                if due > now {
                    break;
                }
                state.next_due = Some(due + interval);
            }
            let mut packet = out.spare_packet();
            if self.next_frame(&mut state, &mut packet).is_none() {
                out.recycle(packet);
                break;
            }
            bytes += packet.len() as u64;
            delivered += 1;
            if let Err(packet) = out.push(packet) {
                out.recycle(packet);
                break;
            }
        }
        drop(state);
        self.counters.rx(delivered as u64, bytes);
        Ok(delivered)
    }

    fn tx_batch(&self, frames: &[Packet]) -> Result<usize> {
        let mut sink = self.tx.lock();
        let Some(sink) = sink.as_mut() else {
            self.counters.tx_dropped(frames.len() as u64);
            return Ok(0);
        };
        let (mut sent, mut bytes) = (0usize, 0u64);
        for frame in frames {
            match sink.write(frame) {
                Ok(()) => {
                    sent += 1;
                    bytes += frame.len() as u64;
                }
                Err(_) => self.counters.tx_errors(1),
            }
        }
        let flushed = sink.flush();
        self.counters.tx(sent as u64, bytes);
        flushed.map_err(|e| NetdevError::io(&self.name, "flush transmit capture", e))?;
        Ok(sent)
    }

    fn wait_readable(&self, timeout: Duration) -> Result<bool> {
        let state = self.rx.lock();
        let wait = if state.finished {
            None
        } else {
            let now = Instant::now();
            match state.next_due {
                Some(due) if due > now => Some(due - now),
                _ => return Ok(true),
            }
        };
        drop(state);
        match wait {
            Some(wait) if wait <= timeout => {
                std::thread::sleep(wait);
                Ok(true)
            }
            _ => {
                std::thread::sleep(timeout);
                Ok(false)
            }
        }
    }

    fn stats(&self) -> NetdevStats {
        self.counters.snapshot()
    }

    fn link_up(&self) -> Result<bool> {
        Ok(true)
    }

    fn mtu(&self) -> Result<u32> {
        Ok(self.mtu)
    }

    fn mac(&self) -> Result<EthAddr> {
        Ok(self.mac)
    }
}

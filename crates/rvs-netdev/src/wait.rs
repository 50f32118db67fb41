//! Waiting for any of several ports at once.
//!
//! # Invariants
//! * [`wait_any_readable`] blocks in one `poll(2)` over every port's [`Netdev::poll_fd`]
//!   ([`wait_any_queue_readable`]: every receive queue's [`Netdev::poll_fd_queue`]); it is
//!   only used when each port has one (`None` otherwise: the caller then waits port by port), so
//!   a frame on any of the ports ends the wait at once, whatever the timeout.
//! * An interrupted wait (`EINTR`) reports "nothing readable", like a timeout; the caller polls
//!   its ports again either way.

use std::time::Duration;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use crate::error::{NetdevError, Result};
use crate::netdev::Netdev;

/// Waits up to `timeout` until one of `ports` has frames to receive. Returns `None` (without
/// waiting) if a port has no [`Netdev::poll_fd`] or `ports` is empty, else whether one became
/// readable (false on timeout or interruption).
pub fn wait_any_readable(ports: &[&dyn Netdev], timeout: Duration) -> Option<Result<bool>> {
    let queues: Vec<(&dyn Netdev, usize)> = ports.iter().map(|&port| (port, 0)).collect();
    wait_any_queue_readable(&queues, timeout)
}

/// [`wait_any_readable`] for receive queues: `(port, queue)` pairs, each waited on through
/// [`Netdev::poll_fd_queue`]. `None` (without waiting) if a queue has no descriptor or `queues`
/// is empty.
pub fn wait_any_queue_readable(
    queues: &[(&dyn Netdev, usize)],
    timeout: Duration,
) -> Option<Result<bool>> {
    if queues.is_empty() {
        return None;
    }
    let mut fds = Vec::with_capacity(queues.len());
    for (port, queue) in queues {
        fds.push(PollFd::new(port.poll_fd_queue(*queue)?, PollFlags::POLLIN));
    }
    let millis = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
    let timeout = PollTimeout::try_from(millis).unwrap_or(PollTimeout::MAX);
    Some(match poll(&mut fds, timeout) {
        Ok(ready) => Ok(ready > 0),
        Err(nix::errno::Errno::EINTR) => Ok(false),
        Err(e) => {
            let name = queues.first().map_or("", |(p, _)| p.name());
            Err(NetdevError::io(name, "poll", e.into()))
        }
    })
}

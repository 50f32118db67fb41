//! [`TestNet`]: a throw-away network namespace with veth pairs, for tests of real interfaces.
//!
//! Invariants:
//! - Every namespace is named `rvsnd-<pid>-<n>`, unique within the process and across processes
//!   running at the same time; dropping the [`TestNet`] deletes it, and with it every interface
//!   inside. Namespaces left behind by a process that died are deleted by the next `TestNet::new`.
//! - Everything created lives inside the namespace: traffic between its interfaces never leaves it.
//! - IPv6 is disabled inside the namespace, so the kernel does not send router solicitations or
//!   MLD reports that tests would have to filter out.
//! - Code runs in the namespace only in threads this module spawns ([`TestNet::spawn`]), or in a
//!   thread the caller dedicates to it ([`TestNet::enter_current_thread`]): a thread that joined a
//!   namespace stays in it, so the test harness's own threads must not.

use std::fs::File;
use std::io;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread::JoinHandle;

use nix::sched::{CloneFlags, setns};

/// Prefix of the namespaces this module creates.
const PREFIX: &str = "rvsnd-";

static NEXT_ID: AtomicU32 = AtomicU32::new(0);

/// A network namespace owned by a test.
#[derive(Debug)]
pub struct TestNet {
    name: String,
}

impl TestNet {
    /// Whether tests can create namespaces here: `Err` says why not (not root, no `ip`).
    pub fn available() -> Result<(), String> {
        let status = std::fs::read_to_string("/proc/self/status")
            .map_err(|e| format!("cannot read /proc/self/status: {e}"))?;
        let euid = status
            .lines()
            .find_map(|line| line.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().nth(1))
            .unwrap_or("?");
        if euid != "0" {
            return Err(format!(
                "network namespace tests need root (effective uid {euid})"
            ));
        }
        match Command::new("ip").arg("-V").output() {
            Ok(out) if out.status.success() => Ok(()),
            Ok(out) => Err(format!(
                "`ip -V` failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )),
            Err(e) => Err(format!("the `ip` command (iproute2) is not available: {e}")),
        }
    }

    /// Creates a fresh namespace with its loopback up and IPv6 off.
    pub fn new() -> io::Result<Self> {
        remove_orphans();
        let name = format!(
            "{PREFIX}{}-{}",
            std::process::id(),
            NEXT_ID.fetch_add(1, Ordering::Relaxed)
        );
        run(Command::new("ip").args(["netns", "add", &name]))?;
        let net = TestNet { name };
        net.ip(&["link", "set", "lo", "up"])?;
        net.spawn(|| {
            for scope in ["all", "default"] {
                // Missing if the kernel has no IPv6: then there is nothing to silence.
                let _ =
                    std::fs::write(format!("/proc/sys/net/ipv6/conf/{scope}/disable_ipv6"), "1");
            }
        })?
        .join()
        .map_err(|_| io::Error::other("namespace setup thread panicked"))?;
        Ok(net)
    }

    /// The namespace's name (for `ip netns exec`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The namespace's file, as `setns(2)` wants it.
    pub fn path(&self) -> PathBuf {
        PathBuf::from("/run/netns").join(&self.name)
    }

    /// Runs `ip -n <namespace> <args>` and returns its standard output.
    pub fn ip(&self, args: &[&str]) -> io::Result<String> {
        let out = run(Command::new("ip").arg("-n").arg(&self.name).args(args))?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Creates the veth pair `a`–`b` inside the namespace and brings both ends up.
    pub fn add_veth_pair(&self, a: &str, b: &str) -> io::Result<()> {
        self.ip(&["link", "add", a, "type", "veth", "peer", "name", b])?;
        self.ip(&["link", "set", a, "up"])?;
        self.ip(&["link", "set", b, "up"])?;
        Ok(())
    }

    /// The MAC address of interface `ifname` in the namespace.
    pub fn mac(&self, ifname: &str) -> io::Result<[u8; 6]> {
        let text = self.ip(&["-o", "link", "show", "dev", ifname])?;
        let address = text
            .split_whitespace()
            .skip_while(|word| *word != "link/ether")
            .nth(1)
            .ok_or_else(|| io::Error::other(format!("no link/ether in: {text}")))?;
        let mut mac = [0u8; 6];
        let mut parts = address.split(':');
        for byte in &mut mac {
            let part = parts.next().ok_or_else(|| io::Error::other("short MAC"))?;
            *byte = u8::from_str_radix(part, 16).map_err(io::Error::other)?;
        }
        Ok(mac)
    }

    /// Runs `command` inside the namespace (`ip netns exec`) and returns its output, whatever its
    /// exit status.
    pub fn exec(&self, command: &[&str]) -> io::Result<Output> {
        Command::new("ip")
            .args(["netns", "exec", &self.name])
            .args(command)
            .output()
    }

    /// Moves the calling thread into the namespace, for good. Only for a thread dedicated to it.
    pub fn enter_current_thread(&self) -> io::Result<()> {
        let file = File::open(self.path())?;
        setns(&file, CloneFlags::CLONE_NEWNET).map_err(io::Error::from)
    }

    /// Runs `f` on a new thread inside the namespace.
    pub fn spawn<T, F>(&self, f: F) -> io::Result<JoinHandle<T>>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let file = File::open(self.path())?;
        let (entered_tx, entered_rx) = std::sync::mpsc::channel();
        let handle = std::thread::Builder::new()
            .name(format!("netns-{}", self.name))
            .spawn(move || {
                let entered = setns(&file, CloneFlags::CLONE_NEWNET).map_err(io::Error::from);
                drop(file);
                let failed = entered.is_err();
                // The receiver waits for this message, so it cannot be gone.
                let _ = entered_tx.send(entered);
                // Never run `f` in the wrong namespace; the caller got the error and has no handle to
                // join, so this panic only ends the thread.
                assert!(
                    !failed,
                    "setns failed; not running the closure outside the namespace"
                );
                f()
            })?;
        entered_rx
            .recv()
            .map_err(|_| io::Error::other("namespace thread died"))??;
        Ok(handle)
    }
}

impl Drop for TestNet {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
    }
}

/// Runs a command, turning a failure exit into an error that carries its standard error.
fn run(command: &mut Command) -> io::Result<Output> {
    let out = command.output()?;
    if out.status.success() {
        Ok(out)
    } else {
        Err(io::Error::other(format!(
            "{:?} failed: {}",
            command,
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

/// Deletes namespaces of ours whose creating process no longer exists.
fn remove_orphans() {
    let Ok(entries) = std::fs::read_dir("/run/netns") else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split('-').next())
        else {
            continue;
        };
        let alive = pid
            .parse::<u32>()
            .is_ok_and(|pid| std::path::Path::new(&format!("/proc/{pid}")).exists());
        if !alive {
            let _ = Command::new("ip").args(["netns", "del", &name]).output();
        }
    }
}

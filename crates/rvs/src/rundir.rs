//! The run directory: where the daemon's pidfile and control sockets live, and how clients
//! find them (the layout of `ovs-vswitchd` and `ovs-appctl -t`).
//!
//! * `<rundir>/rvs.pid`: the daemon's pid, one line (what `ovs-appctl -t rvs` reads, with
//!   `OVS_RUNDIR=<rundir>`).
//! * `<rundir>/rvs.<pid>.ctl`: the control socket, named as OVS names it.
//! * `<rundir>/rvs.ctl`: a stable symbolic link to the current control socket.
//!
//! The directory is chosen the same way by the daemon and the clients: `--rundir`, else
//! `$RVS_RUNDIR`, else the configuration's `rundir`, else `/var/run/rvs` when running as root,
//! else `$XDG_RUNTIME_DIR/rvs`, else `/tmp/rvs-<uid>`.
//!
//! # Invariants
//! * A pidfile naming a live process whose control socket answers is never overwritten: a
//!   second daemon on the same run directory refuses to start.
//! * Files this module creates are removed by [`RunDir::cleanup`], and only if they are still
//!   ours (the pidfile still names our pid).

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

/// The program name used for the pidfile and socket names.
pub const PROGRAM: &str = "rvs";

/// The run directory a process should use when nothing more specific was given.
pub fn default_rundir() -> PathBuf {
    if let Some(dir) = std::env::var_os("RVS_RUNDIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    if nix::unistd::geteuid().is_root() {
        return PathBuf::from("/var/run/rvs");
    }
    if let Some(dir) = std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir).join("rvs");
    }
    PathBuf::from(format!("/tmp/rvs-{}", nix::unistd::getuid()))
}

/// Picks the run directory: an explicit one, else `$RVS_RUNDIR`, else the configured one, else
/// [`default_rundir`].
pub fn choose_rundir(explicit: Option<&Path>, configured: Option<&Path>) -> PathBuf {
    if let Some(dir) = explicit {
        return dir.to_path_buf();
    }
    if let Some(dir) = std::env::var_os("RVS_RUNDIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    configured.map_or_else(default_rundir, Path::to_path_buf)
}

/// The daemon's files in its run directory.
#[derive(Debug)]
pub struct RunDir {
    dir: PathBuf,
    pid: u32,
    pidfile: Option<PathBuf>,
    /// The open pidfile, holding its write lock for as long as the daemon runs.
    _lock: Option<fs::File>,
}

impl RunDir {
    /// Creates the directory (owner-only if new) and claims it for process `pid`: fails if
    /// another live daemon holds it.
    pub fn claim(dir: &Path, pid: u32) -> io::Result<RunDir> {
        if !dir.exists() {
            fs::create_dir_all(dir)?;
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
        }
        let pidfile = dir.join(format!("{PROGRAM}.pid"));
        if let Some(other) = read_pidfile(&pidfile)
            && other != pid
            && process_alive(other)
            && UnixStream::connect(socket_path(dir, other)).is_ok()
        {
            return Err(io::Error::new(
                io::ErrorKind::AddrInUse,
                format!(
                    "{}: another rvs daemon (pid {other}) is running with this run directory",
                    dir.display()
                ),
            ));
        }
        let tmp = dir.join(format!(".{PROGRAM}.pid.{pid}.tmp"));
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        lock_whole_file(&file)?;
        file.write_all(format!("{pid}\n").as_bytes())?;
        fs::rename(&tmp, &pidfile)?;
        Ok(RunDir {
            dir: dir.to_path_buf(),
            pid,
            pidfile: Some(pidfile),
            _lock: Some(file),
        })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `<rundir>/rvs.<pid>.ctl`.
    pub fn socket_path(&self) -> PathBuf {
        socket_path(&self.dir, self.pid)
    }

    /// `<rundir>/rvs.ctl`, the stable name.
    pub fn stable_socket_path(&self) -> PathBuf {
        self.dir.join(format!("{PROGRAM}.ctl"))
    }

    /// Points the stable name at the current socket.
    pub fn link_stable_socket(&self) -> io::Result<()> {
        let link = self.stable_socket_path();
        let tmp = self.dir.join(format!(".{PROGRAM}.ctl.{}.tmp", self.pid));
        let _ = fs::remove_file(&tmp);
        std::os::unix::fs::symlink(format!("{PROGRAM}.{}.ctl", self.pid), &tmp)?;
        fs::rename(&tmp, &link)
    }

    /// Removes the pidfile and the stable link if they are still ours.
    pub fn cleanup(&mut self) {
        if let Some(pidfile) = self.pidfile.take()
            && read_pidfile(&pidfile) == Some(self.pid)
        {
            let _ = fs::remove_file(&pidfile);
            let link = self.stable_socket_path();
            if fs::read_link(&link)
                .is_ok_and(|t| t == Path::new(&format!("{PROGRAM}.{}.ctl", self.pid)))
            {
                let _ = fs::remove_file(&link);
            }
        }
    }
}

impl Drop for RunDir {
    fn drop(&mut self) {
        self.cleanup();
    }
}

/// Takes a POSIX write lock on all of `file`: `ovs-appctl` believes a pidfile only while its
/// owner holds such a lock (it asks with `F_GETLK`), as OVS's daemons do.
fn lock_whole_file(file: &fs::File) -> io::Result<()> {
    let lock = libc::flock {
        l_type: libc::F_WRLCK as libc::c_short,
        l_whence: libc::SEEK_SET as libc::c_short,
        l_start: 0,
        l_len: 0,
        l_pid: 0,
    };
    nix::fcntl::fcntl(file, nix::fcntl::FcntlArg::F_SETLK(&lock))
        .map(|_| ())
        .map_err(io::Error::from)
}

/// `<dir>/rvs.<pid>.ctl`.
pub fn socket_path(dir: &Path, pid: u32) -> PathBuf {
    dir.join(format!("{PROGRAM}.{pid}.ctl"))
}

/// The pid in a pidfile, if it holds one.
pub fn read_pidfile(path: &Path) -> Option<u32> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

fn process_alive(pid: u32) -> bool {
    let Ok(pid) = i32::try_from(pid) else {
        return false;
    };
    // Signal 0 checks existence without sending anything.
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claim_writes_pidfile_and_cleanup_removes_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let run = dir.path().join("run");
        let mut rd = RunDir::claim(&run, 4242).expect("claim");
        assert_eq!(read_pidfile(&run.join("rvs.pid")), Some(4242));
        assert_eq!(rd.socket_path(), run.join("rvs.4242.ctl"));
        rd.link_stable_socket().expect("link");
        assert_eq!(
            fs::read_link(run.join("rvs.ctl")).expect("link exists"),
            PathBuf::from("rvs.4242.ctl")
        );
        let mode = fs::metadata(&run).expect("dir").permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        rd.cleanup();
        assert!(!run.join("rvs.pid").exists());
        assert!(fs::symlink_metadata(run.join("rvs.ctl")).is_err());
    }

    #[test]
    fn stale_pidfile_is_taken_over() {
        let dir = tempfile::tempdir().expect("tempdir");
        // A pid that is alive (ours) but has no socket: stale.
        fs::write(
            dir.path().join("rvs.pid"),
            format!("{}\n", std::process::id()),
        )
        .expect("w");
        let rd = RunDir::claim(dir.path(), 7).expect("stale pidfile is not a live daemon");
        assert_eq!(read_pidfile(&dir.path().join("rvs.pid")), Some(7));
        drop(rd);
    }

    #[test]
    fn live_daemon_is_not_overwritten() {
        let dir = tempfile::tempdir().expect("tempdir");
        let me = std::process::id();
        fs::write(dir.path().join("rvs.pid"), format!("{me}\n")).expect("w");
        let _listener =
            std::os::unix::net::UnixListener::bind(socket_path(dir.path(), me)).expect("bind");
        let err = RunDir::claim(dir.path(), me + 1).expect_err("a live daemon holds it");
        assert!(err.to_string().contains("another rvs daemon"), "{err}");
        assert_eq!(read_pidfile(&dir.path().join("rvs.pid")), Some(me));
    }
}

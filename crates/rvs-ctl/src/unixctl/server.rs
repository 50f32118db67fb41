//! The listening side: a Unix stream socket, an accept thread and one thread per connection.
//!
//! # Invariants
//! * The socket file is created owner-only (mode 0700) before it gets its final name: it is bound
//!   under a temporary name in the same directory, `chmod`ed, then renamed into place, so nobody
//!   else can connect through the final path (if the temporary name is too long for a socket
//!   address, the socket is bound at its final name and `chmod`ed right after). An existing socket at the path is replaced only if
//!   nothing answers on it (a stale socket); a live one gives `AddrInUse`, any other kind of file
//!   `AlreadyExists`.
//! * At most [`MAX_CONNECTIONS`] connections are served at once; extra ones are closed at once.
//! * One request is at most [`MAX_REQUEST_LEN`] bytes. A request that is too big, is not JSON, or is
//!   not a JSON-RPC request gets an error answer with `"id":null`, then the connection is closed
//!   (OVS closes without answering; the answer is an rvs addition for humans debugging clients).
//! * [`Server::shutdown`] (also run on drop) stops accepting, shuts every open connection down and
//!   removes the socket file if it is still the one this server created. A handler that is running
//!   keeps its thread until it returns; its answer then goes nowhere.

use super::commands::{Commands, OutputFormat};
use crate::jsonrpc::{Decoder, Message};
use parking_lot::Mutex;
use serde_json::Value;
use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// Connections served at the same time; more are closed as soon as they are accepted.
pub const MAX_CONNECTIONS: usize = 64;

/// Largest request accepted, in bytes (1 MiB).
pub const MAX_REQUEST_LEN: usize = 1 << 20;

/// Mode of the socket file: owner only.
const SOCKET_MODE: u32 = 0o700;

/// State shared by the accept thread, the connection threads and the owner.
struct Shared {
    commands: Arc<Commands>,
    stopping: AtomicBool,
    /// Clones of every open connection's stream, to shut them down on stop.
    connections: Mutex<HashMap<u64, UnixStream>>,
    next_connection: AtomicU64,
}

/// A unixctl server: owns the listening socket and its threads.
pub struct Server {
    path: PathBuf,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
    /// (device, inode) of the socket file created, so only that file is removed.
    socket_identity: Option<(u64, u64)>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").field("path", &self.path).finish()
    }
}

impl Server {
    /// Listens on `path` (replacing a stale socket there), owner-only, and starts accepting
    /// connections that run `commands`.
    pub fn bind(path: &Path, commands: Arc<Commands>) -> io::Result<Server> {
        remove_stale_socket(path)?;
        let listener = bind_owner_only(path)?;
        let socket_identity = std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()));
        let shared = Arc::new(Shared {
            commands,
            stopping: AtomicBool::new(false),
            connections: Mutex::new(HashMap::new()),
            next_connection: AtomicU64::new(0),
        });
        let thread_shared = Arc::clone(&shared);
        let acceptor = std::thread::Builder::new()
            .name("unixctl-accept".into())
            .spawn(move || accept_loop(&listener, &thread_shared));
        let acceptor = match acceptor {
            Ok(handle) => handle,
            Err(e) => {
                let _ = std::fs::remove_file(path);
                return Err(e);
            }
        };
        Ok(Server {
            path: path.to_owned(),
            shared,
            acceptor: Some(acceptor),
            socket_identity,
        })
    }

    /// The socket path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Number of connections currently open.
    pub fn connection_count(&self) -> usize {
        self.shared.connections.lock().len()
    }

    /// Stops accepting, closes every connection and removes the socket file.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        let Some(acceptor) = self.acceptor.take() else {
            return;
        };
        self.shared.stopping.store(true, Ordering::SeqCst);
        // Wake the accept thread; if that fails the thread is left to notice on its own.
        if UnixStream::connect(&self.path).is_ok() {
            let _ = acceptor.join();
        }
        // First close only the reading side: idle connections see end of file and end, while a
        // handler that is still answering (`exit` itself) gets its reply out. Then, after a
        // bounded wait, close whatever is left.
        for stream in self.shared.connections.lock().values() {
            let _ = stream.shutdown(std::net::Shutdown::Read);
        }
        let deadline = std::time::Instant::now() + SHUTDOWN_GRACE;
        while !self.shared.connections.lock().is_empty() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(2));
        }
        for (_, stream) in self.shared.connections.lock().drain() {
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
        let still_ours = std::fs::symlink_metadata(&self.path)
            .ok()
            .map(|m| (m.dev(), m.ino()));
        if still_ours.is_some() && still_ours == self.socket_identity {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// How long [`Server::shutdown`] lets connections finish the reply they are writing.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(500);

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Removes `path` if it is a socket nobody listens on.
fn remove_stale_socket(path: &Path) -> io::Result<()> {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return Ok(());
    };
    if !meta.file_type().is_socket() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{}: exists and is not a socket", path.display()),
        ));
    }
    if UnixStream::connect(path).is_ok() {
        return Err(io::Error::new(
            io::ErrorKind::AddrInUse,
            format!("{}: another server is listening", path.display()),
        ));
    }
    std::fs::remove_file(path)
}

/// Binds under a temporary name, restricts the mode, then renames to `path`.
fn bind_owner_only(path: &Path) -> io::Result<UnixListener> {
    let mut temp_name = path.as_os_str().to_owned();
    temp_name.push(format!(".tmp{}", std::process::id()));
    let temp = PathBuf::from(temp_name);
    let _ = std::fs::remove_file(&temp);
    let listener = match UnixListener::bind(&temp) {
        Ok(listener) => listener,
        // The longer temporary name may not fit in a socket address while `path` does: bind
        // directly and restrict the mode right after (a short window with the default mode).
        Err(e) if e.kind() == io::ErrorKind::InvalidInput => {
            let listener = UnixListener::bind(path)?;
            let mode = std::fs::Permissions::from_mode(SOCKET_MODE);
            if let Err(e) = std::fs::set_permissions(path, mode) {
                let _ = std::fs::remove_file(path);
                return Err(e);
            }
            return Ok(listener);
        }
        Err(e) => return Err(e),
    };
    let placed = std::fs::set_permissions(&temp, std::fs::Permissions::from_mode(SOCKET_MODE))
        .and_then(|()| std::fs::rename(&temp, path));
    if let Err(e) = placed {
        let _ = std::fs::remove_file(&temp);
        return Err(e);
    }
    Ok(listener)
}

fn accept_loop(listener: &UnixListener, shared: &Arc<Shared>) {
    loop {
        let accepted = listener.accept();
        if shared.stopping.load(Ordering::SeqCst) {
            return;
        }
        match accepted {
            Ok((stream, _)) => start_connection(stream, shared),
            // Out of descriptors and similar: back off instead of spinning.
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}

fn start_connection(stream: UnixStream, shared: &Arc<Shared>) {
    let id = shared.next_connection.fetch_add(1, Ordering::Relaxed);
    {
        let mut open = shared.connections.lock();
        if open.len() >= MAX_CONNECTIONS {
            return; // dropping `stream` closes it
        }
        let Ok(clone) = stream.try_clone() else {
            return;
        };
        open.insert(id, clone);
    }
    let thread_shared = Arc::clone(shared);
    let spawned = std::thread::Builder::new()
        .name("unixctl-conn".into())
        .spawn(move || {
            serve_connection(stream, &thread_shared.commands);
            thread_shared.connections.lock().remove(&id);
        });
    if spawned.is_err()
        && let Some(s) = shared.connections.lock().remove(&id)
    {
        let _ = s.shutdown(std::net::Shutdown::Both);
    }
}

/// Serves requests on one connection until the peer closes it or sends something invalid.
fn serve_connection(mut stream: UnixStream, commands: &Commands) {
    let mut decoder = Decoder::new(MAX_REQUEST_LEN);
    let mut format = OutputFormat::Text;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let fatal = match decoder.next_message() {
            Ok(Some(Message::Request { method, params, id })) => {
                let reply = match commands.execute(&method, &params, &mut format) {
                    Ok(answer) => Message::Reply {
                        result: answer.into_result(),
                        id,
                    },
                    Err(text) => error_message(&text, id),
                };
                if stream.write_all(&reply.to_bytes()).is_err() {
                    return;
                }
                continue;
            }
            Ok(Some(other)) => format!("received unexpected {} message", other.kind_name()),
            Ok(None) => match stream.read(&mut buf) {
                Ok(0) => return,
                Ok(n) => {
                    decoder.feed(buf.get(..n).unwrap_or_default());
                    continue;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return,
            },
            Err(e) => e.to_string(),
        };
        let _ = stream.write_all(&error_message(&fatal, Value::Null).to_bytes());
        let _ = stream.shutdown(std::net::Shutdown::Both);
        return;
    }
}

fn error_message(text: &str, id: Value) -> Message {
    Message::Error {
        error: Value::String(super::format_for_terminal(text)),
        id,
    }
}

//! The unixctl server and client over real Unix sockets in a temporary directory.

use rvs_ctl::unixctl::{Client, Commands, MAX_CONNECTIONS, Server};
use std::io::{Read, Write};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A registry with `echo` (joins its arguments), `fail` (error answer) and `block` (waits until
/// the test sends on the returned channel).
fn commands() -> (Commands, mpsc::Sender<()>) {
    let mut c = Commands::new("rvs-test (rvs) 0.1.0");
    c.register(
        "echo",
        "[ARG...]",
        0,
        5,
        Arc::new(|args: &[String]| Ok(args.join(" "))),
    );
    c.register(
        "fail",
        "",
        0,
        0,
        Arc::new(|_: &[String]| Err("it failed".into())),
    );
    let (tx, rx) = mpsc::channel::<()>();
    let rx = Mutex::new(rx);
    c.register_hidden(
        "block",
        "",
        0,
        0,
        Arc::new(move |_: &[String]| {
            let rx = rx.lock().map_err(|_| "poisoned".to_owned())?;
            rx.recv_timeout(Duration::from_secs(20))
                .map_err(|_| "not released".to_owned())?;
            Ok("released".into())
        }),
    );
    (c, tx)
}

fn start() -> (tempfile::TempDir, PathBuf, Server, mpsc::Sender<()>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("rvs.ctl");
    let (c, tx) = commands();
    let server = Server::bind(&path, Arc::new(c)).expect("bind");
    (dir, path, server, tx)
}

/// Writes `bytes` on a fresh connection and reads until the server closes it (or 5 s pass).
fn raw_exchange(path: &Path, bytes: &[u8]) -> (Vec<u8>, bool) {
    let mut s = UnixStream::connect(path).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let _ = s.write_all(bytes);
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return (out, true),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return (out, true),
            Err(_) => return (out, false),
        }
    }
}

fn version_works(path: &Path) {
    let mut c = Client::connect(path).expect("connect");
    c.set_timeout(Some(Duration::from_secs(5)));
    assert_eq!(
        c.transact("version", &[]).expect("transact"),
        Ok("rvs-test (rvs) 0.1.0\n".into())
    );
}

#[test]
fn round_trip() {
    let (_dir, path, server, _tx) = start();
    assert_eq!(server.path(), path);
    let mut c = Client::connect(&path).expect("connect");
    let args = vec!["a".to_owned(), "b c".to_owned()];
    assert_eq!(
        c.transact("echo", &args).expect("echo"),
        Ok("a b c\n".into())
    );
    assert_eq!(c.transact("echo", &[]).expect("echo"), Ok(String::new()));
    assert_eq!(
        c.transact("fail", &[]).expect("fail"),
        Err("it failed\n".into())
    );
    assert_eq!(
        c.transact("nope", &[]).expect("nope"),
        Err("\"nope\" is not a valid command (use \"list-commands\" to see a list of valid commands)\n".into())
    );
    let too_many: Vec<String> = (0..6).map(|i| i.to_string()).collect();
    assert_eq!(
        c.transact("echo", &too_many).expect("echo"),
        Err("\"echo\" command takes at most 5 arguments\n".into())
    );
    // The connection is still usable after error answers.
    assert_eq!(
        c.transact("version", &[]).expect("version"),
        Ok("rvs-test (rvs) 0.1.0\n".into())
    );
}

#[test]
fn wire_bytes_and_pipelining() {
    let (_dir, path, _server, _tx) = start();
    let mut s = UnixStream::connect(&path).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    // Two requests in one write, the second split from the first mid-stream; the ids are echoed
    // whatever their type.
    s.write_all(br#"{"method":"echo","params":["x"],"id":0}{"method":"fail","params":[],"id":"#)
        .expect("write");
    s.write_all(br#"{"k":[1]}}"#).expect("write");
    let want = br#"{"id":0,"result":"x\n","error":null}{"id":{"k":[1]},"error":"it failed\n"}"#;
    let mut got = vec![0u8; want.len()];
    s.read_exact(&mut got).expect("read");
    assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(want));
}

#[test]
fn blocking_handler_does_not_block_other_connections() {
    let (_dir, path, _server, tx) = start();
    let blocked_path = path.clone();
    let blocked = std::thread::spawn(move || {
        let mut c = Client::connect(&blocked_path).expect("connect");
        c.transact("block", &[]).expect("block")
    });
    // Wait until the blocking request is in the server, then use another connection.
    std::thread::sleep(Duration::from_millis(100));
    let start = Instant::now();
    version_works(&path);
    assert!(start.elapsed() < Duration::from_secs(2));
    assert!(!blocked.is_finished());
    tx.send(()).expect("release");
    assert_eq!(blocked.join().expect("join"), Ok("released\n".into()));
}

#[test]
fn client_timeout() {
    let (_dir, path, _server, tx) = start();
    let mut c = Client::connect(&path).expect("connect");
    c.set_timeout(Some(Duration::from_millis(100)));
    let err = c.transact("block", &[]).expect_err("must time out");
    assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
    tx.send(()).expect("release");
}

#[test]
fn malformed_requests_get_an_error_and_are_closed() {
    let (_dir, path, _server, _tx) = start();
    let cases: &[(&[u8], &str)] = &[
        (b"{\"method\" 5}", "JSON syntax error"),
        (b"garbage", "message is not a JSON object"),
        (
            br#"{"method":"version","params":[],"id":0,"x":1}"#,
            "message has unexpected member \\\"x\\\"",
        ),
        (
            br#"{"id":1,"result":"x"}"#,
            "received unexpected reply message",
        ),
        (
            br#"{"method":"version","params":[]}"#,
            "received unexpected notification message",
        ),
        (b"{\"method\":\"\xff\"}", "JSON syntax error"),
    ];
    for (bytes, want) in cases {
        let (out, closed) = raw_exchange(&path, bytes);
        let text = String::from_utf8_lossy(&out);
        assert!(closed, "{text}");
        assert!(text.starts_with("{\"id\":null,\"error\":"), "{text}");
        assert!(text.contains(want), "{text} lacks {want}");
    }
    version_works(&path);
}

#[test]
fn oversize_request_is_refused_and_server_keeps_serving() {
    let (_dir, path, _server, _tx) = start();
    let mut big = br#"{"method":"echo","params":[""#.to_vec();
    big.extend(std::iter::repeat_n(b'a', (1 << 20) + 10));
    big.extend_from_slice(br#""],"id":0}"#);
    let (out, closed) = raw_exchange(&path, &big);
    let text = String::from_utf8_lossy(&out);
    assert!(closed);
    assert!(
        text.is_empty() || text.contains("exceeds the maximum size of 1048576 bytes"),
        "{text}"
    );
    assert!(!text.contains("result"), "{text}");
    version_works(&path);
}

#[test]
fn socket_is_owner_only_and_removed_on_shutdown() {
    let (_dir, path, server, _tx) = start();
    let meta = std::fs::symlink_metadata(&path).expect("stat");
    assert!(meta.file_type().is_socket());
    assert_eq!(meta.permissions().mode() & 0o777, 0o700);
    let mut idle = Client::connect(&path).expect("connect");
    idle.transact("version", &[]).expect("version").expect("ok");
    server.shutdown();
    assert!(!path.exists());
    assert!(UnixStream::connect(&path).is_err());
    // The open connection was closed too.
    assert!(idle.transact("version", &[]).is_err());
}

#[test]
fn stale_live_and_foreign_files_at_the_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("x.ctl");
    // A socket nobody listens on any more is replaced.
    drop(std::os::unix::net::UnixListener::bind(&path).expect("bind"));
    assert!(path.exists());
    let server = Server::bind(&path, Arc::new(commands().0)).expect("stale socket replaced");
    version_works(&path);
    // A live one is not.
    let err = Server::bind(&path, Arc::new(commands().0)).expect_err("live");
    assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
    version_works(&path);
    drop(server);
    assert!(!path.exists());
    // Nor is a regular file.
    std::fs::write(&path, "data").expect("write");
    let err = Server::bind(&path, Arc::new(commands().0)).expect_err("file");
    assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
    assert_eq!(std::fs::read(&path).expect("read"), b"data");
}

#[test]
fn connection_limit() {
    let (_dir, path, server, _tx) = start();
    let mut clients = Vec::new();
    for _ in 0..MAX_CONNECTIONS {
        let mut c = Client::connect(&path).expect("connect");
        c.set_timeout(Some(Duration::from_secs(5)));
        c.transact("version", &[]).expect("version").expect("ok");
        clients.push(c);
    }
    assert_eq!(server.connection_count(), MAX_CONNECTIONS);
    let mut extra = Client::connect(&path).expect("the kernel accepts the connect");
    extra.set_timeout(Some(Duration::from_secs(5)));
    assert!(
        extra.transact("version", &[]).is_err(),
        "65th must be closed"
    );
    clients.pop();
    let deadline = Instant::now() + Duration::from_secs(5);
    while server.connection_count() >= MAX_CONNECTIONS {
        assert!(Instant::now() < deadline, "closed connection not reaped");
        std::thread::sleep(Duration::from_millis(10));
    }
    version_works(&path);
}

#[test]
fn path_near_the_socket_address_limit() {
    // sun_path holds 108 bytes; the temporary bind name is longer than the final one.
    let dir = tempfile::tempdir().expect("tempdir");
    let base = dir.path().as_os_str().len() + 1;
    let name = "s".repeat(105 - base);
    let path = dir.path().join(name);
    let server = Server::bind(&path, Arc::new(commands().0)).expect("bind");
    let meta = std::fs::symlink_metadata(&path).expect("stat");
    assert_eq!(meta.permissions().mode() & 0o777, 0o700);
    version_works(&path);
    server.shutdown();
    assert!(!path.exists());
}

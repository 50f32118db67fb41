use super::*;

#[test]
fn newline_rule() {
    assert_eq!(format_for_terminal(""), "");
    assert_eq!(format_for_terminal("x"), "x\n");
    assert_eq!(format_for_terminal("x\n"), "x\n");
    assert_eq!(format_for_terminal("a\nb"), "a\nb\n");
}

#[test]
fn absolute_target_is_the_socket() {
    let dir = Path::new("/nonexistent");
    assert_eq!(
        resolve_target("/tmp/x.ctl", dir),
        Ok(PathBuf::from("/tmp/x.ctl"))
    );
}

#[test]
fn pidfile_without_newline() {
    // The OVS oracle's ovs-vswitchd.pid holds "4900" with no newline, and
    // `OVS_RUNDIR=/tmp/oracle-ctl ovs-appctl -t ovs-vswitchd version` tried
    // "/tmp/oracle-ctl/ovs-vswitchd.4900.ctl".
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("ovs-vswitchd.pid"), "4900").expect("write");
    assert_eq!(
        resolve_target("ovs-vswitchd", dir.path()),
        Ok(PathBuf::from(format!(
            "{}/ovs-vswitchd.4900.ctl",
            dir.path().display()
        )))
    );
}

#[test]
fn pidfile_target() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("rvs.pid"), "1234\n").expect("write");
    assert_eq!(
        resolve_target("rvs", dir.path()),
        Ok(dir.path().join("rvs.1234.ctl"))
    );
}

#[test]
fn pidfile_errors_match_ovs_appctl() {
    // ovs-appctl 3.1 prints: `ovs-appctl: cannot read pidfile "/tmp/oracle-ctl/nosuch.pid" (No such
    // file or directory)` (checked against the installed ovs-appctl).
    let dir = tempfile::tempdir().expect("tempdir");
    let pidfile = format!("{}/nosuch.pid", dir.path().display());
    assert_eq!(
        resolve_target("nosuch", dir.path()),
        Err(format!(
            "cannot read pidfile \"{pidfile}\" (No such file or directory)"
        ))
    );
    std::fs::write(dir.path().join("empty.pid"), "").expect("write");
    let pidfile = format!("{}/empty.pid", dir.path().display());
    assert_eq!(
        resolve_target("empty", dir.path()),
        Err(format!(
            "cannot read pidfile \"{pidfile}\" (No such process)"
        ))
    );
}

#[test]
fn leading_decimal_is_strtoul_like() {
    assert_eq!(leading_decimal(b" +42x"), Some(42));
    assert_eq!(leading_decimal(b"x42"), None);
    assert_eq!(leading_decimal(b""), None);
    assert_eq!(leading_decimal(b"99999999999999999999999"), None);
}

//! `bench-live` works end to end (a handful of subscribers; no timing is asserted: the
//! figures are for people, docs/performance.md has them).

use crate::support::process::command;

#[test]
fn bench_live_prints_its_table() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = command(dir.path())
        .args(["bench-live", "--subscribers", "5", "--changes", "2"])
        .output()
        .expect("run bench-live");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("subscribers"), "{stdout}");
    let row = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("5 "))
        .unwrap_or_else(|| panic!("no row for 5 subscribers: {stdout}"));
    let held: usize = row
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .expect("held column");
    assert_eq!(held, 5, "every subscriber was held: {stdout}");
}

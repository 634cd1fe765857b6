//! `triage sla due`, as a separate process: the single form and the JSON-lines batch.
use std::io::Write;
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_triage");

#[test]
fn the_single_form_prints_the_due_time_in_utc() {
    let out = Command::new(BIN)
        .args([
            "sla",
            "due",
            "--calendar",
            "business",
            "--start",
            "2026-03-06T16:00:00-05:00",
            "--add",
            "4h",
        ])
        .env_remove("TRIAGE_CONFIG")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "2026-03-09T15:00:00Z\n"
    );
}

#[test]
fn the_single_form_refuses_a_start_without_offset() {
    let out = Command::new(BIN)
        .args([
            "sla",
            "due",
            "--calendar",
            "business",
            "--start",
            "2026-03-06T16:00:00",
            "--add",
            "4h",
        ])
        .env_remove("TRIAGE_CONFIG")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("start:"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_batch_answers_each_line_in_order_and_goes_on_after_bad_ones() {
    let mut child = Command::new(BIN)
        .args(["sla", "due", "--batch"])
        .env_remove("TRIAGE_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let input = concat!(
        r#"{"id": "fri", "calendar": "business", "start": "2026-03-06T16:00:00-05:00", "add": "4h"}"#,
        "\n",
        r#"{"id": "bad", "calendar": "moon", "start": "2026-03-06T16:00:00-05:00", "add": "4h"}"#,
        "\n",
        r#"{"id": "xmas", "calendar": "business", "start": "2025-12-24T16:00:00-05:00", "add": "2h"}"#,
        "\n",
        r#"{"id": "tier1", "calendar": "tier1", "start": "2025-11-01T15:00:00-04:00", "add": "12h"}"#,
        "\n",
        r#"{"id": "days", "calendar": "business", "start": "2026-03-06T16:00:00-05:00", "add": "2bd"}"#,
        "\n",
    );
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 5);
    assert_eq!(lines[0]["due"], "2026-03-09T15:00:00Z");
    assert_eq!(lines[1]["id"], "bad");
    assert!(
        lines[1]["error"]
            .as_str()
            .unwrap()
            .contains("line 2, field calendar")
    );
    assert_eq!(lines[2]["due"], "2025-12-29T14:00:00Z");
    assert_eq!(lines[3]["due"], "2025-11-03T15:00:00Z");
    // Fri 16:00 EST: 1 h Friday, 9 h Monday (DST starts Sunday), 8 h Tuesday: Tue 16:00 EDT.
    assert_eq!(lines[4]["due"], "2026-03-10T20:00:00Z");
}

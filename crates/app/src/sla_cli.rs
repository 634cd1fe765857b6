//! `triage sla due`: due times on the shipped calendars, one at a time or in batches of
//! JSON lines, for checking the SLA arithmetic from outside.
use domain::calendar::{Calendar, Target, shipped_calendar};
use jiff::Timestamp;
use serde_json::{Value, json};
use std::io::{BufRead, Write};

/// A due time, written exactly `YYYY-MM-DDTHH:MM:SSZ`.
pub fn format_due(due: Timestamp) -> String {
    due.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `20m`, `12h` or `2bd`: a whole number of minutes, hours or business days (the same
/// syntax as targets in policy packs).
pub fn parse_add(text: &str) -> Result<Target, String> {
    domain::policy_pack::parse_target(text.trim()).map_err(|e| e.to_string())
}

pub fn calendar(name: &str) -> Result<&'static Calendar, String> {
    shipped_calendar(name).ok_or_else(|| {
        format!(
            "unknown calendar \"{name}\": one of {}",
            domain::calendar::SHIPPED_CALENDARS.join(", ")
        )
    })
}

/// An instant with its UTC offset (RFC 3339); only the instant matters. Fractions of a
/// second are dropped.
pub fn parse_start(text: &str) -> Result<Timestamp, String> {
    let start: Timestamp = text.trim().parse().map_err(|_| {
        format!("\"{text}\" is not an RFC 3339 time with an offset, like 2026-03-06T16:00:00-05:00")
    })?;
    Timestamp::from_second(start.as_second()).map_err(|e| e.to_string())
}

/// One due-time question. Errors name the field.
pub fn due_for(calendar_name: &str, start: &str, add: &str) -> Result<Timestamp, String> {
    let calendar = calendar(calendar_name).map_err(|e| format!("calendar: {e}"))?;
    let start = parse_start(start).map_err(|e| format!("start: {e}"))?;
    let target = parse_add(add).map_err(|e| format!("add: {e}"))?;
    domain::due::due(calendar, start, target).map_err(|e| {
        let field = if e.field() == "target" {
            "add"
        } else {
            e.field()
        };
        format!("{field}: {e}")
    })
}

fn answer_line(number: usize, line: &str) -> Value {
    let value: Value = match serde_json::from_str(line) {
        Ok(value) => value,
        Err(e) => {
            return json!({"id": null, "error": format!("line {number}: not a JSON object: {e}")});
        }
    };
    let Some(object) = value.as_object() else {
        return json!({"id": null, "error": format!("line {number}: not a JSON object")});
    };
    let id = object.get("id").cloned().unwrap_or(Value::Null);
    let text = |field: &str| -> Result<&str, String> {
        match object.get(field) {
            Some(Value::String(s)) => Ok(s),
            Some(_) => Err(format!("line {number}, field {field}: must be a string")),
            None => Err(format!("line {number}, field {field}: missing")),
        }
    };
    let result = (|| {
        let calendar = text("calendar")?;
        let start = text("start")?;
        let add = text("add")?;
        due_for(calendar, start, add).map_err(|e| format!("line {number}, field {e}"))
    })();
    match result {
        Ok(due) => json!({"id": id, "due": format_due(due)}),
        Err(error) => json!({"id": id, "error": error}),
    }
}

/// Reads JSON lines and answers each, in order; a bad line gets an error line and the
/// batch goes on. Blank lines are skipped. Output is flushed whenever input runs dry, so
/// the command also works as a coprocess.
pub fn run_batch(input: impl BufRead, mut output: impl Write) -> std::io::Result<usize> {
    let mut reader = input;
    let mut line = String::new();
    let mut number = 0;
    let mut answered = 0;
    loop {
        if reader.fill_buf()?.is_empty() {
            output.flush()?;
        }
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            break;
        }
        number += 1;
        if line.trim().is_empty() {
            continue;
        }
        serde_json::to_writer(&mut output, &answer_line(number, line.trim()))?;
        output.write_all(b"\n")?;
        answered += 1;
    }
    output.flush()?;
    Ok(answered)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(input: &str) -> Vec<Value> {
        let mut out = Vec::new();
        run_batch(input.as_bytes(), &mut out).unwrap();
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn the_issue_examples_hold() {
        let lines = batch(concat!(
            r#"{"id": "a", "calendar": "business", "start": "2026-03-06T16:00:00-05:00", "add": "4h"}"#,
            "\n",
            r#"{"id": "b", "calendar": "business", "start": "2025-12-24T16:00:00-05:00", "add": "2h"}"#,
            "\n",
            r#"{"id": "c", "calendar": "tier1", "start": "2025-11-01T15:00:00-04:00", "add": "12h"}"#,
            "\n",
            r#"{"id": "d", "calendar": "business", "start": "2026-03-02T13:00:00Z", "add": "9h"}"#,
            "\n",
        ));
        assert_eq!(lines[0], json!({"id": "a", "due": "2026-03-09T15:00:00Z"}));
        assert_eq!(lines[1], json!({"id": "b", "due": "2025-12-29T14:00:00Z"}));
        assert_eq!(lines[2], json!({"id": "c", "due": "2025-11-03T15:00:00Z"}));
        // Mon 08:00 EST + 9 h = Mon 17:00 EST, not Tue 08:00.
        assert_eq!(lines[3], json!({"id": "d", "due": "2026-03-02T22:00:00Z"}));
    }

    #[test]
    fn bad_lines_get_an_error_naming_line_and_field_and_the_batch_goes_on() {
        let lines = batch(concat!(
            r#"{"id": "1", "calendar": "nope", "start": "2026-03-06T16:00:00-05:00", "add": "4h"}"#,
            "\n",
            r#"{"id": "2", "calendar": "business", "start": "2026-03-06T16:00:00", "add": "4h"}"#,
            "\n",
            r#"{"id": "3", "calendar": "business", "start": "2026-03-06T16:00:00Z", "add": "-4h"}"#,
            "\n",
            "not json\n",
            "\n",
            r#"{"id": "6", "calendar": "tier1", "start": "2026-03-06T16:00:00Z", "add": "2bd"}"#,
            "\n",
            r#"{"id": "7", "calendar": "business", "start": "2026-03-06T16:00:00Z", "add": "99999999bd"}"#,
            "\n",
            r#"{"id": "8", "calendar": "business", "start": "2026-03-06T16:00:00Z", "add": "4x"}"#,
            "\n",
            r#"{"id": 9, "calendar": "24x7", "start": "2026-03-06T16:00:00.75Z", "add": "20m"}"#,
            "\n",
            r#"{"id": "10", "start": "2026-03-06T16:00:00Z", "add": "4h"}"#,
            "\n",
        ));
        assert_eq!(lines.len(), 9, "blank lines are skipped: {lines:?}");
        let error = |i: usize| lines[i]["error"].as_str().unwrap_or_default().to_owned();
        assert!(
            error(0).starts_with("line 1, field calendar:"),
            "{}",
            error(0)
        );
        assert!(error(1).starts_with("line 2, field start:"), "{}", error(1));
        assert!(error(2).contains("negative"), "{}", error(2));
        assert!(error(3).starts_with("line 4:"), "{}", error(3));
        assert_eq!(lines[3]["id"], Value::Null);
        assert!(error(4).starts_with("line 6, field add:"), "{}", error(4));
        assert_eq!(lines[4]["id"], "6");
        assert!(error(5).starts_with("line 7, field add:"), "{}", error(5));
        assert!(error(6).contains("unknown unit"), "{}", error(6));
        assert_eq!(lines[7], json!({"id": 9, "due": "2026-03-06T16:20:00Z"}));
        assert!(error(8).contains("field calendar: missing"), "{}", error(8));
    }

    #[test]
    fn targets_parse_with_their_units() {
        assert_eq!(parse_add("20m"), Ok(Target::Minutes(20)));
        assert_eq!(parse_add("12h"), Ok(Target::Hours(12)));
        assert_eq!(parse_add("2bd"), Ok(Target::BusinessDays(2)));
        assert_eq!(parse_add("0m"), Ok(Target::Minutes(0)));
        assert!(parse_add("4").is_err());
        assert!(parse_add("h").is_err());
        assert!(parse_add("1.5h").is_err());
    }
}

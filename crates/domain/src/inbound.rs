//! Mail received by the desk, as the desk needs it: who sent it, what it says, which ticket
//! it answers, and whether a machine wrote it (and so must never be answered). Parsing
//! never panics and never refuses bad bytes inside a message: undecodable text becomes
//! replacement characters.
use crate::ticket::{SUMMARY_MAX, format_number, parse_number};
use mail_parser::{MessageParser, MimeHeaders};

/// Largest subject kept (the ticket summary limit).
pub const SUBJECT_MAX: usize = SUMMARY_MAX;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    /// Trimmed and lowercased.
    pub address: String,
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundAttachment {
    pub filename: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// Why a message must never be answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Automated {
    AutoReply,
    Bounce,
    Bulk,
    Loop,
}

impl Automated {
    pub fn as_str(self) -> &'static str {
        match self {
            Automated::AutoReply => "auto_reply",
            Automated::Bounce => "bounce",
            Automated::Bulk => "bulk",
            Automated::Loop => "loop",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inbound {
    pub from: Mailbox,
    /// Decoded, whitespace collapsed, at most [`SUBJECT_MAX`] characters; empty when absent.
    pub subject: String,
    /// Without angle brackets.
    pub message_id: Option<String>,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    /// The first text/plain body, else the HTML body as text; LF line ends.
    pub text: String,
    pub attachments: Vec<InboundAttachment>,
    pub automated: Option<Automated>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InboundError {
    Malformed,
    NoSender,
}

impl InboundError {
    pub fn code(self) -> &'static str {
        match self {
            InboundError::Malformed => "malformed_message",
            InboundError::NoSender => "no_sender",
        }
    }
}

/// Parses a raw RFC 5322 message. `loop_marker` is what Triage writes in the `X-Loop`
/// header of its own mail.
pub fn parse(raw: &[u8], loop_marker: &str) -> Result<Inbound, InboundError> {
    let message = MessageParser::default()
        .parse(raw)
        .ok_or(InboundError::Malformed)?;
    if message.headers().is_empty() {
        return Err(InboundError::Malformed);
    }
    let from = message
        .from()
        .and_then(|a| a.first())
        .and_then(|addr| {
            let address = addr.address()?.trim().to_lowercase();
            let (local, domain) = address.split_once('@')?;
            if local.is_empty() || domain.is_empty() || address.contains(char::is_whitespace) {
                return None;
            }
            Some(Mailbox {
                address,
                name: addr.name().map(collapse).filter(|n| !n.is_empty()),
            })
        })
        .ok_or(InboundError::NoSender)?;
    let subject: String = collapse(message.subject().unwrap_or(""))
        .chars()
        .take(SUBJECT_MAX)
        .collect();
    let ids = |value: &mail_parser::HeaderValue<'_>| -> Vec<String> {
        match value {
            mail_parser::HeaderValue::Text(t) => vec![clean_id(t)],
            mail_parser::HeaderValue::TextList(list) => list.iter().map(|t| clean_id(t)).collect(),
            _ => Vec::new(),
        }
        .into_iter()
        .filter(|id| !id.is_empty())
        .collect()
    };
    let text = match message.text_bodies().next() {
        Some(_) => message.body_text(0).map(|t| t.into_owned()),
        None => None,
    }
    .or_else(|| {
        message
            .body_html(0)
            .map(|h| mail_parser::decoders::html::html_to_text(&h))
    })
    .unwrap_or_default();
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let text = text.trim_end().to_owned();
    let attachments = message
        .attachments()
        .enumerate()
        .map(|(i, part)| {
            let content_type = part
                .content_type()
                .map(|ct| match ct.subtype() {
                    Some(sub) => format!("{}/{}", ct.ctype(), sub),
                    None => ct.ctype().to_owned(),
                })
                .unwrap_or_else(|| "application/octet-stream".into())
                .to_lowercase();
            let filename = part
                .attachment_name()
                .map(sanitize_filename)
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| format!("attachment-{}", i + 1));
            InboundAttachment {
                filename,
                content_type,
                bytes: part.contents().to_vec(),
            }
        })
        .collect();
    let automated = automated(&message, &from, loop_marker);
    Ok(Inbound {
        message_id: message
            .message_id()
            .map(clean_id)
            .filter(|id| !id.is_empty()),
        in_reply_to: ids(message.in_reply_to()),
        references: ids(message.references()),
        from,
        subject,
        text,
        attachments,
        automated,
    })
}

fn header_text<'a>(message: &'a mail_parser::Message<'a>, name: &str) -> Option<String> {
    message
        .header_raw(name)
        .map(|v| v.trim().to_ascii_lowercase())
}

fn automated(
    message: &mail_parser::Message<'_>,
    from: &Mailbox,
    loop_marker: &str,
) -> Option<Automated> {
    let marker = loop_marker.trim().to_ascii_lowercase();
    if !marker.is_empty()
        && message
            .headers_raw()
            .filter(|(name, _)| name.eq_ignore_ascii_case("X-Loop"))
            .any(|(_, value)| value.to_ascii_lowercase().contains(&marker))
    {
        return Some(Automated::Loop);
    }
    let is_report = message.content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case("multipart")
            && ct
                .subtype()
                .is_some_and(|s| s.eq_ignore_ascii_case("report"))
    });
    let local = from.address.split('@').next().unwrap_or("");
    let empty_return_path = header_text(message, "Return-Path").is_some_and(|v| v == "<>");
    if is_report || local == "mailer-daemon" || local == "postmaster" || empty_return_path {
        return Some(Automated::Bounce);
    }
    let auto_submitted = header_text(message, "Auto-Submitted")
        .map(|v| v.split(';').next().unwrap_or("").trim().to_owned())
        .is_some_and(|v| v != "no");
    let precedence = header_text(message, "Precedence").unwrap_or_default();
    if auto_submitted
        || message.header_raw("X-Autoreply").is_some()
        || message.header_raw("X-Autorespond").is_some()
        || precedence == "auto_reply"
    {
        return Some(Automated::AutoReply);
    }
    if matches!(precedence.as_str(), "bulk" | "junk" | "list")
        || message.header_raw("List-Id").is_some()
    {
        return Some(Automated::Bulk);
    }
    None
}

fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn clean_id(id: &str) -> String {
    id.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim()
        .to_owned()
}

fn sanitize_filename(name: &str) -> String {
    let last = name
        .rsplit(['/', '\\'])
        .find(|part| !part.trim().is_empty() && *part != ".." && *part != ".")
        .unwrap_or("");
    last.chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect::<String>()
        .trim()
        .trim_start_matches('.')
        .to_owned()
}

/// The ticket a reply belongs to: a ticket number in the subject, else Triage's thread id
/// `ticket.{NUMBER}@{host}` in In-Reply-To, then References.
pub fn ticket_number(inbound: &Inbound, host: &str) -> Option<String> {
    let from_subject = inbound
        .subject
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter(|token| {
            token.split_once('-').is_some_and(|(p, d)| {
                !p.is_empty()
                    && p.chars().all(|c| c.is_ascii_alphabetic())
                    && !d.is_empty()
                    && d.chars().all(|c| c.is_ascii_digit())
            })
        })
        .find_map(parse_number);
    if let Some((kind, seq)) = from_subject {
        return Some(format_number(kind, seq));
    }
    let host = host.to_ascii_lowercase();
    inbound
        .in_reply_to
        .iter()
        .chain(&inbound.references)
        .find_map(|id| {
            let rest = id.strip_prefix("ticket.")?;
            let (number, at) = rest.rsplit_once('@')?;
            if !at.eq_ignore_ascii_case(&host) {
                return None;
            }
            parse_number(number).map(|(kind, seq)| format_number(kind, seq))
        })
}

/// The new part of a reply: the text above the quoted history.
pub fn reply_text(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut cut = lines.len();
    for (i, line) in lines.iter().enumerate() {
        let l = line.trim();
        let lower = l.to_lowercase();
        let next = lines
            .get(i + 1)
            .map(|n| n.trim().to_lowercase())
            .unwrap_or_default();
        let separator = l.starts_with('>')
            || (lower.starts_with("-----") && lower.contains("original message"))
            || (lower.starts_with("-----") && lower.contains("message d'origine"))
            || (lower.starts_with("--------") && lower.contains("message original"));
        let english =
            lower.starts_with("on ") && (lower.ends_with("wrote:") || next.ends_with("wrote:"));
        let french = lower.starts_with("le ") && (is_ecrit(&lower) || is_ecrit(&next));
        let outlook = (lower.starts_with("from:") && next.starts_with("sent:"))
            || (lower.starts_with("de :") || lower.starts_with("de:"))
                && (next.starts_with("envoyé :") || next.starts_with("envoyé:"));
        if separator || english || french || outlook {
            cut = i;
            break;
        }
    }
    let kept = lines[..cut].join("\n");
    let kept = kept.trim_end();
    if kept.trim().is_empty() {
        text.trim().to_owned()
    } else {
        kept.to_owned()
    }
}

fn is_ecrit(line: &str) -> bool {
    line.ends_with("a écrit :") || line.ends_with("a écrit:") || line.ends_with("écrit :")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MARKER: &str = "no-reply@desk.example";

    fn parsed(raw: &str) -> Inbound {
        parse(raw.as_bytes(), MARKER).expect("parses")
    }

    #[test]
    fn plain_message() {
        let m = parsed(
            "From: \"Help Desk\" <HelpDesk@HHS.example>\r\nSubject:  Viewer\r\n  down \r\nMessage-ID: <abc@x>\r\n\r\nIt is down.\r\n\r\n",
        );
        assert_eq!(m.from.address, "helpdesk@hhs.example");
        assert_eq!(m.from.name.as_deref(), Some("Help Desk"));
        assert_eq!(m.subject, "Viewer down");
        assert_eq!(m.message_id.as_deref(), Some("abc@x"));
        assert_eq!(m.text, "It is down.");
        assert_eq!(m.automated, None);
    }

    #[test]
    fn french_latin1_quoted_printable() {
        let m = parsed(
            "From: a@b.example\r\nSubject: =?ISO-8859-1?Q?=C9v=E9nement?=\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nL'=E9cran est vide.\r\n",
        );
        assert_eq!(m.subject, "Événement");
        assert_eq!(m.text, "L'écran est vide.");
    }

    #[test]
    fn text_wins_over_html_and_html_alone_becomes_text() {
        let m = parsed(
            "From: a@b.example\r\nContent-Type: multipart/alternative; boundary=\"x\"\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nPlain words\r\n--x\r\nContent-Type: text/html\r\n\r\n<p>Html words</p>\r\n--x--\r\n",
        );
        assert_eq!(m.text, "Plain words");
        let m = parsed(
            "From: a@b.example\r\nContent-Type: text/html\r\n\r\n<html><body><p>Only <b>html</b></p></body></html>\r\n",
        );
        assert!(
            m.text.contains("Only") && m.text.contains("html"),
            "{}",
            m.text
        );
        assert!(!m.text.contains('<'), "{}", m.text);
    }

    #[test]
    fn attachments_with_safe_names() {
        let m = parsed(
            "From: a@b.example\r\nContent-Type: multipart/mixed; boundary=\"x\"\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nSee files\r\n--x\r\nContent-Type: image/PNG\r\nContent-Disposition: attachment; filename=\"shot.png\"\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n--x\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=\"../../etc/passwd\"\r\n\r\nroot\r\n--x--\r\n",
        );
        assert_eq!(m.text, "See files");
        assert_eq!(m.attachments.len(), 2);
        assert_eq!(m.attachments[0].filename, "shot.png");
        assert_eq!(m.attachments[0].content_type, "image/png");
        assert_eq!(m.attachments[0].bytes, b"hello");
        assert_eq!(m.attachments[1].filename, "passwd");
    }

    #[test]
    fn refusals() {
        assert_eq!(
            parse(b"Subject: x\r\n\r\nbody", MARKER),
            Err(InboundError::NoSender)
        );
        assert_eq!(
            parse(b"From: not an address\r\n\r\nbody", MARKER),
            Err(InboundError::NoSender)
        );
        assert!(parse(b"", MARKER).is_err());
        assert!(parse(b"\x00\x01\x02 junk", MARKER).is_err());
    }

    #[test]
    fn machines_are_recognised() {
        let with = |headers: &str| {
            parsed(&format!("From: a@b.example\r\n{headers}\r\nbody\r\n")).automated
        };
        assert_eq!(
            with("Auto-Submitted: auto-replied\r\n"),
            Some(Automated::AutoReply)
        );
        assert_eq!(with("Auto-Submitted: No\r\n"), None);
        assert_eq!(with("X-Autoreply: yes\r\n"), Some(Automated::AutoReply));
        assert_eq!(with("Precedence: bulk\r\n"), Some(Automated::Bulk));
        assert_eq!(with("List-Id: <news.b.example>\r\n"), Some(Automated::Bulk));
        assert_eq!(with("Return-Path: <>\r\n"), Some(Automated::Bounce));
        assert_eq!(
            with("X-Loop: No-Reply@Desk.example\r\n"),
            Some(Automated::Loop)
        );
        let dsn = parsed(
            "From: MAILER-DAEMON@mx.example\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nFailed\r\n--b--\r\n",
        );
        assert_eq!(dsn.automated, Some(Automated::Bounce));
    }

    #[test]
    fn ticket_numbers() {
        let with = |subject: &str, references: &[&str]| {
            let mut m = parsed(&format!(
                "From: a@b.example\r\nSubject: {subject}\r\n\r\nx\r\n"
            ));
            m.references = references.iter().map(|r| r.to_string()).collect();
            ticket_number(&m, "desk.example")
        };
        assert_eq!(
            with("Re: [INC-000123] Viewer down", &[]).as_deref(),
            Some("INC-000123")
        );
        assert_eq!(
            with("RE: TR: sr-42 request", &[]).as_deref(),
            Some("SR-000042")
        );
        assert_eq!(
            with("Re: hello", &["x@y", "ticket.PRB-000007@Desk.example"]).as_deref(),
            Some("PRB-000007")
        );
        assert_eq!(
            with("Re: hello", &["ticket.PRB-000007@other.example"]),
            None
        );
        assert_eq!(with("Budget 2024-2025", &[]), None);
    }

    #[test]
    fn quoted_history_is_cut() {
        assert_eq!(
            reply_text("Fixed now.\n\nOn Mon, 1 Dec 2026 at 10:00, Desk <desk@x> wrote:\n> old"),
            "Fixed now."
        );
        assert_eq!(
            reply_text("Réglé.\n\nLe lun. 1 déc. 2026 à 10:00, Desk <desk@x> a écrit :\n> ancien"),
            "Réglé."
        );
        assert_eq!(
            reply_text(
                "Thanks\n\nOn Mon, 1 Dec 2026 at 10:00, Service Desk\n<desk@x> wrote:\n> old"
            ),
            "Thanks"
        );
        assert_eq!(
            reply_text("Ok\nFrom: Desk\nSent: Monday\nSubject: x\n\nold"),
            "Ok"
        );
        assert_eq!(
            reply_text("Merci\nDe : Desk\nEnvoyé : lundi\n\nancien"),
            "Merci"
        );
        assert_eq!(reply_text("Yes\n> quoted\n> more"), "Yes");
        assert_eq!(
            reply_text("No quote here.\nTwo lines."),
            "No quote here.\nTwo lines."
        );
        assert_eq!(reply_text("> only a quote"), "> only a quote");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
            let _ = parse(&bytes, MARKER);
        }

        #[test]
        fn a_valid_header_block_always_parses(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
            let mut raw = b"From: a@b.example\r\nSubject: x\r\n\r\n".to_vec();
            raw.extend(bytes);
            prop_assert!(parse(&raw, MARKER).is_ok());
        }

        #[test]
        fn helpers_never_panic(text in any::<String>()) {
            let _ = reply_text(&text);
            let m = Inbound {
                from: Mailbox { address: "a@b".into(), name: None },
                subject: text.clone(),
                message_id: None,
                in_reply_to: vec![text.clone()],
                references: vec![text],
                text: String::new(),
                attachments: Vec::new(),
                automated: None,
            };
            let _ = ticket_number(&m, "desk.example");
        }
    }
}

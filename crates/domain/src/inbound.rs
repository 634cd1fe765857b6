//! Mail received by the desk, as the desk needs it: who sent it, what it says, which ticket
//! it answers, and whether a machine wrote it (and so must never be answered).
//!
//! Parsing never panics and never refuses bad bytes inside a message: undecodable text
//! becomes replacement characters. Only a message without a header section, or without a
//! sender, is refused.
use crate::ticket::{SUMMARY_MAX, TicketKind, format_number, parse_number};
use mail_parser::{HeaderForm, HeaderName, HeaderValue, Message, MessageParser, MessagePart};
use mail_parser::{MimeHeaders, PartType};

/// Largest subject kept (the ticket summary limit).
pub const SUBJECT_MAX: usize = SUMMARY_MAX;

/// Largest attachment file name kept, in characters.
const FILENAME_MAX: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    /// Trimmed and lowercased.
    pub address: String,
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundAttachment {
    /// Safe to use as a file name: no path separators, no control characters.
    pub filename: String,
    /// `type/subtype`, lowercase.
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
    /// Decoded, on one line, at most [`SUBJECT_MAX`] characters; empty when absent.
    pub subject: String,
    /// Without angle brackets.
    pub message_id: Option<String>,
    /// Message ids, without angle brackets.
    pub in_reply_to: Vec<String>,
    /// Message ids, without angle brackets.
    pub references: Vec<String>,
    /// The first text/plain body, else the HTML body as text; LF line ends.
    pub text: String,
    /// Every part that is not the body.
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

/// Reads a raw RFC 5322 message. `loop_marker` is the value Triage puts in the `X-Loop`
/// header of what it sends; a message carrying it back is a [`Automated::Loop`].
pub fn parse(raw: &[u8], loop_marker: &str) -> Result<Inbound, InboundError> {
    let message = MessageParser::default()
        .parse(raw)
        .ok_or(InboundError::Malformed)?;
    // mail-parser reads any leading text as headers: a line of junk comes back as a
    // "header" named after the whole line. A real header section has a well-formed name.
    if !message.headers().iter().any(|h| is_field_name(h.name())) {
        return Err(InboundError::Malformed);
    }
    let from = sender(&message).ok_or(InboundError::NoSender)?;
    let subject = one_line(message.subject().unwrap_or_default());
    let automated = automated(&message, &from, loop_marker);
    Ok(Inbound {
        subject: cut(&subject, SUBJECT_MAX).trim_end().to_owned(),
        message_id: message_ids(&message, HeaderName::MessageId)
            .into_iter()
            .next(),
        in_reply_to: message_ids(&message, HeaderName::InReplyTo),
        references: message_ids(&message, HeaderName::References),
        text: body_text(&message),
        attachments: message
            .attachments()
            .enumerate()
            .map(|(index, part)| attachment(index, part))
            .collect(),
        automated,
        from,
    })
}

/// RFC 5322 field name: printable ASCII but the colon.
fn is_field_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| (33..=126).contains(&b) && b != b':')
}

fn sender(message: &Message<'_>) -> Option<Mailbox> {
    let addr = message.from()?.first()?;
    let address = addr.address()?.trim().to_lowercase();
    let (local, domain) = address.rsplit_once('@')?;
    if local.is_empty()
        || domain.is_empty()
        || address.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return None;
    }
    let name = addr.name().map(one_line).filter(|n| !n.is_empty());
    Some(Mailbox { address, name })
}

/// Whitespace and control characters collapsed to single spaces, trimmed.
fn one_line(text: &str) -> String {
    text.split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn cut(text: &str, max_chars: usize) -> &str {
    match text.char_indices().nth(max_chars) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

/// Every message id in every occurrence of the header, without angle brackets. mail-parser
/// leaves ids written without brackets as one text, so they are split here.
fn message_ids(message: &Message<'_>, name: HeaderName<'static>) -> Vec<String> {
    let mut ids = Vec::new();
    for value in message.header_values(name) {
        let texts = match value {
            HeaderValue::Text(text) => std::slice::from_ref(text),
            HeaderValue::TextList(list) => list.as_slice(),
            _ => &[],
        };
        for text in texts {
            ids.extend(
                text.split(|c: char| c.is_whitespace() || c == ',')
                    .map(|id| id.trim_matches(['<', '>']))
                    .filter(|id| !id.is_empty() && !id.contains(char::is_control))
                    .map(str::to_owned),
            );
        }
    }
    ids
}

fn body_text(message: &Message<'_>) -> String {
    let plain = message.text_bodies().find_map(|part| match &part.body {
        PartType::Text(text) => Some(text.to_string()),
        _ => None,
    });
    let text = plain
        .or_else(|| {
            message
                .html_bodies()
                .chain(message.text_bodies())
                .find_map(|part| match &part.body {
                    PartType::Html(html) => Some(html_to_text(html)),
                    _ => None,
                })
        })
        .unwrap_or_default();
    text.replace("\r\n", "\n")
        .chars()
        .map(|c| if c == '\r' { '\n' } else { c })
        // What text::clean accepts: a NUL, say, cannot be stored in a PostgreSQL text.
        .filter(|&c| !c.is_control() || c == '\n' || c == '\t')
        .collect::<String>()
        .trim_end()
        .to_owned()
}

fn attachment(index: usize, part: &MessagePart<'_>) -> InboundAttachment {
    let filename = part
        .attachment_name()
        .map(safe_filename)
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| format!("attachment-{}", index + 1));
    let content_type = part
        .content_type()
        .and_then(|ct| {
            let (ctype, subtype) = (ct.ctype(), ct.subtype()?);
            (is_mime_token(ctype) && is_mime_token(subtype))
                .then(|| format!("{ctype}/{subtype}").to_ascii_lowercase())
        })
        .unwrap_or_else(|| {
            match part.body {
                PartType::Text(_) => "text/plain",
                PartType::Html(_) => "text/html",
                PartType::Message(_) => "message/rfc822",
                _ => "application/octet-stream",
            }
            .to_owned()
        });
    InboundAttachment {
        filename,
        content_type,
        bytes: part.contents().to_vec(),
    }
}

/// RFC 6838 restricted name.
fn is_mime_token(token: &str) -> bool {
    !token.is_empty()
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
}

/// The last segment of what the sender wrote (old clients send a whole path such as
/// `C:\Users\me\report.pdf`), without control characters, at most [`FILENAME_MAX`]
/// characters. Empty when nothing usable is left.
fn safe_filename(name: &str) -> String {
    name.rsplit(['/', '\\'])
        .map(|segment| {
            segment
                .chars()
                .filter(|&c| !c.is_control() && !is_bidi_control(c))
                .collect::<String>()
                .trim()
                .to_owned()
        })
        .find(|segment| !segment.chars().all(|c| c == '.'))
        .map(|segment| cut_filename(&segment))
        .unwrap_or_default()
}

/// Bidirectional overrides can disguise `evil\u{202E}fdp.exe` as `evilexe.pdf`.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Cuts a long name but keeps its extension.
fn cut_filename(name: &str) -> String {
    if name.chars().count() <= FILENAME_MAX {
        return name.to_owned();
    }
    match name.rsplit_once('.') {
        Some((stem, extension)) if !stem.is_empty() && extension.chars().count() <= 16 => {
            let stem = cut(stem, FILENAME_MAX - extension.chars().count() - 1);
            format!("{stem}.{extension}")
        }
        _ => cut(name, FILENAME_MAX).to_owned(),
    }
}

fn automated(message: &Message<'_>, from: &Mailbox, loop_marker: &str) -> Option<Automated> {
    let marker = loop_marker.trim().to_lowercase();
    if !marker.is_empty()
        && raw_values(message, "X-Loop")
            .iter()
            .any(|value| value.to_lowercase().contains(&marker))
    {
        return Some(Automated::Loop);
    }

    let report = message.content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case("multipart")
            && ct
                .subtype()
                .is_some_and(|s| s.eq_ignore_ascii_case("report"))
    });
    let local = from.address.rsplit_once('@').map_or("", |(local, _)| local);
    let null_return_path = raw_values(message, "Return-Path").iter().any(|value| {
        value
            .chars()
            .filter(|c| !c.is_whitespace())
            .eq("<>".chars())
    });
    if report || local == "mailer-daemon" || local == "postmaster" || null_return_path {
        return Some(Automated::Bounce);
    }

    let precedence: Vec<String> = raw_values(message, "Precedence")
        .iter()
        .map(|value| first_token(value))
        .collect();
    if raw_values(message, "Auto-Submitted")
        .iter()
        .any(|value| first_token(value) != "no")
        || !raw_values(message, "X-Autoreply").is_empty()
        || !raw_values(message, "X-Autorespond").is_empty()
        || precedence.iter().any(|p| p == "auto_reply")
    {
        return Some(Automated::AutoReply);
    }

    if precedence
        .iter()
        .any(|p| matches!(p.as_str(), "bulk" | "junk" | "list"))
        || !raw_values(message, "List-Id").is_empty()
    {
        return Some(Automated::Bulk);
    }
    None
}

/// The raw text of every occurrence of a top-level header. mail-parser's own reading
/// loses what matters here: `Return-Path: <>` comes back the same as an empty one.
fn raw_values(message: &Message<'_>, name: &'static str) -> Vec<String> {
    message
        .header_as(name, HeaderForm::Raw)
        .into_iter()
        .filter_map(|value| match value {
            HeaderValue::Text(text) => Some(text.into_owned()),
            _ => None,
        })
        .collect()
}

/// `auto-replied; owner=x` → `auto-replied`.
fn first_token(value: &str) -> String {
    value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// HTML as plain text: tags dropped, one line per block, `<head>`, `<style>` and
/// `<script>` skipped, entities decoded, and `<blockquote>` written as `> ` lines so that
/// [`reply_text`] cuts it like a quoted plain-text reply.
fn html_to_text(html: &str) -> String {
    // Same byte offsets as `html`: ASCII lowercasing keeps lengths.
    let lower = html.to_ascii_lowercase();
    let mut out = HtmlText::default();
    let mut pos = 0;
    while let Some(rest) = html.get(pos..) {
        let Some(c) = rest.chars().next() else { break };
        if rest.starts_with("<!--") {
            pos = lower
                .get(pos + 4..)
                .and_then(|r| r.find("-->"))
                .map_or(html.len(), |i| pos + 4 + i + 3);
        } else if c == '<'
            && rest[1..]
                .starts_with(|n: char| n.is_ascii_alphabetic() || matches!(n, '/' | '!' | '?'))
        {
            let end = tag_end(rest).map_or(html.len(), |i| pos + i + 1);
            let tag = lower
                .get(pos + 1..end.saturating_sub(1))
                .unwrap_or_default();
            pos = end;
            let closing = tag.starts_with('/');
            let name: String = tag
                .trim_start_matches('/')
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            if !closing
                && matches!(
                    name.as_str(),
                    "head" | "style" | "script" | "title" | "template"
                )
            {
                let close = format!("</{name}");
                pos = lower
                    .get(pos..)
                    .and_then(|r| r.find(&close))
                    .and_then(|i| lower.get(pos + i..)?.find('>').map(|j| pos + i + j + 1))
                    .unwrap_or(html.len());
            } else {
                out.tag(&name, closing);
            }
        } else if c == '&' {
            let (decoded, len) = entity(rest).unwrap_or(("&".into(), 1));
            decoded.chars().for_each(|d| out.char(d));
            pos += len;
        } else {
            out.char(c);
            pos += c.len_utf8();
        }
    }
    out.finish()
}

/// Byte offset of the `>` closing the tag `rest` starts with, quoted attributes skipped.
fn tag_end(rest: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in rest.char_indices().skip(1) {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '>') => return Some(i),
            (None, _) => {}
        }
    }
    None
}

/// `&amp;`, `&#233;`, `&#xE9;` and the named entities mail in French and English uses:
/// the text and its length in bytes.
fn entity(rest: &str) -> Option<(String, usize)> {
    let body = rest.get(1..)?;
    let end = body.get(..body.len().min(12))?.find(';')?;
    let name = &body[..end];
    let c = if let Some(number) = name.strip_prefix('#') {
        let code = match number.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => number.parse().ok()?,
        };
        char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER)
    } else {
        match name {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" | "rsquo" | "lsquo" => '\'',
            "ldquo" | "rdquo" => '"',
            "nbsp" => '\u{A0}',
            "shy" | "zwnj" | "zwj" => return Some((String::new(), end + 2)),
            "laquo" => '«',
            "raquo" => '»',
            "hellip" => '…',
            "ndash" => '–',
            "mdash" => '—',
            "bull" => '•',
            "middot" => '·',
            "euro" => '€',
            "copy" => '©',
            "reg" => '®',
            "deg" => '°',
            "agrave" => 'à',
            "acirc" => 'â',
            "ccedil" => 'ç',
            "eacute" => 'é',
            "egrave" => 'è',
            "ecirc" => 'ê',
            "euml" => 'ë',
            "icirc" => 'î',
            "iuml" => 'ï',
            "ocirc" => 'ô',
            "ugrave" => 'ù',
            "ucirc" => 'û',
            "uuml" => 'ü',
            "oelig" => 'œ',
            "Agrave" => 'À',
            "Eacute" => 'É',
            "Egrave" => 'È',
            "Ecirc" => 'Ê',
            "Ccedil" => 'Ç',
            "OElig" => 'Œ',
            _ => return None,
        }
    };
    Some((c.to_string(), end + 2))
}

#[derive(Default)]
struct HtmlText {
    out: String,
    quote_depth: usize,
    pre_depth: usize,
    space_pending: bool,
}

impl HtmlText {
    fn at_line_start(&self) -> bool {
        self.out.is_empty() || self.out.ends_with('\n')
    }

    fn newline(&mut self) {
        self.out.push('\n');
        self.space_pending = false;
    }

    fn end_line(&mut self) {
        if !self.at_line_start() {
            self.newline();
        }
    }

    fn char(&mut self, c: char) {
        if self.pre_depth > 0 && c == '\n' {
            self.newline();
            return;
        }
        if c.is_whitespace() && c != '\u{A0}' && self.pre_depth == 0 {
            self.space_pending = !self.at_line_start();
            return;
        }
        if self.at_line_start() && self.quote_depth > 0 {
            self.out.push_str(&">".repeat(self.quote_depth));
            self.out.push(' ');
        } else if self.space_pending {
            self.out.push(' ');
        }
        self.space_pending = false;
        self.out.push(if c == '\u{A0}' { ' ' } else { c });
    }

    fn tag(&mut self, name: &str, closing: bool) {
        match name {
            "br" => self.newline(),
            "blockquote" => {
                self.end_line();
                self.quote_depth = if closing {
                    self.quote_depth.saturating_sub(1)
                } else {
                    self.quote_depth + 1
                };
            }
            "pre" => {
                self.end_line();
                self.pre_depth = if closing {
                    self.pre_depth.saturating_sub(1)
                } else {
                    self.pre_depth + 1
                };
            }
            "li" if !closing => {
                self.end_line();
                self.char('-');
                self.space_pending = true;
            }
            "td" | "th" if !closing => self.space_pending = !self.at_line_start(),
            "p" | "div" | "li" | "ul" | "ol" | "dl" | "dt" | "dd" | "tr" | "table" | "hr"
            | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "section" | "article" | "header"
            | "footer" | "address" | "center" | "form" => self.end_line(),
            _ => {}
        }
    }

    /// Trailing spaces dropped, at most one blank line in a row.
    fn finish(self) -> String {
        let mut text = String::with_capacity(self.out.len());
        let mut blank_run = 0;
        for line in self.out.lines().map(str::trim_end) {
            blank_run = if line.is_empty() { blank_run + 1 } else { 0 };
            if blank_run < 2 {
                text.push_str(line);
                text.push('\n');
            }
        }
        text.trim().to_owned()
    }
}

/// The ticket a reply belongs to: a ticket number in the subject (`Re: [INC-000123] …`),
/// else Triage's thread id `ticket.{NUMBER}@{host}` in In-Reply-To, then References.
pub fn ticket_number(inbound: &Inbound, host: &str) -> Option<String> {
    subject_number(&inbound.subject)
        .or_else(|| thread_number(inbound, host))
        .map(|(kind, sequence)| format_number(kind, sequence))
}

fn subject_number(subject: &str) -> Option<(TicketKind, i64)> {
    subject
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter(|token| {
            token.split_once('-').is_some_and(|(letters, digits)| {
                !letters.is_empty()
                    && letters.bytes().all(|b| b.is_ascii_alphabetic())
                    && !digits.is_empty()
                    && digits.bytes().all(|b| b.is_ascii_digit())
            })
        })
        .find_map(parse_number)
}

fn thread_number(inbound: &Inbound, host: &str) -> Option<(TicketKind, i64)> {
    const PREFIX: &str = "ticket.";
    let host = host.trim();
    if host.is_empty() {
        return None;
    }
    inbound
        .in_reply_to
        .iter()
        .chain(&inbound.references)
        .find_map(|id| {
            let (left, domain) = id.rsplit_once('@')?;
            if !domain.eq_ignore_ascii_case(host)
                || !left.get(..PREFIX.len())?.eq_ignore_ascii_case(PREFIX)
            {
                return None;
            }
            parse_number(left.get(PREFIX.len()..)?)
        })
}

/// The new part of a reply: the text above the quoted history, trailing blank lines
/// dropped. When nothing would be left, the whole text, trimmed.
pub fn reply_text(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let cut = (0..lines.len())
        .find(|&i| starts_history(&lines[i..]))
        .unwrap_or(lines.len());
    let reply = lines[..cut].join("\n");
    let reply = reply.trim_end();
    if reply.trim_start().is_empty() {
        text.trim().to_owned()
    } else {
        reply.to_owned()
    }
}

/// Whether `lines` starts with quoted history: a `>` line, an "Original Message"
/// separator, an "On … wrote:" / "Le … a écrit :" attribution (possibly over two lines),
/// or an Outlook header block (`From:` then `Sent:`, `De :` then `Envoyé :`), possibly
/// under a line of underscores.
fn starts_history(lines: &[&str]) -> bool {
    let folded = |i: usize| lines.get(i).map(|line| fold(line)).unwrap_or_default();
    let (line, next) = (folded(0), folded(1));
    if line.starts_with('>') || is_separator(&line) || is_header_block(&line, &next) {
        return true;
    }
    if line.len() >= 8 && line.bytes().all(|b| b == b'_') {
        return is_header_block(&next, &folded(2));
    }
    is_attribution(&line, &next)
}

/// Lowercase, whitespace (no-break spaces too) collapsed, trimmed.
fn fold(line: &str) -> String {
    one_line(line).to_lowercase()
}

fn is_separator(line: &str) -> bool {
    line.starts_with("---")
        && matches!(
            line.trim_matches('-').trim(),
            "original message" | "message d'origine" | "message d’origine" | "message original"
        )
}

fn is_attribution(line: &str, next: &str) -> bool {
    let ends = |l: &str| l.ends_with("wrote:") || l.ends_with("écrit :") || l.ends_with("écrit:");
    let starts = line.starts_with("on ") || line.starts_with("le ");
    // A date is in every attribution; it keeps "On Monday we can talk." from matching.
    let dated = |l: &str| l.bytes().any(|b| b.is_ascii_digit());
    starts
        && (ends(line) && dated(line) || !ends(line) && ends(next) && (dated(line) || dated(next)))
}

fn is_header_block(line: &str, next: &str) -> bool {
    let field = |l: &str, names: &[&str]| {
        names.iter().any(|name| {
            l.strip_prefix(name)
                .is_some_and(|rest| rest.trim_start().starts_with(':'))
        })
    };
    field(line, &["from", "de"]) && field(next, &["sent", "envoyé"])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MARKER: &str = "triage@desk.example";

    fn parsed(raw: &str) -> Inbound {
        parse(raw.as_bytes(), MARKER).expect("parses")
    }

    /// A message from a@b.example with these extra headers and a one-line body.
    fn with_headers(headers: &str) -> Inbound {
        parsed(&format!(
            "From: a@b.example\r\n{headers}Subject: x\r\n\r\nbody\r\n"
        ))
    }

    fn with_subject_and_references(subject: &str, references: &str) -> Inbound {
        parsed(&format!(
            "From: a@b.example\r\nSubject: {subject}\r\nReferences: {references}\r\n\r\nx\r\n"
        ))
    }

    #[test]
    fn plain_utf8_message() {
        let m = parsed(
            "From: \"Help  Desk\" <HelpDesk@HHS.Example >\r\n\
             Subject:  Viewer\r\n  down ☹\r\n\
             Message-ID: <abc@x.example>\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\
             \r\n\
             It is down — again.\r\n\r\nMarie\r\n\r\n",
        );
        assert_eq!(
            m.from,
            Mailbox {
                address: "helpdesk@hhs.example".into(),
                name: Some("Help Desk".into())
            }
        );
        assert_eq!(m.subject, "Viewer down ☹");
        assert_eq!(m.message_id.as_deref(), Some("abc@x.example"));
        assert_eq!(m.text, "It is down — again.\n\nMarie");
        assert!(m.in_reply_to.is_empty() && m.references.is_empty());
        assert!(m.attachments.is_empty());
        assert_eq!(m.automated, None);
    }

    #[test]
    fn french_latin1_quoted_printable_message() {
        let m = parsed(
            "From: =?ISO-8859-1?Q?Ren=E9e?= <renee@hopital.example>\r\n\
             Subject: =?ISO-8859-1?Q?=C9v=E9nement?=\r\n\
             Content-Type: text/plain; charset=ISO-8859-1\r\n\
             Content-Transfer-Encoding: quoted-printable\r\n\
             \r\n\
             L'=E9cran reste noir depuis ce matin, d=E9sol=E9e.\r\n",
        );
        assert_eq!(m.subject, "Événement");
        assert_eq!(m.from.name.as_deref(), Some("Renée"));
        assert_eq!(m.text, "L'écran reste noir depuis ce matin, désolée.");
    }

    #[test]
    fn windows_1252_base64_body_is_decoded() {
        // "Coût : 5 €" in windows-1252.
        let m = parsed(
            "From: a@b.example\r\nContent-Type: text/plain; charset=windows-1252\r\n\
             Content-Transfer-Encoding: base64\r\n\r\nQ2/7dCA6IDUggA==\r\n",
        );
        assert_eq!(m.text, "Coût : 5 €");
    }

    #[test]
    fn bad_bytes_become_replacement_characters() {
        let m = parse(
            b"From: a@b.example\r\nSubject: caf\xe9\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nna\xefve \x00end\r\n",
            MARKER,
        )
        .expect("parses");
        assert_eq!(m.subject, "caf\u{FFFD}");
        assert_eq!(m.text, "na\u{FFFD}ve end");
    }

    #[test]
    fn alternative_prefers_the_plain_text_part() {
        let m = parsed(
            "From: a@b.example\r\nContent-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n\
             --alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPlain words\r\n\
             --alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Html words</p>\r\n\
             --alt--\r\n",
        );
        assert_eq!(m.text, "Plain words");
        assert!(m.attachments.is_empty());
    }

    #[test]
    fn html_only_message_becomes_text() {
        let m = parsed(
            "From: a@b.example\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
             <html><head><title>T</title><style>p { color: red; }</style></head>\r\n\
             <body><!-- hidden --><p>Bonjour,</p><p>L&#39;&eacute;cran est <b>noir</b> &amp; fig&eacute;.<br>Merci</p>\r\n\
             <script>alert('x')</script><ul><li>un</li><li>deux</li></ul></body></html>\r\n",
        );
        assert_eq!(
            m.text,
            "Bonjour,\nL'écran est noir & figé.\nMerci\n- un\n- deux"
        );
    }

    #[test]
    fn html_blockquote_becomes_quoted_lines_that_reply_text_cuts() {
        let m = parsed(
            "From: a@b.example\r\nContent-Type: text/html\r\n\r\n\
             <div>Fixed, thanks.</div><div class=\"gmail_quote\">\
             <blockquote><div>Old message</div><div>second line</div></blockquote></div>\r\n",
        );
        assert_eq!(m.text, "Fixed, thanks.\n> Old message\n> second line");
        assert_eq!(reply_text(&m.text), "Fixed, thanks.");
    }

    #[test]
    fn attachment_keeps_name_type_and_bytes() {
        let m = parsed(
            "From: a@b.example\r\nContent-Type: multipart/mixed; boundary=\"mix\"\r\n\r\n\
             --mix\r\nContent-Type: text/plain\r\n\r\nSee the screenshot.\r\n\
             --mix\r\nContent-Type: IMAGE/PNG; name=\"ignored.png\"\r\n\
             Content-Disposition: attachment; filename=\"shot.png\"\r\n\
             Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n\
             --mix\r\nContent-Type: application/pdf; name=\"=?UTF-8?Q?r=C3=A9sum=C3=A9.pdf?=\"\r\n\
             Content-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n\
             --mix\r\nContent-Type: application/octet-stream\r\n\
             Content-Disposition: attachment\r\n\r\nraw\r\n\
             --mix--\r\n",
        );
        assert_eq!(m.text, "See the screenshot.");
        let found: Vec<(&str, &str, &[u8])> = m
            .attachments
            .iter()
            .map(|a| {
                (
                    a.filename.as_str(),
                    a.content_type.as_str(),
                    a.bytes.as_slice(),
                )
            })
            .collect();
        assert_eq!(
            found,
            [
                ("shot.png", "image/png", &b"\x89PNG\r\n\x1a\n"[..]),
                ("résumé.pdf", "application/pdf", b"%PDF-"),
                ("attachment-3", "application/octet-stream", b"raw"),
            ]
        );
    }

    #[test]
    fn attachment_names_are_sanitised() {
        let named = |name: &str| {
            let m = parsed(&format!(
                "From: a@b.example\r\nContent-Type: multipart/mixed; boundary=\"mix\"\r\n\r\n\
                 --mix\r\nContent-Type: text/plain\r\n\r\nbody\r\n\
                 --mix\r\nContent-Type: application/octet-stream\r\n\
                 Content-Disposition: attachment; filename=\"{name}\"\r\n\r\nx\r\n--mix--\r\n"
            ));
            m.attachments[0].filename.clone()
        };
        assert_eq!(named("../../etc/passwd"), "passwd");
        assert_eq!(named("C:\\\\Users\\\\me\\\\report.docx"), "report.docx");
        assert_eq!(named("tab\there.txt"), "tabhere.txt");
        assert_eq!(named("evil\u{202E}fdp.exe"), "evilfdp.exe");
        assert_eq!(named("dir/.."), "dir");
        assert_eq!(named("../.."), "attachment-1");
        let long = named(&format!("{}.pdf", "a".repeat(300)));
        assert_eq!(long.chars().count(), FILENAME_MAX);
        assert!(long.ends_with("a.pdf"));
        let long = named(&"é".repeat(300));
        assert_eq!(long, "é".repeat(FILENAME_MAX));
    }

    #[test]
    fn message_ids_lose_their_angle_brackets() {
        let m = parsed(
            "From: a@b.example\r\nMessage-ID:  < id-1@x.example >\r\n\
             In-Reply-To: <p1@x.example> <p2@x.example>\r\n\
             References: <r1@x.example>\r\n <r2@x.example>\r\nReferences: bare@x.example other@x.example\r\n\r\nx\r\n",
        );
        assert_eq!(m.message_id.as_deref(), Some("id-1@x.example"));
        assert_eq!(m.in_reply_to, ["p1@x.example", "p2@x.example"]);
        assert_eq!(
            m.references,
            [
                "r1@x.example",
                "r2@x.example",
                "bare@x.example",
                "other@x.example"
            ]
        );
        assert_eq!(
            parsed("From: a@b.example\r\nMessage-ID: <>\r\n\r\nx").message_id,
            None
        );
    }

    #[test]
    fn subject_is_collapsed_and_cut() {
        let long = parsed(&format!(
            "From: a@b.example\r\nSubject: {}\r\n\r\nx",
            "mot ".repeat(100)
        ));
        assert_eq!(long.subject.chars().count(), 199);
        assert!(!long.subject.ends_with(' '));
        let long = parsed(&format!(
            "From: a@b.example\r\nSubject: {}\r\n\r\nx",
            "é".repeat(300)
        ));
        assert_eq!(long.subject, "é".repeat(SUBJECT_MAX));
        assert_eq!(parsed("From: a@b.example\r\n\r\nx").subject, "");
    }

    #[test]
    fn no_sender() {
        for raw in [
            "Subject: x\r\n\r\nbody",
            "From: Bob\r\n\r\nbody",
            "From: undisclosed-recipients:;\r\n\r\nbody",
            "From: <@example>\r\n\r\nbody",
            "From: <bob@>\r\n\r\nbody",
        ] {
            assert_eq!(
                parse(raw.as_bytes(), MARKER),
                Err(InboundError::NoSender),
                "{raw}"
            );
        }
        assert_eq!(InboundError::NoSender.code(), "no_sender");
    }

    #[test]
    fn empty_and_junk_are_malformed() {
        for raw in [
            &b""[..],
            b"\r\n\r\nonly a body",
            b"hello world, this is not mail",
            b"\x00\x01\x02\xff\xfe",
        ] {
            assert_eq!(parse(raw, MARKER), Err(InboundError::Malformed), "{raw:?}");
        }
        assert_eq!(InboundError::Malformed.code(), "malformed_message");
    }

    #[test]
    fn auto_submitted_auto_replied_is_an_auto_reply() {
        let m = with_headers("Auto-Submitted: Auto-Replied; owner=\"x\"\r\n");
        assert_eq!(m.automated, Some(Automated::AutoReply));
        assert_eq!(Automated::AutoReply.as_str(), "auto_reply");
        for header in [
            "X-Autoreply: yes\r\n",
            "X-Autorespond: 1\r\n",
            "Precedence: auto_reply\r\n",
        ] {
            assert_eq!(
                with_headers(header).automated,
                Some(Automated::AutoReply),
                "{header}"
            );
        }
    }

    #[test]
    fn auto_submitted_no_is_not_automated() {
        assert_eq!(with_headers("Auto-Submitted: No\r\n").automated, None);
        assert_eq!(with_headers("").automated, None);
    }

    #[test]
    fn precedence_bulk_is_bulk() {
        for value in ["bulk", "Junk", "list"] {
            let m = with_headers(&format!("Precedence: {value}\r\n"));
            assert_eq!(m.automated, Some(Automated::Bulk), "{value}");
        }
        assert_eq!(Automated::Bulk.as_str(), "bulk");
    }

    #[test]
    fn list_id_is_bulk() {
        let m = with_headers("List-Id: Nouvelles <news.b.example>\r\n");
        assert_eq!(m.automated, Some(Automated::Bulk));
    }

    #[test]
    fn delivery_status_report_is_a_bounce() {
        let m = parsed(
            "From: MAILER-DAEMON@mx.example (Mail Delivery System)\r\n\
             Subject: Undelivered Mail Returned to Sender\r\n\
             Auto-Submitted: auto-replied\r\n\
             Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n\
             --b\r\nContent-Type: text/plain\r\n\r\nI could not deliver it.\r\n\
             --b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example\r\n\r\nAction: failed\r\n\
             --b--\r\n",
        );
        assert_eq!(m.automated, Some(Automated::Bounce));
        assert_eq!(m.text, "I could not deliver it.");
        assert_eq!(Automated::Bounce.as_str(), "bounce");
        let postmaster = parsed("From: Postmaster@b.example\r\n\r\nx");
        assert_eq!(postmaster.automated, Some(Automated::Bounce));
        assert_eq!(
            with_headers("Return-Path: <>\r\n").automated,
            Some(Automated::Bounce)
        );
        assert_eq!(
            with_headers("Return-Path: <a@b.example>\r\n").automated,
            None
        );
    }

    #[test]
    fn x_loop_with_our_marker_is_a_loop() {
        let m = with_headers(
            "X-Loop: other@list.example\r\nX-Loop: Triage@Desk.Example\r\nPrecedence: bulk\r\n",
        );
        assert_eq!(m.automated, Some(Automated::Loop));
        assert_eq!(Automated::Loop.as_str(), "loop");
        assert_eq!(
            with_headers("X-Loop: other@list.example\r\n").automated,
            None
        );
        let unmarked = parse(b"From: a@b.example\r\nX-Loop: x\r\n\r\nx", " ").expect("parses");
        assert_eq!(unmarked.automated, None);
    }

    #[test]
    fn ticket_number_in_the_subject() {
        let number = |subject: &str| {
            ticket_number(
                &with_subject_and_references(subject, "<x@y.example>"),
                "desk.example",
            )
        };
        assert_eq!(
            number("Re: [INC-000123] Viewer down").as_deref(),
            Some("INC-000123")
        );
        assert_eq!(
            number("RE: TR: sr-42 request").as_deref(),
            Some("SR-000042")
        );
        assert_eq!(
            number("Fwd: (chg-7): window").as_deref(),
            Some("CHG-000007")
        );
        assert_eq!(number("XYZ-1 then PRB-2").as_deref(), Some("PRB-000002"));
        assert_eq!(number("Budget 2024-2025"), None);
        assert_eq!(number("INC-0 and INC-12-3"), None);
    }

    #[test]
    fn ticket_number_from_the_thread_id() {
        let m = with_subject_and_references(
            "Re: your request",
            "<x@y.example> <ticket.PRB-000007@desk.example>",
        );
        assert_eq!(
            ticket_number(&m, "desk.example").as_deref(),
            Some("PRB-000007")
        );
        assert_eq!(
            ticket_number(&m, "DESK.Example").as_deref(),
            Some("PRB-000007")
        );
        assert_eq!(ticket_number(&m, "other.example"), None);
        assert_eq!(ticket_number(&m, ""), None);
        let mut m = m;
        m.in_reply_to = vec!["ticket.inc-5@desk.example".into()];
        assert_eq!(
            ticket_number(&m, "desk.example").as_deref(),
            Some("INC-000005")
        );
    }

    #[test]
    fn reply_text_cuts_an_english_attribution() {
        assert_eq!(
            reply_text(
                "Fixed now.\n\nOn Mon, 1 Dec 2026 at 10:00, Desk <desk@x> wrote:\n> old\n> text"
            ),
            "Fixed now."
        );
        assert_eq!(
            reply_text(
                "Thanks\n\nOn Mon, 1 Dec 2026 at 10:00, Service Desk <\ndesk@x> wrote:\n\n> old"
            ),
            "Thanks"
        );
        let talk = "On Monday we can talk.\nYou wrote:";
        assert_eq!(reply_text(talk), talk);
    }

    #[test]
    fn reply_text_cuts_a_french_attribution() {
        assert_eq!(
            reply_text("Réglé.\n\nLe lun. 1 déc. 2026 à 10:00, Desk <desk@x> a écrit :\n> ancien"),
            "Réglé."
        );
        assert_eq!(
            reply_text(
                "Merci !\nLe lun. 1 déc. 2026 à 10:00, Service Desk\n<desk@x> a\u{A0}écrit\u{A0}:\n> ancien"
            ),
            "Merci !"
        );
    }

    #[test]
    fn reply_text_cuts_an_outlook_header_block() {
        assert_eq!(
            reply_text(
                "Ok, done.\r\n\r\nFrom: Desk <desk@x>\r\nSent: Monday, December 1, 2026 10:00\r\nTo: me\r\nSubject: x\r\n\r\nold"
            ),
            "Ok, done."
        );
        assert_eq!(
            reply_text(
                "Merci\n\nDe : Desk <desk@x>\nEnvoyé : lundi 1 décembre 2026 10:00\nÀ : moi\n\nancien"
            ),
            "Merci"
        );
        assert_eq!(
            reply_text(
                "Merci\n________________________________\nDe\u{A0}: Desk\nEnvoyé\u{A0}: lundi\n\nancien"
            ),
            "Merci"
        );
        let not_a_block = "From: the ward\nthey call about the viewer";
        assert_eq!(reply_text(not_a_block), not_a_block);
    }

    #[test]
    fn reply_text_cuts_quotes_and_separators() {
        assert_eq!(reply_text("Yes\n> quoted\n> more"), "Yes");
        assert_eq!(
            reply_text("Yes\n\n-----Original Message-----\nFrom: x"),
            "Yes"
        );
        assert_eq!(
            reply_text("Oui\n----- Message d'origine -----\nDe: x"),
            "Oui"
        );
        assert_eq!(
            reply_text("Oui\n-------- Message original --------\nSujet : x"),
            "Oui"
        );
    }

    #[test]
    fn reply_text_without_quote_is_unchanged() {
        let text = "No quote here.\n\nTwo paragraphs, on 2 lines.";
        assert_eq!(reply_text(text), text);
        assert_eq!(reply_text("\n> only a quote\n"), "> only a quote");
        assert_eq!(reply_text(""), "");
    }

    /// Pieces of MIME structure, so that random messages reach the multipart, encoding,
    /// nested-message and HTML paths.
    const FRAGMENTS: &[&str] = &[
        "\r\n",
        "\n",
        "--b\r\n",
        "--b--\r\n",
        "--c\r\n",
        "Content-Type: multipart/mixed; boundary=b\r\n",
        "Content-Type: multipart/alternative; boundary=c\r\n",
        "Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n",
        "Content-Type: text/html; charset=iso-8859-1\r\n",
        "Content-Type: text/plain; charset=utf-8\r\n",
        "Content-Type: message/rfc822\r\n",
        "Content-Type: image/png; name=\"../a.png\"\r\n",
        "Content-Disposition: attachment; filename*=UTF-8''%C3%A9%2F.txt\r\n",
        "Content-Transfer-Encoding: base64\r\n",
        "Content-Transfer-Encoding: quoted-printable\r\n",
        "From: a@b.example\r\n",
        "Subject: =?utf-8?B?w6k=?= =?iso-8859-1?Q?=E9?=\r\n",
        "References: <ticket.INC-1@d> x\r\n",
        "<p>",
        "<blockquote>",
        "</blockquote>",
        "<script>",
        "<!--",
        "&eacute;&#x1F600;&#99999999;&",
        "aGVsbG8=",
        "=C3=A9=\r\n",
        "\u{e9}\u{FFFD}",
        " ",
        "x",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
            let _ = parse(&bytes, MARKER);
        }

        #[test]
        fn any_body_after_a_valid_header_block_parses(
            bytes in proptest::collection::vec(any::<u8>(), 0..4096)
        ) {
            let mut raw = b"From: a@b.example\r\nSubject: x\r\n\r\n".to_vec();
            raw.extend(bytes);
            prop_assert!(parse(&raw, MARKER).is_ok());
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        #[test]
        fn mime_shaped_messages_never_panic(
            pieces in proptest::collection::vec(proptest::sample::select(FRAGMENTS), 0..80)
        ) {
            let raw = format!("From: a@b.example\r\n{}", pieces.concat());
            let _ = parse(raw.as_bytes(), MARKER);
        }

        #[test]
        fn html_to_text_never_panics(html in "[<>&#;/!?a-z0-9 \"'=\\-\u{e9}\n]{0,300}") {
            let _ = html_to_text(&html);
        }

        #[test]
        fn reply_text_never_panics_and_keeps_something(text in any::<String>()) {
            let reply = reply_text(&text);
            prop_assert!(!reply.is_empty() || text.trim().is_empty());
        }

        #[test]
        fn ticket_number_never_panics(
            subject in any::<String>(),
            id in "[a-zA-Z0-9.@<> \\-]{0,40}",
            host in any::<String>(),
        ) {
            let m = Inbound {
                from: Mailbox { address: "a@b.example".into(), name: None },
                subject: subject.clone(),
                message_id: None,
                in_reply_to: vec![subject],
                references: vec![id],
                text: String::new(),
                attachments: Vec::new(),
                automated: None,
            };
            let _ = ticket_number(&m, &host);
            let _ = ticket_number(&m, "d");
        }
    }
}

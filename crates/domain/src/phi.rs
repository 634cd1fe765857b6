//! The "no patient health information" guard: tickets must never hold PHI/PI.
//!
//! Before a summary, details, comment or text attachment is saved, the server calls [`scan`]
//! and refuses the save when it finds something, pointing at the match (byte offsets and a
//! masked [`PhiMatch::excerpt`]). Agents can remove stored text with [`redact`].
//!
//! This is a hand-written, single-pass scanner (no regular expressions, no allocation per
//! character): scanning 10 KB takes microseconds. It looks for three things, each described
//! on its own function below:
//!
//! * **Ontario health card numbers** — 10 digits that pass the Luhn check, written
//!   contiguously or grouped 4-3-3, optionally with a 2-letter version code
//!   (see [`health_card_at`]).
//! * **Dates of birth** — a full date with a birth cue just before it ("DOB", "né le"…) or
//!   right after it, or a date right next to a personal name (see [`is_date_of_birth`]).
//! * **Medical record numbers** — an identifier right after an MRN cue ("MRN", "chart #",
//!   "numéro de dossier"…) (see [`medical_record_number_after`]).
//!
//! The rules prefer precision: a ticket about a feed that stopped on 2026-11-02, a phone
//! number or a 10-digit reference that fails the check digit must go through, because a guard
//! that cries wolf gets worked around. What it deliberately does not catch (names alone,
//! addresses, other provinces' numbers…) is listed in `docs/phi-guard.md`, with the labelled
//! corpus (`crates/domain/tests/phi_corpus.tsv`) and its measured precision and recall.
use serde::Serialize;

/// What kind of likely PHI a match is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PhiKind {
    HealthCard,
    DateOfBirth,
    MedicalRecordNumber,
}

impl PhiKind {
    /// The kind as the API and the locale keys name it.
    pub fn as_str(self) -> &'static str {
        match self {
            PhiKind::HealthCard => "health_card",
            PhiKind::DateOfBirth => "date_of_birth",
            PhiKind::MedicalRecordNumber => "medical_record_number",
        }
    }
}

/// One piece of likely PHI in a text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PhiMatch {
    pub kind: PhiKind,
    /// Byte offset of the first byte of the match in the scanned text (a char boundary).
    pub start: usize,
    /// Byte offset just past the match (a char boundary).
    pub end: usize,
    /// The matched text with every letter and digit but the last two masked as `•`, for
    /// example `•••• ••• •34`. Never the full value, so it is safe to show and to log.
    pub excerpt: String,
}

/// The first likely PHI in `text`, in text order.
pub fn scan(text: &str) -> Option<PhiMatch> {
    scan_all(text).into_iter().next()
}

/// Every likely PHI in `text`, in text order, without overlaps. When two rules match
/// overlapping text (say "MRN 9876543217", both a medical record number and a valid health
/// card number), the one starting first wins, then the health card, then the medical record
/// number.
pub fn scan_all(text: &str) -> Vec<PhiMatch> {
    let mut found = detect(text);
    found.sort_by_key(|&(start, end, kind)| (start, priority(kind), std::cmp::Reverse(end)));
    let mut out = Vec::with_capacity(found.len());
    let mut covered = 0;
    for (start, end, kind) in found {
        if start < covered {
            continue;
        }
        covered = end;
        out.push(PhiMatch {
            kind,
            start,
            end,
            excerpt: mask(&text[start..end]),
        });
    }
    out
}

/// `text` with `[start, end)` replaced by `[redacted]`.
///
/// Never panics: offsets past the end are clamped to the end, a reversed range is swapped
/// (a selection made right to left), a start inside a character moves back to that
/// character's first byte and an end inside one moves forward past it, so the whole
/// character goes. An empty range returns the text unchanged.
pub fn redact(text: &str, start: usize, end: usize) -> String {
    let (start, end) = if start <= end {
        (start, end)
    } else {
        (end, start)
    };
    if start.min(text.len()) == end.min(text.len()) {
        return text.to_owned();
    }
    let start = floor_boundary(text, start);
    let end = ceil_boundary(text, end);
    if start == end {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() - (end - start) + 10);
    out.push_str(&text[..start]);
    out.push_str("[redacted]");
    out.push_str(&text[end..]);
    out
}

/// True when `digits` is exactly 10 ASCII digits whose last digit is the Luhn (mod 10) check
/// digit over the first nine, as on Ontario health cards. Spaces, dashes and the version code
/// must be removed first.
pub fn is_valid_ontario_health_number(digits: &str) -> bool {
    let b = digits.as_bytes();
    b.len() == 10 && b.iter().all(u8::is_ascii_digit) && luhn(b)
}

/// One pass over the text, a word at a time. Every rule starts at the start of an ASCII word
/// (a letter or digit after something that is neither): a digit may start a health card
/// number or a date, a letter a month name or a medical record number cue. The rest of the
/// word is skipped, and non-ASCII characters only move the cursor, so plain prose costs a
/// few instructions a byte.
fn detect(text: &str) -> Vec<(usize, usize, PhiKind)> {
    let b = text.as_bytes();
    let mut found = Vec::with_capacity(8);
    let mut i = 0;
    let mut prev_alnum = false;
    while i < b.len() {
        let c = b[i];
        if !c.is_ascii() {
            let ch = char_at(text, i).unwrap_or(' ');
            prev_alnum = ch.is_alphanumeric();
            i += ch.len_utf8();
            continue;
        }
        if !c.is_ascii_alphanumeric() {
            prev_alnum = false;
            i += 1;
            continue;
        }
        if !prev_alnum {
            if c.is_ascii_digit() {
                if let Some(end) = health_card_at(text, i, digit_run(b, i)) {
                    found.push((i, end, PhiKind::HealthCard));
                }
                if !joined_to_digits_before(b, i)
                    && let Some((s, e)) =
                        numeric_date_at(text, i).or_else(|| day_month_year_at(text, i))
                    && is_date_of_birth(text, s, e)
                {
                    found.push((s, e, PhiKind::DateOfBirth));
                }
            } else if may_start_month_or_cue(c, b.get(i + 1).copied()) {
                let mut buf = [0; 16];
                if let Some((word, _)) = lower_word(text, i, &mut buf) {
                    if month_number(word).is_some()
                        && let Some((s, e)) = month_day_year_at(text, i)
                        && is_date_of_birth(text, s, e)
                    {
                        found.push((s, e, PhiKind::DateOfBirth));
                    }
                    if starts_mrn_cue(word)
                        && let Some((s, e)) = medical_record_number_at(text, i)
                    {
                        found.push((s, e, PhiKind::MedicalRecordNumber));
                    }
                }
            }
        }
        prev_alnum = true;
        i += 1;
        while b.get(i).is_some_and(u8::is_ascii_alphanumeric) {
            i += 1;
        }
    }
    found
}

fn priority(kind: PhiKind) -> u8 {
    match kind {
        PhiKind::HealthCard => 0,
        PhiKind::MedicalRecordNumber => 1,
        PhiKind::DateOfBirth => 2,
    }
}

/// Luhn over ASCII digits: from the right, every second digit is doubled (minus 9 when over 9).
fn luhn(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &c)| {
            let v = u32::from(c - b'0');
            if i % 2 == 1 {
                let d = v * 2;
                if d > 9 { d - 9 } else { d }
            } else {
                v
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Masks every alphanumeric character but the last two; with two or fewer, masks them all.
fn mask(matched: &str) -> String {
    let total = matched.chars().filter(|c| c.is_alphanumeric()).count();
    let keep_from = if total > 2 { total - 2 } else { total };
    let mut seen = 0;
    let mut out = String::with_capacity(matched.len() * 3);
    out.extend(matched.chars().map(|c| {
        if c.is_alphanumeric() {
            seen += 1;
            if seen > keep_from { c } else { '•' }
        } else {
            c
        }
    }));
    out
}

// ---------------------------------------------------------------------------------------
// Health card numbers
// ---------------------------------------------------------------------------------------

/// A health card number starting at `start`, the first byte of a run of `run` digits.
///
/// * Exactly 10 digits, either contiguous (`9876543217`) or grouped 4-3-3 with single spaces
///   or dashes (`9876 543 217`, `9876-543-217`). Any other grouping is not a health card:
///   phone numbers are grouped 3-3-4 (`416-555-1234`, `(416) 555-1234`).
/// * The 10 digits pass the Luhn check ([`is_valid_ontario_health_number`]), so about nine
///   in ten random 10-digit numbers are let through.
/// * Optionally followed by a 2-letter version code: attached (`9876543217AB`), after a dash
///   in either case (`9876543217-ab`), or after a space when upper case (`9876543217 AB`; a
///   lower-case word after a space is ordinary text such as "is"). The code becomes part of
///   the match so that redaction removes it too.
/// * Not part of a longer number: no letter or digit touching either end, no `-`, `.`, `/`
///   or `:` joining it to more digits (`1-9876543217`, `9876543217.5`), and for the grouped
///   form no digits one space away either (`12 9876 543 217`, `9876 543 217 12`). Letters
///   attached other than a 2-letter version code make it an identifier (`9876543217abc`).
/// * Not labelled as something else: a phone, fax, ticket, order, invoice, timestamp or
///   reference label right before it ("Phone: 4165551234", "ticket #9876543217", "ts=…"),
///   or an extension right after it ("6135550199 ext 12"), means it is not a health card.
fn health_card_at(text: &str, start: usize, run: usize) -> Option<usize> {
    let b = text.as_bytes();
    let mut digits = [0u8; 10];
    let (digits_end, grouped) = if run == 10 {
        digits.copy_from_slice(&b[start..start + 10]);
        (start + 10, false)
    } else if run == 4 {
        let s1 = start + 4;
        let s2 = s1 + 4;
        let ok = is_group_sep(b.get(s1))
            && digit_run(b, s1 + 1) == 3
            && is_group_sep(b.get(s2))
            && digit_run(b, s2 + 1) == 3;
        if !ok {
            return None;
        }
        digits[..4].copy_from_slice(&b[start..s1]);
        digits[4..7].copy_from_slice(&b[s1 + 1..s2]);
        digits[7..].copy_from_slice(&b[s2 + 1..s2 + 4]);
        (s2 + 4, true)
    } else {
        return None;
    };

    // Left edge.
    match char_before(text, start) {
        Some(c) if c.is_alphanumeric() => return None,
        Some('-' | '.' | '/' | ':') if byte_before(b, start, 2).is_some_and(is_digit) => {
            return None;
        }
        Some(' ') if grouped && byte_before(b, start, 2).is_some_and(is_digit) => return None,
        _ => {}
    }
    if !luhn(&digits) {
        return None;
    }

    // Version code, then the right edge.
    let mut end = digits_end;
    let at = |i: usize| b.get(i).copied();
    let letter = |i: usize| at(i).is_some_and(|c| c.is_ascii_alphabetic());
    if letter(end) {
        // Attached letters: exactly two, or it is an identifier.
        if !letter(end + 1) || is_alnum_at(text, end + 2) {
            return None;
        }
        end += 2;
    } else if matches!(at(end), Some(b' ' | b'-'))
        && letter(end + 1)
        && letter(end + 2)
        && !is_alnum_at(text, end + 3)
        && (at(end) == Some(b'-')
            || (at(end + 1).is_some_and(|c| c.is_ascii_uppercase())
                && at(end + 2).is_some_and(|c| c.is_ascii_uppercase())))
    {
        end += 3;
    }
    match char_at(text, end) {
        Some(c) if c.is_alphanumeric() => return None,
        Some('-' | '.' | '/' | ':') if at(end + 1).is_some_and(is_digit) => return None,
        Some(' ') if grouped && at(end + 1).is_some_and(is_digit) => return None,
        _ => {}
    }

    if labelled_as_not_health_card(text, start) || followed_by_extension(text, end) {
        return None;
    }
    Some(end)
}

fn is_group_sep(b: Option<&u8>) -> bool {
    matches!(b, Some(b' ' | b'-'))
}

/// Labels that say a number is something other than a health card.
const NOT_HEALTH_CARD_LABELS: &[&str] = &[
    "appeler",
    "billet",
    "build",
    "call",
    "cell",
    "cellulaire",
    "commande",
    "confirmation",
    "demande",
    "epoch",
    "ext",
    "facture",
    "fax",
    "inc",
    "incident",
    "invoice",
    "job",
    "mobile",
    "msg",
    "order",
    "phone",
    "port",
    "poste",
    "ref",
    "reference",
    "req",
    "request",
    "réf",
    "référence",
    "serial",
    "session",
    "suivi",
    "série",
    "tel",
    "telephone",
    "ticket",
    "timestamp",
    "tracking",
    "transaction",
    "ts",
    "tél",
    "télécopieur",
    "téléphone",
];

/// Words between a label and its number: "Phone number: …", "ticket no. …".
const LABEL_FILLERS: &[&str] = &["id", "no", "nr", "num", "number", "numero", "numéro"];

fn labelled_as_not_health_card(text: &str, start: usize) -> bool {
    let mut pos = start;
    for _ in 0..3 {
        // Up to 4 characters of punctuation or spaces between a label and what it labels.
        let mut skipped = 0;
        while let Some(c) = char_before(text, pos) {
            if skipped < 4 && (c == ' ' || matches!(c, ':' | '#' | '=' | '.' | '-' | '(')) {
                pos -= c.len_utf8();
                skipped += 1;
            } else {
                break;
            }
        }
        let word_start = word_start_before(text, pos);
        if word_start == pos {
            return false;
        }
        let word = &text[word_start..pos];
        if in_list_ci(word, NOT_HEALTH_CARD_LABELS) {
            return true;
        }
        if !in_list_ci(word, LABEL_FILLERS) {
            return false;
        }
        pos = word_start;
    }
    false
}

fn followed_by_extension(text: &str, end: usize) -> bool {
    let rest = &text[end..ceil_boundary(text, end + 12)];
    let rest = rest.trim_start_matches([' ', ',']).as_bytes();
    let starts = |w: &[u8]| rest.len() >= w.len() && rest[..w.len()].eq_ignore_ascii_case(w);
    starts(b"ext")
        || starts(b"poste")
        || (starts(b"x") && rest.get(1).copied().is_some_and(is_digit))
}

// ---------------------------------------------------------------------------------------
// Medical record numbers
// ---------------------------------------------------------------------------------------

/// MRN cues, lower case; a space matches any run of white space. The flag says whether the
/// cue needs a number marker ("#", "no", "number"…) before the identifier: "chart 2026"
/// is not a cue, "chart # 123456" is.
const MRN_CUES: &[(&str, bool)] = &[
    ("chart", true),
    ("dossier médical", false),
    ("dossier medical", false),
    ("dossier patient", false),
    ("id du patient", false),
    ("identifiant du patient", false),
    ("identifiant patient", false),
    ("m.r.n", false),
    ("medical record", false),
    ("mrn", false),
    ("n° de dossier", false),
    ("nº de dossier", false),
    ("ndm", false),
    ("no de dossier", false),
    ("no. de dossier", false),
    ("numero de dossier", false),
    ("numéro de dossier", false),
    ("patient id", false),
    ("patient identifier", false),
    ("patient no", false),
    ("patient number", false),
];

/// Words that say "a number follows".
const MRN_MARKERS: &[&str] = &["nbr", "no", "nr", "num", "number", "numero", "numéro"];

/// Words allowed between a cue and its identifier: "MRN for the patient is …".
const MRN_FILLERS: &[&str] = &[
    "de", "du", "est", "for", "is", "la", "le", "of", "patient", "the", "was",
];

/// Ticket-system prefixes: "INC0012345" after "numéro de dossier" is a ticket, not a chart.
const TICKET_PREFIXES: &[&str] = &["chg", "inc", "prb", "req", "ritm", "task", "tkt"];

/// Whether a word starting with these two bytes can be a month name or start an MRN cue: a
/// filter that spares most words any further work.
fn may_start_month_or_cue(first: u8, second: Option<u8>) -> bool {
    let second = second.map_or(0, |c| c.to_ascii_lowercase());
    match first.to_ascii_lowercase() {
        b'a' => matches!(second, b'o' | b'p' | b'u' | b'v'),
        b'c' => second == b'h',
        b'd' => matches!(second, b'e' | b'o' | 0xC3),
        b'f' => matches!(second, b'e' | 0xC3),
        b'i' => second == b'd',
        b'j' => matches!(second, b'a' | b'u'),
        b'm' => matches!(second, b'a' | b'e' | b'r' | b'.'),
        b'n' => matches!(second, b'd' | b'o' | b'u' | 0xC2),
        b'o' => second == b'c',
        b'p' => second == b'a',
        b's' => second == b'e',
        _ => false,
    }
}

/// Whether a lower-case word can start one of [`MRN_CUES`]: a cheap filter before
/// [`medical_record_number_at`].
fn starts_mrn_cue(word: &str) -> bool {
    matches!(
        word,
        "chart"
            | "dossier"
            | "id"
            | "identifiant"
            | "m"
            | "medical"
            | "mrn"
            | "n"
            | "nº"
            | "ndm"
            | "no"
            | "numero"
            | "numéro"
            | "patient"
    )
}

/// A medical record number whose cue starts at `i`.
fn medical_record_number_at(text: &str, i: usize) -> Option<(usize, usize)> {
    MRN_CUES.iter().find_map(|&(cue, needs_marker)| {
        let cue_end = cue_at(text, i, cue)?;
        medical_record_number_after(text, cue_end, needs_marker)
    })
}

/// The identifier after an MRN cue that ends at `cue_end`.
///
/// * Between the cue and the identifier (at most 32 bytes): spaces and `: = - . ( ) #`,
///   number markers ("no", "n°", "number", "numéro"…) and a few filler words ("is", "of the
///   patient", "est", "du"…). Anything else ("MRN lookup is down") means no identifier.
/// * The identifier: ASCII letters and digits, possibly with inner dashes (`H-0012345`), 5
///   to 12 letters and digits in all, at least 4 of them digits, not touching another letter
///   or digit. The match is the identifier only, so redaction keeps the label.
/// * Not a ticket reference (`INC-000123`, `HHS-2026-0042`, `INC0012345`: letters then a
///   dash, or a ticket-system prefix) and not a date (`2026-11-02`).
fn medical_record_number_after(
    text: &str,
    cue_end: usize,
    needs_marker: bool,
) -> Option<(usize, usize)> {
    let b = text.as_bytes();
    let mut p = cue_end;
    let mut marker = false;
    loop {
        if p > cue_end + 32 {
            return None;
        }
        let c = char_at(text, p)?;
        if c.is_whitespace() || matches!(c, ':' | '=' | '-' | '.' | '(' | ')' | '–') {
            p += c.len_utf8();
            continue;
        }
        if c == '#' {
            marker = true;
            p += 1;
            continue;
        }
        if c.is_alphabetic() {
            let w_end = letters_end(text, p);
            let word = &text[p..w_end];
            let next = char_at(text, w_end);
            if word.eq_ignore_ascii_case("n") && matches!(next, Some('°' | 'º')) {
                marker = true;
                p = w_end + next.map_or(0, char::len_utf8);
                continue;
            }
            if !next.is_some_and(char::is_alphanumeric) {
                if in_list_ci(word, MRN_MARKERS) {
                    marker = true;
                    p = w_end;
                    continue;
                }
                if in_list_ci(word, MRN_FILLERS) {
                    p = w_end;
                    continue;
                }
            }
        }
        break;
    }
    if needs_marker && !marker {
        return None;
    }

    let start = p;
    let (mut q, mut alnum, mut digits) = (p, 0, 0);
    while let Some(&c) = b.get(q) {
        if c.is_ascii_alphanumeric() {
            alnum += 1;
            digits += usize::from(c.is_ascii_digit());
            q += 1;
        } else if c == b'-' && q > start && b.get(q + 1).is_some_and(u8::is_ascii_alphanumeric) {
            q += 1;
        } else {
            break;
        }
    }
    if !(5..=12).contains(&alnum) || digits < 4 {
        return None;
    }
    match char_at(text, q) {
        Some(c) if c.is_alphanumeric() => return None,
        Some('.' | '/' | '@' | '_') if is_alnum_at(text, q + 1) => return None,
        _ => {}
    }
    let id = &text[start..q];
    let letters = id.bytes().take_while(u8::is_ascii_alphabetic).count();
    let ticket_like = ((2..=5).contains(&letters) && id.as_bytes().get(letters) == Some(&b'-'))
        || TICKET_PREFIXES.iter().any(|p| {
            id.len() > p.len() && id.as_bytes()[..p.len()].eq_ignore_ascii_case(p.as_bytes())
        });
    if ticket_like || numeric_date_at(text, start).is_some_and(|(_, e)| e == q) {
        return None;
    }
    Some((start, q))
}

// ---------------------------------------------------------------------------------------
// Dates of birth
// ---------------------------------------------------------------------------------------

/// A date is a date of birth when
///
/// * a birth cue ("DOB", "D.O.B.", "date of birth", "birth date", "born", "date de
///   naissance", "né le", "née le", "DDN"…) ends at most 40 bytes before it, with nothing
///   between but punctuation (no digits, no `! ? ;`), a format hint ("(YYYY-MM-DD)") and at
///   most 6 words that are either names or harmless ("is", "of the patient", "listed as",
///   "est", "du"…): "DOB for John Smith is 1985-03-12" counts, "DOB field mapping broke on
///   2026-11-02" does not; or
/// * a birth cue follows it at once: "1985-03-12 (DOB)"; or
/// * a personal name is right next to it: two capitalised words ("John Smith", "Smith,
///   John", "Mme Tremblay") just before it, with at most a space, comma, colon, dash or
///   opening parenthesis between, or just after it. Capitalised words that are common in
///   tickets (months, week days, "Outage", "Hospital", "Toronto"…) are not names. A name
///   introduced by "by", "from", "par", "contact"… is staff signing a ticket; a date
///   followed by a time ("2026-11-02 08:14") is a timestamp; and a name after a date that
///   follows "on", "since", "le", "depuis"… is a subject ("since 2026-11-02 Mount Sinai…").
///
/// Dates are `YYYY-MM-DD` (or with `/` or `.`), `DD/MM/YYYY` and `MM/DD/YYYY` (or with `-`
/// or `.`), "12 March 1985", "12-Mar-1985", "March 12, 1985", "12 mars 1985", "1er mars
/// 1985", with years 1900 to 2099 and a valid month and day. Two-digit years are not dates.
fn is_date_of_birth(text: &str, start: usize, end: usize) -> bool {
    dob_cue_before(text, start) || dob_cue_after(text, end) || name_next_to(text, start, end)
}

const DOB_CUES: &[&str] = &[
    "birth date",
    "birthdate",
    "birthday",
    "born",
    "d.o.b",
    "date de naissance",
    "date of birth",
    "ddn",
    "dob",
    "naissance",
    "ne(e) le",
    "nee le",
    "né(e) le",
    "né le",
    "née le",
];

/// Cues that may follow the date: "1985-03-12 (DOB)".
const DOB_CUES_AFTER: &[&str] = &[
    "birth date",
    "d.o.b",
    "date de naissance",
    "date of birth",
    "ddn",
    "dob",
];

/// Words allowed between a birth cue and the date.
const DOB_GAP_WORDS: &[&str] = &[
    "aaaa",
    "as",
    "au",
    "client",
    "d",
    "dd",
    "de",
    "du",
    "entered",
    "est",
    "for",
    "given",
    "her",
    "his",
    "indiqué",
    "indiquée",
    "inscrit",
    "inscrite",
    "is",
    "jj",
    "l",
    "la",
    "le",
    "listed",
    "member",
    "mm",
    "noted",
    "of",
    "on",
    "patient",
    "patiente",
    "person",
    "provided",
    "recorded",
    "sa",
    "saisi",
    "saisie",
    "shown",
    "son",
    "the",
    "their",
    "was",
    "yyyy",
    "était",
];

fn dob_cue_before(text: &str, date_start: usize) -> bool {
    let b = text.as_bytes();
    let mut cue_end = None;
    // Every cue starts with "b", "d" or "n" at the start of a word.
    let from = date_start.saturating_sub(64);
    for (i, &c) in b.iter().enumerate().take(date_start).skip(from) {
        let first = c.to_ascii_lowercase();
        if !matches!(first, b'b' | b'd' | b'n')
            || char_before(text, i).is_some_and(char::is_alphanumeric)
        {
            continue;
        }
        for cue in DOB_CUES.iter().filter(|c| c.as_bytes()[0] == first) {
            if let Some(e) = cue_at(text, i, cue)
                && e <= date_start
            {
                cue_end = Some(e);
                break;
            }
        }
    }
    let Some(cue_end) = cue_end else {
        return false;
    };
    let gap = &text[cue_end..date_start];
    if gap.len() > 40
        || gap
            .chars()
            .any(|c| c.is_ascii_digit() || matches!(c, '!' | '?' | ';'))
        || gap.trim_start_matches('.').contains('.')
    {
        return false;
    }
    let mut count = 0;
    words_in(gap).all(|(s, e)| {
        let w = &gap[s..e];
        count += 1;
        count <= 6 && (in_list_ci(w, DOB_GAP_WORDS) || is_name_word(w) || is_format_hint(w))
    })
}

/// "YYYY-MM-DD", "aaaa-mm-jj": a date format written next to the cue.
fn is_format_hint(w: &str) -> bool {
    w.len() >= 4
        && w.chars()
            .all(|c| matches!(lower(c), 'y' | 'm' | 'd' | 'a' | 'j' | '-'))
}

fn dob_cue_after(text: &str, date_end: usize) -> bool {
    let mut p = date_end;
    for _ in 0..3 {
        match char_at(text, p) {
            Some(c @ (' ' | '(' | '[' | ',' | '-' | '–' | ':')) => p += c.len_utf8(),
            _ => break,
        }
    }
    DOB_CUES_AFTER
        .iter()
        .any(|cue| cue_at(text, p, cue).is_some())
}

/// Capitalised words that are not personal names in tickets.
const NOT_NAMES: &[&str] = &[
    "about",
    "after",
    "again",
    "alert",
    "and",
    "août",
    "api",
    "april",
    "après",
    "archive",
    "are",
    "august",
    "avant",
    "avril",
    "backup",
    "batch",
    "before",
    "bonjour",
    "bug",
    "by",
    "care",
    "cc",
    "center",
    "centre",
    "change",
    "chart",
    "clinic",
    "clinique",
    "closed",
    "community",
    "connecting",
    "cordialement",
    "critical",
    "dashboard",
    "date",
    "dear",
    "december",
    "demande",
    "deployment",
    "depuis",
    "desk",
    "details",
    "dimanche",
    "down",
    "décembre",
    "east",
    "engine",
    "entretien",
    "environment",
    "erreur",
    "error",
    "est",
    "extract",
    "february",
    "feed",
    "feeds",
    "fenêtre",
    "fix",
    "flux",
    "for",
    "friday",
    "from",
    "février",
    "general",
    "go",
    "hamilton",
    "health",
    "hello",
    "hi",
    "high",
    "home",
    "hospital",
    "hôpital",
    "incident",
    "interface",
    "issue",
    "january",
    "janvier",
    "jeudi",
    "juillet",
    "juin",
    "july",
    "june",
    "kingston",
    "lab",
    "laboratory",
    "labs",
    "last",
    "le",
    "les",
    "live",
    "london",
    "low",
    "lundi",
    "mai",
    "maintenance",
    "march",
    "mardi",
    "mars",
    "may",
    "medical",
    "merci",
    "mercredi",
    "mise",
    "monday",
    "mount",
    "network",
    "new",
    "next",
    "north",
    "notes",
    "november",
    "novembre",
    "october",
    "octobre",
    "old",
    "on",
    "ontario",
    "ottawa",
    "outage",
    "panne",
    "partner",
    "patch",
    "please",
    "portal",
    "priority",
    "problem",
    "prod",
    "production",
    "public",
    "rapport",
    "re",
    "regards",
    "regional",
    "release",
    "report",
    "request",
    "réseau",
    "saint",
    "sainte",
    "samedi",
    "santé",
    "saturday",
    "sciences",
    "september",
    "septembre",
    "server",
    "serveur",
    "service",
    "services",
    "since",
    "site",
    "south",
    "sprint",
    "st",
    "staging",
    "status",
    "subject",
    "sudbury",
    "summary",
    "sunday",
    "support",
    "system",
    "systems",
    "team",
    "test",
    "thanks",
    "the",
    "this",
    "thursday",
    "ticket",
    "today",
    "toronto",
    "tuesday",
    "university",
    "update",
    "upgrade",
    "urgent",
    "vendredi",
    "version",
    "viewer",
    "visionneuse",
    "wednesday",
    "west",
    "window",
    "windsor",
    "yesterday",
    "équipe",
];

/// Words that introduce staff rather than a patient: "reported by Jane Doe 2026-11-02".
/// Not the French "de": "dossier de Jean Côté" is about a patient.
const STAFF_INTRODUCERS: &[&str] = &[
    "agent",
    "analyst",
    "assigned",
    "assignee",
    "by",
    "cc",
    "contact",
    "from",
    "owner",
    "par",
    "regards",
    "reporter",
    "requester",
    "signed",
    "to",
    "with",
    "à",
];

/// Words that make the following date an event date: "since 2026-11-02".
const EVENT_WORDS: &[&str] = &[
    "after", "and", "après", "at", "au", "avant", "before", "between", "by", "depuis", "du", "dès",
    "entre", "et", "from", "in", "jusqu'au", "le", "of", "on", "since", "to", "until",
];

const TITLES: &[&str] = &[
    "madame", "miss", "mlle", "mme", "monsieur", "mr", "mrs", "ms",
];

fn name_next_to(text: &str, start: usize, end: usize) -> bool {
    if followed_by_time(text, end) {
        return false;
    }
    name_before(text, start) || (!event_word_before(text, start) && name_after(text, end))
}

fn name_before(text: &str, date_start: usize) -> bool {
    // Up to 4 characters of " ,(-–:" between the name and the date.
    let mut e2 = date_start;
    for _ in 0..4 {
        match char_before(text, e2) {
            Some(c @ (' ' | ',' | '(' | '-' | '–' | ':')) => e2 -= c.len_utf8(),
            _ => break,
        }
    }
    let s2 = word_start_before(text, e2);
    if s2 == e2 {
        return false;
    }
    let w2 = &text[s2..e2];
    let before = &text[..s2];
    let Some(e1) = [", ", ". ", " "]
        .iter()
        .find_map(|sep| before.strip_suffix(sep).map(|rest| (rest.len(), *sep)))
    else {
        return false;
    };
    let (e1, between) = e1;
    let s1 = word_start_before(text, e1);
    let w1 = &text[s1..e1];
    if in_list_ci(w1, TITLES) && matches!(between, " " | ". ") && is_name_word(w2) {
        return true;
    }
    if !(matches!(between, " " | ", ") && is_name_word(w1) && is_name_word(w2)) {
        return false;
    }
    // "by Jane Doe": staff, not a patient.
    let e0 = text[..s1].trim_end_matches(' ').len();
    let s0 = word_start_before(text, e0);
    !(e0 < s1 && in_list_ci(&text[s0..e0], STAFF_INTRODUCERS))
}

fn name_after(text: &str, date_end: usize) -> bool {
    let window = &text[date_end..ceil_boundary(text, date_end + 64)];
    let mut words = words_in(window);
    let (Some((s1, e1)), Some((s2, e2))) = (words.next(), words.next()) else {
        return false;
    };
    let head = &window[..s1];
    head.len() <= 4
        && head
            .chars()
            .all(|c| matches!(c, ' ' | ',' | ')' | '-' | '–' | ':'))
        && matches!(&window[e1..s2], " " | ", ")
        && is_name_word(&window[s1..e1])
        && is_name_word(&window[s2..e2])
}

fn event_word_before(text: &str, date_start: usize) -> bool {
    let trimmed = text[..date_start].trim_end_matches(' ');
    if trimmed.len() == date_start {
        return false;
    }
    let word_start = word_start_before(text, trimmed.len());
    in_list_ci(&text[word_start..trimmed.len()], EVENT_WORDS)
}

/// "2026-11-02 08:14", "2026-11-02, 8:14", "2 novembre 2026 à 8 h 30", "… at 08h00".
fn followed_by_time(text: &str, end: usize) -> bool {
    let rest = &text[end..ceil_boundary(text, end + 16)];
    let mut rest = rest.trim_start_matches([' ', ',', '@', '-']);
    for word in ["at ", "à ", "a "] {
        if let Some(r) = rest.strip_prefix(word) {
            rest = r.trim_start();
        }
    }
    let b = rest.as_bytes();
    let hours = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if !(1..=2).contains(&hours) {
        return false;
    }
    let after = &b[hours..];
    let after = if after.first() == Some(&b' ') {
        &after[1..]
    } else {
        after
    };
    matches!(after.first(), Some(b':' | b'h' | b'H'))
}

/// A personal-name-like word: a capital then at least one lower-case letter, letters and
/// inner apostrophes or hyphens only ("O'Brien", "Jean-Luc", "Côté", "McDonald"), 2 to 24
/// characters, and not a word common in tickets.
fn is_name_word(w: &str) -> bool {
    let mut chars = w.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    let count = w.chars().count();
    first.is_uppercase()
        && (2..=24).contains(&count)
        && w.chars().any(char::is_lowercase)
        && w.chars()
            .all(|c| c.is_alphabetic() || matches!(c, '\'' | '’' | '-'))
        && !in_list_ci(w, NOT_NAMES)
        && !in_list_ci(w, TITLES)
}

/// `YYYY-MM-DD` (`-`, `/` or `.`) or `DD/MM/YYYY` / `MM/DD/YYYY` (`/`, `-` or `.`), starting
/// at `start`, with a clean right edge.
fn numeric_date_at(text: &str, start: usize) -> Option<(usize, usize)> {
    let b = text.as_bytes();
    let r1 = digit_run(b, start);
    let sep = *b.get(start + r1)?;
    if !matches!(sep, b'-' | b'/' | b'.') {
        return None;
    }
    let p2 = start + r1 + 1;
    let r2 = digit_run(b, p2);
    if b.get(p2 + r2) != Some(&sep) {
        return None;
    }
    let p3 = p2 + r2 + 1;
    let r3 = digit_run(b, p3);
    let short = |r: usize| (1..=2).contains(&r);
    let ok = if r1 == 4 && short(r2) && short(r3) {
        valid_date(number(b, start, 4), number(b, p2, r2), number(b, p3, r3))
    } else if short(r1) && short(r2) && r3 == 4 {
        let (a, m, y) = (number(b, start, r1), number(b, p2, r2), number(b, p3, 4));
        valid_date(y, m, a) || valid_date(y, a, m)
    } else {
        false
    };
    let end = p3 + r3;
    (ok && clean_right_edge(text, end)).then_some((start, end))
}

/// "12 March 1985", "12-Mar-1985", "1er mars 1985", "3rd March, 1985".
fn day_month_year_at(text: &str, start: usize) -> Option<(usize, usize)> {
    let b = text.as_bytes();
    let r = digit_run(b, start);
    if !(1..=2).contains(&r) {
        return None;
    }
    let day = number(b, start, r);
    let mut p = skip_ordinal(text, start + r);
    p = skip_date_sep(text, p)?;
    let (month, month_end) = month_at(text, p)?;
    p = month_end;
    if b.get(p) == Some(&b'.') {
        p += 1;
    }
    p = skip_date_sep(text, p)?;
    let (year, end) = year_at(text, p)?;
    (valid_date(year, month, day) && clean_right_edge(text, end)).then_some((start, end))
}

/// "March 12, 1985", "Mar. 12 1985", "March 12th, 1985".
fn month_day_year_at(text: &str, start: usize) -> Option<(usize, usize)> {
    let b = text.as_bytes();
    let (month, mut p) = month_at(text, start)?;
    if b.get(p) == Some(&b'.') {
        p += 1;
    }
    let p_day = skip_spaces(text, p);
    if p_day == p {
        return None;
    }
    let r = digit_run(b, p_day);
    if !(1..=2).contains(&r) {
        return None;
    }
    let day = number(b, p_day, r);
    p = skip_ordinal(text, p_day + r);
    if b.get(p) == Some(&b',') {
        p += 1;
    }
    let p_year = skip_spaces(text, p);
    if p_year == p {
        return None;
    }
    let (year, end) = year_at(text, p_year)?;
    (valid_date(year, month, day) && clean_right_edge(text, end)).then_some((start, end))
}

/// The month a lower-case English or French month name or abbreviation stands for.
fn month_number(word: &str) -> Option<i32> {
    Some(match word {
        "january" | "janvier" | "janv" | "jan" => 1,
        "february" | "février" | "fevrier" | "févr" | "fevr" | "feb" => 2,
        "march" | "mars" | "mar" => 3,
        "april" | "avril" | "avr" | "apr" => 4,
        "may" | "mai" => 5,
        "june" | "juin" | "jun" => 6,
        "july" | "juillet" | "juil" | "jul" => 7,
        "august" | "août" | "aout" | "aug" => 8,
        "september" | "septembre" | "sept" | "sep" => 9,
        "october" | "octobre" | "oct" => 10,
        "november" | "novembre" | "nov" => 11,
        "december" | "décembre" | "decembre" | "déc" | "dec" => 12,
        _ => return None,
    })
}

/// A whole month name at `p`: (month, end).
fn month_at(text: &str, p: usize) -> Option<(i32, usize)> {
    let mut buf = [0; 16];
    let (word, end) = lower_word(text, p, &mut buf)?;
    Some((month_number(word)?, end))
}

/// The run of letters at `p`, lower-cased into `buf`, and its end; `None` when it does not
/// fit in 16 bytes (no month or cue word is that long).
fn lower_word<'b>(text: &str, p: usize, buf: &'b mut [u8; 16]) -> Option<(&'b str, usize)> {
    let b = text.as_bytes();
    let (mut q, mut n) = (p, 0);
    while let Some(&c) = b.get(q) {
        if c.is_ascii_alphabetic() {
            *buf.get_mut(n)? = c.to_ascii_lowercase();
            n += 1;
            q += 1;
            continue;
        }
        if c.is_ascii() {
            break;
        }
        let ch = char_at(text, q)?;
        if !ch.is_alphabetic() {
            break;
        }
        let low = lower(ch);
        if n + low.len_utf8() > buf.len() {
            return None;
        }
        low.encode_utf8(&mut buf[n..]);
        n += low.len_utf8();
        q += ch.len_utf8();
    }
    Some((std::str::from_utf8(&buf[..n]).ok()?, q))
}

fn year_at(text: &str, p: usize) -> Option<(i32, usize)> {
    let b = text.as_bytes();
    (digit_run(b, p) == 4).then(|| (number(b, p, 4), p + 4))
}

fn valid_date(year: i32, month: i32, day: i32) -> bool {
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 => 29,
        _ => return false,
    };
    (1900..=2099).contains(&year) && (1..=days).contains(&day)
}

fn skip_ordinal(text: &str, p: usize) -> usize {
    let b = text.as_bytes();
    for suffix in [&b"er"[..], b"st", b"nd", b"rd", b"th"] {
        if b.len() >= p + 2 && b[p..p + 2].eq_ignore_ascii_case(suffix) && !is_alnum_at(text, p + 2)
        {
            return p + 2;
        }
    }
    p
}

/// One or more spaces, or a single dash or slash, between the parts of a written date.
fn skip_date_sep(text: &str, p: usize) -> Option<usize> {
    match text.as_bytes().get(p) {
        Some(b'-' | b'/') => Some(p + 1),
        Some(b',') => Some(skip_spaces(text, p + 1)),
        _ => {
            let q = skip_spaces(text, p);
            (q > p).then_some(q)
        }
    }
}

fn skip_spaces(text: &str, mut p: usize) -> usize {
    while let Some(c) = char_at(text, p) {
        if c.is_whitespace() && c != '\n' {
            p += c.len_utf8();
        } else {
            break;
        }
    }
    p
}

/// Nothing alphanumeric touches the end, and no `-`, `/`, `.` or `:` joins more digits to it.
fn clean_right_edge(text: &str, end: usize) -> bool {
    match char_at(text, end) {
        Some(c) if c.is_alphanumeric() => false,
        Some('-' | '/' | '.' | ':') => !text.as_bytes().get(end + 1).copied().is_some_and(is_digit),
        _ => true,
    }
}

fn joined_to_digits_before(b: &[u8], i: usize) -> bool {
    matches!(byte_before(b, i, 1), Some(b'-' | b'/' | b'.' | b':'))
        && byte_before(b, i, 2).is_some_and(is_digit)
}

// ---------------------------------------------------------------------------------------
// Small text helpers. Offsets are bytes; every function is safe on any offset.
// ---------------------------------------------------------------------------------------

fn is_digit(c: u8) -> bool {
    c.is_ascii_digit()
}

fn digit_run(b: &[u8], i: usize) -> usize {
    b.get(i..).map_or(0, |rest| {
        rest.iter().take_while(|c| c.is_ascii_digit()).count()
    })
}

fn number(b: &[u8], i: usize, len: usize) -> i32 {
    b[i..i + len]
        .iter()
        .fold(0, |n, &c| n * 10 + i32::from(c - b'0'))
}

fn byte_before(b: &[u8], i: usize, back: usize) -> Option<u8> {
    i.checked_sub(back).and_then(|j| b.get(j).copied())
}

fn char_at(text: &str, i: usize) -> Option<char> {
    text.get(i..)?.chars().next()
}

fn char_before(text: &str, i: usize) -> Option<char> {
    text.get(..i)?.chars().next_back()
}

fn is_alnum_at(text: &str, i: usize) -> bool {
    char_at(text, i).is_some_and(char::is_alphanumeric)
}

fn floor_boundary(text: &str, i: usize) -> usize {
    let mut i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_boundary(text: &str, i: usize) -> usize {
    let mut i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// Start of the word ending at `end`: letters, with inner apostrophes and hyphens.
fn word_start_before(text: &str, end: usize) -> usize {
    let mut p = end;
    while let Some(c) = char_before(text, p) {
        let inner = matches!(c, '\'' | '’' | '-')
            && p < end
            && char_before(text, p - c.len_utf8()).is_some_and(char::is_alphabetic);
        if c.is_alphabetic() || inner {
            p -= c.len_utf8();
        } else {
            break;
        }
    }
    p
}

fn letters_end(text: &str, start: usize) -> usize {
    let mut p = start;
    let b = text.as_bytes();
    while b.get(p).is_some_and(u8::is_ascii_alphabetic) {
        p += 1;
    }
    while let Some(c) = char_at(text, p) {
        if c.is_alphabetic() {
            p += c.len_utf8();
        } else {
            break;
        }
    }
    p
}

/// Spans of words: letters, with inner apostrophes and hyphens ("O'Brien", "Jean-Luc").
fn words_in(s: &str) -> Words<'_> {
    Words {
        chars: s.char_indices().peekable(),
    }
}

struct Words<'a> {
    chars: std::iter::Peekable<std::str::CharIndices<'a>>,
}

impl Iterator for Words<'_> {
    type Item = (usize, usize);

    fn next(&mut self) -> Option<(usize, usize)> {
        let mut start = None;
        let mut end = 0;
        while let Some((i, c)) = self.chars.next() {
            if c.is_alphabetic() {
                start.get_or_insert(i);
                end = i + c.len_utf8();
            } else if start.is_some()
                && matches!(c, '\'' | '’' | '-')
                && self.chars.peek().is_some_and(|&(_, n)| n.is_alphabetic())
            {
                // Inner apostrophe or hyphen: the word goes on.
            } else if let Some(s) = start {
                return Some((s, end));
            }
        }
        start.map(|s| (s, end))
    }
}

fn lower(c: char) -> char {
    if c.is_ascii() {
        c.to_ascii_lowercase()
    } else {
        c.to_lowercase().next().unwrap_or(c)
    }
}

/// Case-insensitive `word == one of list`; the list is lower case and sorted (a unit test
/// checks every list), so this is a binary search over the lower-cased word.
fn in_list_ci(word: &str, list: &[&str]) -> bool {
    let mut buf = [0u8; 32];
    let mut n = 0;
    for c in word.chars().map(lower) {
        if n + c.len_utf8() > buf.len() {
            return false;
        }
        c.encode_utf8(&mut buf[n..]);
        n += c.len_utf8();
    }
    std::str::from_utf8(&buf[..n]).is_ok_and(|w| list.binary_search(&w).is_ok())
}

/// If `cue` (lower case; a space matches any run of white space) is at `i`, case-insensitive,
/// and is not followed by a letter or digit when it ends with one, the offset just past it.
fn cue_at(text: &str, i: usize, cue: &str) -> Option<usize> {
    // Most calls fail on the first byte: check it before walking characters.
    let first = *cue.as_bytes().first()?;
    if first.is_ascii() && text.as_bytes().get(i)?.to_ascii_lowercase() != first {
        return None;
    }
    let hay = text.get(i..)?;
    let mut chars = hay.char_indices().peekable();
    for n in cue.chars() {
        if n == ' ' {
            let mut any = false;
            while chars.peek().is_some_and(|&(_, c)| c.is_whitespace()) {
                chars.next();
                any = true;
            }
            if !any {
                return None;
            }
        } else {
            let (_, c) = chars.next()?;
            if lower(c) != n {
                return None;
            }
        }
    }
    let end = i + chars.peek().map_or(hay.len(), |&(o, _)| o);
    let last_alnum = cue.chars().next_back().is_some_and(char::is_alphanumeric);
    if last_alnum && is_alnum_at(text, end) {
        return None;
    }
    Some(end)
}

#[cfg(test)]
mod tests {

    #[test]
    fn kind_names_are_the_serialized_ones() {
        for kind in [
            PhiKind::HealthCard,
            PhiKind::DateOfBirth,
            PhiKind::MedicalRecordNumber,
        ] {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
    }

    use super::*;

    fn kinds(text: &str) -> Vec<PhiKind> {
        scan_all(text).into_iter().map(|m| m.kind).collect()
    }

    fn matched(text: &str) -> Vec<&str> {
        scan_all(text)
            .into_iter()
            .map(|m| &text[m.start..m.end])
            .collect()
    }

    /// Appends the Luhn check digit to 9 digits.
    fn with_check_digit(nine: &str) -> String {
        (0..10)
            .map(|d| format!("{nine}{d}"))
            .find(|s| is_valid_ontario_health_number(s))
            .unwrap()
    }

    #[test]
    fn luhn_check() {
        assert!(is_valid_ontario_health_number("9876543217"));
        assert!(!is_valid_ontario_health_number("9876543218"));
        assert!(!is_valid_ontario_health_number("987654321"));
        assert!(!is_valid_ontario_health_number("98765432170"));
        assert!(!is_valid_ontario_health_number("9876 543 217"));
        assert!(!is_valid_ontario_health_number("98765432a7"));
        assert!(!is_valid_ontario_health_number("９８７６５４３２１７"));
        let made = with_check_digit("123456789");
        assert_eq!(made, "1234567897");
        // Exactly one check digit is valid.
        let valid = (0..10)
            .filter(|d| is_valid_ontario_health_number(&format!("123456789{d}")))
            .count();
        assert_eq!(valid, 1);
    }

    #[test]
    fn valid_health_card_is_refused_and_wrong_check_digit_accepted() {
        let card = with_check_digit("438120579");
        let text = format!("Patient's card is {card}, please fix the merge.");
        let m = scan(&text).expect("a valid health card number is PHI");
        assert_eq!(m.kind, PhiKind::HealthCard);
        assert_eq!(&text[m.start..m.end], card);

        // Change one digit: the check digit no longer matches.
        let mut bad = card.into_bytes();
        bad[3] = if bad[3] == b'9' { b'0' } else { bad[3] + 1 };
        let bad = String::from_utf8(bad).unwrap();
        assert!(!is_valid_ontario_health_number(&bad));
        assert_eq!(
            scan(&format!("Patient's card is {bad}, please fix the merge.")),
            None
        );
        assert_eq!(scan("Reference 9876543218 failed"), None);
    }

    #[test]
    fn health_card_spacing_and_version_code() {
        for text in [
            "HCN 9876543217",
            "9876 543 217",
            "card: 9876-543-217.",
            "(9876543217)",
            "9876543217AB",
            "9876543217ab",
            "9876543217-AB",
            "9876 543 217 AB",
            "9876-543-217-xy",
            "OHIP 9876 543 217 KL, seen twice",
            "PID|1||9876543217^^^ON^JHN||DOE^JANE",
        ] {
            assert_eq!(kinds(text), [PhiKind::HealthCard], "{text}");
        }
        assert_eq!(matched("HCN 9876 543 217 AB today"), ["9876 543 217 AB"]);
        assert_eq!(matched("9876543217-ab."), ["9876543217-ab"]);
        assert_eq!(matched("9876543217AB"), ["9876543217AB"]);
        // A lower-case word after a space is text, not a version code.
        assert_eq!(matched("9876543217 is wrong"), ["9876543217"]);
    }

    #[test]
    fn not_health_cards() {
        for text in [
            "98765432170",       // 11 digits
            "129876543217",      // 12 digits
            "98765 43217",       // 5-5 grouping
            "987-654-3217",      // phone grouping
            "(987) 654-3217",    // phone
            "+1 987 654 3217",   // phone
            "1-9876543217",      // joined to more digits
            "9876543217.5",      // decimal
            "12 9876 543 217",   // longer grouped number
            "9876 543 217 12",   // longer grouped number
            "9876543217abc",     // identifier
            "x9876543217",       // identifier
            "a3f9876543217b",    // hex
            "Phone: 9876543217", // labelled
            "tel. 9876543217",   // labelled
            "phone number 9876543217",
            "ticket #9876543217",
            "ts=9876543217",
            "9876543217 ext 12",  // extension
            "9876543217 x204",    // extension
            "613-555-0199 ext 4", // phone
            "416-555-1234",
            "(416) 555-1234",
        ] {
            assert_eq!(scan(text), None, "{text}");
        }
    }

    #[test]
    fn ordinary_dates_are_not_dates_of_birth() {
        for text in [
            "the feed stopped on 2026-11-02",
            "since March 3, 2026 the viewer is slow",
            "first occurred 2026-11-02 at 08:00",
            "Le flux est tombé le 2 novembre 2026.",
            "Depuis le 03/11/2026, la visionneuse est lente.",
            "Maintenance window: Saturday, November 7, 2026",
            "Outage Report 2026-11-02",
            "Reported by Jane Doe, 2026-11-02",
            "Jane Doe 2026-11-02 08:14 - feed down",
            "The DOB field mapping broke on 2026-11-02",
            "DOB validation rule deployed 2026-11-02",
            "since 2026-11-02 Mount Sinai has no feed",
            "Hamilton General Hospital 2026-11-02",
            "accès prolongé jusqu'au 2026-12-31 Jean Côté",
            "MSH|^~\\&|EPIC|HHS|OLIS|OLIS|20261102083000||ORU^R01|MSG00001|P|2.5",
        ] {
            assert_eq!(scan(text), None, "{text}");
        }
    }

    #[test]
    fn dates_of_birth_with_a_cue() {
        for (text, date) in [
            ("DOB: 1985-03-12", "1985-03-12"),
            ("D.O.B. 03/12/1985", "03/12/1985"),
            ("date of birth March 12, 1985", "March 12, 1985"),
            ("born on 12 March 1985 in Ottawa", "12 March 1985"),
            ("Date de naissance : 12 mars 1985", "12 mars 1985"),
            ("née le 1er mars 1985", "1er mars 1985"),
            ("DDN 1985-03-12", "1985-03-12"),
            ("DOB for John Smith is 1985-03-12", "1985-03-12"),
            ("DOB (YYYY-MM-DD): 1985-03-12", "1985-03-12"),
            ("client DOB was entered as 12-Mar-1985", "12-Mar-1985"),
            ("1985-03-12 (DOB)", "1985-03-12"),
        ] {
            assert_eq!(kinds(text), [PhiKind::DateOfBirth], "{text}");
            assert_eq!(matched(text), [date], "{text}");
        }
    }

    #[test]
    fn dates_of_birth_next_to_a_name() {
        for (text, date) in [
            ("John Smith (1985-03-12) has two charts", "1985-03-12"),
            ("Smith, John, 12/03/1985", "12/03/1985"),
            (
                "record for Marie Tremblay, 12 mars 1985, shows twice",
                "12 mars 1985",
            ),
            ("Mme Côté 1972-04-18", "1972-04-18"),
            ("merge 1972-04-18 Jean-Pierre O'Brien", "1972-04-18"),
            (
                "Dossier de Jean-Pierre O'Brien 1972-04-18 en double",
                "1972-04-18",
            ),
        ] {
            assert_eq!(kinds(text), [PhiKind::DateOfBirth], "{text}");
            assert_eq!(matched(text), [date], "{text}");
        }
    }

    #[test]
    fn medical_record_numbers() {
        for (text, id) in [
            ("MRN 1234567", "1234567"),
            ("MRN: H0012345", "H0012345"),
            ("mrn#00123456", "00123456"),
            ("medical record number: 4455667", "4455667"),
            ("Medical record # A-123456", "A-123456"),
            ("chart number 88123", "88123"),
            ("Chart # 88123", "88123"),
            ("MRN for the patient is 7654321.", "7654321"),
            ("numéro de dossier : 0012345", "0012345"),
            ("No de dossier 0012345", "0012345"),
            ("n° de dossier 0012345", "0012345"),
            ("dossier médical n° 445566", "445566"),
            ("NDM 20334455", "20334455"),
        ] {
            assert_eq!(kinds(text), [PhiKind::MedicalRecordNumber], "{text}");
            assert_eq!(matched(text), [id], "{text}");
        }
        for text in [
            "MRN lookup is down since 09:00",
            "MRN mapping for site 4 is wrong",
            "chart 2026 volumes",
            "chart 123456 loaded",
            "numéro de dossier INC-000123",
            "numéro de dossier INC0001234",
            "dossier HHS-2026-0042",
            "MRN 1234",
            "MRN 1234567890123",
            "MRN 2026-11-02",
            "MRN ABCDEF1",
        ] {
            assert_eq!(scan(text), None, "{text}");
        }
    }

    #[test]
    fn word_lists_are_sorted_lower_case_for_binary_search() {
        for list in [
            DOB_GAP_WORDS,
            EVENT_WORDS,
            LABEL_FILLERS,
            MRN_FILLERS,
            MRN_MARKERS,
            NOT_HEALTH_CARD_LABELS,
            NOT_NAMES,
            STAFF_INTRODUCERS,
            TITLES,
        ] {
            assert!(list.windows(2).all(|w| w[0] < w[1]), "{list:?}");
            assert!(
                list.iter().all(|w| w.chars().all(|c| lower(c) == c)),
                "{list:?}"
            );
            assert!(list.iter().all(|w| in_list_ci(&w.to_uppercase(), list)));
        }
        assert!(
            DOB_CUES
                .iter()
                .all(|c| matches!(c.as_bytes()[0], b'b' | b'd' | b'n'))
        );
        assert!(!in_list_ci("", NOT_NAMES));
        assert!(in_list_ci("HÔPITAL", NOT_NAMES));
    }

    #[test]
    fn every_mrn_cue_passes_the_first_word_filter() {
        for (cue, _) in MRN_CUES {
            let b = cue.as_bytes();
            assert!(may_start_month_or_cue(b[0], b.get(1).copied()), "{cue}");
            let mut buf = [0; 16];
            let (word, _) = lower_word(cue, 0, &mut buf).unwrap();
            assert!(starts_mrn_cue(word), "{cue}");
        }
        for (text, month) in [("Février", 2), ("AOÛT", 8), ("déc.", 12), ("Sept", 9)] {
            assert_eq!(month_at(text, 0).map(|m| m.0), Some(month), "{text}");
        }
        for month in [
            "january",
            "janvier",
            "janv",
            "jan",
            "february",
            "février",
            "fevrier",
            "févr",
            "fevr",
            "feb",
            "march",
            "mars",
            "mar",
            "april",
            "avril",
            "avr",
            "apr",
            "may",
            "mai",
            "june",
            "juin",
            "jun",
            "july",
            "juillet",
            "juil",
            "jul",
            "august",
            "août",
            "aout",
            "aug",
            "september",
            "septembre",
            "sept",
            "sep",
            "october",
            "octobre",
            "oct",
            "november",
            "novembre",
            "nov",
            "december",
            "décembre",
            "decembre",
            "déc",
            "dec",
            "DÉCEMBRE",
            "FÉVRIER",
            "Août",
        ] {
            let b = month.as_bytes();
            assert!(may_start_month_or_cue(b[0], b.get(1).copied()), "{month}");
            assert!(month_at(month, 0).is_some(), "{month}");
        }
        assert_eq!(month_at("Marsh", 0), None);
    }

    #[test]
    fn excerpt_masks_the_value() {
        let text = "HCN 9876 543 217 today";
        let m = scan(text).unwrap();
        assert_eq!(m.excerpt, "•••• ••• •17");
        assert!(!m.excerpt.contains("9876543217"));
        let m = scan("DOB: 1985-03-12").unwrap();
        assert_eq!(m.excerpt, "••••-••-12");
        let m = scan("9876543217AB").unwrap();
        assert_eq!(m.excerpt, "••••••••••AB");
        assert_eq!(mask("ab"), "••");
        for text in [
            "HCN 9876543217",
            "MRN 1234567",
            "born 12 March 1985",
            "dossier médical n° 445566",
        ] {
            for m in scan_all(text) {
                let value = &text[m.start..m.end];
                assert!(!m.excerpt.contains(value), "{text}");
                assert_eq!(m.excerpt.chars().count(), value.chars().count());
            }
        }
    }

    #[test]
    fn scan_all_is_in_text_order_without_overlap() {
        let text = "MRN 9876543217, DOB 1985-03-12, card 1234567897 and MRN 445566";
        let found = scan_all(text);
        let got: Vec<_> = found
            .iter()
            .map(|m| (m.kind, &text[m.start..m.end]))
            .collect();
        assert_eq!(
            got,
            [
                (PhiKind::HealthCard, "9876543217"),
                (PhiKind::DateOfBirth, "1985-03-12"),
                (PhiKind::HealthCard, "1234567897"),
                (PhiKind::MedicalRecordNumber, "445566"),
            ]
        );
        assert_eq!(scan(text), Some(found[0].clone()));
        assert_eq!(scan(""), None);
    }

    #[test]
    fn offsets_are_char_boundaries_in_multibyte_text() {
        let text = "Élève né le 12 décembre 1985 — carte 9876 543 217 ✓";
        let found = scan_all(text);
        assert_eq!(found.len(), 2);
        for m in &found {
            assert!(text.is_char_boundary(m.start) && text.is_char_boundary(m.end));
        }
        assert_eq!(&text[found[0].start..found[0].end], "12 décembre 1985");
    }

    #[test]
    fn redact_replaces_and_never_panics() {
        let text = "Élève né le 12 décembre 1985, merci";
        let m = scan(text).unwrap();
        assert_eq!(
            redact(text, m.start, m.end),
            "Élève né le [redacted], merci"
        );
        // Offsets inside a multi-byte character grow to cover it.
        assert_eq!(redact("aé b", 2, 3), "a[redacted] b");
        assert_eq!(redact("été", 1, 1), "été");
        // Clamped, swapped, empty.
        assert_eq!(redact("abc", 1, 99), "a[redacted]");
        assert_eq!(redact("abc", 2, 1), "a[redacted]c");
        assert_eq!(redact("abc", 50, 60), "abc");
        assert_eq!(redact("", 0, 5), "");
        assert_eq!(redact("✓✓", usize::MAX, 0), "[redacted]");
        for s in 0..12 {
            for e in 0..12 {
                let _ = redact("né ✓ é", s, e);
            }
        }
    }

    #[test]
    fn never_panics_on_odd_input() {
        for text in [
            "",
            "1",
            "12/",
            "2026-",
            "MRN",
            "MRN ",
            "DOB",
            "dob 1985-02-30",
            "né le",
            "9876 543",
            "9876 543 21",
            "9876543217 A",
            "1985-03-12",
            "March",
            "12 mars",
            "é1234567897é",
            "１２３４５６７８９７",
            "\u{a0}9876543217\u{a0}",
        ] {
            let _ = scan_all(text);
        }
        assert_eq!(scan("dob 1985-02-30"), None);
    }

    #[test]
    fn serializes_in_snake_case() {
        let m = scan("MRN 1234567").unwrap();
        let json = serde_json::to_value(&m).unwrap();
        assert_eq!(json["kind"], "medical_record_number");
        assert_eq!(json["excerpt"], "•••••67");
    }

    #[test]
    fn scanning_is_fast_enough_to_be_linear() {
        // Not a timing test: a large text must not take quadratic work.
        let line = "Feed down since 2026-11-02 08:00, call 416-555-1234, ref 9876543218. ";
        let text = line.repeat(2000);
        assert!(scan_all(&text).is_empty());
    }
}

//! The 999 implementation acknowledgment (005010X231A1): one ST*999 per functional
//! group of an interchange, in one interchange addressed back to its sender, with a
//! TA1 first when the interchange itself is rejected.

use std::fmt::Write as _;

use serde::Serialize;

use crate::envelope::{GroupReport, InterchangeReport, SetReport, Verdict};
use crate::text::{clean, x12_date};

/// When an acknowledgment is written: a date `YYYY-MM-DD` and a time `HHMM`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Stamp {
    date: String,
    time: String,
}

impl Stamp {
    /// `None` unless `date` is a real `YYYY-MM-DD` date and `time` a real `HHMM`.
    pub fn new(date: &str, time: &str) -> Option<Stamp> {
        let compact = x12_date(date);
        let ok = date.len() == 10 && crate::text::date(compact.as_bytes()).is_some();
        (ok && time.len() == 4 && crate::text::is_time(time.as_bytes())).then(|| Stamp {
            date: date.to_owned(),
            time: time.to_owned(),
        })
    }

    pub fn date(&self) -> &str {
        &self.date
    }

    /// `CCYYMMDD`.
    pub(crate) fn ccyymmdd(&self) -> String {
        x12_date(&self.date)
    }

    /// `YYMMDD` for the ISA.
    pub(crate) fn yymmdd(&self) -> String {
        self.ccyymmdd()[2..].to_owned()
    }

    pub(crate) fn hhmm(&self) -> &str {
        &self.time
    }
}

/// Control numbers and time of the acknowledgment's own envelope (inputs, so the
/// output is deterministic).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AckEnvelope {
    /// ISA13/IEA02 of the acknowledgment (at most 9 digits).
    pub interchange_control_number: u32,
    /// GS06/GE02.
    pub group_control_number: u32,
    /// ST02 of the first ST*999; the next ones count up from it.
    pub first_set_control_number: u32,
    pub stamp: Stamp,
    /// Our ISA qualifier and ID, for answering a file that had no ISA to swap.
    pub our_qualifier: String,
    pub our_id: String,
}

/// Writes the 999 for one interchange's report: segments end with `~` and a line
/// break, delimiters `*`, `:` and `^`.
pub fn write(report: &InterchangeReport, env: &AckEnvelope) -> String {
    let mut w = Writer::default();
    let usage = if report.usage == "P" { "P" } else { "T" };
    let first_group = report.groups.first();
    // Our sender is their receiver: the swapped ISA07/08 and ISA05/06.
    let (our_q, our_id) = if report.has_header {
        (
            report.receiver_qualifier.as_str(),
            report.receiver_id.as_str(),
        )
    } else {
        (env.our_qualifier.as_str(), env.our_id.as_str())
    };
    let (their_q, their_id) = if report.has_header {
        (report.sender_qualifier.as_str(), report.sender_id.as_str())
    } else {
        (
            "ZZ",
            first_group.map_or("UNKNOWN", |g| {
                if g.sender.is_empty() {
                    "UNKNOWN"
                } else {
                    g.sender.as_str()
                }
            }),
        )
    };
    w.isa(our_q, our_id, their_q, their_id, env, usage);
    if let Some(note) = report.errors.first() {
        let isa13 = if report.control_number.len() == 9
            && report.control_number.bytes().all(|b| b.is_ascii_digit())
        {
            report.control_number.clone()
        } else {
            "000000000".to_owned()
        };
        let date = if report.date.len() == 6 {
            report.date.clone()
        } else {
            env.stamp.yymmdd()
        };
        let time = if report.time.len() == 4 {
            report.time.clone()
        } else {
            env.stamp.hhmm().to_owned()
        };
        w.seg(&["TA1", &isa13, &date, &time, "R", note.code.unwrap_or("022")]);
    }
    if !report.groups.is_empty() {
        let gs02 = first_group.map_or(our_id, |g| {
            if g.receiver.is_empty() {
                our_id
            } else {
                &g.receiver
            }
        });
        let gs03 = first_group.map_or(their_id, |g| {
            if g.sender.is_empty() {
                their_id
            } else {
                &g.sender
            }
        });
        let gs06 = env.group_control_number.to_string();
        let date = env.stamp.ccyymmdd();
        w.seg(&[
            "GS",
            "FA",
            gs02,
            gs03,
            &date,
            env.stamp.hhmm(),
            &gs06,
            "X",
            "005010X231A1",
        ]);
        for (i, g) in report.groups.iter().enumerate() {
            let st02 = format!("{:04}", env.first_set_control_number.wrapping_add(i as u32));
            write_group(&mut w, g, &st02);
        }
        w.seg(&["GE", &report.groups.len().to_string(), &gs06]);
    }
    let groups = if report.groups.is_empty() { "0" } else { "1" };
    w.seg(&[
        "IEA",
        groups,
        &format!("{:09}", env.interchange_control_number % 1_000_000_000),
    ]);
    w.out
}

fn write_group(w: &mut Writer, g: &GroupReport, st02: &str) {
    let start = w.count;
    w.seg(&["ST", "999", st02, "005010X231A1"]);
    let fid = if g.functional_id.is_empty() {
        "HC"
    } else {
        &g.functional_id
    };
    let gs06 = if g.control_number.is_empty() {
        "0"
    } else {
        &g.control_number
    };
    w.seg(&["AK1", fid, gs06, &g.version]);
    for s in &g.sets {
        write_set(w, s);
    }
    let mut ak9 = vec![
        "AK9".to_owned(),
        g.verdict.code().to_owned(),
        g.declared_sets.unwrap_or(g.received_sets).to_string(),
        g.received_sets.to_string(),
        g.accepted_sets.to_string(),
    ];
    ak9.extend(
        g.errors
            .iter()
            .filter_map(|n| n.code)
            .take(5)
            .map(str::to_owned),
    );
    w.seg_owned(&ak9);
    let count = (w.count - start + 1).to_string();
    w.seg(&["SE", &count, st02]);
}

fn write_set(w: &mut Writer, s: &SetReport) {
    w.seg(&[
        "AK2",
        &s.transaction_set,
        &s.control_number,
        &s.implementation,
    ]);
    for e in &s.segment_errors {
        let id = ik301(&e.segment_id);
        w.seg(&["IK3", &id, &e.position.in_set.to_string(), "", e.code]);
        for el in &e.elements {
            let at = match el.component {
                Some(c) => format!("{}:{c}", el.element),
                None => el.element.to_string(),
            };
            w.seg_composite_first("IK4", &at, &["", el.code]);
        }
    }
    let mut ik5 = vec!["IK5".to_owned(), s.verdict.code().to_owned()];
    if s.verdict != Verdict::Accepted {
        ik5.extend(
            s.errors
                .iter()
                .filter_map(|n| n.code)
                .take(5)
                .map(str::to_owned),
        );
    }
    w.seg_owned(&ik5);
}

/// IK301 must be a 2-3 character ID: one that cannot be written as it was read
/// (empty, too long, odd characters) is written `UNK`; IK302 still says where it is.
fn ik301(id: &str) -> String {
    let fits = (2..=3).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric());
    if fits {
        id.to_owned()
    } else {
        "UNK".to_owned()
    }
}

#[derive(Default)]
pub(crate) struct Writer {
    pub(crate) out: String,
    pub(crate) count: usize,
}

impl Writer {
    /// One segment; empty trailing elements are dropped, values are cleaned of
    /// delimiters.
    pub(crate) fn seg(&mut self, elements: &[&str]) {
        let last = elements.iter().rposition(|e| !e.is_empty()).unwrap_or(0);
        for (i, e) in elements[..=last].iter().enumerate() {
            if i > 0 {
                self.out.push('*');
            }
            self.out.push_str(&clean(e));
        }
        self.out.push_str("~\n");
        self.count += 1;
    }

    /// A segment whose first element is a composite given as `a:b:c` (each part is
    /// cleaned, the `:` kept).
    pub(crate) fn seg_composite_first(&mut self, id: &str, composite: &str, rest: &[&str]) {
        let parts: Vec<String> = composite
            .split(':')
            .map(|p| clean(p).into_owned())
            .collect();
        let mut v: Vec<&str> = vec![id];
        v.extend_from_slice(rest);
        let start = self.out.len();
        self.seg(&v);
        // Put the composite in place of the first '*' boundary.
        let insert_at = start + id.len();
        self.out
            .insert_str(insert_at, &format!("*{}", parts.join(":")));
    }

    pub(crate) fn seg_owned(&mut self, elements: &[String]) {
        let v: Vec<&str> = elements.iter().map(String::as_str).collect();
        self.seg(&v);
    }

    /// The fixed-width ISA (fields padded or cut to width).
    pub(crate) fn isa(
        &mut self,
        sq: &str,
        sid: &str,
        rq: &str,
        rid: &str,
        env: &AckEnvelope,
        usage: &str,
    ) {
        let pad = |s: &str, n: usize| {
            let s: String = clean(s).chars().filter(|c| c.is_ascii()).take(n).collect();
            format!("{s:<n$}")
        };
        let _ = writeln!(
            self.out,
            "ISA*00*{}*00*{}*{}*{}*{}*{}*{}*{}*^*00501*{:09}*0*{}*:~",
            pad("", 10),
            pad("", 10),
            pad(if sq.is_empty() { "ZZ" } else { sq }, 2),
            pad(sid, 15),
            pad(if rq.is_empty() { "ZZ" } else { rq }, 2),
            pad(rid, 15),
            env.stamp.yymmdd(),
            env.stamp.hhmm(),
            env.interchange_control_number % 1_000_000_000,
            usage,
        );
    }
}

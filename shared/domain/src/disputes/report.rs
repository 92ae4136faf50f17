//! The disputes report: how many of each kind, how they came out, and the share
//! acknowledged and decided within their legal clocks.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{Kind, Outcome};

/// What the report needs of one dispute (kept on its list rows).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportInput {
    pub kind: Kind,
    pub outcome: Option<Outcome>,
    pub acknowledge_due: Timestamp,
    pub acknowledged_at: Option<Timestamp>,
    pub decision_due: Timestamp,
    pub decided_at: Option<Timestamp>,
}

/// One clock's figures.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Timeliness {
    /// Done within the clock.
    pub on_time: u64,
    /// Done after it, or not done and already past it.
    pub late: u64,
    /// Not done and not yet due.
    pub pending: u64,
    /// on_time / (on_time + late), rounded to four places; absent when nothing
    /// was due yet.
    pub on_time_share: Option<f64>,
}

impl Timeliness {
    fn count(&mut self, due: Timestamp, done: Option<Timestamp>, now: Timestamp) {
        match done {
            Some(at) if at <= due => self.on_time += 1,
            Some(_) => self.late += 1,
            None if now > due => self.late += 1,
            None => self.pending += 1,
        }
    }

    fn finish(&mut self) {
        let judged = self.on_time + self.late;
        self.on_time_share = (judged > 0)
            .then(|| (self.on_time as f64 / judged as f64 * 10_000.0).round() / 10_000.0);
    }
}

/// The report's figures.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    pub total: u64,
    /// By kind (`pdr`, `appeal`, `grievance`), every kind listed.
    pub by_kind: BTreeMap<String, u64>,
    /// By outcome (`upheld`, `overturned`, `partially_overturned`, and
    /// `undecided`), every outcome listed.
    pub by_outcome: BTreeMap<String, u64>,
    /// Kind by outcome.
    pub by_kind_and_outcome: BTreeMap<String, BTreeMap<String, u64>>,
    pub acknowledgement: Timeliness,
    pub decision: Timeliness,
}

/// The figures of `disputes` as they stand at `now`.
pub fn compute(disputes: impl IntoIterator<Item = ReportInput>, now: Timestamp) -> Figures {
    let outcomes = || {
        Outcome::ALL
            .iter()
            .map(|o| o.as_str())
            .chain(["undecided"])
            .map(|o| (o.to_string(), 0))
            .collect::<BTreeMap<String, u64>>()
    };
    let mut f = Figures {
        by_kind: Kind::ALL
            .iter()
            .map(|k| (k.as_str().to_string(), 0))
            .collect(),
        by_outcome: outcomes(),
        by_kind_and_outcome: Kind::ALL
            .iter()
            .map(|k| (k.as_str().to_string(), outcomes()))
            .collect(),
        ..Figures::default()
    };
    for d in disputes {
        f.total += 1;
        let outcome = d.outcome.map_or("undecided", Outcome::as_str);
        *f.by_kind.entry(d.kind.as_str().into()).or_default() += 1;
        *f.by_outcome.entry(outcome.into()).or_default() += 1;
        *f.by_kind_and_outcome
            .entry(d.kind.as_str().into())
            .or_default()
            .entry(outcome.into())
            .or_default() += 1;
        f.acknowledgement
            .count(d.acknowledge_due, d.acknowledged_at, now);
        f.decision.count(d.decision_due, d.decided_at, now);
    }
    f.acknowledgement.finish();
    f.decision.finish();
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn input(
        kind: Kind,
        outcome: Option<Outcome>,
        ack: Option<&str>,
        dec: Option<&str>,
    ) -> ReportInput {
        ReportInput {
            kind,
            outcome,
            acknowledge_due: ts("2026-03-04T07:59:59Z"),
            acknowledged_at: ack.map(ts),
            decision_due: ts("2026-05-05T06:59:59Z"),
            decided_at: dec.map(ts),
        }
    }

    #[test]
    fn counts_by_kind_and_outcome_and_the_share_on_time() {
        let now = ts("2026-03-10T00:00:00Z");
        let f = compute(
            [
                // Acknowledged and decided on time.
                input(
                    Kind::Pdr,
                    Some(Outcome::Overturned),
                    Some("2026-03-03T00:00:00Z"),
                    Some("2026-03-09T00:00:00Z"),
                ),
                // Acknowledged late, still open (decision not yet due).
                input(Kind::Pdr, None, Some("2026-03-05T00:00:00Z"), None),
                // Never acknowledged and past due.
                input(Kind::Appeal, None, None, None),
                input(
                    Kind::Grievance,
                    Some(Outcome::Upheld),
                    Some("2026-03-02T00:00:00Z"),
                    Some("2026-03-02T00:00:00Z"),
                ),
            ],
            now,
        );
        assert_eq!(f.total, 4);
        assert_eq!(f.by_kind["pdr"], 2);
        assert_eq!(f.by_kind["appeal"], 1);
        assert_eq!(f.by_outcome["overturned"], 1);
        assert_eq!(f.by_outcome["undecided"], 2);
        assert_eq!(
            f.by_outcome["partially_overturned"], 0,
            "every outcome is listed"
        );
        assert_eq!(f.by_kind_and_outcome["grievance"]["upheld"], 1);
        assert_eq!(
            (
                f.acknowledgement.on_time,
                f.acknowledgement.late,
                f.acknowledgement.pending
            ),
            (2, 2, 0)
        );
        assert_eq!(f.acknowledgement.on_time_share, Some(0.5));
        assert_eq!(
            (f.decision.on_time, f.decision.late, f.decision.pending),
            (2, 0, 2)
        );
        assert_eq!(f.decision.on_time_share, Some(1.0));
    }

    #[test]
    fn nothing_due_has_no_share() {
        let f = compute([], ts("2026-03-10T00:00:00Z"));
        assert_eq!(f.total, 0);
        assert_eq!(f.acknowledgement.on_time_share, None);
        assert_eq!(f.by_kind.len(), 3);
    }
}

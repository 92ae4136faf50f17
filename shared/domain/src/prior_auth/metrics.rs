//! What CMS-0057-F asks payers to publish about prior authorisation, for
//! standard (routine) and expedited (urgent) requests apart: the share approved,
//! denied and approved after appeal, and the average and median time from
//! submission to decision.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{PriorAuth, Status, Urgency};

/// What the figures need of one auth; small enough to keep on its list row, so a
/// report reads rows, not whole auths.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricInput {
    /// The urgency the auth was (or is being) decided on.
    pub urgency: Urgency,
    pub status: Status,
    /// What the decision was, whatever happened since (expiry, cancellation):
    /// approved, partially_approved or denied; `None` before any decision.
    pub outcome: Option<Status>,
    pub received_at: Timestamp,
    pub decided_at: Option<Timestamp>,
    pub approved_after_appeal: bool,
    pub deemed: bool,
}

impl PriorAuth {
    /// This auth as the metrics count it.
    pub fn metric_input(&self) -> MetricInput {
        let needing = || self.lines.iter().filter(|l| l.needs_auth);
        let outcome = self.determination.as_ref().map(|_| {
            if needing().all(|l| l.authorized_units == l.requested_units) {
                Status::Approved
            } else if needing().any(|l| l.authorized_units > 0) {
                Status::PartiallyApproved
            } else {
                Status::Denied
            }
        });
        MetricInput {
            urgency: self.urgency,
            status: self.status,
            outcome,
            received_at: self.received_at,
            decided_at: self.determination.as_ref().map(|d| d.decided_at),
            approved_after_appeal: self.approved_after_appeal,
            deemed: self.determination.as_ref().is_some_and(|d| d.deemed),
        }
    }
}

/// The figures of one kind of request.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Figures {
    /// Requests decided in the period (approved, partially approved or denied).
    pub decided: u64,
    pub approved: u64,
    pub partially_approved: u64,
    pub denied: u64,
    /// Denied, then approved on appeal.
    pub approved_after_appeal: u64,
    /// Approved because the IPA did not answer in time (post-stabilisation).
    pub deemed_approved: u64,
    /// Shares of `decided`, in percent with one decimal; `None` with nothing decided.
    pub approved_percent: Option<f64>,
    pub denied_percent: Option<f64>,
    pub approved_after_appeal_percent: Option<f64>,
    /// From receipt to decision.
    pub average_decision_seconds: Option<i64>,
    pub median_decision_seconds: Option<i64>,
}

/// Both kinds, plus what needed no decision.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Metrics {
    pub standard: Figures,
    pub expedited: Figures,
    /// Requests whose every line needed no authorisation (kept as proof).
    pub not_required: u64,
    /// Requests still waiting for a decision.
    pub pending: u64,
}

/// Adds up the auths of the reporting period. A request counts as expedited when
/// it was decided as urgent (a downgraded request is standard).
pub fn compute(auths: impl IntoIterator<Item = MetricInput>) -> Metrics {
    let mut m = Metrics::default();
    let (mut standard_times, mut expedited_times) = (Vec::new(), Vec::new());
    for auth in auths {
        let (decided_at, outcome) = match (auth.status, auth.decided_at, auth.outcome) {
            (Status::NotRequired, _, _) => {
                m.not_required += 1;
                continue;
            }
            (Status::Pended, _, _) => {
                m.pending += 1;
                continue;
            }
            (_, Some(at), Some(outcome)) => (at, outcome),
            // Cancelled before any decision.
            _ => continue,
        };
        let (figures, times) = match auth.urgency {
            Urgency::Routine => (&mut m.standard, &mut standard_times),
            Urgency::Urgent => (&mut m.expedited, &mut expedited_times),
        };
        figures.decided += 1;
        match outcome {
            Status::Approved => figures.approved += 1,
            Status::PartiallyApproved => figures.partially_approved += 1,
            _ => figures.denied += 1,
        }
        if auth.approved_after_appeal {
            figures.approved_after_appeal += 1;
        }
        if auth.deemed {
            figures.deemed_approved += 1;
        }
        times.push(seconds_between(auth.received_at, decided_at));
    }
    for (figures, times) in [
        (&mut m.standard, &mut standard_times),
        (&mut m.expedited, &mut expedited_times),
    ] {
        let share = |n: u64| {
            (figures.decided > 0)
                .then(|| (n as f64 * 1000.0 / figures.decided as f64).round() / 10.0)
        };
        figures.approved_percent = share(figures.approved);
        figures.denied_percent = share(figures.denied);
        figures.approved_after_appeal_percent = share(figures.approved_after_appeal);
        times.sort_unstable();
        if !times.is_empty() {
            let n = times.len() as i64;
            figures.average_decision_seconds = Some(times.iter().sum::<i64>() / n);
            let mid = times.len() / 2;
            figures.median_decision_seconds = Some(if times.len() % 2 == 1 {
                times[mid]
            } else {
                (times[mid - 1] + times[mid]) / 2
            });
        }
    }
    m
}

fn seconds_between(from: Timestamp, to: Timestamp) -> i64 {
    to.duration_since(from).as_secs().max(0)
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::super::review::{Action, Decision, Reviewer, decide};
    use super::super::rules::Context;
    use super::super::{Actor, Source};
    use super::*;
    use crate::ids::{OrgId, RecordKind, ReferenceId};

    fn auth(urgent: bool, decide_after_hours: Option<i64>, deny: bool) -> PriorAuth {
        let policy = policy();
        let mut r = mri_request();
        r.lines = vec![line("97110", 6)];
        if urgent {
            r.urgency = Urgency::Urgent;
            r.urgency_reason = Some("x".into());
        }
        let ctx = Context {
            policy: &policy,
            plan: &policy.plans[0],
            assigned_pcp: None,
            servicing: None,
            member_age: 30,
        };
        let received = ts("2026-11-02T17:00:00Z");
        let mut a = PriorAuth::submitted(
            ReferenceId::from_entropy(RecordKind::PriorAuth, b"abcdef").unwrap(),
            OrgId::parse("o1").unwrap(),
            r,
            received,
            received,
            Source::Portal,
            &ctx,
            None,
            Actor::system(),
        );
        if let Some(h) = decide_after_hours {
            let at = received
                .checked_add(jiff::SignedDuration::from_hours(h))
                .unwrap();
            let (action, reviewer) = if deny {
                (Action::Deny, Reviewer::Physician)
            } else {
                (Action::Approve, Reviewer::Nurse)
            };
            let d = Decision {
                action,
                lines: vec![],
                reason_code: Some("c".into()),
                reason: Some("r".into()),
                criteria: Some("MCG".into()),
                peer_to_peer: Some(super::super::PeerToPeer {
                    name: "n".into(),
                    phone: "p".into(),
                }),
            };
            decide(&mut a, &d, reviewer, Actor::system(), at, &policy, None).unwrap();
        }
        a
    }

    #[test]
    fn shares_and_times_per_kind() {
        let mut appealed = auth(false, Some(30), true);
        appealed.approved_after_appeal = true;
        let auths = [
            auth(false, Some(10), false),
            auth(false, Some(20), false),
            auth(false, Some(40), false),
            appealed,
            auth(true, Some(2), false),
            auth(false, None, false),
        ];
        let m = compute(auths.iter().map(PriorAuth::metric_input));
        assert_eq!(m.pending, 1);
        assert_eq!(m.standard.decided, 4);
        assert_eq!((m.standard.approved, m.standard.denied), (3, 1));
        assert_eq!(m.standard.approved_percent, Some(75.0));
        assert_eq!(m.standard.approved_after_appeal_percent, Some(25.0));
        assert_eq!(m.standard.average_decision_seconds, Some(25 * 3600));
        assert_eq!(m.standard.median_decision_seconds, Some(25 * 3600));
        assert_eq!(m.expedited.decided, 1);
        assert_eq!(m.expedited.median_decision_seconds, Some(2 * 3600));
        assert_eq!(compute([]).standard.approved_percent, None);
    }
}

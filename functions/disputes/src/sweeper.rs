//! The sweeper: keeps the dispute clocks nobody is watching. Every minute (a
//! scheduled Lambda; a background task in `mso serve`) it
//! - flags disputes whose acknowledgement or decision is overdue (once each, in
//!   the dispute's history and on `dispute-events`),
//! - closes decided disputes whose second-level window has ended (grievance
//!   decisions, which are final, at once),
//! - counts and lists what is overdue (the alarm watches the count),
//! - sends outbox events a crashed or failed request left behind.
//!
//! It reads only what is due (timers and the queue are ordered by time), so its
//! cost does not grow with the number of open disputes.

use jiff::{SignedDuration, Timestamp};
use mso_api::{Principal, RequestInfo};
use mso_domain::disputes::review;
use mso_domain::ids::{OrgId, ReferenceId};
use mso_records::disputes::{self, CLAIM_READJUDICATION, Change, DISPUTE_EVENTS, Timer};
use mso_store::{StoreError, keys};
use serde::Serialize;

use crate::Deps;

/// Timers handled in one sweep at most; the rest wait a minute.
const MAX_TIMERS: usize = 1_000;
/// Overdue disputes listed by ID in the report (all are counted).
const MAX_LISTED: usize = 100;
/// Outbox events younger than this are still being published by their request.
const OUTBOX_GRACE: SignedDuration = SignedDuration::from_secs(30);
/// Dispute changes in flight at once.
const CONCURRENCY: usize = 16;

/// What the due timers of one dispute came to.
struct Applied {
    id: String,
    flagged: bool,
    closed: bool,
    /// Nothing to do, or the dispute changed meanwhile (the next sweep looks again).
    skipped: bool,
}

async fn apply(
    deps: &Deps,
    system: &Principal,
    info: &RequestInfo,
    id: ReferenceId,
    now: Timestamp,
) -> Result<Applied, StoreError> {
    let store = deps.records.as_ref();
    let mut applied = Applied {
        id: id.to_string(),
        flagged: false,
        closed: false,
        skipped: true,
    };
    let Some(stored) = disputes::load(store, &id).await? else {
        return Ok(applied);
    };
    let mut dispute = stored.value.0.clone();
    // Whatever is due, whichever timer fired: the domain knows what applies.
    let flagged = review::flag_overdue(&mut dispute, now, &deps.policy);
    let closed = review::close(&mut dispute, now);
    if !flagged && !closed {
        return Ok(applied);
    }
    let change = Change::updated(&stored, &dispute, now)?.audited(
        system,
        "dispute.sweep",
        &dispute,
        info,
        now,
    )?;
    match change.commit(deps.ports(), None).await {
        Ok(()) => {
            applied.flagged = flagged;
            applied.closed = closed;
            applied.skipped = false;
            Ok(applied)
        }
        Err(StoreError::ConditionFailed) => Ok(applied),
        Err(e) => Err(e),
    }
}

/// What one sweep did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SweepReport {
    /// Disputes flagged overdue in this sweep.
    pub flagged: Vec<String>,
    /// Decided disputes closed in this sweep.
    pub closed: Vec<String>,
    /// Open disputes past the clock that runs out next.
    pub overdue_count: usize,
    /// The first of them, earliest due first.
    pub overdue: Vec<String>,
    /// Timers left for the next sweep (the dispute changed meanwhile).
    pub skipped: usize,
    /// Outbox events sent on behalf of requests that did not.
    pub relayed_events: usize,
}

/// One sweep at `now`.
pub async fn sweep(deps: &Deps, now: Timestamp) -> Result<SweepReport, StoreError> {
    let store = deps.records.as_ref();
    let system = Principal {
        subject: "system:disputes-sweeper".into(),
        org: OrgId::parse(&deps.policy.ipa.id)
            .map_err(|e| StoreError::backend("the IPA id is not an organisation id", e))?,
        roles: Vec::new(),
        npis: Vec::new(),
    };
    let info = RequestInfo {
        request_id: format!("dispute-sweep-{}", now.as_second()),
        correlation_id: String::new(),
    };
    let due = mso_records::due_by(now);
    let grace = now.checked_sub(OUTBOX_GRACE).unwrap_or(now);
    let relay =
        |queue| mso_api::outbox::relay(store, deps.queue.as_ref(), queue, grace, MAX_TIMERS);

    // The timers, the overdue count and the two outboxes do not depend on each
    // other: the queue's rows are the open disputes by their next clock, which
    // neither a flag nor a closing moves, and the events this sweep stores are
    // younger than the grace. The everyday minute, nothing due, is one round trip.
    let (mut report, (overdue_count, overdue), dispute_events, readjudications) = tokio::try_join!(
        apply_due_timers(deps, &system, &info, &due, now),
        mso_records::overdue(store, keys::DISPUTE_QUEUE, &due, MAX_LISTED),
        relay(DISPUTE_EVENTS),
        relay(CLAIM_READJUDICATION),
    )?;
    report.overdue_count = overdue_count;
    report.overdue = overdue;
    report.relayed_events = dispute_events + readjudications;

    // The metric filter of the overdue alarm counts this line's field.
    tracing::info!(
        overdue_count = report.overdue_count,
        flagged = report.flagged.len(),
        closed = report.closed.len(),
        relayed_events = report.relayed_events,
        "disputes sweep"
    );
    Ok(report)
}

/// Applies the due timers, oldest first (bounded: the rest wait for the next
/// sweep), a few disputes at a time. One dispute's timers due together are one
/// change: it is applied once.
async fn apply_due_timers(
    deps: &Deps,
    system: &Principal,
    info: &RequestInfo,
    due: &str,
    now: Timestamp,
) -> Result<SweepReport, StoreError> {
    let mut report = SweepReport::default();
    let timers: Vec<Timer> =
        mso_records::due_timers(deps.records.as_ref(), keys::DISPUTE_TIMERS, due, MAX_TIMERS)
            .await?;
    let mut seen = std::collections::HashSet::new();
    let ids = timers
        .into_iter()
        .map(|t: Timer| t.id)
        .filter(|id| seen.insert(id.clone()));
    let applied = mso_api::tasks::spawn_bounded(ids, CONCURRENCY, |id| {
        let (deps, system, info) = (deps.clone(), system.clone(), info.clone());
        async move { apply(&deps, &system, &info, id, now).await }
    })
    .await?;
    for done in applied {
        if done.skipped {
            report.skipped += 1;
        }
        if done.flagged {
            report.flagged.push(done.id.clone());
        }
        if done.closed {
            report.closed.push(done.id);
        }
    }
    report.flagged.sort();
    report.closed.sort();
    Ok(report)
}

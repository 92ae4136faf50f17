//! The sweeper: keeps the clocks nobody is watching. Every minute (a scheduled
//! Lambda; a background task in `mso serve`) it
//! - approves post-stabilisation requests nobody answered in time,
//! - expires approvals past their last valid day,
//! - counts and lists what is overdue for UM (the alarm watches the count),
//! - sends outbox events a crashed or failed request left behind.
//!
//! It reads only what is due (the timers and the queue are ordered by time), so
//! its cost does not grow with the number of open auths.

use jiff::{SignedDuration, Timestamp};
use mso_api::{Principal, RequestInfo};
use mso_domain::ids::OrgId;
use mso_domain::prior_auth::review;
use mso_records::auth_events::AUTH_EVENTS;
use mso_records::prior_auths::{self, Change, Timer, TimerKind};
use mso_store::{StoreError, keys};
use serde::Serialize;

use crate::Deps;

/// Timers handled in one sweep at most; the rest wait a minute.
const MAX_TIMERS: usize = 1_000;
/// Overdue auths listed by ID in the report (all are counted).
const MAX_LISTED: usize = 100;
/// Outbox events younger than this are still being published by their request.
const OUTBOX_GRACE: SignedDuration = SignedDuration::from_secs(30);

/// Auth changes in flight at once.
const CONCURRENCY: usize = 32;

/// What one timer came to.
enum Applied {
    DeemedApproved(String),
    Expired(String),
    /// Nothing to do, or the auth changed meanwhile (the next sweep looks again).
    Skipped,
}

async fn apply(
    deps: &Deps,
    system: &Principal,
    info: &RequestInfo,
    timer: Timer,
    now: Timestamp,
) -> Result<Applied, StoreError> {
    let store = deps.records.as_ref();
    let Some(stored) = prior_auths::load(store, &timer.id).await? else {
        return Ok(Applied::Skipped);
    };
    let mut auth = stored.value.0.clone();
    let changed = match timer.kind {
        TimerKind::DeemedApproval => {
            let coverage_end = prior_auths::coverage_end(store, &auth).await?;
            review::deem_approved(&mut auth, now, &deps.policy, coverage_end)
        }
        TimerKind::Expiry => review::expire(&mut auth, now),
    };
    if !changed {
        return Ok(Applied::Skipped);
    }
    let change = Change::updated(&stored, &auth, now)?.audited(
        system,
        "prior_auth.sweep",
        &auth,
        info,
        now,
    )?;
    match change.commit(deps.ports(), None).await {
        Ok(()) => Ok(match timer.kind {
            TimerKind::DeemedApproval => Applied::DeemedApproved(auth.id.to_string()),
            TimerKind::Expiry => Applied::Expired(auth.id.to_string()),
        }),
        Err(StoreError::ConditionFailed) => Ok(Applied::Skipped),
        Err(e) => Err(e),
    }
}

/// What one sweep did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SweepReport {
    pub deemed_approved: Vec<String>,
    pub expired: Vec<String>,
    /// Pended auths past their decision due time.
    pub overdue_count: usize,
    /// The first of them, earliest due first.
    pub overdue: Vec<String>,
    /// Timers left for the next sweep (the auth changed meanwhile).
    pub skipped: usize,
    /// Outbox events sent on behalf of requests that did not.
    pub relayed_events: usize,
}

/// One sweep at `now`.
pub async fn sweep(deps: &Deps, now: Timestamp) -> Result<SweepReport, StoreError> {
    let store = deps.records.as_ref();
    let system = Principal {
        subject: "system:sweeper".into(),
        org: OrgId::parse(&deps.policy.ipa.id)
            .map_err(|e| StoreError::backend("the IPA id is not an organisation id", e))?,
        roles: Vec::new(),
        npis: Vec::new(),
    };
    let info = RequestInfo {
        request_id: format!("sweep-{}", now.as_second()),
        correlation_id: String::new(),
    };
    let due = mso_records::due_by(now);
    let grace = now.checked_sub(OUTBOX_GRACE).unwrap_or(now);

    // The timers, the overdue count and the outbox do not depend on each other
    // (the events this sweep stores are younger than the grace): the everyday
    // minute, with nothing due, is one round trip.
    let (mut report, counted, relayed_events) = tokio::try_join!(
        apply_due_timers(deps, &system, &info, &due, now),
        mso_records::overdue(store, keys::UM_QUEUE, &due, MAX_LISTED),
        mso_api::outbox::relay(store, deps.queue.as_ref(), AUTH_EVENTS, grace, MAX_TIMERS),
    )?;
    // A deemed approval takes its auth off the UM queue: count again after one.
    (report.overdue_count, report.overdue) = match report.deemed_approved.is_empty() {
        true => counted,
        false => mso_records::overdue(store, keys::UM_QUEUE, &due, MAX_LISTED).await?,
    };
    report.relayed_events = relayed_events;

    // The metric filter of the overdue alarm counts this line's field.
    tracing::info!(
        overdue_count = report.overdue_count,
        deemed_approved = report.deemed_approved.len(),
        expired = report.expired.len(),
        relayed_events = report.relayed_events,
        "prior-auth sweep"
    );
    Ok(report)
}

/// Applies the due timers, oldest first (bounded: the rest wait for the next
/// sweep), many at a time: each is its own transaction, and concurrent
/// transactions share disk flushes (embedded) or round trips (DynamoDB).
async fn apply_due_timers(
    deps: &Deps,
    system: &Principal,
    info: &RequestInfo,
    due: &str,
    now: Timestamp,
) -> Result<SweepReport, StoreError> {
    let mut report = SweepReport::default();
    let timers: Vec<Timer> = mso_records::due_timers(
        deps.records.as_ref(),
        keys::PRIOR_AUTH_TIMERS,
        due,
        MAX_TIMERS,
    )
    .await?;
    let applied = mso_api::tasks::spawn_bounded(timers, CONCURRENCY, |timer| {
        let (deps, system, info) = (deps.clone(), system.clone(), info.clone());
        async move { apply(&deps, &system, &info, timer, now).await }
    })
    .await?;
    for applied in applied {
        match applied {
            Applied::DeemedApproved(id) => report.deemed_approved.push(id),
            Applied::Expired(id) => report.expired.push(id),
            Applied::Skipped => report.skipped += 1,
        }
    }
    report.deemed_approved.sort();
    report.expired.sort();
    Ok(report)
}

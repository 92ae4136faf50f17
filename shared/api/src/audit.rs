//! The PHI access trail: one record per read or write of member data, stored (never
//! logged), indexed by day and by user. A request whose access cannot be recorded is
//! refused, so there is no unaudited PHI access.

use jiff::Timestamp;
use mso_store::{Condition, Record, RecordStore, StoreError, WriteOp, keys};
use serde::Serialize;

use crate::Principal;

/// Who did what to which record, when, why, and what came of it.
#[derive(Debug, Clone)]
pub struct AuditEvent<'a> {
    pub actor: &'a Principal,
    /// `eligibility.lookup`, `prior_auth.read`, ...
    pub action: &'static str,
    /// The purpose of use (`eligibility_verification`, `treatment`, `payment`, `operations`).
    pub purpose: &'static str,
    pub subject_type: &'static str,
    pub subject_id: &'a str,
    pub outcome: &'a str,
    pub request_id: &'a str,
    pub at: Timestamp,
}

#[derive(Serialize)]
struct Stored<'a> {
    event_id: &'a str,
    at: &'a str,
    actor_subject: &'a str,
    actor_org: &'a str,
    actor_roles: Vec<&'static str>,
    action: &'static str,
    purpose: &'static str,
    subject_type: &'static str,
    subject_id: &'a str,
    outcome: &'a str,
    request_id: &'a str,
}

/// Appends one audit record. Fails (and the caller refuses the request) when the
/// store does. An append skips the embedded store's per-request fsync (it is flushed
/// within milliseconds), so auditing a read does not double its latency.
pub async fn record(store: &dyn RecordStore, event: &AuditEvent<'_>) -> Result<(), StoreError> {
    store.append(audit_record(event)?).await
}

/// Appends the audit record of a read while `read` fetches the rest of what is
/// shown (one round trip, not two), and hands back what `read` found only if
/// both succeed: nothing is shown unless its access is recorded.
pub async fn record_alongside<T>(
    store: &dyn RecordStore,
    event: &AuditEvent<'_>,
    read: impl Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    let ((), found) = tokio::try_join!(record(store, event), read)?;
    Ok(found)
}

/// The audit record of a write, to put in the write's own transaction: the change
/// and its trail are stored together or not at all.
pub fn write_op(event: &AuditEvent<'_>) -> Result<WriteOp, StoreError> {
    Ok(WriteOp::Put {
        record: audit_record(event)?,
        condition: Condition::Absent,
    })
}

fn audit_record(event: &AuditEvent<'_>) -> Result<Record, StoreError> {
    let event_id = uuid::Uuid::now_v7().to_string();
    let at = sortable_instant(event.at);
    let day = &at[..10];
    let body = mso_store::Body::of(&Stored {
        event_id: &event_id,
        at: &at,
        actor_subject: &event.actor.subject,
        actor_org: event.actor.org.as_str(),
        actor_roles: event.actor.roles.iter().map(|r| r.as_str()).collect(),
        action: event.action,
        purpose: event.purpose,
        subject_type: event.subject_type,
        subject_id: event.subject_id,
        outcome: event.outcome,
        request_id: event.request_id,
    })
    .map_err(|e| StoreError::backend("serialising an audit event", e))?;
    Ok(
        Record::new(keys::audit_event(day, &at, &event_id), body).with_index(keys::audit_by_actor(
            event.actor.org.as_str(),
            &event.actor.subject,
            &at,
            &event_id,
        )),
    )
}

/// RFC 3339 UTC with fixed microsecond precision, so that keys sort by time
/// (`…:05Z` would sort after `…:05.1Z`).
pub fn sortable_instant(at: Timestamp) -> String {
    format!(
        "{}.{:06}Z",
        at.strftime("%Y-%m-%dT%H:%M:%S"),
        at.subsec_microsecond()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_sort_as_strings() {
        let a: Timestamp = "2026-11-23T10:00:05Z".parse().unwrap();
        let b: Timestamp = "2026-11-23T10:00:05.1Z".parse().unwrap();
        let c: Timestamp = "2026-11-23T10:00:06Z".parse().unwrap();
        let (sa, sb, sc) = (
            sortable_instant(a),
            sortable_instant(b),
            sortable_instant(c),
        );
        assert_eq!(sa, "2026-11-23T10:00:05.000000Z");
        assert!(sa < sb && sb < sc);
    }
}

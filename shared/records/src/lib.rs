//! How each job's records are stored and changed: the record itself, the rows
//! derived from it (lists, work queues, sweeper timers), the outbox event and
//! the audit record, written in one transaction. Every function that touches a
//! kind of record goes through here (a function never imports another function),
//! so the intake clerk files an auth exactly as the portal does.
//!
//! No business rule lives here: those are `mso_domain`'s. This crate decides
//! only where and how things are stored (every key comes from
//! `mso_store::keys`).

use mso_store::{RecordStore, WorkQueue};

pub mod auth_events;
pub mod claims;
pub mod disputes;
pub mod documents;
pub mod intake;
pub mod prior_auths;

/// The ports a change needs: the table and the queues.
#[derive(Clone, Copy)]
pub struct Ports<'a> {
    pub records: &'a dyn RecordStore,
    pub queue: &'a dyn WorkQueue,
}

/// The upper sort-key bound of rows due by `now` (timers, queues ordered by
/// their next clock): their keys start with the due instant, sortable.
pub fn due_by(now: jiff::Timestamp) -> String {
    format!("{}#~", mso_api::audit::sortable_instant(now))
}

/// The sweeper timers of `partition` (`keys::PRIOR_AUTH_TIMERS`...) up to `due`
/// ([`due_by`]), oldest first, at most `max` (the rest wait for the next
/// sweep). A row that does not read as a `T` is left out.
pub async fn due_timers<T: serde::de::DeserializeOwned>(
    store: &dyn RecordStore,
    partition: &str,
    due: &str,
    max: usize,
) -> Result<Vec<T>, mso_store::StoreError> {
    let mut timers = Vec::new();
    let mut cursor = None;
    while timers.len() < max {
        let page = store
            .query(
                mso_store::Query::between(partition, String::new(), due)
                    .limit(max - timers.len())
                    .after(cursor.take()),
            )
            .await?;
        timers.extend(
            page.records
                .into_iter()
                .filter_map(|r| r.body.decode::<T>().ok()),
        );
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    Ok(timers)
}

/// What is overdue in the work queue `partition` (`keys::UM_QUEUE`...), whose
/// rows are keyed by their due instant: how many rows are due by `due`
/// ([`due_by`]), and the `id`s of the first `max_listed`, earliest first. Only
/// overdue rows are read.
pub async fn overdue(
    store: &dyn RecordStore,
    partition: &str,
    due: &str,
    max_listed: usize,
) -> Result<(usize, Vec<String>), mso_store::StoreError> {
    /// Every queue row's summary names its record.
    #[derive(serde::Deserialize)]
    struct Listed {
        id: String,
    }
    let (mut count, mut listed) = (0, 0);
    let ids = mso_api::paging::read_all(
        store,
        mso_store::Query::between(partition, String::new(), due),
        |row| {
            count += 1;
            if listed == max_listed {
                return None;
            }
            let id = row.body.decode::<Listed>().ok()?.id;
            listed += 1;
            Some(id)
        },
    )
    .await?;
    Ok((count, ids))
}

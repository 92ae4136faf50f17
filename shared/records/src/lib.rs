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

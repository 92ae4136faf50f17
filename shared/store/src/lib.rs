//! The storage ports the functions need, and the adapters behind them.
//!
//! - [`RecordStore`]: one logical table (single-table design; every key is built in
//!   [`keys`], nowhere else).
//! - [`DocumentStore`]: objects (uploads, intake files, claim files) with short-lived
//!   presigned PUT/GET.
//! - [`WorkQueue`]: named queues with de-duplication, visibility timeout, receive count
//!   and dead-letter queues.
//!
//! Adapters: `embedded` (redb file + object directory, for `mso serve`) and `aws`
//! (DynamoDB, S3, SQS). Both pass the same contract suite (`tests/contract/mod.rs`, run by
//! `tests/embedded.rs` and, on the moto emulator, `tests/aws.rs`).
//! Adapters hold no business rules: they store what they are given.

#[cfg(any(feature = "embedded", feature = "aws"))]
mod cursor;
#[cfg(any(feature = "embedded", feature = "aws"))]
pub use cursor::CursorKey;
mod document;
mod error;
pub mod keys;
mod queue;
mod record;

#[cfg(feature = "aws")]
pub mod aws;
#[cfg(feature = "embedded")]
pub mod embedded;

pub use document::{DocumentStore, ObjectMeta, PresignedRequest, attachment_disposition};
pub use error::StoreError;
pub use queue::{Outgoing, QueueMessage, ReceiveOptions, TableStreamWorkQueue, WorkQueue};
pub use record::{
    Body, Condition, FIRST_VERSION, Index, Key, MAX_GET_MANY_KEYS, Page, PutOutcome, Query, Record,
    RecordStore, WriteOp,
};

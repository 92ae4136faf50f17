//! The redb tables of the embedded store. Tuple keys order component by component,
//! and `&str` orders by UTF-8 bytes, as DynamoDB orders string keys.

use redb::{Database, TableDefinition};

/// (pk, sk) -> encoded record (see `codec`).
pub(crate) const RECORDS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("records");

/// (gsi1 pk, gsi1 sk, pk, sk) -> (). The primary key makes entries unique when
/// several records share an index key, as a DynamoDB GSI allows.
pub(crate) const GSI1: TableDefinition<(&str, &str, &str, &str), ()> =
    TableDefinition::new("records_gsi1");

/// object key -> content type. The bytes are a file under `objects/`.
pub(crate) const OBJECTS: TableDefinition<&str, &str> = TableDefinition::new("objects");

/// (queue, sequence number) -> encoded message (see `queue`).
pub(crate) const QUEUE_MESSAGES: TableDefinition<(&str, u64), &[u8]> =
    TableDefinition::new("queue_messages");

/// (queue, visible at ms, sequence number) -> (): messages in the order they
/// become receivable, so a receive reads only what is ready.
pub(crate) const QUEUE_VISIBILITY: TableDefinition<(&str, u64, u64), ()> =
    TableDefinition::new("queue_visibility");

/// (queue, dedup id) -> (expires at ms, message id).
pub(crate) const QUEUE_DEDUP: TableDefinition<(&str, &str), (u64, &str)> =
    TableDefinition::new("queue_dedup");

/// (expires at ms, queue, dedup id) -> (): lets a send purge expired dedup entries
/// oldest first without scanning.
pub(crate) const QUEUE_DEDUP_EXPIRY: TableDefinition<(u64, &str, &str), ()> =
    TableDefinition::new("queue_dedup_expiry");

/// Counters (`queue_seq`).
pub(crate) const COUNTERS: TableDefinition<&str, u64> = TableDefinition::new("counters");

/// Creates every table, so read transactions never meet a missing one.
pub(crate) fn create_all(db: &Database) -> Result<(), redb::Error> {
    let txn = db.begin_write()?;
    txn.open_table(RECORDS)?;
    txn.open_table(GSI1)?;
    txn.open_table(OBJECTS)?;
    txn.open_table(QUEUE_MESSAGES)?;
    txn.open_table(QUEUE_VISIBILITY)?;
    txn.open_table(QUEUE_DEDUP)?;
    txn.open_table(QUEUE_DEDUP_EXPIRY)?;
    txn.open_table(COUNTERS)?;
    txn.commit()?;
    Ok(())
}

//! `RecordStore` over redb: table `records` keyed by (pk, sk) and table
//! `records_gsi1` keyed by (gsi1 pk, gsi1 sk, pk, sk), kept in step by every write.

use std::collections::HashSet;
use std::ops::Bound;
use std::sync::Arc;

use async_trait::async_trait;
use redb::{ReadTransaction, ReadableTable, WriteTransaction};

use super::tables::{GSI1, RECORDS};
use super::writer::JobError;
use super::{Core, codec, db_error};
use crate::record::{check_get_many, check_transaction};
use crate::{
    Condition, CursorKey, Index, Key, Page, Query, Record, RecordStore, StoreError, WriteOp, cursor,
};

/// DynamoDB's item size limit, enforced here too so a record that works locally
/// also works deployed.
const MAX_RECORD_BYTES: usize = 400 * 1024;

pub struct EmbeddedRecordStore {
    core: Arc<Core>,
    cursor_key: CursorKey,
}

impl EmbeddedRecordStore {
    pub(super) fn new(core: Arc<Core>, cursor_key: CursorKey) -> Self {
        EmbeddedRecordStore { core, cursor_key }
    }
}

/// A write operation with its record already encoded (off the writer thread).
enum Prepared {
    Put {
        key: Key,
        bytes: Vec<u8>,
        index: Option<Key>,
        condition: Condition,
    },
    Delete {
        key: Key,
        condition: Condition,
    },
    Check {
        key: Key,
        condition: Condition,
    },
}

impl Prepared {
    fn from_op(op: WriteOp) -> Result<Prepared, StoreError> {
        check_key(op_key(&op))?;
        Ok(match op {
            WriteOp::Put { record, condition } => {
                if let Some(index) = &record.index_key {
                    check_key(index)?;
                }
                let bytes = codec::encode(&record)?;
                if bytes.len() > MAX_RECORD_BYTES {
                    return Err(StoreError::InvalidInput("record is larger than 400 KB"));
                }
                Prepared::Put {
                    key: record.key,
                    bytes,
                    index: record.index_key,
                    condition,
                }
            }
            WriteOp::Delete { key, condition } => Prepared::Delete { key, condition },
            WriteOp::Check { key, condition } => Prepared::Check { key, condition },
        })
    }

    fn key(&self) -> &Key {
        match self {
            Prepared::Put { key, .. }
            | Prepared::Delete { key, .. }
            | Prepared::Check { key, .. } => key,
        }
    }

    fn condition(&self) -> &Condition {
        match self {
            Prepared::Put { condition, .. }
            | Prepared::Delete { condition, .. }
            | Prepared::Check { condition, .. } => condition,
        }
    }
}

/// DynamoDB's limits on key attributes (non-empty; 2048 bytes of partition key,
/// 1024 of sort key), enforced here too so keys that work locally work deployed.
fn check_key(key: &Key) -> Result<(), StoreError> {
    let refuse = |why: &'static str| Err(StoreError::backend("invalid record key", why));
    if key.pk.is_empty() || key.sk.is_empty() {
        return refuse("partition and sort keys must not be empty");
    }
    if key.pk.len() > 2048 || key.sk.len() > 1024 {
        return refuse("partition key over 2048 bytes or sort key over 1024 bytes");
    }
    Ok(())
}

/// Whether `condition` holds for the stored (version, expires_at), if any.
fn holds(condition: &Condition, current: Option<(u64, Option<i64>)>) -> bool {
    match *condition {
        Condition::None => true,
        Condition::Absent => current.is_none(),
        Condition::AbsentOrExpired { now } => {
            current.is_none_or(|(_, expires)| expires.is_some_and(|at| at <= now))
        }
        Condition::VersionIs(v) => current.is_some_and(|(version, _)| version == v),
    }
}

/// Applies `ops` all or nothing inside the writer's transaction: every condition is
/// checked (against the state left by earlier jobs of the batch) before anything
/// is written.
fn apply(txn: &WriteTransaction, ops: Vec<Prepared>) -> Result<(), JobError> {
    let mut records = txn.open_table(RECORDS)?;
    // The gsi1 key each op's current record has, to unlink it when overwritten.
    let mut old_index = Vec::with_capacity(ops.len());
    for op in &ops {
        let key = op.key();
        let current = records.get((key.pk.as_str(), key.sk.as_str()))?;
        let header = match &current {
            Some(bytes) => {
                Some(codec::header(bytes.value()).map_err(|e| JobError::Refused(e.into()))?)
            }
            None => None,
        };
        if !holds(
            op.condition(),
            header.as_ref().map(|h| (h.version, h.expires_at)),
        ) {
            return Err(JobError::Refused(StoreError::ConditionFailed));
        }
        old_index.push(
            header
                .and_then(|h| h.index)
                .map(|(pk, sk)| (pk.to_owned(), sk.to_owned())),
        );
    }
    let mut gsi = txn.open_table(GSI1)?;
    for (op, old_index) in ops.into_iter().zip(old_index) {
        let (key, new_index) = match op {
            Prepared::Check { .. } => continue,
            Prepared::Put {
                key, bytes, index, ..
            } => {
                records.insert((key.pk.as_str(), key.sk.as_str()), bytes.as_slice())?;
                (key, index)
            }
            Prepared::Delete { key, .. } => {
                records.remove((key.pk.as_str(), key.sk.as_str()))?;
                (key, None)
            }
        };
        let (pk, sk) = (key.pk.as_str(), key.sk.as_str());
        if let Some((ipk, isk)) = &old_index {
            gsi.remove((ipk.as_str(), isk.as_str(), pk, sk))?;
        }
        if let Some(index) = &new_index {
            gsi.insert((index.pk.as_str(), index.sk.as_str(), pk, sk), ())?;
        }
    }
    Ok(())
}

#[async_trait]
impl RecordStore for EmbeddedRecordStore {
    async fn get(&self, key: &Key) -> Result<Option<Record>, StoreError> {
        self.core.read_now(|txn| {
            let records = txn.open_table(RECORDS).map_err(db_error)?;
            read(&records, key)
        })
    }

    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Record>>, StoreError> {
        check_get_many(keys)?;
        // One read transaction: the keys see one snapshot here (more than the
        // port promises).
        self.core.read_now(|txn| {
            let records = txn.open_table(RECORDS).map_err(db_error)?;
            keys.iter().map(|key| read(&records, key)).collect()
        })
    }

    async fn put(&self, record: Record, condition: Condition) -> Result<(), StoreError> {
        let op = Prepared::from_op(WriteOp::Put { record, condition })?;
        self.core.write(move |txn| apply(txn, vec![op])).await
    }

    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        check_transaction(&ops)?;
        // DynamoDB refuses a transaction that names one item twice; so does this
        // adapter, so code that works locally works deployed.
        let mut seen = HashSet::with_capacity(ops.len());
        if !ops.iter().all(|op| seen.insert(op_key(op))) {
            return Err(StoreError::InvalidInput(
                "two operations on the same key in one transaction",
            ));
        }
        if ops.is_empty() {
            return Ok(());
        }
        let ops = ops
            .into_iter()
            .map(Prepared::from_op)
            .collect::<Result<Vec<_>, _>>()?;
        self.core.write(move |txn| apply(txn, ops)).await
    }

    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        let key = self.cursor_key.clone();
        self.core
            .read(move |txn| match query.index {
                Index::Primary => query_primary(txn, &query, &key),
                Index::Gsi1 => query_gsi1(txn, &query, &key),
            })
            .await
    }

    /// Answered without waiting for the fsync (see `writer`): the audit record of a
    /// read must not cost the reader a disk flush.
    async fn append(&self, record: Record) -> Result<(), StoreError> {
        let op = Prepared::from_op(WriteOp::Put {
            record,
            condition: Condition::Absent,
        })?;
        self.core
            .write_deferred(move |txn| apply(txn, vec![op]))
            .await
    }

    async fn put_lazy(&self, record: Record, condition: Condition) -> Result<(), StoreError> {
        let op = Prepared::from_op(WriteOp::Put { record, condition })?;
        self.core
            .write_deferred(move |txn| apply(txn, vec![op]))
            .await
    }

    async fn delete_lazy(&self, key: &Key) -> Result<(), StoreError> {
        let op = Prepared::from_op(WriteOp::Delete {
            key: key.clone(),
            condition: Condition::None,
        })?;
        self.core
            .write_deferred(move |txn| apply(txn, vec![op]))
            .await
    }
}

/// The record under `key` in an open `records` table.
fn read(
    records: &impl ReadableTable<(&'static str, &'static str), &'static [u8]>,
    key: &Key,
) -> Result<Option<Record>, StoreError> {
    let found = records
        .get((key.pk.as_str(), key.sk.as_str()))
        .map_err(db_error)?;
    match found {
        Some(bytes) => Ok(Some(codec::decode(key.clone(), bytes.value())?)),
        None => Ok(None),
    }
}

fn op_key(op: &WriteOp) -> &Key {
    match op {
        WriteOp::Put { record, .. } => &record.key,
        WriteOp::Delete { key, .. } | WriteOp::Check { key, .. } => key,
    }
}

/// The smallest string greater than every string that starts with `prefix`, or
/// `None` when there is none (empty prefix, or only `char::MAX`).
fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        // UTF-8 byte order is code point order, so the next code point bounds the range.
        let next = match last {
            '\u{D7FF}' => Some('\u{E000}'),
            c => char::from_u32(u32::from(c) + 1),
        };
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// The smallest string greater than `s` (used to bound "all of partition `s`").
fn successor(s: &str) -> String {
    format!("{s}\0")
}

/// Page size actually used: DynamoDB rejects a limit of 0, this store reads one.
fn page_limit(query: &Query) -> usize {
    query.limit.max(1)
}

fn query_primary(
    txn: &ReadTransaction,
    query: &Query,
    key: &CursorKey,
) -> Result<Page, StoreError> {
    let after: Option<(String,)> = query
        .cursor
        .as_deref()
        .map(|c| cursor::open(key, query, c))
        .transpose()?;
    let after = after.map(|(sk,)| sk);
    let pk = query.pk.as_str();
    let prefix = query.sk_prefix.as_str();
    let end = prefix_end(prefix);
    let pk_next = successor(pk);

    let (mut lower, mut upper) = match &query.sk_between {
        Some((from, to)) => (
            Bound::Included((pk, from.as_str())),
            Bound::Included((pk, to.as_str())),
        ),
        None => (
            Bound::Included((pk, prefix)),
            match &end {
                Some(end) => Bound::Excluded((pk, end.as_str())),
                None => Bound::Excluded((pk_next.as_str(), "")),
            },
        ),
    };
    if let Some(after) = after.as_deref() {
        // Resume after the cursor's key (it lies inside the range: cursors are
        // sealed to their query).
        if query.descending {
            upper = Bound::Excluded((pk, after));
        } else {
            lower = Bound::Excluded((pk, after));
        }
    }
    if bounds_empty(&lower, &upper) {
        return Ok(Page::default());
    }

    let records = txn.open_table(RECORDS).map_err(db_error)?;
    let range = records
        .range::<(&str, &str)>((lower, upper))
        .map_err(db_error)?;
    let limit = page_limit(query);
    let iter: Box<dyn Iterator<Item = _>> = if query.descending {
        Box::new(range.rev())
    } else {
        Box::new(range)
    };
    let mut page = Vec::new();
    let mut more = false;
    for entry in iter {
        if page.len() == limit {
            more = true;
            break;
        }
        let (key, value) = entry.map_err(db_error)?;
        let (pk, sk) = key.value();
        page.push(codec::decode(Key::new(pk, sk), value.value())?);
    }
    let next = match page.last() {
        Some(last) if more => Some(cursor::seal(key, query, &(&last.key.sk,))?),
        _ => None,
    };
    Ok(Page {
        records: page,
        next,
    })
}

fn query_gsi1(txn: &ReadTransaction, query: &Query, key: &CursorKey) -> Result<Page, StoreError> {
    let after: Option<(String, String, String)> = query
        .cursor
        .as_deref()
        .map(|c| cursor::open(key, query, c))
        .transpose()?;
    let gpk = query.pk.as_str();
    let prefix = query.sk_prefix.as_str();
    let end = prefix_end(prefix);
    let gpk_next = successor(gpk);
    let to_next = query.sk_between.as_ref().map(|(_, to)| successor(to));

    let (mut lower, mut upper) = match (&query.sk_between, &to_next) {
        (Some((from, _)), Some(to_next)) => (
            Bound::Included((gpk, from.as_str(), "", "")),
            Bound::Excluded((gpk, to_next.as_str(), "", "")),
        ),
        _ => (
            Bound::Included((gpk, prefix, "", "")),
            match &end {
                Some(end) => Bound::Excluded((gpk, end.as_str(), "", "")),
                None => Bound::Excluded((gpk_next.as_str(), "", "", "")),
            },
        ),
    };
    if let Some((gsk, pk, sk)) = &after {
        let at = (gpk, gsk.as_str(), pk.as_str(), sk.as_str());
        if query.descending {
            upper = Bound::Excluded(at);
        } else {
            lower = Bound::Excluded(at);
        }
    }
    if bounds_empty(&lower, &upper) {
        return Ok(Page::default());
    }

    let index = txn.open_table(GSI1).map_err(db_error)?;
    let records = txn.open_table(RECORDS).map_err(db_error)?;
    let range = index
        .range::<(&str, &str, &str, &str)>((lower, upper))
        .map_err(db_error)?;
    let limit = page_limit(query);
    let iter: Box<dyn Iterator<Item = _>> = if query.descending {
        Box::new(range.rev())
    } else {
        Box::new(range)
    };
    let mut page: Vec<Record> = Vec::new();
    let mut more = false;
    for entry in iter {
        if page.len() == limit {
            more = true;
            break;
        }
        let (key, _) = entry.map_err(db_error)?;
        let (_, _, pk, sk) = key.value();
        // Same snapshot, so the record is there; skip rather than fail if not.
        if let Some(bytes) = records.get((pk, sk)).map_err(db_error)? {
            page.push(codec::decode(Key::new(pk, sk), bytes.value())?);
        }
    }
    let next = match page.last() {
        Some(last) if more => {
            let index_sk = last.index_key.as_ref().map_or("", |k| k.sk.as_str());
            Some(cursor::seal(
                key,
                query,
                &(index_sk, &last.key.pk, &last.key.sk),
            )?)
        }
        _ => None,
    };
    Ok(Page {
        records: page,
        next,
    })
}

/// Whether a range has no keys at all (an inverted `between`, or a cursor at
/// its end): redb refuses to iterate an inverted range.
fn bounds_empty<T: PartialOrd>(lower: &Bound<T>, upper: &Bound<T>) -> bool {
    match (lower, upper) {
        (Bound::Included(l), Bound::Included(u)) => l > u,
        (Bound::Included(l) | Bound::Excluded(l), Bound::Included(u) | Bound::Excluded(u)) => {
            l >= u
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_end_bounds_exactly_the_prefix() {
        assert_eq!(prefix_end(""), None);
        assert_eq!(prefix_end("ab").as_deref(), Some("ac"));
        assert_eq!(prefix_end("a\u{D7FF}").as_deref(), Some("a\u{E000}"));
        assert_eq!(prefix_end("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_end("\u{10FFFF}"), None);
        let end = prefix_end("2024-").unwrap();
        assert!("2024-12-31" < end.as_str() && "2024." >= end.as_str());
    }

    #[test]
    fn conditions() {
        let live = Some((3, Some(100)));
        let expired = Some((3, Some(50)));
        assert!(holds(&Condition::None, live));
        assert!(holds(&Condition::Absent, None) && !holds(&Condition::Absent, expired));
        assert!(holds(&Condition::AbsentOrExpired { now: 50 }, expired));
        assert!(!holds(&Condition::AbsentOrExpired { now: 99 }, live));
        assert!(!holds(
            &Condition::AbsentOrExpired { now: 99 },
            Some((1, None))
        ));
        assert!(holds(&Condition::VersionIs(3), live) && !holds(&Condition::VersionIs(2), live));
        assert!(!holds(&Condition::VersionIs(3), None));
    }
}

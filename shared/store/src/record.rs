use async_trait::async_trait;

use crate::StoreError;

/// Primary key of a record: partition key and sort key. Build keys with [`crate::keys`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Key {
            pk: pk.into(),
            sk: sk.into(),
        }
    }
}

/// The version of a record as first written.
pub const FIRST_VERSION: u64 = 1;

/// One item of the single table.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    pub key: Key,
    /// Key in the secondary index `gsi1`, when the record is reachable that way.
    pub index_key: Option<Key>,
    /// Optimistic-concurrency version, chosen by the writer (1 for a new record;
    /// `previous + 1` together with `Condition::VersionIs(previous)` for an update).
    pub version: u64,
    /// Unix seconds after which the record is dead. Stores may delete it lazily
    /// (DynamoDB TTL), so readers that care check it themselves.
    pub expires_at: Option<i64>,
    /// The record's content. Adapters store it as given.
    pub body: Body,
}

impl Record {
    /// `body`: a [`Body`], or a `serde_json::Value` (made into one).
    pub fn new(key: Key, body: impl Into<Body>) -> Self {
        Record {
            key,
            index_key: None,
            version: FIRST_VERSION,
            expires_at: None,
            body: body.into(),
        }
    }

    pub fn with_index(mut self, index_key: Key) -> Self {
        self.index_key = Some(index_key);
        self
    }

    pub fn with_version(mut self, version: u64) -> Self {
        self.version = version;
        self
    }

    pub fn with_expiry(mut self, expires_at: i64) -> Self {
        self.expires_at = Some(expires_at);
        self
    }

    /// Whether the record has expired at `now` (unix seconds).
    pub fn is_expired(&self, now: i64) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }
}

/// A record's content: its JSON text, as both adapters store it. A reader
/// decodes it straight into the type it wants ([`Body::decode`]), a writer
/// prints its type straight to text ([`Body::of`]): a `serde_json::Value`
/// tree built and converted on each read and write cost claims-edits' cold
/// start 0.2 M instructions, 3% (docs/performance.md, "Record bodies are JSON
/// text").
#[derive(Clone)]
pub struct Body(String);

impl Body {
    /// `value` as JSON.
    pub fn of<T: serde::Serialize + ?Sized>(value: &T) -> Result<Body, serde_json::Error> {
        serde_json::to_string(value).map(Body)
    }

    /// Text an adapter stored from a [`Body`], unchecked: a body that is not
    /// JSON (the store's data corrupted) fails the reader's decode.
    pub(crate) fn stored(text: String) -> Body {
        Body(text)
    }

    /// The body decoded as `T`.
    pub fn decode<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(&self.0)
    }

    /// The body as a JSON tree, for a reader that looks at its fields one by one.
    pub fn to_value(&self) -> Result<serde_json::Value, serde_json::Error> {
        self.decode()
    }

    /// The JSON text.
    pub fn as_json(&self) -> &str {
        &self.0
    }
}

/// `null`, as `serde_json::Value`'s default.
impl Default for Body {
    fn default() -> Body {
        Body("null".to_owned())
    }
}

impl From<serde_json::Value> for Body {
    fn from(value: serde_json::Value) -> Body {
        // A Value always prints as JSON.
        Body(value.to_string())
    }
}

/// Bodies are equal as JSON, whatever the order of their keys or spacing.
impl PartialEq for Body {
    fn eq(&self, other: &Body) -> bool {
        // Two prints of one type are the same text: no parse.
        if self.0 == other.0 {
            return true;
        }
        match (self.to_value(), other.to_value()) {
            (Ok(a), Ok(b)) => a == b,
            // Different text, one of them not JSON.
            _ => false,
        }
    }
}

impl PartialEq<serde_json::Value> for Body {
    fn eq(&self, other: &serde_json::Value) -> bool {
        self.to_value().is_ok_and(|value| value == *other)
    }
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Body({})", self.0)
    }
}

/// The precondition of a write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Condition {
    /// Write whatever is there.
    None,
    /// Only if no record exists under the key.
    Absent,
    /// Only if no record exists, or the existing one expired at or before `now`
    /// (unix seconds). TTL deletion is lazy, so the condition checks it itself.
    AbsentOrExpired { now: i64 },
    /// Only if a record exists with exactly this version.
    VersionIs(u64),
}

/// One operation of a transactional write.
#[derive(Clone, Debug, PartialEq)]
pub enum WriteOp {
    Put {
        record: Record,
        condition: Condition,
    },
    Delete {
        key: Key,
        condition: Condition,
    },
    /// Write nothing, but fail the transaction unless the condition holds.
    Check {
        key: Key,
        condition: Condition,
    },
}

/// Which key a query runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Index {
    Primary,
    /// The secondary index `gsi1` (`Record::index_key`).
    Gsi1,
}

/// Records of one partition whose sort key starts with a prefix (or lies in an
/// inclusive range), in sort-key order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    pub index: Index,
    pub pk: String,
    pub sk_prefix: String,
    /// Instead of the prefix: sort keys from the first to the second, both
    /// included (DynamoDB's `BETWEEN`).
    pub sk_between: Option<(String, String)>,
    /// At most this many records in one page.
    pub limit: usize,
    /// Newest (highest sort key) first.
    pub descending: bool,
    /// Continue after the page that returned this cursor.
    pub cursor: Option<String>,
}

impl Query {
    pub fn primary(pk: impl Into<String>, sk_prefix: impl Into<String>) -> Self {
        Query {
            index: Index::Primary,
            pk: pk.into(),
            sk_prefix: sk_prefix.into(),
            sk_between: None,
            limit: 100,
            descending: false,
            cursor: None,
        }
    }

    pub fn gsi1(pk: impl Into<String>, sk_prefix: impl Into<String>) -> Self {
        Query {
            index: Index::Gsi1,
            ..Query::primary(pk, sk_prefix)
        }
    }

    /// Records of partition `pk` with `from <= sk <= to`.
    pub fn between(pk: impl Into<String>, from: impl Into<String>, to: impl Into<String>) -> Self {
        Query {
            sk_between: Some((from.into(), to.into())),
            ..Query::primary(pk, "")
        }
    }

    /// The same on the secondary index `gsi1`.
    pub fn gsi1_between(
        pk: impl Into<String>,
        from: impl Into<String>,
        to: impl Into<String>,
    ) -> Self {
        Query {
            index: Index::Gsi1,
            ..Query::between(pk, from, to)
        }
    }

    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = limit;
        self
    }

    pub fn descending(mut self) -> Self {
        self.descending = true;
        self
    }

    pub fn after(mut self, cursor: Option<String>) -> Self {
        self.cursor = cursor;
        self
    }
}

/// One page of query results. `next` is an opaque cursor, present when more
/// records may follow.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Page {
    pub records: Vec<Record>,
    pub next: Option<String>,
}

/// Most operations in one [`RecordStore::transact`] (DynamoDB's limit).
const MAX_TRANSACTION_OPS: usize = 100;

/// Most keys in one [`RecordStore::get_many`] (DynamoDB's `BatchGetItem` limit).
pub const MAX_GET_MANY_KEYS: usize = 100;

/// Refuses a transaction DynamoDB would refuse for its size, in every adapter, so
/// code that works locally works deployed.
#[cfg_attr(not(any(feature = "embedded", feature = "aws")), allow(dead_code))]
pub(crate) fn check_transaction(ops: &[WriteOp]) -> Result<(), StoreError> {
    if ops.len() > MAX_TRANSACTION_OPS {
        return Err(StoreError::InvalidInput(
            "more than 100 operations in one transaction",
        ));
    }
    Ok(())
}

/// Refuses a read of more keys than [`MAX_GET_MANY_KEYS`], in every adapter.
pub(crate) fn check_get_many(keys: &[Key]) -> Result<(), StoreError> {
    if keys.len() > MAX_GET_MANY_KEYS {
        return Err(StoreError::InvalidInput("more than 100 keys in one read"));
    }
    Ok(())
}

/// What [`RecordStore::put_lazy_or_get`] did.
#[derive(Clone, Debug, PartialEq)]
pub enum PutOutcome {
    /// The condition held; the record is written.
    Written,
    /// The condition failed; the record under the key as it was then (`None`
    /// when there is none, as for a version condition on an absent record).
    Refused(Option<Record>),
}

/// The single logical table.
#[async_trait]
pub trait RecordStore: Send + Sync {
    async fn get(&self, key: &Key) -> Result<Option<Record>, StoreError>;

    /// The records under `keys`, in the same order (`None` where there is none),
    /// read in one request where the backend has one: a request, its signing and
    /// on a cold start its connection, instead of one per key. A key may appear
    /// more than once; at most [`MAX_GET_MANY_KEYS`] keys. Each record is read
    /// as `get` reads it (strongly consistent); the records are not a snapshot
    /// taken at one instant.
    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Record>>, StoreError> {
        check_get_many(keys)?;
        let mut records = Vec::with_capacity(keys.len());
        for key in keys {
            records.push(self.get(key).await?);
        }
        Ok(records)
    }

    /// Write one record if `condition` holds; `StoreError::ConditionFailed` otherwise.
    async fn put(&self, record: Record, condition: Condition) -> Result<(), StoreError>;

    /// Write all operations or none (at most 100, as DynamoDB allows). A failed
    /// condition on any operation is `StoreError::ConditionFailed`.
    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), StoreError>;

    async fn query(&self, query: Query) -> Result<Page, StoreError>;

    /// Writes a record that is never updated (an audit event) if its key is free.
    /// It is readable at once; an adapter may make it durable a short, bounded time
    /// later (the embedded store batches such writes into one fsync every few
    /// milliseconds), so a crash may lose the last moments of appends but never a
    /// `put` or `transact`. DynamoDB writes are durable at once.
    async fn append(&self, record: Record) -> Result<(), StoreError> {
        self.put(record, Condition::Absent).await
    }

    /// A conditional put whose loss in a crash is harmless, so it may become
    /// durable a short, bounded time later, like [`RecordStore::append`]: an
    /// idempotency claim (a retry simply takes it again). Readable at once, and
    /// made durable no later than the next durable write.
    async fn put_lazy(&self, record: Record, condition: Condition) -> Result<(), StoreError> {
        self.put(record, condition).await
    }

    /// [`RecordStore::put_lazy`] that, when `condition` fails, answers the
    /// record that failed it, read in the same request where the backend can
    /// (DynamoDB's `ReturnValuesOnConditionCheckFailure`): an idempotency
    /// claim, whose holder says what to answer, costs one request, not two.
    async fn put_lazy_or_get(
        &self,
        record: Record,
        condition: Condition,
    ) -> Result<PutOutcome, StoreError> {
        let key = record.key.clone();
        match self.put_lazy(record, condition).await {
            Ok(()) => Ok(PutOutcome::Written),
            Err(StoreError::ConditionFailed) => Ok(PutOutcome::Refused(self.get(&key).await?)),
            Err(e) => Err(e),
        }
    }

    /// Removes a record whose reappearance after a crash is harmless (a sent
    /// outbox event, which at worst is sent again), with the same lazy
    /// durability.
    async fn delete_lazy(&self, key: &Key) -> Result<(), StoreError> {
        self.transact(vec![WriteOp::Delete {
            key: key.clone(),
            condition: Condition::None,
        }])
        .await
    }

    /// [`RecordStore::delete_lazy`] for several records, in as few requests as
    /// the backend allows (DynamoDB's `BatchWriteItem` takes 25). Not atomic:
    /// on an error some may be removed and others not.
    async fn delete_many_lazy(&self, keys: &[Key]) -> Result<(), StoreError> {
        for key in keys {
            self.delete_lazy(key).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    struct Summary {
        status: String,
        amount_cents: i64,
    }

    #[test]
    fn a_body_decodes_into_the_type_it_was_written_from() {
        let summary = Summary {
            status: "pended".into(),
            amount_cents: 12_500,
        };
        let body = Body::of(&summary).unwrap();
        assert_eq!(
            body.as_json(),
            r#"{"status":"pended","amount_cents":12500}"#
        );
        assert_eq!(body.decode::<Summary>().unwrap(), summary);
        assert_eq!(body, json!({"amount_cents": 12_500, "status": "pended"}));
    }

    #[test]
    fn bodies_are_equal_as_json() {
        let typed = Body::of(&Summary {
            status: "pended".into(),
            amount_cents: 1,
        })
        .unwrap();
        // A Value prints its keys in order: other text, the same JSON.
        let value = Body::from(json!({"status": "pended", "amount_cents": 1}));
        assert_ne!(typed.as_json(), value.as_json());
        assert_eq!(typed, value);
        assert_ne!(
            typed,
            Body::from(json!({"status": "denied", "amount_cents": 1}))
        );
        assert_eq!(Body::default(), json!(null));
    }

    #[test]
    fn a_stored_body_that_is_not_json_fails_its_decode_only() {
        let corrupt = Body::stored("{not json".into());
        assert!(corrupt.decode::<Summary>().is_err());
        assert!(corrupt.to_value().is_err());
        assert_ne!(corrupt, Body::default());
        assert_eq!(corrupt, Body::stored("{not json".into()));
    }
}

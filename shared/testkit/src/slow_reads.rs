//! Stores whose reads take a while and are counted: how a test sees that a
//! handler reads independent records or objects at once (one round trip)
//! rather than one after another. [`SlowReads`] wraps a record store (gets and
//! queries; its writes are counted too, without delay unless made with
//! [`SlowReads::with_slow_writes`]), [`SlowObjects`] a
//! bucket (gets and heads; its puts and deletes are counted as writes, and
//! take the delay too when the count is [`SlowReads::with_slow_writes`]); the
//! two may share one count ([`SlowObjects::counted_with`]) to see records and
//! objects read, or written, at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use mso_store::{
    Condition, DocumentStore, Key, ObjectMeta, Page, PresignedRequest, PutOutcome, Query, Record,
    RecordStore, StoreError, WriteOp,
};

/// The delay and the count both wrappers share.
struct Slow {
    delay: Duration,
    /// Writes take the delay too, and count with the reads.
    slow_writes: bool,
    outstanding: AtomicUsize,
    most: AtomicUsize,
    all: AtomicUsize,
    turns: AtomicUsize,
    writes: AtomicUsize,
}

impl Slow {
    fn new(delay: Duration) -> Slow {
        Slow {
            delay,
            slow_writes: false,
            outstanding: AtomicUsize::new(0),
            most: AtomicUsize::new(0),
            all: AtomicUsize::new(0),
            turns: AtomicUsize::new(0),
            writes: AtomicUsize::new(0),
        }
    }

    async fn read(&self) {
        self.all.fetch_add(1, SeqCst);
        let now = self.outstanding.fetch_add(1, SeqCst) + 1;
        if now == 1 {
            self.turns.fetch_add(1, SeqCst);
        }
        self.most.fetch_max(now, SeqCst);
        tokio::time::sleep(self.delay).await;
        self.outstanding.fetch_sub(1, SeqCst);
    }

    async fn write(&self) {
        self.writes.fetch_add(1, SeqCst);
        if self.slow_writes {
            self.read().await;
        }
    }
}

pub struct SlowReads {
    inner: Arc<dyn RecordStore>,
    slow: Arc<Slow>,
}

impl SlowReads {
    /// `inner`, each of whose reads takes `delay` more.
    pub fn new(inner: Arc<dyn RecordStore>, delay: Duration) -> Arc<SlowReads> {
        Arc::new(SlowReads {
            inner,
            slow: Arc::new(Slow::new(delay)),
        })
    }

    /// `inner`, each of whose requests, reads and writes, takes `delay` more:
    /// [`Self::most_at_once`], [`Self::reads`] and [`Self::reads_in_turn`]
    /// then count every request, to see a write made beside reads.
    pub fn with_slow_writes(inner: Arc<dyn RecordStore>, delay: Duration) -> Arc<SlowReads> {
        let mut slow = Slow::new(delay);
        slow.slow_writes = true;
        Arc::new(SlowReads {
            inner,
            slow: Arc::new(slow),
        })
    }

    /// The most reads that were outstanding at once so far.
    pub fn most_at_once(&self) -> usize {
        self.slow.most.load(SeqCst)
    }

    /// The reads made so far (a `get_many` is one).
    pub fn reads(&self) -> usize {
        self.slow.all.load(SeqCst)
    }

    /// The reads made one after another so far: periods with at least one read
    /// outstanding, so reads made together count once.
    pub fn reads_in_turn(&self) -> usize {
        self.slow.turns.load(SeqCst)
    }

    /// The write requests made so far (a transaction is one).
    pub fn writes(&self) -> usize {
        self.slow.writes.load(SeqCst)
    }
}

#[async_trait]
impl RecordStore for SlowReads {
    async fn get(&self, key: &Key) -> Result<Option<Record>, StoreError> {
        self.slow.read().await;
        self.inner.get(key).await
    }
    /// One read however many keys: one request to the backend.
    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Record>>, StoreError> {
        self.slow.read().await;
        self.inner.get_many(keys).await
    }
    async fn put(&self, record: Record, condition: Condition) -> Result<(), StoreError> {
        self.slow.write().await;
        self.inner.put(record, condition).await
    }
    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        self.slow.write().await;
        self.inner.transact(ops).await
    }
    async fn query(&self, q: Query) -> Result<Page, StoreError> {
        self.slow.read().await;
        self.inner.query(q).await
    }
    async fn append(&self, record: Record) -> Result<(), StoreError> {
        self.slow.write().await;
        self.inner.append(record).await
    }
    async fn put_lazy(&self, record: Record, condition: Condition) -> Result<(), StoreError> {
        self.slow.write().await;
        self.inner.put_lazy(record, condition).await
    }
    /// One write: DynamoDB reads the refusing record in the same request.
    async fn put_lazy_or_get(
        &self,
        record: Record,
        condition: Condition,
    ) -> Result<PutOutcome, StoreError> {
        self.slow.write().await;
        self.inner.put_lazy_or_get(record, condition).await
    }
    async fn delete_lazy(&self, key: &Key) -> Result<(), StoreError> {
        self.slow.write().await;
        self.inner.delete_lazy(key).await
    }
    /// One write however many keys: the backend's batch requests go together.
    async fn delete_many_lazy(&self, keys: &[Key]) -> Result<(), StoreError> {
        self.slow.write().await;
        self.inner.delete_many_lazy(keys).await
    }
}

pub struct SlowObjects {
    inner: Arc<dyn DocumentStore>,
    slow: Arc<Slow>,
}

impl SlowObjects {
    /// `inner`, each of whose reads takes `delay` more.
    pub fn new(inner: Arc<dyn DocumentStore>, delay: Duration) -> Arc<SlowObjects> {
        Arc::new(SlowObjects {
            inner,
            slow: Arc::new(Slow::new(delay)),
        })
    }

    /// `inner`, whose reads take `reads`' delay and count with `reads`' own:
    /// `reads.most_at_once()` then sees records and objects read together.
    pub fn counted_with(inner: Arc<dyn DocumentStore>, reads: &SlowReads) -> Arc<SlowObjects> {
        Arc::new(SlowObjects {
            inner,
            slow: reads.slow.clone(),
        })
    }

    /// The most reads that were outstanding at once so far.
    pub fn most_at_once(&self) -> usize {
        self.slow.most.load(SeqCst)
    }
}

#[async_trait]
impl DocumentStore for SlowObjects {
    async fn put(&self, key: &str, content_type: &str, bytes: Bytes) -> Result<(), StoreError> {
        self.slow.write().await;
        self.inner.put(key, content_type, bytes).await
    }
    async fn put_if_absent(
        &self,
        key: &str,
        content_type: &str,
        bytes: Bytes,
    ) -> Result<bool, StoreError> {
        self.slow.write().await;
        self.inner.put_if_absent(key, content_type, bytes).await
    }
    async fn get(&self, key: &str) -> Result<Option<(ObjectMeta, Bytes)>, StoreError> {
        self.slow.read().await;
        self.inner.get(key).await
    }
    async fn head(&self, key: &str) -> Result<Option<ObjectMeta>, StoreError> {
        self.slow.read().await;
        self.inner.head(key).await
    }
    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.slow.write().await;
        self.inner.delete(key).await
    }
    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        content_length: u64,
        expires_in: Duration,
    ) -> Result<PresignedRequest, StoreError> {
        self.inner
            .presign_put(key, content_type, content_length, expires_in)
            .await
    }
    async fn presign_get(
        &self,
        key: &str,
        expires_in: Duration,
    ) -> Result<PresignedRequest, StoreError> {
        self.inner.presign_get(key, expires_in).await
    }
}

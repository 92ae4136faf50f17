//! A record store whose reads (gets and queries) take a while and are counted:
//! how a test sees that a handler reads independent records at once (one round
//! trip) rather than one after another.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use async_trait::async_trait;
use mso_store::{Condition, Key, Page, Query, Record, RecordStore, StoreError, WriteOp};

pub struct SlowReads {
    inner: Arc<dyn RecordStore>,
    delay: Duration,
    outstanding: AtomicUsize,
    most: AtomicUsize,
}

impl SlowReads {
    /// `inner`, each of whose reads takes `delay` more.
    pub fn new(inner: Arc<dyn RecordStore>, delay: Duration) -> Arc<SlowReads> {
        Arc::new(SlowReads {
            inner,
            delay,
            outstanding: AtomicUsize::new(0),
            most: AtomicUsize::new(0),
        })
    }

    /// The most reads that were outstanding at once so far.
    pub fn most_at_once(&self) -> usize {
        self.most.load(SeqCst)
    }

    async fn slowly(&self) {
        let now = self.outstanding.fetch_add(1, SeqCst) + 1;
        self.most.fetch_max(now, SeqCst);
        tokio::time::sleep(self.delay).await;
        self.outstanding.fetch_sub(1, SeqCst);
    }
}

#[async_trait]
impl RecordStore for SlowReads {
    async fn get(&self, key: &Key) -> Result<Option<Record>, StoreError> {
        self.slowly().await;
        self.inner.get(key).await
    }
    async fn put(&self, record: Record, condition: Condition) -> Result<(), StoreError> {
        self.inner.put(record, condition).await
    }
    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        self.inner.transact(ops).await
    }
    async fn query(&self, q: Query) -> Result<Page, StoreError> {
        self.slowly().await;
        self.inner.query(q).await
    }
    async fn append(&self, record: Record) -> Result<(), StoreError> {
        self.inner.append(record).await
    }
    async fn put_lazy(&self, record: Record, condition: Condition) -> Result<(), StoreError> {
        self.inner.put_lazy(record, condition).await
    }
    async fn delete_lazy(&self, key: &Key) -> Result<(), StoreError> {
        self.inner.delete_lazy(key).await
    }
}

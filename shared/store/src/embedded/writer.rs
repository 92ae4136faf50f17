//! Group commit: one thread owns every write transaction.
//!
//! A durable redb commit costs an fsync (milliseconds), far more than the writes
//! themselves. Callers therefore hand their write to this thread as a job; the thread
//! takes whatever jobs are queued, runs them in order inside ONE write transaction,
//! commits once and then answers every caller. Under load many writes share one
//! fsync; when idle a lone write commits at once.
//!
//! Appends ([`Durability::Deferred`]) skip the fsync: a batch made only of appends
//! commits without one, and the thread makes it durable within
//! [`DEFERRED_FLUSH_INTERVAL`] (or with the next durable batch, whichever comes
//! first). A durable write never waits for, or is weakened by, an append.
//!
//! A job either succeeds, or is refused cleanly ([`JobError::Refused`], e.g. a
//! failed condition) having changed nothing, or hits a storage error
//! ([`JobError::Storage`]), which aborts the whole batch: every caller of that batch
//! gets the error and nothing of the batch is written.

use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;

use std::time::{Duration, Instant};

use redb::{Database, WriteTransaction};
use tokio::sync::oneshot;

use crate::StoreError;

/// Most jobs in one transaction, so one commit's latency stays bounded.
const MAX_BATCH: usize = 512;

/// How long an append may stay in the page cache before it is fsynced.
pub(crate) const DEFERRED_FLUSH_INTERVAL: Duration = Duration::from_millis(100);

/// When a write must be on disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Durability {
    /// Before the caller is answered.
    Immediate,
    /// Within [`DEFERRED_FLUSH_INTERVAL`] of the answer (append-only records).
    Deferred,
}

/// Why a job did not apply.
#[derive(Debug)]
pub(crate) enum JobError {
    /// The request is refused; the job changed nothing and the batch goes on.
    Refused(StoreError),
    /// Storage failed, possibly half-way through the job: the batch is aborted.
    Storage(redb::Error),
}

impl JobError {
    /// Stored bytes that do not decode, met after the job already wrote: the
    /// batch must abort so the partial write is undone.
    pub(crate) fn corrupt(what: impl std::fmt::Display) -> JobError {
        JobError::Storage(redb::Error::Corrupted(what.to_string()))
    }
}

impl<E: Into<redb::Error>> From<E> for JobError {
    fn from(e: E) -> Self {
        JobError::Storage(e.into())
    }
}

/// A write waiting for the writer thread, type-erased so one channel carries them all.
trait Job: Send {
    fn durability(&self) -> Durability;
    /// Runs inside the batch transaction.
    fn apply(&mut self, txn: &WriteTransaction) -> Result<(), redb::Error>;
    /// Answers the caller once the batch is committed (`Ok`) or aborted (`Err`).
    fn finish(self: Box<Self>, batch: Result<(), &BatchFailure>);
}

struct TypedJob<T, F> {
    durability: Durability,
    work: Option<F>,
    outcome: Option<Result<T, StoreError>>,
    reply: oneshot::Sender<Result<T, StoreError>>,
}

impl<T, F> Job for TypedJob<T, F>
where
    T: Send,
    F: FnOnce(&WriteTransaction) -> Result<T, JobError> + Send,
{
    fn durability(&self) -> Durability {
        self.durability
    }

    fn apply(&mut self, txn: &WriteTransaction) -> Result<(), redb::Error> {
        let Some(work) = self.work.take() else {
            return Ok(());
        };
        match work(txn) {
            Ok(value) => self.outcome = Some(Ok(value)),
            Err(JobError::Refused(e)) => self.outcome = Some(Err(e)),
            Err(JobError::Storage(e)) => return Err(e),
        }
        Ok(())
    }

    fn finish(self: Box<Self>, batch: Result<(), &BatchFailure>) {
        let answer = match (batch, self.outcome) {
            (Ok(()), Some(outcome)) => outcome,
            (Err(failure), _) => Err(failure.to_store_error()),
            // Unreachable: a committed batch applied every job.
            (Ok(()), None) => Err(StoreError::backend("embedded write", "job was not applied")),
        };
        // The caller may have gone away (cancelled future); its write stands regardless.
        let _ = self.reply.send(answer);
    }
}

/// Why a whole batch failed, shared by all its callers.
#[derive(Clone)]
struct BatchFailure(Arc<dyn std::error::Error + Send + Sync>);

impl BatchFailure {
    fn to_store_error(&self) -> StoreError {
        StoreError::backend("embedded database write", Arc::clone(&self.0))
    }
}

/// Handle to the writer thread. Dropping the last handle lets the thread finish the
/// jobs already queued and exit; `Drop` waits for that, so the database file is
/// closed (and can be reopened) once the handle is gone.
pub(crate) struct Writer {
    jobs: Option<mpsc::Sender<Box<dyn Job>>>,
    thread: Option<JoinHandle<()>>,
    stats: Arc<Counters>,
}

/// How much group commit is batching, for logs and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriteStats {
    /// Write transactions committed (or aborted).
    pub commits: u64,
    /// Writes (puts, transactions, queue operations, ...) they carried.
    pub writes: u64,
}

#[derive(Default)]
struct Counters {
    commits: AtomicU64,
    writes: AtomicU64,
}

impl Writer {
    pub(crate) fn start(db: Arc<Database>) -> Result<Writer, StoreError> {
        let (tx, rx) = mpsc::channel::<Box<dyn Job>>();
        let stats = Arc::new(Counters::default());
        let counters = Arc::clone(&stats);
        let thread = std::thread::Builder::new()
            .name("mso-store-writer".into())
            .spawn(move || run(&db, &rx, &counters))
            .map_err(|e| StoreError::backend("start embedded writer thread", e))?;
        Ok(Writer {
            jobs: Some(tx),
            thread: Some(thread),
            stats,
        })
    }

    pub(crate) fn stats(&self) -> WriteStats {
        WriteStats {
            commits: self.stats.commits.load(Ordering::Relaxed),
            writes: self.stats.writes.load(Ordering::Relaxed),
        }
    }

    /// Runs `work` inside the next batch and returns its result once the batch is
    /// durably committed.
    pub(crate) async fn submit<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&WriteTransaction) -> Result<T, JobError> + Send + 'static,
    {
        self.submit_with(Durability::Immediate, work).await
    }

    /// Like [`Writer::submit`], answering once the batch is committed and, for
    /// `Durability::Deferred`, before it is fsynced.
    pub(crate) async fn submit_with<T, F>(
        &self,
        durability: Durability,
        work: F,
    ) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&WriteTransaction) -> Result<T, JobError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = Box::new(TypedJob {
            durability,
            work: Some(work),
            outcome: None,
            reply,
        });
        let sent = self.jobs.as_ref().is_some_and(|tx| tx.send(job).is_ok());
        if !sent {
            return Err(writer_gone());
        }
        answer.await.unwrap_or_else(|_| Err(writer_gone()))
    }
}

fn writer_gone() -> StoreError {
    StoreError::backend("embedded database write", "the writer thread has stopped")
}

impl Drop for Writer {
    fn drop(&mut self) {
        // Closing the channel ends the thread's loop after the queued jobs.
        self.jobs.take();
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("embedded store writer thread panicked");
        }
    }
}

fn run(db: &Database, rx: &mpsc::Receiver<Box<dyn Job>>, counters: &Counters) {
    let mut batch: Vec<Box<dyn Job>> = Vec::with_capacity(MAX_BATCH);
    // Set while committed appends wait for their fsync.
    let mut flush_by: Option<Instant> = None;
    loop {
        // Appends are flushed when due even if jobs keep arriving.
        if flush_by.is_some_and(|due| Instant::now() >= due) {
            flush(db, &mut flush_by);
        }
        // Wait for a job; while appends are pending, only until they are due.
        let first = match flush_by {
            None => match rx.recv() {
                Ok(job) => job,
                Err(_) => break,
            },
            Some(due) => match rx.recv_timeout(due.saturating_duration_since(Instant::now())) {
                Ok(job) => job,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    flush(db, &mut flush_by);
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            },
        };
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let durable = batch
            .iter()
            .any(|job| job.durability() == Durability::Immediate);
        // A panicking job must not take the writer (and so every later write) down:
        // its batch is aborted and answered, and the thread goes on.
        let attempt =
            panic::catch_unwind(AssertUnwindSafe(|| commit_batch(db, &mut batch, durable)));
        let result = match attempt {
            Ok(committed) => committed.map_err(|e| BatchFailure(Arc::new(e))),
            Err(_) => Err(BatchFailure(Arc::from(Box::<
                dyn std::error::Error + Send + Sync,
            >::from(
                "a write panicked; its batch was aborted",
            )))),
        };
        counters.commits.fetch_add(1, Ordering::Relaxed);
        counters
            .writes
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        match &result {
            Err(failure) => {
                tracing::error!(error = %failure.0, jobs = batch.len(), "embedded store batch aborted")
            }
            // A durable commit also makes every earlier append durable.
            Ok(()) if durable => flush_by = None,
            Ok(()) => {
                flush_by.get_or_insert_with(|| Instant::now() + DEFERRED_FLUSH_INTERVAL);
            }
        }
        for job in batch.drain(..) {
            job.finish(result.as_ref().map(|_| ()));
        }
    }
    // Shutting down: nothing appended may be left without its fsync.
    flush(db, &mut flush_by);
}

/// Makes every committed append durable: an empty durable commit persists the
/// commits before it.
fn flush(db: &Database, flush_by: &mut Option<Instant>) {
    if flush_by.take().is_none() {
        return;
    }
    let flushed = db
        .begin_write()
        .map_err(redb::Error::from)
        .and_then(|txn| txn.commit().map_err(redb::Error::from));
    if let Err(e) = flushed {
        // The appends stay readable; the next durable commit persists them.
        tracing::error!(error = %e, "embedded store could not flush appends");
    }
}

fn commit_batch(
    db: &Database,
    batch: &mut [Box<dyn Job>],
    durable: bool,
) -> Result<(), redb::Error> {
    let mut txn = db.begin_write()?;
    if !durable {
        // Only fails when persistent savepoints changed, which this store never does.
        txn.set_durability(redb::Durability::None)
            .map_err(|e| redb::Error::Corrupted(e.to_string()))?;
    }
    for job in batch.iter_mut() {
        if let Err(e) = job.apply(&txn) {
            // Dropping the transaction would also abort; aborting explicitly reports errors.
            if let Err(abort) = txn.abort() {
                tracing::warn!(error = %abort, "aborting embedded store batch failed");
            }
            return Err(e);
        }
    }
    txn.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use redb::{ReadableTable, TableDefinition};

    const T: TableDefinition<&str, u64> = TableDefinition::new("t");

    #[tokio::test]
    async fn survives_a_panicking_job_and_refusals_change_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let db = Arc::new(Database::create(dir.path().join("db")).unwrap());
        let writer = Writer::start(Arc::clone(&db)).unwrap();

        let panicked = writer
            .submit(|_txn| -> Result<(), JobError> { panic!("boom (expected by this test)") })
            .await;
        assert!(matches!(panicked, Err(StoreError::Backend { .. })));

        writer
            .submit(|txn| {
                txn.open_table(T)?.insert("a", 1)?;
                Ok(())
            })
            .await
            .unwrap();
        let refused = writer
            .submit(|_txn| -> Result<(), JobError> {
                Err(JobError::Refused(StoreError::ConditionFailed))
            })
            .await;
        assert!(matches!(refused, Err(StoreError::ConditionFailed)));
        let read = writer
            .submit(|txn| Ok(txn.open_table(T)?.get("a")?.map(|v| v.value())))
            .await
            .unwrap();
        assert_eq!(read, Some(1));
        assert_eq!(writer.stats().writes, 4);
    }
}

//! Embedded adapters for the zero-setup local run (`mso serve`): one redb file
//! (`<data_dir>/mso.redb`) holds records, the gsi1 index, object metadata and the
//! queues; object bytes live as plain files under `<data_dir>/objects/`.
//!
//! ```no_run
//! # fn main() -> Result<(), mso_store::StoreError> {
//! let embedded = mso_store::embedded::Embedded::open(
//!     std::path::Path::new("./.mso-data"),
//!     "http://127.0.0.1:8080".to_string(),
//! )?;
//! let records = embedded.records();   // Arc<EmbeddedRecordStore>: RecordStore
//! let documents = embedded.documents(); // Arc<EmbeddedDocumentStore>: DocumentStore
//! let queue = embedded.queue();       // Arc<EmbeddedWorkQueue>: WorkQueue
//! # Ok(()) }
//! ```
//!
//! All writes go through one writer thread that commits in groups (see `writer`);
//! reads use redb read transactions on the blocking thread pool.

mod codec;
mod documents;
mod presign;
mod queue;
mod records;
mod tables;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use redb::{Database, ReadTransaction, ReadableDatabase};

pub use documents::{EmbeddedDocumentStore, PresignedAccess, PresignedOutcome};
pub use queue::{DEFAULT_MAX_RECEIVE_COUNT, EmbeddedWorkQueue};
pub use records::EmbeddedRecordStore;
pub use writer::WriteStats;

use crate::StoreError;
use writer::{JobError, Writer};

/// File name of the database inside the data directory.
pub const DATABASE_FILE: &str = "mso.redb";
/// Directory of object bytes inside the data directory.
pub const OBJECTS_DIR: &str = "objects";
/// File holding the presigned-URL signing secret inside the data directory.
pub const PRESIGN_KEY_FILE: &str = "presign.key";

/// The opened data directory; hands out the three stores, which share one
/// database and one writer thread.
///
/// The database file stays open (and locked against a second opener) until this
/// value and every store handed out are dropped.
pub struct Embedded {
    core: Arc<Core>,
    records: Arc<EmbeddedRecordStore>,
    documents: Arc<EmbeddedDocumentStore>,
    queue: Arc<EmbeddedWorkQueue>,
}

impl Embedded {
    /// Opens (creating when missing) `data_dir/mso.redb`, `data_dir/objects/` and
    /// the signing secret `data_dir/presign.key`. Presigned URLs start with
    /// `base_url` (e.g. `http://127.0.0.1:8080`), where the local server must route
    /// `/_local/objects/*` to [`EmbeddedDocumentStore::authorize_presigned`] and
    /// [`EmbeddedDocumentStore::complete_presigned`].
    ///
    /// Blocking (file I/O); call it at startup, not from a busy async task.
    pub fn open(data_dir: &Path, base_url: String) -> Result<Embedded, StoreError> {
        std::fs::create_dir_all(data_dir)
            .map_err(|e| StoreError::backend("create data directory", e))?;
        let db = Database::builder()
            .create(data_dir.join(DATABASE_FILE))
            .map_err(|e| match e {
                redb::DatabaseError::DatabaseAlreadyOpen => StoreError::backend(
                    "embedded database is already open by another process or store",
                    e,
                ),
                e => StoreError::backend("open embedded database", e),
            })?;
        tables::create_all(&db)
            .map_err(|e| StoreError::backend("initialise embedded database", e))?;
        let db = Arc::new(db);
        let core = Arc::new(Core {
            writer: Writer::start(Arc::clone(&db))?,
            db,
        });
        let secret = presign::load_or_create_secret(&data_dir.join(PRESIGN_KEY_FILE))?;
        let cursor_key = secret.cursor_key()?;
        let objects = ObjectDirs::create(data_dir)?;
        Ok(Embedded {
            records: Arc::new(EmbeddedRecordStore::new(Arc::clone(&core), cursor_key)),
            documents: Arc::new(EmbeddedDocumentStore::new(
                Arc::clone(&core),
                objects,
                base_url,
                secret,
            )),
            queue: Arc::new(EmbeddedWorkQueue::new(Arc::clone(&core))),
            core,
        })
    }

    pub fn records(&self) -> Arc<EmbeddedRecordStore> {
        Arc::clone(&self.records)
    }

    pub fn documents(&self) -> Arc<EmbeddedDocumentStore> {
        Arc::clone(&self.documents)
    }

    pub fn queue(&self) -> Arc<EmbeddedWorkQueue> {
        Arc::clone(&self.queue)
    }

    /// Commits and writes so far: `writes / commits` is the group-commit batch size.
    pub fn write_stats(&self) -> WriteStats {
        self.core.writer.stats()
    }
}

/// What the three stores share.
pub(crate) struct Core {
    db: Arc<Database>,
    writer: Writer,
}

impl Core {
    /// Runs `work` in a read transaction on the blocking pool (redb reads may hit
    /// the disk and must not stall the async workers).
    async fn read<T, F>(self: &Arc<Self>, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&ReadTransaction) -> Result<T, StoreError> + Send + 'static,
    {
        let core = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let txn = core
                .db
                .begin_read()
                .map_err(|e| StoreError::backend("embedded database read", e))?;
            work(&txn)
        })
        .await
        .map_err(|e| StoreError::backend("embedded database read task", e))?
    }

    /// Runs a point read in a read transaction on the calling thread. A key lookup
    /// touches a handful of pages that redb almost always has cached, so handing it
    /// to the blocking pool would cost more (two thread hand-offs) than the read.
    fn read_now<T>(
        &self,
        work: impl FnOnce(&ReadTransaction) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let txn = self
            .db
            .begin_read()
            .map_err(|e| StoreError::backend("embedded database read", e))?;
        work(&txn)
    }

    /// Runs `work` in the next group-committed write transaction.
    async fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&redb::WriteTransaction) -> Result<T, JobError> + Send + 'static,
    {
        self.writer.submit(work).await
    }

    /// A write answered before its fsync, which follows within the flush interval.
    pub(crate) async fn write_deferred<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&redb::WriteTransaction) -> Result<T, JobError> + Send + 'static,
    {
        self.writer
            .submit_with(writer::Durability::Deferred, work)
            .await
    }
}

/// Where object bytes live: `objects/` for finished objects, `objects.tmp/` (same
/// file system, so `rename` is atomic) for uploads in progress.
#[derive(Clone, Debug)]
pub(crate) struct ObjectDirs {
    objects: PathBuf,
    staging: PathBuf,
}

impl ObjectDirs {
    /// Creates both directories and empties the staging one: uploads a crash cut
    /// short. Called with the database open, whose lock keeps a second process out.
    fn create(data_dir: &Path) -> Result<ObjectDirs, StoreError> {
        let dirs = ObjectDirs {
            objects: data_dir.join(OBJECTS_DIR),
            staging: data_dir.join("objects.tmp"),
        };
        for dir in [&dirs.objects, &dirs.staging] {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::backend("create object directory", e))?;
        }
        if let Ok(leftovers) = std::fs::read_dir(&dirs.staging) {
            for entry in leftovers.flatten() {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        Ok(dirs)
    }
}

/// Every redb failure outside a write job is a backend failure of the local store.
pub(crate) fn db_error(e: impl Into<redb::Error>) -> StoreError {
    StoreError::backend("embedded database", e.into())
}

/// Milliseconds since the Unix epoch (queue timing).
pub(crate) fn now_millis() -> u64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    u64::try_from(now.as_millis()).unwrap_or(u64::MAX)
}

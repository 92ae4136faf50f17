//! What every Lambda function's cold start builds from the environment that Lambda
//! and the stack (infra/template.yaml) set: the SDK configuration (region and
//! execution role), the IPA's bundled policy (`MSO_IPA`), the table (`TABLE_NAME`,
//! `CURSOR_KEY`), a bucket named by its variable, and the queues: a relay's
//! (`QUEUE_URL_<NAME>`) or a writer's, which sends nothing. Each function's
//! `aws_deps()` picks the adapters it needs from here, so they are all built the
//! same way and a missing variable stops every cold start with the same error
//! naming it.
//!
//! Nothing here waits on the network: clients connect on their first request.

use std::sync::{Arc, OnceLock};

use mso_domain::policy::Policy;
use mso_store::aws::{DynamoRecordStore, S3DocumentStore, SdkConfig, SqsWorkQueue, sdk_config};
use mso_store::{StoreError, TableStreamWorkQueue};

use crate::config::{self, ConfigError};
use crate::policies::{self, BundledPolicyError};

/// Why a cold start could not build its adapters.
#[derive(Debug, thiserror::Error)]
pub enum LambdaEnvError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("MSO_IPA: {0}")]
    Policy(#[from] BundledPolicyError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The SDK configuration, read once per cold start; the adapters and the IPA's
/// policy each function asks for are built from it.
pub struct LambdaEnv {
    sdk: SdkConfig,
    /// The first bucket's store, whose S3 client every other bucket shares.
    s3: OnceLock<S3DocumentStore>,
}

impl LambdaEnv {
    /// Reads the SDK configuration (region and execution role).
    pub fn read() -> Result<Self, LambdaEnvError> {
        Ok(LambdaEnv {
            sdk: sdk_config()?,
            s3: OnceLock::new(),
        })
    }

    /// The bundled policy `MSO_IPA` names, parsed when asked for: every
    /// function but `outbox-relay` asks at its cold start, so a wrong `MSO_IPA`
    /// still stops those there.
    pub fn policy(&self) -> Result<Arc<Policy>, LambdaEnvError> {
        Ok(Arc::new(policies::load(&config::required("MSO_IPA")?)?))
    }

    /// The stack's table (`TABLE_NAME`), paging cursors sealed with `CURSOR_KEY`.
    pub fn records(&self) -> Result<Arc<DynamoRecordStore>, LambdaEnvError> {
        let table = config::required("TABLE_NAME")?;
        let cursors = mso_store::CursorKey::from_env()?;
        Ok(Arc::new(DynamoRecordStore::new(&self.sdk, table, cursors)))
    }

    /// The bucket named by `variable` (e.g. `DOCUMENTS_BUCKET`). One S3 client
    /// serves every bucket (intake's two).
    pub fn bucket(&self, variable: &'static str) -> Result<Arc<S3DocumentStore>, LambdaEnvError> {
        let bucket = config::required(variable)?;
        let first = self
            .s3
            .get_or_init(|| S3DocumentStore::new(&self.sdk, bucket.as_str()));
        Ok(Arc::new(first.with_bucket(bucket)))
    }

    /// The queues of a function that relays events (`outbox-relay`, and the
    /// sweepers, which send the events the stream left behind): every queue with
    /// a `QUEUE_URL_<NAME>` variable; a send to a queue without one fails naming
    /// the variable. Their own changes' events still leave through the table's
    /// stream.
    pub fn relay_queues(&self) -> Arc<SqsWorkQueue> {
        Arc::new(SqsWorkQueue::from_env(&self.sdk).with_table_stream_relay())
    }

    /// The queues of a function that only writes: none. The table's stream relays
    /// the events it stores with its changes, so it holds no SQS client.
    pub fn writer_queues(&self) -> Arc<TableStreamWorkQueue> {
        Arc::new(TableStreamWorkQueue)
    }
}

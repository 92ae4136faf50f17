//! The AWS adapters both intake Lambdas build once per cold start, from typed
//! configuration that fails fast.

use std::sync::Arc;

use intake::{Deps, Limits};
use mso_api::{SystemClock, config, policies};
use mso_store::CursorKey;
use mso_store::aws::{DynamoRecordStore, S3DocumentStore, SqsWorkQueue, sdk_config};

pub async fn build() -> Result<Deps, lambda_http::Error> {
    let policy = policies::load(&config::required("MSO_IPA")?)?;
    let table = config::required("TABLE_NAME")?;
    let intake_bucket = config::required("INTAKE_BUCKET")?;
    let documents_bucket = config::required("DOCUMENTS_BUCKET")?;
    let sdk = sdk_config().await;
    Ok(Deps {
        records: Arc::new(DynamoRecordStore::new(&sdk, table, CursorKey::from_env()?)),
        intake_objects: Arc::new(S3DocumentStore::new(&sdk, intake_bucket)),
        documents: Arc::new(S3DocumentStore::new(&sdk, documents_bucket)),
        queue: Arc::new(SqsWorkQueue::from_env(&sdk)),
        policy: Arc::new(policy),
        clock: Arc::new(SystemClock),
        limits: Limits::default(),
    })
}

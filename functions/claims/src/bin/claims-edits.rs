//! The claims queue consumer (`claim-edits` and `claim-readjudication`): each
//! message on its own, failures reported per message so SQS redelivers only
//! those (and dead-letters a message after the queue's maximum receives).

use std::sync::Arc;

use claims::{Deps, SqsBatchResponse, SqsEvent, edits};
use lambda_http::lambda_runtime::{self, Error, LambdaEvent, service_fn};
use mso_api::{SystemClock, config, policies, telemetry};
use mso_store::CursorKey;
use mso_store::aws::{DynamoRecordStore, S3DocumentStore, SqsWorkQueue, sdk_config};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let policy = policies::load(&config::required("MSO_IPA")?)?;
    let table = config::required("TABLE_NAME")?;
    let bucket = config::required("CLAIMS_BUCKET")?;
    let sdk = sdk_config().await;
    let deps = Deps {
        records: Arc::new(DynamoRecordStore::new(&sdk, table, CursorKey::from_env()?)),
        files: Arc::new(S3DocumentStore::new(&sdk, bucket)),
        queue: Arc::new(SqsWorkQueue::from_env(&sdk)),
        policy: Arc::new(policy),
        clock: Arc::new(SystemClock),
    };
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| async {
        Ok::<SqsBatchResponse, Error>(edits::handle(&deps, event.payload).await)
    }))
    .await
}

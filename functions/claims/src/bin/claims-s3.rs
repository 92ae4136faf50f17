//! The claims bucket's Lambda, on its ObjectCreated events: every file of the
//! event is read; if storage failed for any, the invocation fails, so Lambda
//! retries the event (and then sends it to the dead-letter queue). Files
//! already read change nothing on a retry.

use std::sync::Arc;

use claims::intake::{self, Report};
use claims::{Deps, S3Event};
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
    lambda_runtime::run(service_fn(|event: LambdaEvent<S3Event>| async {
        let report: Report = intake::handle(&deps, event.payload).await?;
        Ok::<_, Error>(report)
    }))
    .await
}

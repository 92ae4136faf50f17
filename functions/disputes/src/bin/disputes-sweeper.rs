//! The disputes sweeper Lambda, on a schedule: one sweep per invocation (the
//! scheduled event carries nothing it needs).

use std::sync::Arc;

use disputes::Deps;
use disputes::sweeper::{self, SweepReport};
use lambda_http::lambda_runtime::{self, Error, LambdaEvent, service_fn};
use mso_api::{SystemClock, config, policies, telemetry};
use mso_store::CursorKey;
use mso_store::aws::{DynamoRecordStore, SqsWorkQueue, sdk_config};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let policy = policies::load(&config::required("MSO_IPA")?)?;
    let table = config::required("TABLE_NAME")?;
    let sdk = sdk_config().await;
    let deps = Deps {
        records: Arc::new(DynamoRecordStore::new(&sdk, table, CursorKey::from_env()?)),
        queue: Arc::new(SqsWorkQueue::from_env(&sdk)),
        policy: Arc::new(policy),
        clock: Arc::new(SystemClock),
    };
    lambda_runtime::run(service_fn(|_: LambdaEvent<serde_json::Value>| async {
        // A failed sweep is retried by the next schedule; report it as an error
        // so the Errors alarm sees it.
        let report: SweepReport = sweeper::sweep(&deps, deps.clock.now()).await?;
        Ok::<_, Error>(report)
    }))
    .await
}

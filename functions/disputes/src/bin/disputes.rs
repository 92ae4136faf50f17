//! The disputes HTTP Lambda: build the AWS adapters once, then serve API Gateway events.

use std::convert::Infallible;
use std::sync::Arc;

use disputes::Deps;
use lambda_http::{Error, service_fn};
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
    lambda_http::run(service_fn(|req| async {
        Ok::<_, Infallible>(disputes::handle(&deps, req).await)
    }))
    .await
}

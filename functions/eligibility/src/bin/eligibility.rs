//! The eligibility Lambda: build the AWS adapters once, then serve API Gateway events.

use std::convert::Infallible;
use std::sync::Arc;

use eligibility::Deps;
use lambda_http::{Error, service_fn};
use mso_api::{SystemClock, config, policies, telemetry};
use mso_store::CursorKey;
use mso_store::aws::{DynamoRecordStore, sdk_config};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let policy = policies::load(&config::required("MSO_IPA")?)?;
    let table = config::required("TABLE_NAME")?;
    let sdk = sdk_config().await;
    let deps = Deps {
        records: Arc::new(DynamoRecordStore::new(&sdk, table, CursorKey::from_env()?)),
        policy: Arc::new(policy),
        clock: Arc::new(SystemClock),
    };
    lambda_http::run(service_fn(|req| async {
        Ok::<_, Infallible>(eligibility::handle(&deps, req).await)
    }))
    .await
}

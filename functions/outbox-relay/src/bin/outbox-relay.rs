//! The outbox relay Lambda, on the table's stream (outbox rows only): sends each
//! new event to its queue and removes it, reporting the records it could not.

use lambda_http::lambda_runtime::{self, Error, LambdaEvent, service_fn};
use outbox_relay::{DynamoDbBatchResponse, DynamoDbEvent};

// Lambda sends one invocation at a time: one thread serves it, its AWS calls still
// overlap, and no worker threads start at init (docs/performance.md, "Cold starts").
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    mso_api::telemetry::init();
    let deps = outbox_relay::aws_deps()?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<DynamoDbEvent>| async {
        Ok::<DynamoDbBatchResponse, Error>(outbox_relay::handle(&deps, event.payload).await)
    }))
    .await
}

//! The claims queue consumer (`claim-edits` and `claim-readjudication`): each
//! message on its own, failures reported per message so SQS redelivers only
//! those (and dead-letters a message after the queue's maximum receives).

use claims::{SqsBatchResponse, SqsEvent, edits};
use lambda_http::lambda_runtime::{self, Error, LambdaEvent, service_fn};

// Lambda sends one invocation at a time: one thread serves it, its AWS calls still
// overlap, and no worker threads start at init (docs/performance.md, "Cold starts").
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    mso_api::telemetry::init();
    let deps = claims::aws_deps()?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| async {
        Ok::<SqsBatchResponse, Error>(edits::handle(&deps, event.payload).await)
    }))
    .await
}

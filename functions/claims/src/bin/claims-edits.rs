//! The claims queue consumer (`claim-edits` and `claim-readjudication`): each
//! message on its own, failures reported per message so SQS redelivers only
//! those (and dead-letters a message after the queue's maximum receives).

use claims::{SqsBatchResponse, SqsEvent, edits};
use lambda_http::lambda_runtime::{self, Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    mso_api::telemetry::init();
    let deps = claims::aws_deps()?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| async {
        Ok::<SqsBatchResponse, Error>(edits::handle(&deps, event.payload).await)
    }))
    .await
}

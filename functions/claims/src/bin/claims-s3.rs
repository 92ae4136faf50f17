//! The claims bucket's Lambda, on its ObjectCreated events: every file of the
//! event is read; if storage failed for any, the invocation fails, so Lambda
//! retries the event (and then sends it to the dead-letter queue). Files
//! already read change nothing on a retry.

use claims::S3Event;
use claims::intake::{self, Report};
use lambda_http::lambda_runtime::{self, Error, LambdaEvent, service_fn};

// Lambda sends one invocation at a time: one thread serves it, its AWS calls still
// overlap, and no worker threads start at init (docs/performance.md, "Cold starts").
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    mso_api::telemetry::init();
    let deps = claims::aws_deps()?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<S3Event>| async {
        let report: Report = intake::handle(&deps, event.payload).await?;
        Ok::<_, Error>(report)
    }))
    .await
}

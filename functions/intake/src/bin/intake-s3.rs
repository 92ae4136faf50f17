//! The intake bucket's Lambda, on its ObjectCreated events: every record is
//! filed as an intake item; if storage failed for any, the invocation fails,
//! so Lambda retries the event (twice) and then sends it to the dead-letter
//! queue. Records already filed change nothing on a retry.

use intake::S3Event;
use intake::ingest::{self, Report};
use lambda_http::lambda_runtime::{self, Error, LambdaEvent, service_fn};

// Lambda sends one invocation at a time: one thread serves it, its AWS calls still
// overlap, and no worker threads start at init (docs/performance.md, "Cold starts").
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    mso_api::telemetry::init();
    let deps = intake::aws_deps()?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<S3Event>| async {
        let report: Report = ingest::handle(&deps, event.payload).await?;
        Ok::<_, Error>(report)
    }))
    .await
}

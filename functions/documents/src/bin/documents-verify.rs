//! The documents verifying Lambda, on the bucket's ObjectCreated events: every
//! record of the event is verified; if storage failed for any, the invocation
//! fails, so Lambda retries the event (and then sends it to the dead-letter
//! queue). Records already handled change nothing on a retry.

use documents::S3Event;
use documents::verify::{self, Report};
use lambda_http::lambda_runtime::{self, Error, LambdaEvent, service_fn};

// Lambda sends one invocation at a time: one thread serves it, its AWS calls still
// overlap, and no worker threads start at init (docs/performance.md, "Cold starts").
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    mso_api::telemetry::init();
    let deps = documents::aws_deps()?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<S3Event>| async {
        let report: Report = verify::handle(&deps, event.payload).await?;
        Ok::<_, Error>(report)
    }))
    .await
}

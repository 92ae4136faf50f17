//! The prior-auth sweeper Lambda, on a schedule: one sweep per invocation (the
//! scheduled event carries nothing it needs).

use lambda_http::lambda_runtime::{self, Error, LambdaEvent, service_fn};
use prior_auth::sweeper::{self, SweepReport};

// Lambda sends one invocation at a time: one thread serves it, its AWS calls still
// overlap, and no worker threads start at init (docs/performance.md, "Cold starts").
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    mso_api::telemetry::init();
    let deps = prior_auth::aws_sweeper_deps()?;
    lambda_runtime::run(service_fn(|_: LambdaEvent<serde_json::Value>| async {
        // A failed sweep is retried by the next schedule; report it as an error
        // so the Errors alarm sees it.
        let report: SweepReport = sweeper::sweep(&deps, deps.clock.now()).await?;
        Ok::<_, Error>(report)
    }))
    .await
}

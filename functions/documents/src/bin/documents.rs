//! The documents HTTP Lambda: build the AWS adapters once, then serve API Gateway events.

use std::convert::Infallible;

use lambda_http::{Error, service_fn};

// Lambda sends one invocation at a time: one thread serves it, its AWS calls still
// overlap, and no worker threads start at init (docs/performance.md, "Cold starts").
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    mso_api::telemetry::init();
    let deps = documents::aws_deps()?;
    lambda_http::run(service_fn(|req| async {
        Ok::<_, Infallible>(documents::handle(&deps, req).await)
    }))
    .await
}

//! The disputes HTTP Lambda: build the AWS adapters once, then serve API Gateway events.

use std::convert::Infallible;

use lambda_http::{Error, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    mso_api::telemetry::init();
    let deps = disputes::aws_deps()?;
    lambda_http::run(service_fn(|req| async {
        Ok::<_, Infallible>(disputes::handle(&deps, req).await)
    }))
    .await
}

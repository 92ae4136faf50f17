//! The intake HTTP Lambda (the clerk's routes): build the AWS adapters once,
//! then serve API Gateway events.

use std::convert::Infallible;

use lambda_http::{Error, service_fn};

#[path = "../deps_aws.rs"]
mod deps_aws;

#[tokio::main]
async fn main() -> Result<(), Error> {
    mso_api::telemetry::init();
    let deps = deps_aws::build().await?;
    lambda_http::run(service_fn(|req| async {
        Ok::<_, Infallible>(intake::handle(&deps, req).await)
    }))
    .await
}

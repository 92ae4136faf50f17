//! The cold-start baseline: the smallest `lambda_runtime` function (it echoes its
//! event), built with the same `lambda-release` profile as the functions. The meter
//! in `tests/bench/cold_start` divides every function's init by this one's.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async {
        Ok::<_, Error>(event.payload)
    }))
    .await
}

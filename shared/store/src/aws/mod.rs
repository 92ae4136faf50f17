//! AWS adapters: DynamoDB ([`DynamoRecordStore`]), S3 ([`S3DocumentStore`]) and SQS
//! ([`SqsWorkQueue`]).
//!
//! ```no_run
//! # async fn example() -> Result<(), mso_store::StoreError> {
//! use mso_store::aws::{self, DynamoRecordStore, S3DocumentStore, SqsWorkQueue};
//! let sdk = aws::sdk_config().await;
//! let records = DynamoRecordStore::new(&sdk, "mso-table", mso_store::CursorKey::from_env()?);
//! let documents = S3DocumentStore::new(&sdk, "mso-documents");
//! let queue = SqsWorkQueue::from_env(&sdk); // QUEUE_URL_<NAME> variables
//! # Ok(()) }
//! ```

mod dynamo;
mod error;
mod s3;
mod sqs;

use aws_config::{BehaviorVersion, ConfigLoader, SdkConfig};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};

pub use dynamo::{DynamoRecordStore, create_table};
pub use s3::S3DocumentStore;
pub use sqs::{QUEUE_URL_ENV_PREFIX, SqsWorkQueue};

/// The HTTPS client every AWS client uses: rustls with the ring crypto provider
/// (the SDK's default would compile aws-lc).
pub fn http_client() -> aws_sdk_dynamodb::config::SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

/// The standard AWS configuration (environment, profile, Lambda role; region and
/// `AWS_ENDPOINT_URL` from the environment) with [`http_client`].
pub async fn sdk_config() -> SdkConfig {
    sdk_config_from(aws_config::defaults(BehaviorVersion::latest())).await
}

/// Loads `loader` with [`http_client`]; for callers (and tests) that set the
/// region, endpoint or credentials themselves.
pub async fn sdk_config_from(loader: ConfigLoader) -> SdkConfig {
    loader.http_client(http_client()).load().await
}

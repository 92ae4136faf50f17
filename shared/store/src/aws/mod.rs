//! AWS adapters: DynamoDB ([`DynamoRecordStore`]), S3 ([`S3DocumentStore`]) and SQS
//! ([`SqsWorkQueue`]).
//!
//! ```no_run
//! # async fn example() -> Result<(), mso_store::StoreError> {
//! use mso_store::aws::{self, DynamoRecordStore, S3DocumentStore, SqsWorkQueue};
//! let sdk = aws::sdk_config()?; // in Lambda: its region and role, from the environment
//! let records = DynamoRecordStore::new(&sdk, "mso-table", mso_store::CursorKey::from_env()?);
//! let documents = S3DocumentStore::new(&sdk, "mso-documents");
//! let queue = SqsWorkQueue::from_env(&sdk); // QUEUE_URL_<NAME> variables
//! # Ok(()) }
//! ```

mod dynamo;
mod error;
mod http;
mod s3;
mod sqs;

use std::sync::{Arc, LazyLock};

use aws_sdk_dynamodb::config::{
    BehaviorVersion, Credentials, Region, SharedCredentialsProvider, SharedHttpClient,
};
pub use aws_types::SdkConfig;

pub use dynamo::{DynamoRecordStore, create_table};
pub use s3::S3DocumentStore;
pub use sqs::{QUEUE_URL_ENV_PREFIX, SqsWorkQueue};

use crate::StoreError;

/// An SDK client built at its first use rather than at cold start. Building a
/// client parses its SDK crate's endpoint partition table (0.44 M instructions
/// for the SDK's eight partitions, 0.13 M for the one a deployed function is
/// pointed at by `SMITHY_CLIENT_SDK_CUSTOM_PARTITION`, infra/partitions/), and
/// in Lambda many functions never use some of the clients their ports hold:
/// writers leave their events to `outbox-relay`, so never send to SQS;
/// claims-edits never touches S3 (docs/performance.md, "What init costs").
/// Clones share the one client.
pub(crate) type BuiltOnFirstUse<C> = Arc<LazyLock<C, Box<dyn FnOnce() -> C + Send>>>;

pub(crate) fn built_on_first_use<C>(
    build: impl FnOnce() -> C + Send + 'static,
) -> BuiltOnFirstUse<C> {
    Arc::new(LazyLock::new(Box::new(build)))
}

/// The roots of Amazon Trust Services, which issue every AWS endpoint's
/// certificate, compiled in as DER (`roots/`). The SDK's default reads and
/// parses every file under /etc/ssl/certs at each client's construction and
/// again at its first request; 5 roots instead of Mozilla's 118, in DER rather
/// than PEM, leave only their X.509 parse (once, at the first request)
/// (docs/performance.md, "Cold starts").
const AMAZON_ROOTS: &[&[u8]] = &[
    include_bytes!("roots/amazon-root-ca-1.der"),
    include_bytes!("roots/amazon-root-ca-2.der"),
    include_bytes!("roots/amazon-root-ca-3.der"),
    include_bytes!("roots/amazon-root-ca-4.der"),
    include_bytes!("roots/starfield-services-root-ca-g2.der"),
];

/// The HTTPS client every AWS client uses ([`http`]): HTTP/1.1 over rustls with
/// the ring crypto provider (the SDK's default would compile aws-lc), trusting
/// [`AMAZON_ROOTS`] only.
pub fn http_client() -> SharedHttpClient {
    http::https_client(AMAZON_ROOTS)
}

/// The AWS configuration of a Lambda function, from what Lambda sets in its
/// environment: the region (`AWS_REGION`) and the execution role's credentials
/// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), plus
/// `AWS_ENDPOINT_URL` when set (moto in the tests and the meters). A variable
/// missing stops the cold start naming it.
///
/// Why not `aws-config`: its credential and region chains look for profile files,
/// container and instance-metadata endpoints, SSO and STS, none of which a
/// Lambda function has a use for, and they cost every binary 0.6 to 0.9 MB and its
/// cold start their set-up. The retry, timeout and sleep defaults are the SDK's
/// own, which the clients apply when the configuration leaves them unset.
pub fn sdk_config() -> Result<SdkConfig, StoreError> {
    lambda_environment(|name| std::env::var(name).ok())
}

fn lambda_environment(var: impl Fn(&str) -> Option<String>) -> Result<SdkConfig, StoreError> {
    let set = |name: &str| var(name).filter(|value| !value.is_empty());
    let required = |name: &str| {
        set(name).ok_or_else(|| StoreError::NotConfigured(format!("{name} (set by Lambda)")))
    };
    let region = match set("AWS_REGION") {
        Some(region) => region,
        None => required("AWS_DEFAULT_REGION")
            .map_err(|_| StoreError::NotConfigured("AWS_REGION (set by Lambda)".into()))?,
    };
    let credentials = Credentials::new(
        required("AWS_ACCESS_KEY_ID")?,
        required("AWS_SECRET_ACCESS_KEY")?,
        set("AWS_SESSION_TOKEN"),
        None,
        "lambda-environment",
    );
    Ok(sdk_config_for(
        &region,
        set("AWS_ENDPOINT_URL").as_deref(),
        credentials,
    ))
}

/// The configuration for `region`, as `credentials`, at `endpoint_url` if given
/// (else AWS's own endpoints), with [`http_client`]; for the tests and tools
/// that talk to moto.
pub fn sdk_config_for(
    region: &str,
    endpoint_url: Option<&str>,
    credentials: Credentials,
) -> SdkConfig {
    let mut sdk = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .http_client(http_client());
    if let Some(url) = endpoint_url {
        sdk = sdk.endpoint_url(url);
    }
    sdk.build()
}

#[cfg(test)]
mod tests {
    use rustls::pki_types::CertificateDer;

    use super::*;

    fn amazon_roots() -> Vec<CertificateDer<'static>> {
        AMAZON_ROOTS
            .iter()
            .map(|der| CertificateDer::from(*der))
            .collect()
    }

    #[test]
    fn the_compiled_in_roots_are_mozillas_amazon_roots() {
        let roots = amazon_roots();
        assert_eq!(roots.len(), 5);
        for root in &roots {
            // Still in Mozilla's store (a root it distrusts fails here on update).
            assert!(
                webpki_root_certs::TLS_SERVER_ROOT_CERTS.contains(root),
                "a compiled-in root is not in webpki-root-certs"
            );
        }
        let named = |name: &str| {
            roots
                .iter()
                .any(|r| r.windows(name.len()).any(|w| w == name.as_bytes()))
        };
        for name in [
            "Amazon Root CA 1",
            "Amazon Root CA 2",
            "Amazon Root CA 3",
            "Amazon Root CA 4",
            "Starfield Services Root Certificate Authority - G2",
        ] {
            assert!(named(name), "{name} is missing");
        }
        // And rustls takes every one as a trust anchor, as the client builds them.
        let mut store = rustls::RootCertStore::empty();
        assert_eq!(store.add_parsable_certificates(roots), (5, 0));
    }

    fn lambda_variable(name: &str) -> Option<String> {
        let value = match name {
            "AWS_LAMBDA_FUNCTION_NAME" => "mso-sunrise-eligibility",
            "AWS_REGION" => "us-west-2",
            "AWS_ACCESS_KEY_ID" => "LAMBDAKEY",
            "AWS_SECRET_ACCESS_KEY" => "secret",
            "AWS_SESSION_TOKEN" => "token",
            _ => return None,
        };
        Some(value.into())
    }

    async fn access_key(sdk: &SdkConfig) -> (String, Option<String>) {
        use aws_sdk_dynamodb::config::ProvideCredentials;
        let provider = sdk.credentials_provider().unwrap();
        let credentials = provider.provide_credentials().await.unwrap();
        (
            credentials.access_key_id().to_string(),
            credentials.session_token().map(str::to_owned),
        )
    }

    #[tokio::test]
    async fn region_and_credentials_come_from_lambdas_variables() {
        let sdk = lambda_environment(lambda_variable).unwrap();
        assert_eq!(sdk.region().unwrap().as_ref(), "us-west-2");
        assert_eq!(
            access_key(&sdk).await,
            ("LAMBDAKEY".into(), Some("token".into()))
        );
        assert_eq!(sdk.endpoint_url(), None);
        assert_eq!(sdk.behavior_version(), Some(BehaviorVersion::latest()));
        assert!(sdk.http_client().is_some());
    }

    #[tokio::test]
    async fn an_endpoint_url_in_the_environment_is_used() {
        let sdk = lambda_environment(|name| match name {
            "AWS_ENDPOINT_URL" => Some("http://127.0.0.1:5000".into()),
            "AWS_REGION" => None,
            "AWS_DEFAULT_REGION" => Some("eu-west-1".into()),
            other => lambda_variable(other),
        })
        .unwrap();
        assert_eq!(sdk.endpoint_url(), Some("http://127.0.0.1:5000"));
        assert_eq!(sdk.region().unwrap().as_ref(), "eu-west-1");
    }

    #[test]
    fn a_missing_variable_is_named() {
        for missing in ["AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
            let err = lambda_environment(|name| {
                (name != missing).then(|| lambda_variable(name)).flatten()
            })
            .unwrap_err();
            assert!(err.to_string().contains(missing), "{missing}: {err}");
        }
    }

    #[test]
    fn every_compiled_in_root_is_a_usable_trust_anchor() {
        let mut store = rustls::RootCertStore::empty();
        let (added, refused) = store.add_parsable_certificates(amazon_roots());
        assert_eq!((added, refused), (5, 0));
    }
}

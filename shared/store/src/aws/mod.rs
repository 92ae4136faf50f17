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

use aws_config::{BehaviorVersion, ConfigLoader, Region, SdkConfig};
use aws_runtime::env_config::file::{EnvConfigFileKind, EnvConfigFiles};
use aws_sdk_dynamodb::config::{Credentials, SharedHttpClient};
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore, rustls_provider::CryptoMode};

pub use dynamo::{DynamoRecordStore, create_table};
pub use s3::S3DocumentStore;
pub use sqs::{QUEUE_URL_ENV_PREFIX, SqsWorkQueue};

/// The roots of Amazon Trust Services, which issue every AWS endpoint's
/// certificate, compiled in. The SDK's default reads and parses every file under
/// /etc/ssl/certs at each client's construction and again at its first request;
/// 5 roots instead of Mozilla's 118 also make the one parse that is left (at the
/// first request) 0.02 ms instead of 0.5 ms (docs/performance.md, "Cold starts").
const AMAZON_ROOTS: &[u8] = include_bytes!("amazon-roots.pem");

/// The HTTPS client every AWS client uses: rustls with the ring crypto provider
/// (the SDK's default would compile aws-lc), trusting [`AMAZON_ROOTS`] only.
pub fn http_client() -> SharedHttpClient {
    let trust = TrustStore::empty().with_pem_certificate(AMAZON_ROOTS);
    let tls = TlsContext::builder()
        .with_trust_store(trust)
        .build()
        .expect("a TLS context is only a trust store");
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .tls_context(tls)
        .build_https()
}

/// The AWS configuration with [`http_client`]. In Lambda (`AWS_LAMBDA_FUNCTION_NAME`
/// is set), see [`in_lambda`]; elsewhere, the standard chains (environment,
/// profile, container or instance role). Both take `AWS_ENDPOINT_URL` from the
/// environment.
pub async fn sdk_config() -> SdkConfig {
    let loader = aws_config::defaults(BehaviorVersion::latest());
    sdk_config_from(in_lambda(loader, |name| std::env::var(name).ok())).await
}

/// In Lambda, the region and the role's credentials are in the environment
/// (`AWS_REGION`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`),
/// so they are set from there, and no profile file is read: there is none, and
/// the standard chains would look for one (and build STS and instance-metadata
/// clients) first. Without keys in the environment (SnapStart serves credentials
/// from an endpoint instead), credentials keep the standard chain.
fn in_lambda(loader: ConfigLoader, var: impl Fn(&str) -> Option<String>) -> ConfigLoader {
    if var("AWS_LAMBDA_FUNCTION_NAME").is_none() {
        return loader;
    }
    let no_profile = EnvConfigFiles::builder()
        .with_contents(EnvConfigFileKind::Config, "")
        .build();
    let mut loader = loader.profile_files(no_profile);
    if let Some(region) = var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION")) {
        loader = loader.region(Region::new(region));
    }
    if let (Some(key), Some(secret)) = (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) {
        let token = var("AWS_SESSION_TOKEN");
        let credentials = Credentials::new(key, secret, token, None, "lambda-environment");
        loader = loader.credentials_provider(credentials);
    }
    loader
}

/// Loads `loader` with [`http_client`]; for callers (and tests) that set the
/// region, endpoint or credentials themselves.
pub async fn sdk_config_from(loader: ConfigLoader) -> SdkConfig {
    loader.http_client(http_client()).load().await
}

#[cfg(test)]
mod tests {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;

    use super::*;

    fn amazon_roots() -> Vec<CertificateDer<'static>> {
        CertificateDer::pem_slice_iter(AMAZON_ROOTS)
            .collect::<Result<_, _>>()
            .unwrap()
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
    }

    /// A machine whose profile names another region, FIPS endpoints and other
    /// keys (as files in ~/.aws would; the process environment is not read).
    fn loader_on_a_machine_with_a_profile() -> ConfigLoader {
        let profile = EnvConfigFiles::builder()
            .with_contents(
                EnvConfigFileKind::Config,
                "[default]\nregion = us-east-1\nuse_fips_endpoint = true\n",
            )
            .with_contents(
                EnvConfigFileKind::Credentials,
                "[default]\naws_access_key_id = PROFILEKEY\naws_secret_access_key = s\n",
            )
            .build();
        aws_config::defaults(BehaviorVersion::latest())
            .empty_test_environment()
            .profile_files(profile)
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

    async fn access_key(sdk: &SdkConfig) -> String {
        use aws_sdk_dynamodb::config::ProvideCredentials;
        let provider = sdk.credentials_provider().unwrap();
        let credentials = provider.provide_credentials().await.unwrap();
        credentials.access_key_id().to_string()
    }

    #[tokio::test]
    async fn in_lambda_region_and_credentials_come_from_its_variables_and_no_profile_is_read() {
        let loader = in_lambda(loader_on_a_machine_with_a_profile(), lambda_variable);
        let sdk = sdk_config_from(loader).await;
        assert_eq!(sdk.region().unwrap().as_ref(), "us-west-2");
        assert_eq!(access_key(&sdk).await, "LAMBDAKEY");
        assert_eq!(sdk.use_fips(), None, "the profile was read");
    }

    #[tokio::test]
    async fn outside_lambda_the_standard_chains_read_the_profile() {
        let loader = in_lambda(loader_on_a_machine_with_a_profile(), |_| None);
        let sdk = sdk_config_from(loader).await;
        assert_eq!(sdk.region().unwrap().as_ref(), "us-east-1");
        assert_eq!(access_key(&sdk).await, "PROFILEKEY");
        assert_eq!(sdk.use_fips(), Some(true));
    }

    #[test]
    fn every_compiled_in_root_is_a_usable_trust_anchor() {
        let mut store = rustls::RootCertStore::empty();
        let (added, refused) = store.add_parsable_certificates(amazon_roots());
        assert_eq!((added, refused), (5, 0));
    }
}

//! The HTTPS client every AWS client uses: hyper's HTTP/1.1 client (hyper-util's
//! pooled client) over rustls with the ring provider, trusting the compiled-in
//! roots only ([`AMAZON_ROOTS`](super::AMAZON_ROOTS)).
//!
//! Why not the SDK's own (`aws-smithy-http-client`): it is these same crates with
//! HTTP/2 always compiled in, a proxy layer and a TLS abstraction over three
//! providers, 0.6 MB of every Lambda binary (docs/performance.md, "Binaries");
//! DynamoDB, S3 and SQS answer in HTTP/1.1. What the SDK's client does that matters
//! here is kept: a connection pool per timeout setting, the connect and read
//! timeouts the SDK's configuration asks for, errors classified so that the SDK
//! retries what is transient, and connections the retry policy may poison (never
//! reused after a timeout or a broken response). Left out: proxies (a Lambda
//! function reaches AWS directly) and HTTP/2.

use std::collections::HashMap;
use std::error::Error as StdError;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use aws_sdk_dynamodb::config::SharedHttpClient;
use aws_smithy_runtime_api::client::connection::{CaptureSmithyConnection, ConnectionMetadata};
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::retries::ErrorKind;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{
    CaptureConnection, HttpConnector as Tcp, capture_connection,
};
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;

/// The HTTPS client trusting `roots` (DER). Nothing is built until the first
/// request: the TLS configuration then, once, and a pool per timeout setting.
pub(super) fn https_client(roots: &'static [&'static [u8]]) -> SharedHttpClient {
    SharedHttpClient::new(Http1Client {
        roots,
        tls: OnceLock::new(),
        pools: Mutex::default(),
    })
}

#[derive(Debug)]
struct Http1Client {
    roots: &'static [&'static [u8]],
    tls: OnceLock<rustls::ClientConfig>,
    /// The SDK asks for a connector on every attempt; one pool per setting keeps
    /// connections alive between requests.
    pools: Mutex<HashMap<Timeouts, SharedHttpConnector>>,
}

#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
struct Timeouts {
    connect: Option<Duration>,
    read: Option<Duration>,
}

impl Http1Client {
    fn tls(&self) -> rustls::ClientConfig {
        self.tls.get_or_init(|| tls_config(self.roots)).clone()
    }
}

/// rustls with ring's provider and its safe defaults (TLS 1.2 and 1.3), trusting
/// only the certificates in `roots`. That every compiled-in root parses and is a
/// usable anchor is checked by `aws::tests`, so none is dropped here in a Lambda.
fn tls_config(roots: &[&'static [u8]]) -> rustls::ClientConfig {
    let mut store = RootCertStore::empty();
    store.add_parsable_certificates(roots.iter().map(|der| CertificateDer::from(*der)));
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .with_root_certificates(store)
        .with_no_client_auth()
}

impl HttpClient for Http1Client {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        let timeouts = Timeouts {
            connect: settings.connect_timeout(),
            read: settings.read_timeout(),
        };
        let mut pools = self.pools.lock().unwrap_or_else(|e| e.into_inner());
        pools
            .entry(timeouts)
            .or_insert_with(|| SharedHttpConnector::new(Pool::new(self.tls(), timeouts)))
            .clone()
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        Some(ConnectorMetadata::new("hyper", Some("1.x".into())))
    }
}

/// hyper-util's pooled client over TLS (or plain TCP for an `http://` endpoint:
/// moto in the tests and the meters).
struct Pool {
    client: Client<HttpsConnector<Tcp>, SdkBody>,
    read_timeout: Option<Duration>,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("read_timeout", &self.read_timeout)
            .finish_non_exhaustive()
    }
}

impl Pool {
    fn new(tls: rustls::ClientConfig, timeouts: Timeouts) -> Pool {
        let mut tcp = Tcp::new();
        tcp.enforce_http(false);
        tcp.set_nodelay(true);
        tcp.set_connect_timeout(timeouts.connect);
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(tcp);
        let client = Client::builder(TokioExecutor::new())
            // Idle connections expire (hyper's 90 s) only with a timer.
            .pool_timer(TokioTimer::new())
            .build(https);
        Pool {
            client,
            read_timeout: timeouts.read,
        }
    }
}

impl HttpConnector for Pool {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let mut request = match request.try_into_http1x() {
            Ok(request) => request,
            Err(e) => return HttpConnectorFuture::ready(Err(ConnectorError::user(e.into()))),
        };
        let connection = capture_connection(&mut request);
        if let Some(capture) = request.extensions().get::<CaptureSmithyConnection>() {
            capture.set_connection_retriever(move || poisonable(&connection));
        }
        let sent = self.client.request(request);
        let read_timeout = self.read_timeout;
        HttpConnectorFuture::new(async move {
            let response = match read_timeout {
                Some(limit) => match tokio::time::timeout(limit, sent).await {
                    Ok(answer) => answer,
                    Err(elapsed) => return Err(ConnectorError::timeout(elapsed.into())),
                },
                None => sent.await,
            }
            .map_err(classify)?;
            HttpResponse::try_from(response.map(SdkBody::from_body_1_x))
                .map_err(|e| ConnectorError::other(e.into(), None))
        })
    }
}

/// The connection a request went out on, for the SDK's retry policy to poison
/// (so it is not reused) when the attempt failed in a way that may have left it
/// broken.
fn poisonable(connection: &CaptureConnection) -> Option<ConnectionMetadata> {
    connection.connection_metadata().as_ref()?;
    let connection = connection.clone();
    Some(
        ConnectionMetadata::builder()
            .proxied(false)
            .poison_fn(move || {
                if let Some(c) = connection.connection_metadata().as_ref() {
                    c.poison();
                }
            })
            .build(),
    )
}

/// The SDK retries `io` and `timeout` errors and transient `other`s; `user`
/// errors (a request hyper refused to send) are not retried.
fn classify(e: hyper_util::client::legacy::Error) -> ConnectorError {
    let by_hyper = source::<hyper::Error>(&e).map(|h| {
        if h.is_timeout() {
            Kind::Timeout
        } else if h.is_user() {
            Kind::User
        } else if h.is_closed() || h.is_canceled() || source::<std::io::Error>(h).is_some() {
            Kind::Io
        } else if h.is_incomplete_message() {
            // A response cut short (S3 does this at times): worth another try.
            Kind::Transient
        } else {
            Kind::Other
        }
    });
    let kind = match by_hyper {
        Some(kind) => kind,
        // The TCP connector's own timeout (the SDK's connect timeout).
        None if source::<std::io::Error>(&e)
            .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut) =>
        {
            Kind::Timeout
        }
        None if e.is_connect() || source::<std::io::Error>(&e).is_some() => Kind::Io,
        None => Kind::Other,
    };
    let e = Box::new(e);
    match kind {
        Kind::Timeout => ConnectorError::timeout(e),
        Kind::User => ConnectorError::user(e),
        Kind::Io => ConnectorError::io(e),
        Kind::Transient => ConnectorError::other(e, Some(ErrorKind::TransientError)),
        Kind::Other => ConnectorError::other(e, None),
    }
}

/// What a failed request was, as the SDK's retry policy reads it.
enum Kind {
    Timeout,
    User,
    Io,
    Transient,
    Other,
}

/// The first error of type `E` in `e`'s chain of sources, `e` included.
fn source<'a, E: StdError + 'static>(e: &'a (dyn StdError + 'static)) -> Option<&'a E> {
    let mut next = Some(e);
    while let Some(e) = next {
        if let Some(found) = e.downcast_ref::<E>() {
            return Some(found);
        }
        next = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    //! The client against a TLS endpoint on loopback, through a DynamoDB client as
    //! the adapters use it. The endpoint's certificate (for `localhost`) and its
    //! CA were made for these tests only (`testdata/`, valid until 2126).

    use std::convert::Infallible;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use aws_sdk_dynamodb::config::retry::RetryConfig;
    use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
    use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
    use aws_sdk_dynamodb::error::SdkError;
    use aws_sdk_dynamodb::types::AttributeValue;
    use bytes::Bytes;
    use http_body_util::Full;
    use hyper::service::service_fn;
    use hyper_util::rt::TokioIo;
    use rustls::pki_types::PrivateKeyDer;
    use rustls::pki_types::pem::PemObject;
    use tokio::net::TcpListener;
    use tokio_rustls::TlsAcceptor;

    use super::*;

    const TEST_CA: &[&[u8]] = &[include_bytes!("testdata/test-ca.der")];
    const LOCALHOST_CERT: &[u8] = include_bytes!("testdata/localhost.pem");
    const LOCALHOST_KEY: &[u8] = include_bytes!("testdata/localhost.key");

    /// What the endpoint saw.
    #[derive(Default)]
    struct Seen {
        connections: AtomicUsize,
        /// Each request's HTTP version and `X-Amz-Target`.
        requests: Mutex<Vec<(hyper::Version, String)>>,
    }

    /// How the endpoint treats requests.
    #[derive(Clone, Copy, PartialEq)]
    enum Mode {
        /// Each as DynamoDB answers a GetItem that found its item.
        Answers,
        /// None ever.
        Never,
        /// The first connection is closed once its request has arrived,
        /// unanswered (as a server does to an idle connection it times out);
        /// later ones are answered.
        HangsUpOnce,
    }

    /// A TLS endpoint for `localhost` that treats requests as `mode` says.
    async fn endpoint(mode: Mode) -> (String, Arc<Seen>) {
        let key = PrivateKeyDer::from_pem_slice(LOCALHOST_KEY).unwrap();
        let chain = CertificateDer::pem_slice_iter(LOCALHOST_CERT)
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let tls = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
        let acceptor = TlsAcceptor::from(Arc::new(tls));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "https://localhost:{}",
            listener.local_addr().unwrap().port()
        );
        let seen = Arc::new(Seen::default());
        let counted = Arc::clone(&seen);
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let earlier = counted.connections.fetch_add(1, Ordering::SeqCst);
                let (acceptor, seen) = (acceptor.clone(), Arc::clone(&counted));
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    if mode == Mode::HangsUpOnce && earlier == 0 {
                        let mut request = [0u8; 1024];
                        let _ = tokio::io::AsyncReadExt::read(&mut tls, &mut request).await;
                        seen.requests
                            .lock()
                            .unwrap()
                            .push((hyper::Version::HTTP_11, "(hung up)".into()));
                        return;
                    }
                    let answer = service_fn(move |request: hyper::Request<_>| {
                        let target = request
                            .headers()
                            .get("x-amz-target")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_owned();
                        seen.requests
                            .lock()
                            .unwrap()
                            .push((request.version(), target));
                        async move {
                            if mode == Mode::Never {
                                std::future::pending::<()>().await;
                            }
                            let body = r#"{"Item":{"pk":{"S":"MEMBER#1"}}}"#;
                            Ok::<_, Infallible>(
                                hyper::Response::builder()
                                    .header("content-type", "application/x-amz-json-1.0")
                                    .body(Full::new(Bytes::from_static(body.as_bytes())))
                                    .unwrap(),
                            )
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tls), answer)
                        .await;
                });
            }
        });
        (url, seen)
    }

    /// A DynamoDB client at `url` over [`https_client`] trusting `roots`, one
    /// attempt per call unless `retries`.
    fn dynamo(
        url: &str,
        roots: &'static [&'static [u8]],
        read_timeout: Option<Duration>,
        retries: bool,
    ) -> aws_sdk_dynamodb::Client {
        let mut timeouts = TimeoutConfig::builder();
        if let Some(limit) = read_timeout {
            timeouts = timeouts.read_timeout(limit);
        }
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-west-2"))
            .credentials_provider(Credentials::new("AKID", "secret", None, None, "test"))
            .endpoint_url(url)
            .http_client(https_client(roots))
            .retry_config(if retries {
                RetryConfig::standard().with_initial_backoff(Duration::from_millis(1))
            } else {
                RetryConfig::disabled()
            })
            .timeout_config(timeouts.build())
            .build();
        aws_sdk_dynamodb::Client::from_conf(config)
    }

    async fn get_item(client: &aws_sdk_dynamodb::Client) -> Result<Option<String>, String> {
        client
            .get_item()
            .table_name("mso")
            .key("pk", AttributeValue::S("MEMBER#1".into()))
            .send()
            .await
            .map(|out| {
                out.item()
                    .and_then(|item| item.get("pk"))
                    .and_then(|pk| pk.as_s().ok())
                    .cloned()
            })
            .map_err(|e| format!("{:?}", e.into_source().unwrap()))
    }

    #[tokio::test]
    async fn requests_go_over_tls_and_http_1_1_and_share_one_connection() {
        let (url, seen) = endpoint(Mode::Answers).await;
        let client = dynamo(&url, TEST_CA, None, false);
        assert_eq!(get_item(&client).await, Ok(Some("MEMBER#1".into())));
        // The connection goes back to the pool from its own task once the
        // response is read; a moment later, as between two calls of a handler:
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(get_item(&client).await, Ok(Some("MEMBER#1".into())));
        let get_item = (
            hyper::Version::HTTP_11,
            "DynamoDB_20120810.GetItem".to_owned(),
        );
        assert_eq!(*seen.requests.lock().unwrap(), [get_item.clone(), get_item]);
        // The second request reused the first one's connection from the pool.
        assert_eq!(seen.connections.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn an_endpoint_certified_by_another_ca_is_refused_before_any_request() {
        let (url, seen) = endpoint(Mode::Answers).await;
        let client = dynamo(&url, super::super::AMAZON_ROOTS, None, false);
        let error = get_item(&client).await.unwrap_err();
        assert!(error.contains("UnknownIssuer"), "{error}");
        assert_eq!(seen.connections.load(Ordering::SeqCst), 1);
        assert!(seen.requests.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_response_that_never_comes_is_a_timeout() {
        let (url, seen) = endpoint(Mode::Never).await;
        let client = dynamo(&url, TEST_CA, Some(Duration::from_millis(200)), false);
        let call = client
            .get_item()
            .table_name("mso")
            .key("pk", AttributeValue::S("MEMBER#1".into()))
            .send();
        // Without the client's read timeout, the call would wait for ever.
        let error = tokio::time::timeout(Duration::from_secs(10), call)
            .await
            .expect("the read timeout applies")
            .unwrap_err();
        let SdkError::DispatchFailure(dispatch) = &error else {
            panic!("not a dispatch failure: {error:?}");
        };
        assert!(dispatch.is_timeout(), "{dispatch:?}");
        assert_eq!(seen.requests.lock().unwrap().len(), 1);
    }

    /// A connection the server closed (after a Lambda's freeze, say) fails its
    /// request in a way the SDK retries, on a new connection.
    #[tokio::test]
    async fn a_request_cut_off_by_the_server_is_retried_on_a_new_connection() {
        let (url, seen) = endpoint(Mode::HangsUpOnce).await;
        let client = dynamo(&url, TEST_CA, None, true);
        assert_eq!(get_item(&client).await, Ok(Some("MEMBER#1".into())));
        assert_eq!(seen.connections.load(Ordering::SeqCst), 2);
        let targets: Vec<String> = seen
            .requests
            .lock()
            .unwrap()
            .iter()
            .map(|(_, t)| t.clone())
            .collect();
        assert_eq!(targets, ["(hung up)", "DynamoDB_20120810.GetItem"]);
    }
}

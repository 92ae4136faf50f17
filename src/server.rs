//! The local server: one HTTP listener in front of every function, on the embedded
//! store. It plays API Gateway: it verifies the bearer token (a dev token instead of
//! the identity provider's), matches the route, and hands the function the same
//! payload-2.0 request Lambda would.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use mso_api::gateway::{GatewayRequest, flatten_claims};
use mso_api::{Body, Problem, SystemClock};
use mso_store::StoreError;
use mso_store::embedded::{EmbeddedDocumentStore, PresignedOutcome};
use tokio::net::TcpListener;

use crate::data_dir::DataDir;
use crate::dev_token::{DevTokens, TokenError};
use crate::local_aws::{self, LOCAL_CLAIMS_BUCKET, NotifyingBucket};
use crate::routes::{Function, Match, Router};
use crate::{demo, openapi};

/// API Gateway's payload limit.
const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;

/// Limits that keep one client from holding the server.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// How long an API request body may take to arrive. The header timeout does
    /// not cover bodies, so without this a client sending a byte a second holds
    /// a connection (and its memory) for as long as it likes.
    pub body_timeout: Duration,
    /// The same for uploads through presigned URLs, which are larger.
    pub upload_timeout: Duration,
    /// Connections served at once; more wait in the listen backlog.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            body_timeout: Duration::from_secs(30),
            upload_timeout: Duration::from_secs(120),
            max_connections: 512,
        }
    }
}

/// Everything a request may need, built once at start-up.
pub struct App {
    limits: Limits,
    router: Router,
    tokens: DevTokens,
    documents: Arc<EmbeddedDocumentStore>,
    eligibility: eligibility::Deps,
    prior_auth: prior_auth::Deps,
    /// The documents function (its HTTP routes and its S3-event handler).
    documents_job: documents::Deps,
    /// The claims function (HTTP routes, the claims bucket's events, its queues).
    claims: claims::Deps,
    /// Objects created in the claims bucket, for its ObjectCreated handler.
    claim_files:
        std::sync::Mutex<Option<tokio::sync::mpsc::UnboundedReceiver<mso_store::ObjectMeta>>>,
    /// The intake function (the clerk's routes and the intake bucket's handler).
    intake: intake::Deps,
    /// The disputes function (its routes and its sweeper).
    disputes: disputes::Deps,
    openapi_json: Bytes,
}

/// The bucket name the local S3 events carry (the embedded store has one bucket).
const LOCAL_BUCKET: &str = "mso-local-documents";
/// The intake bucket's name in local S3 events (its objects live under `fax/`
/// and `email/` in the same embedded store).
const LOCAL_INTAKE_BUCKET: &str = "mso-local-intake";
/// Where `mso intake` drops a file, as the fax gateway or SES would drop it
/// into the intake bucket. Only from this machine, with a token of this server.
pub const LOCAL_INTAKE_PATH: &str = "/_local/intake";
/// SES accepts messages up to 40 MB.
const MAX_INTAKE_BYTES: usize = 40 * 1024 * 1024;

/// Attempts at a local ObjectCreated event whose handler failed, as Lambda
/// retries an asynchronous invocation (the first, then two more).
const EVENT_ATTEMPTS: u32 = 3;

impl App {
    pub fn new(
        dir: &DataDir,
        embedded: &mso_store::embedded::Embedded,
        limits: Limits,
    ) -> anyhow::Result<App> {
        let policy = Arc::new(dir.policy().clone());
        let clock: Arc<dyn mso_api::Clock> = Arc::new(SystemClock);
        let (claims_bucket, claim_files) = NotifyingBucket::new(
            embedded.documents(),
            &[
                mso_store::keys::CLAIM_FILE_OBJECT_PREFIX,
                mso_store::keys::CLAIM_INBOUND_PREFIX,
            ],
        );
        Ok(App {
            limits,
            router: Router::new(),
            tokens: DevTokens::new(&dir.jwt_key()?),
            documents: embedded.documents(),
            eligibility: eligibility::Deps {
                records: embedded.records(),
                policy: policy.clone(),
                clock: clock.clone(),
            },
            prior_auth: prior_auth::Deps {
                records: embedded.records(),
                queue: embedded.queue(),
                policy: policy.clone(),
                clock: clock.clone(),
            },
            documents_job: documents::Deps {
                records: embedded.records(),
                documents: embedded.documents(),
                queue: embedded.queue(),
                policy: policy.clone(),
                clock: clock.clone(),
            },
            claims: claims::Deps {
                records: embedded.records(),
                files: Arc::new(claims_bucket),
                queue: embedded.queue(),
                policy: policy.clone(),
                clock: clock.clone(),
            },
            claim_files: std::sync::Mutex::new(Some(claim_files)),
            intake: intake::Deps {
                records: embedded.records(),
                intake_objects: embedded.documents(),
                documents: embedded.documents(),
                queue: embedded.queue(),
                policy: policy.clone(),
                clock: clock.clone(),
                limits: intake::Limits::default(),
            },
            disputes: disputes::Deps {
                records: embedded.records(),
                queue: embedded.queue(),
                policy,
                clock,
            },
            openapi_json: Bytes::from(openapi::json()),
        })
    }

    pub async fn handle(&self, req: Request<Incoming>, peer: SocketAddr) -> Response<Full<Bytes>> {
        let started = Instant::now();
        let request_id = uuid::Uuid::new_v4().to_string();
        let method = req.method().clone();
        let mut resp = self.route(req, peer, &request_id).await;
        resp.headers_mut().insert(
            "x-request-id",
            HeaderValue::from_str(&request_id).unwrap_or(HeaderValue::from_static("-")),
        );
        // The path is logged without its query string, which carries PHI.
        tracing::info!(
            request_id,
            method = %method,
            status = resp.status().as_u16(),
            latency_us = started.elapsed().as_micros() as u64,
            "request"
        );
        resp
    }

    async fn route(
        &self,
        req: Request<Incoming>,
        peer: SocketAddr,
        request_id: &str,
    ) -> Response<Full<Bytes>> {
        let (parts, body) = req.into_parts();
        let path = parts.uri.path().to_owned();
        if path.starts_with(EmbeddedDocumentStore::PRESIGNED_PATH_PREFIX) {
            return self.presigned(parts, body).await;
        }
        if path == LOCAL_INTAKE_PATH {
            return self.intake_drop(parts, body, peer).await;
        }
        match (&parts.method, path.as_str()) {
            (&Method::GET, "/healthz") => {
                return plain(
                    StatusCode::OK,
                    "application/json",
                    Bytes::from_static(b"{\"status\":\"ok\"}"),
                );
            }
            (&Method::GET, "/openapi.json") => {
                return plain(
                    StatusCode::OK,
                    "application/json",
                    self.openapi_json.clone(),
                );
            }
            _ => {}
        }
        let (route, path_parameters) = match self.router.find(parts.method.as_str(), &path) {
            Match::Route {
                route,
                path_parameters,
            } => (route, path_parameters),
            Match::MethodNotAllowed(allowed) => {
                let mut resp = problem(
                    Problem::new(
                        StatusCode::METHOD_NOT_ALLOWED,
                        "method-not-allowed",
                        "Method not allowed",
                    )
                    .with_detail(format!("{path} accepts {}", allowed.join(", "))),
                );
                if let Ok(v) = HeaderValue::from_str(&allowed.join(", ")) {
                    resp.headers_mut().insert(header::ALLOW, v);
                }
                return resp;
            }
            Match::NotFound => return problem(Problem::no_route(parts.method.as_str(), &path)),
        };
        let claims = match self.authenticate(&parts.headers) {
            Ok(claims) => claims,
            Err(p) => return problem(p),
        };
        let body = match read_body(body, MAX_BODY_BYTES, self.limits.body_timeout).await {
            Ok(b) => b,
            Err(p) => return problem(p),
        };
        let mut headers = parts.headers;
        forwarded_as_api_gateway(&mut headers, peer);
        let request = GatewayRequest {
            method: parts.method.clone(),
            path,
            query: parts.uri.query().unwrap_or_default().to_owned(),
            route_key: route.key(),
            path_parameters,
            headers,
            body: body.to_vec(),
            claims: Some(claims),
            request_id: request_id.to_owned(),
            source_ip: peer.ip().to_string(),
            time_epoch_ms: jiff::Timestamp::now().as_millisecond(),
        }
        .into_request();
        let resp = match route.function {
            Function::Eligibility => eligibility::handle(&self.eligibility, request).await,
            Function::PriorAuth => prior_auth::handle(&self.prior_auth, request).await,
            Function::Documents => documents::handle(&self.documents_job, request).await,
            Function::Claims => claims::handle(&self.claims, request).await,
            Function::Intake => intake::handle(&self.intake, request).await,
            Function::Disputes => disputes::handle(&self.disputes, request).await,
        };
        from_lambda(resp)
    }

    /// API Gateway's JWT authorizer, locally: a dev token signed with this data
    /// directory's key, turned into the claims map API Gateway would pass on.
    fn authenticate(
        &self,
        headers: &hyper::HeaderMap,
    ) -> Result<std::collections::HashMap<String, String>, Problem> {
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .ok_or_else(|| {
                Problem::unauthorized(
                    "Send `Authorization: Bearer <token>`; `mso token` mints one.",
                )
            })?;
        match self.tokens.verify(token) {
            Ok(claims) => Ok(flatten_claims(&claims)),
            Err(TokenError::Expired) => Err(Problem::unauthorized(
                "The token has expired; mint a new one with `mso token`.",
            )),
            Err(_) => Err(Problem::unauthorized(
                "The token is not valid for this server.",
            )),
        }
    }

    /// The local stand-in for S3 presigned URLs. The signature, expiry, method
    /// and headers are checked before any of the body is read, and no more than
    /// the signed length is read, within [`Limits::upload_timeout`].
    async fn presigned(
        &self,
        parts: hyper::http::request::Parts,
        body: Incoming,
    ) -> Response<Full<Bytes>> {
        let path_and_query = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or_default();
        let now = jiff::Timestamp::now().as_second();
        let access = match self.documents.authorize_presigned(
            &parts.method,
            path_and_query,
            &parts.headers,
            now,
        ) {
            Ok(access) => access,
            Err(e) => return presign_problem(e),
        };
        let limit = usize::try_from(access.body_limit()).unwrap_or(usize::MAX);
        let body = match read_body(body, limit, self.limits.upload_timeout).await {
            Ok(b) => b,
            Err(p) => return problem(p),
        };
        match self.documents.complete_presigned(access, body).await {
            Ok(PresignedOutcome::Stored(meta)) => {
                self.object_created(&meta).await;
                plain(StatusCode::OK, "text/plain", Bytes::new())
            }
            Ok(PresignedOutcome::Found(meta, bytes)) => {
                let mut resp = Response::new(Full::new(bytes));
                for (name, value) in PresignedOutcome::download_headers(&meta) {
                    if let Ok(value) = HeaderValue::from_str(&value) {
                        resp.headers_mut().insert(name, value);
                    }
                }
                resp
            }
            Ok(PresignedOutcome::NotFound) => problem(Problem::not_found()),
            Err(e) => presign_problem(e),
        }
    }
}

impl App {
    /// What S3 does after a PUT: an ObjectCreated event to the documents
    /// verifying handler, the same `S3Event` the Lambda main receives. It runs
    /// before the PUT is answered, so a client that reads the document next sees
    /// it verified. A failed handler is retried in the background, as Lambda
    /// retries an asynchronous invocation; the bytes are stored either way.
    async fn object_created(&self, meta: &mso_store::ObjectMeta) {
        let event = documents::verify::object_created(
            LOCAL_BUCKET,
            &meta.key,
            meta.size,
            jiff::Timestamp::now(),
        );
        let Err(e) = documents::verify::handle(&self.documents_job, event.clone()).await else {
            return;
        };
        tracing::error!(error = %e, key = %meta.key, "ObjectCreated handler failed; retrying");
        let deps = self.documents_job.clone();
        let key = meta.key.clone();
        tokio::spawn(async move {
            for attempt in 1..EVENT_ATTEMPTS {
                tokio::time::sleep(Duration::from_secs(2u64.pow(attempt))).await;
                match documents::verify::handle(&deps, event.clone()).await {
                    Ok(_) => return,
                    Err(e) => {
                        tracing::error!(error = %e, key = %key, attempt, "ObjectCreated handler failed")
                    }
                }
            }
        });
    }
}

/// What `mso intake` asks for: the file's channel and what the gateway knows.
#[derive(Debug, Default)]
struct IntakeDrop {
    /// `fax` or `email`.
    channel: String,
    /// The file's extension (`pdf`, `tif`), for the fax's object name.
    ext: Option<String>,
    /// The sending fax number, as the gateway's caller ID.
    from: Option<String>,
    /// The gateway's receive time (RFC 3339); absent: the S3 event's time.
    received_at: Option<String>,
}

impl App {
    /// The fax gateway's (or SES's) drop into the intake bucket, locally: the
    /// sidecar first when the gateway knows the sender or time, then the file,
    /// then S3's ObjectCreated event to the intake handler, as in AWS. Answers
    /// the handler's report (the item's ID and status).
    async fn intake_drop(
        &self,
        parts: hyper::http::request::Parts,
        body: Incoming,
        peer: SocketAddr,
    ) -> Response<Full<Bytes>> {
        if parts.method != Method::POST {
            return problem(Problem::no_route(parts.method.as_str(), LOCAL_INTAKE_PATH));
        }
        if !peer.ip().is_loopback() {
            return problem(Problem::forbidden(
                "The local intake drop only takes files from this machine.",
            ));
        }
        if let Err(p) = self.authenticate(&parts.headers) {
            return problem(p);
        }
        let query = parts.uri.query().unwrap_or_default();
        let drop: IntakeDrop = match intake_drop_query(query) {
            Some(d) => d,
            None => {
                return problem(Problem::invalid_request(vec![mso_api::FieldError {
                    field: "channel".into(),
                    code: "invalid_channel".into(),
                    message: "must be fax or email".into(),
                }]));
            }
        };
        let bytes = match read_body(body, MAX_INTAKE_BYTES, self.limits.upload_timeout).await {
            Ok(b) => b,
            Err(p) => return problem(p),
        };
        // Names like the gateway's and SES's own: no PHI from the file's name.
        let name = uuid::Uuid::now_v7().to_string();
        let store = &self.intake.intake_objects;
        let key = if drop.channel == "fax" {
            let ext = drop
                .ext
                .as_deref()
                .filter(|e| {
                    (1..=5).contains(&e.len()) && e.bytes().all(|b| b.is_ascii_alphanumeric())
                })
                .unwrap_or("pdf")
                .to_ascii_lowercase();
            if drop.from.is_some() || drop.received_at.is_some() {
                let sidecar = serde_json::json!({
                    "from": drop.from,
                    "received_at": drop.received_at,
                });
                let put = store
                    .put(
                        &mso_store::keys::intake_fax(&format!("{name}.json")),
                        "application/json",
                        Bytes::from(sidecar.to_string()),
                    )
                    .await;
                if put.is_err() {
                    return problem(Problem::unavailable());
                }
            }
            mso_store::keys::intake_fax(&format!("{name}.{ext}"))
        } else {
            mso_store::keys::intake_email(&name)
        };
        let size = bytes.len() as u64;
        let content_type = if drop.channel == "fax" {
            "application/octet-stream"
        } else {
            "message/rfc822"
        };
        if store.put(&key, content_type, bytes).await.is_err() {
            return problem(Problem::unavailable());
        }
        let event = intake::ingest::object_created_event(
            LOCAL_INTAKE_BUCKET,
            &key,
            size,
            jiff::Timestamp::now(),
        );
        match intake::ingest::handle(&self.intake, event.clone()).await {
            Ok(report) => {
                let body = serde_json::to_vec(&report).unwrap_or_default();
                plain(StatusCode::CREATED, "application/json", Bytes::from(body))
            }
            Err(e) => {
                tracing::error!(error = %e, key = %key, "intake handler failed; retrying");
                let deps = self.intake.clone();
                tokio::spawn(async move {
                    for attempt in 1..EVENT_ATTEMPTS {
                        tokio::time::sleep(Duration::from_secs(2u64.pow(attempt))).await;
                        match intake::ingest::handle(&deps, event.clone()).await {
                            Ok(_) => return,
                            Err(e) => {
                                tracing::error!(error = %e, key = %key, attempt, "intake handler failed")
                            }
                        }
                    }
                });
                plain(
                    StatusCode::ACCEPTED,
                    "application/json",
                    Bytes::from_static(b"{\"status\":\"retrying\"}"),
                )
            }
        }
    }
}

/// Reads `channel=&ext=&from=&received_at=` into an [`IntakeDrop`]; `None`
/// when the channel is not `fax` or `email`.
fn intake_drop_query(query: &str) -> Option<IntakeDrop> {
    let mut drop = IntakeDrop::default();
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        let v = v.into_owned();
        match k.as_ref() {
            "channel" => drop.channel = v,
            "ext" => drop.ext = Some(v),
            "from" => drop.from = Some(v).filter(|s| !s.is_empty()),
            "received_at" => drop.received_at = Some(v).filter(|s| !s.is_empty()),
            _ => {}
        }
    }
    matches!(drop.channel.as_str(), "fax" | "email").then_some(drop)
}

fn presign_problem(e: StoreError) -> Response<Full<Bytes>> {
    match e {
        StoreError::PresignRefused(reason) => problem(Problem::forbidden(format!(
            "Presigned request refused: {reason}."
        ))),
        // As S3 answers a create-only PUT to a key that exists.
        StoreError::ConditionFailed => problem(
            Problem::new(
                StatusCode::PRECONDITION_FAILED,
                "object-exists",
                "The object was already uploaded",
            )
            .with_detail("An upload URL creates its object once; it cannot replace it."),
        ),
        _ => problem(Problem::unavailable()),
    }
}

impl App {
    /// What AWS runs on schedules, queues and bucket events, as in-process
    /// tasks: the sweepers every [`SWEEP_EVERY`], the claims queues' consumers,
    /// the claims bucket's ObjectCreated handler. Aborted at shutdown.
    fn start_background_jobs(self: &Arc<Self>) -> tokio::task::JoinSet<()> {
        let mut jobs = tokio::task::JoinSet::new();
        let app = Arc::clone(self);
        jobs.spawn(async move {
            let mut tick = tokio::time::interval(SWEEP_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let now = app.prior_auth.clock.now();
                if let Err(e) = prior_auth::sweeper::sweep(&app.prior_auth, now).await {
                    tracing::error!(error = %e, "prior-auth sweep failed; retrying at the next tick");
                }
                if let Err(e) = claims::sweeper::sweep(&app.claims, now).await {
                    tracing::error!(error = %e, "claims sweep failed; retrying at the next tick");
                }
                if let Err(e) = disputes::sweeper::sweep(&app.disputes, now).await {
                    tracing::error!(error = %e, "disputes sweep failed; retrying at the next tick");
                }
            }
        });
        // As Lambda polls a queue with several concurrent batches.
        for _ in 0..CLAIM_EDIT_CONSUMERS {
            let app = Arc::clone(self);
            jobs.spawn(async move {
                let queue = app.claims.queue.clone();
                local_aws::consume_queue(queue, claims::CLAIM_EDITS, |event| {
                    claims::edits::handle(&app.claims, event)
                })
                .await;
            });
        }
        let app = Arc::clone(self);
        jobs.spawn(async move {
            let queue = app.claims.queue.clone();
            local_aws::consume_queue(queue, claims::CLAIM_READJUDICATION, |event| {
                claims::edits::handle(&app.claims, event)
            })
            .await;
        });
        let receiver = self.claim_files.lock().ok().and_then(|mut r| r.take());
        if let Some(mut created) = receiver {
            let app = Arc::clone(self);
            jobs.spawn(async move {
                while let Some(meta) = created.recv().await {
                    app.claim_file_created(&meta).await;
                }
            });
        }
        jobs
    }

    /// What S3 does after an object lands in the claims bucket: the
    /// ObjectCreated event to the claims function, retried as Lambda retries an
    /// asynchronous invocation.
    async fn claim_file_created(&self, meta: &mso_store::ObjectMeta) {
        let event = claims::intake::object_created(
            LOCAL_CLAIMS_BUCKET,
            &meta.key,
            meta.size,
            jiff::Timestamp::now(),
        );
        for attempt in 0..EVENT_ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_secs(2u64.pow(attempt))).await;
            }
            match claims::intake::handle(&self.claims, event.clone()).await {
                Ok(_) => return,
                Err(e) => {
                    tracing::error!(error = %e, key = %meta.key, attempt, "claims ObjectCreated handler failed")
                }
            }
        }
    }
}

/// Concurrent consumers of the claim-edits queue (Lambda scales its pollers
/// with the queue; two cores gain little beyond a few).
const CLAIM_EDIT_CONSUMERS: usize = 4;

/// How often `mso serve` sweeps (the SAM template schedules the Lambda each minute).
const SWEEP_EVERY: Duration = Duration::from_secs(30);

/// Forwarding headers as API Gateway sets them: whatever the client sent is
/// replaced (a client must not choose the scheme or address handlers see), and a
/// `Host` that is not a valid host name is dropped by the request builder.
fn forwarded_as_api_gateway(headers: &mut hyper::HeaderMap, peer: SocketAddr) {
    let client_set: Vec<header::HeaderName> = headers
        .keys()
        .filter(|name| name.as_str().starts_with("x-forwarded-") || *name == "forwarded")
        .cloned()
        .collect();
    for name in client_set {
        headers.remove(name);
    }
    headers.insert("x-forwarded-proto", HeaderValue::from_static("http"));
    if let Ok(ip) = HeaderValue::from_str(&peer.ip().to_string()) {
        headers.insert("x-forwarded-for", ip);
    }
}

/// Reads at most `limit` bytes of body within `timeout`.
async fn read_body(body: Incoming, limit: usize, timeout: Duration) -> Result<Bytes, Problem> {
    let read = tokio::time::timeout(timeout, Limited::new(body, limit).collect()).await;
    let Ok(read) = read else {
        return Err(Problem::new(
            StatusCode::REQUEST_TIMEOUT,
            "body-timeout",
            "The request body took too long to arrive",
        )
        .with_detail(format!(
            "The whole body must arrive within {} seconds.",
            timeout.as_secs()
        )));
    };
    match read {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "Request body too large",
            )
            .with_detail(format!("The limit is {limit} bytes.")))
        }
        Err(_) => Err(Problem::new(
            StatusCode::BAD_REQUEST,
            "unreadable-body",
            "The request body could not be read",
        )),
    }
}

fn from_lambda(resp: mso_api::Response<Body>) -> Response<Full<Bytes>> {
    let (parts, body) = resp.into_parts();
    let bytes = match body {
        Body::Empty => Bytes::new(),
        Body::Text(s) => Bytes::from(s),
        Body::Binary(b) => Bytes::from(b),
        // `Body` is non-exhaustive; nothing else is produced by our handlers.
        _ => Bytes::new(),
    };
    Response::from_parts(parts, Full::new(bytes))
}

fn problem(p: Problem) -> Response<Full<Bytes>> {
    from_lambda(p.into_response())
}

fn plain(status: StatusCode, content_type: &str, body: Bytes) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(body));
    *resp.status_mut() = status;
    if let Ok(ct) = HeaderValue::from_str(content_type) {
        resp.headers_mut().insert(header::CONTENT_TYPE, ct);
    }
    resp
}

/// Runs `mso serve` until Ctrl-C or SIGTERM.
pub async fn serve(dir: DataDir, addr: SocketAddr, limits: Limits) -> anyhow::Result<()> {
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("listening on {addr} (is the port in use? try --port)"))?;
    let local = listener.local_addr()?;
    let base_url = format!("http://{local}");
    let fresh = dir.is_fresh();
    let embedded = dir.open_store(base_url.clone())?;
    if fresh {
        let loaded = demo::load(
            embedded.records().as_ref(),
            dir.policy(),
            jiff::Timestamp::now(),
        )
        .await?;
        eprintln!(
            "First start: loaded the demo IPA into {} ({loaded}).",
            dir.path().display()
        );
    }
    let app = Arc::new(App::new(&dir, &embedded, limits)?);
    let mut background = app.start_background_jobs();
    print_banner(&dir, &base_url)?;

    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown_signal());
    let connections = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    loop {
        // A permit per connection: beyond the cap, clients wait in the backlog.
        let permit = tokio::select! {
            permit = connections.clone().acquire_owned() => permit?,
            () = &mut shutdown => break,
        };
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let app = app.clone();
                let service = hyper::service::service_fn(move |req| {
                    let app = app.clone();
                    async move { Ok::<_, Infallible>(app.handle(req, peer).await) }
                });
                let conn = hyper::server::conn::http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(Duration::from_secs(10))
                    .serve_connection(TokioIo::new(stream), service);
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    let _ = conn.await;
                    drop(permit);
                });
            }
            () = &mut shutdown => break,
        }
    }
    background.abort_all();
    eprintln!("Shutting down: finishing requests in flight.");
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(Duration::from_secs(10)) => eprintln!("Gave up waiting for open connections."),
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

/// Tells a newcomer what is running and gives them a request that works as pasted.
fn print_banner(dir: &DataDir, base_url: &str) -> anyhow::Result<()> {
    let example = demo::example(dir.policy(), jiff::Timestamp::now());
    let token = DevTokens::new(&dir.jwt_key()?).mint(&example.token, jiff::Timestamp::now())?;
    let url = format!("{base_url}{}", example.path_and_query);
    println!(
        "mso serve: {} on {base_url} (data in {})",
        dir.policy().ipa.name,
        dir.path().display()
    );
    println!(
        "Try it (token valid 8 hours; more with `cargo run --release -- token --org ORG --role ROLE`):"
    );
    println!();
    println!("  curl -s -H \"Authorization: Bearer {token}\" \"{url}\"");
    println!();
    println!("OpenAPI: {base_url}/openapi.json   Health: {base_url}/healthz   Stop: Ctrl-C");
    Ok(())
}

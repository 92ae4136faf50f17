//! The claims function: claims in, edits run, acknowledgements out.
//!
//! 1. `POST /v1/claims` takes one 837-shaped JSON claim: every bad field is a
//!    400 at once; a valid claim is stored `received` (202) with its edit work
//!    item on the `claim-edits` queue, in one transaction.
//! 2. `POST /v1/claim-files` stores an X12 837 file in the claims bucket, where
//!    clearinghouses also drop theirs (`inbound/`). Either way the bucket's
//!    ObjectCreated event runs [`intake::handle`]: the file is read as a stream,
//!    its 999 written, and each claim stored under an ID derived from the file's
//!    content, its control numbers and CLM01 (a redelivered file is the same
//!    claims), rejected at once when it cannot be read or is not the sender's,
//!    else queued for its edits.
//! 3. [`edits::handle`] consumes `claim-edits` (and `claim-readjudication` from
//!    the disputes job): the domain's edits decide `accepted`, `rejected` or
//!    `pended`, and the claim's rows, its file row and its duplicate guard
//!    follow in one transaction. Redelivery changes nothing.
//! 4. `GET /v1/claim-files/{id}` answers the 999 and, once every claim is
//!    judged, the 277CA, as X12 text and as JSON.
//!
//! [`handle`] takes an API Gateway v2 request and always answers: every error is
//! a problem+json response.

use std::sync::Arc;

#[cfg(feature = "lambda")]
use mso_api::lambda_env::{LambdaEnv, LambdaEnvError};
use mso_api::{Body, Clock, Problem, Request, Response, Role, route_key};
use mso_domain::policy::Policy;
use mso_store::{DocumentStore, RecordStore, WorkQueue};

pub mod edits;
mod files;
pub mod intake;
mod parse;
mod read;
mod review;
mod submit;
pub mod sweeper;
mod view;
mod x12;

pub use aws_lambda_events::s3::S3Event;
pub use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
pub use files::FileView;
pub use mso_records::claims::{CLAIM_EDITS, CLAIM_READJUDICATION, ClaimSummary};
pub use view::ClaimView;

/// What the handlers need, built once per cold start.
#[derive(Clone)]
pub struct Deps {
    pub records: Arc<dyn RecordStore>,
    /// The claims bucket: files posted through the API and dropped by clearinghouses.
    pub files: Arc<dyn DocumentStore>,
    pub queue: Arc<dyn WorkQueue>,
    pub policy: Arc<Policy>,
    pub clock: Arc<dyn Clock>,
}

impl Deps {
    fn ports(&self) -> mso_records::Ports<'_> {
        mso_records::Ports {
            records: self.records.as_ref(),
            queue: self.queue.as_ref(),
        }
    }
}

/// The AWS adapters the claims writers (the API, claims-s3, claims-edits) build
/// once per cold start: the table, the claims bucket, the IPA's bundled policy
/// (typed config from the environment; a missing variable stops the cold start
/// naming it). Their events leave through the table's stream, so they hold no
/// SQS client.
#[cfg(feature = "lambda")]
pub fn aws_deps() -> Result<Deps, LambdaEnvError> {
    let env = LambdaEnv::read()?;
    aws_deps_with(&env, env.writer_queues())
}

/// The sweeper's adapters: the same, with the queues, since it also sends the
/// events the table's stream left behind (`mso_api::outbox::relay`).
#[cfg(feature = "lambda")]
pub fn aws_sweeper_deps() -> Result<Deps, LambdaEnvError> {
    let env = LambdaEnv::read()?;
    aws_deps_with(&env, env.relay_queues())
}

#[cfg(feature = "lambda")]
fn aws_deps_with(env: &LambdaEnv, queue: Arc<dyn WorkQueue>) -> Result<Deps, LambdaEnvError> {
    Ok(Deps {
        records: env.records()?,
        files: env.bucket("CLAIMS_BUCKET")?,
        queue,
        policy: env.policy()?,
        clock: Arc::new(mso_api::SystemClock),
    })
}

/// The routes this function serves, as API Gateway route keys.
pub const ROUTES: &[(&str, &str)] = &[
    ("POST", "/v1/claims"),
    ("GET", "/v1/claims"),
    ("GET", "/v1/claims/{id}"),
    ("POST", "/v1/claims/{id}/review"),
    ("POST", "/v1/claim-files"),
    ("GET", "/v1/claim-files/{id}"),
];

/// Who bills: the provider organisation's users.
const SUBMITTERS: &[Role] = &[Role::ProviderUser, Role::SiteAdmin];
/// Who may read claims: their organisation, and the IPA staff whose work touches
/// claims (claims, disputes, intake).
const READERS: &[Role] = &[
    Role::ProviderUser,
    Role::SiteAdmin,
    Role::ClaimsExaminer,
    Role::DisputeReviewer,
    Role::IntakeClerk,
];
/// Who decides pended claims.
const EXAMINERS: &[Role] = &[Role::ClaimsExaminer];

/// The largest X12 file the API takes in one request (API Gateway's payload
/// limit); larger files go to the claims bucket through the clearinghouse drop.
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;

pub async fn handle(deps: &Deps, req: Request) -> Response<Body> {
    match route_key(&req) {
        Some("POST /v1/claims") => submit::post(deps, &req).await,
        Some("GET /v1/claims") => read::list(deps, &req).await,
        Some("GET /v1/claims/{id}") => read::get(deps, &req).await,
        Some("POST /v1/claims/{id}/review") => review::post(deps, &req).await,
        Some("POST /v1/claim-files") => files::post(deps, &req).await,
        Some("GET /v1/claim-files/{id}") => files::get(deps, &req).await,
        _ => Problem::no_route(req.method().as_str(), req.uri().path()).into_response(),
    }
}

/// This function's part of the OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    use utoipa::OpenApi;

    #[derive(OpenApi)]
    #[openapi(paths(
        submit::post,
        read::list,
        read::get,
        review::post,
        files::post,
        files::get
    ))]
    struct Doc;

    Doc::openapi()
}

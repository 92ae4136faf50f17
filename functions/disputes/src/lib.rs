//! The disputes function: provider disputes (PDRs), appeals and grievances.
//! Filing with every window and rule checked, reads, the reviewers' queue and
//! their steps (acknowledge, start review, decide), the report (HTTP), and the
//! sweeper that flags missed clocks and closes what is done (a scheduled
//! Lambda; a background task in `mso serve`).
//!
//! [`handle`] takes an API Gateway v2 request and always answers: every error is
//! a problem+json response. [`sweeper::sweep`] is the scheduled job.

use std::sync::Arc;

#[cfg(feature = "lambda")]
use mso_api::lambda_env::{LambdaEnv, LambdaEnvError};
use mso_api::{Body, Clock, Problem, Request, Response, Role, route_key};
use mso_domain::policy::Policy;
use mso_store::{RecordStore, WorkQueue};

pub mod parse;
mod queue;
mod read;
mod report;
mod review;
mod submit;
pub mod sweeper;
mod view;

pub use mso_records::disputes::{
    CLAIM_READJUDICATION, DISPUTE_EVENTS, DisputeEvent, DisputeSummary, Readjudication,
};
pub use view::DisputeView;

/// What the handlers need, built once per cold start.
#[derive(Clone)]
pub struct Deps {
    pub records: Arc<dyn RecordStore>,
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

/// The AWS adapters the disputes API builds once per cold start, from typed
/// configuration in the environment (a missing variable stops the cold start
/// naming it). A writer: its events leave through the table's stream, so it
/// holds no SQS client.
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
        queue,
        policy: env.policy()?,
        clock: Arc::new(mso_api::SystemClock),
    })
}

/// The routes this function serves, as API Gateway route keys.
pub const ROUTES: &[(&str, &str)] = &[
    ("POST", "/v1/disputes"),
    ("GET", "/v1/disputes"),
    ("GET", "/v1/disputes/queue"),
    ("GET", "/v1/disputes/{id}"),
    ("POST", "/v1/disputes/{id}/acknowledge"),
    ("POST", "/v1/disputes/{id}/start-review"),
    ("POST", "/v1/disputes/{id}/decision"),
    ("GET", "/v1/reports/disputes"),
];

/// Who may file: the provider organisation's users.
const FILERS: &[Role] = &[Role::ProviderUser, Role::SiteAdmin];
/// Who may read a dispute: its organisation, and the IPA staff whose work
/// touches disputes.
const READERS: &[Role] = &[
    Role::ProviderUser,
    Role::SiteAdmin,
    Role::DisputeReviewer,
    Role::ClaimsExaminer,
    Role::IntakeClerk,
    Role::OpsAdmin,
];
/// Who works the queue and decides.
const REVIEWERS: &[Role] = &[Role::DisputeReviewer];
/// Who reads the report.
const REPORTERS: &[Role] = &[Role::DisputeReviewer, Role::OpsAdmin];

pub async fn handle(deps: &Deps, req: Request) -> Response<Body> {
    match route_key(&req) {
        Some("POST /v1/disputes") => submit::post(deps, &req).await,
        Some("GET /v1/disputes") => read::list(deps, &req).await,
        Some("GET /v1/disputes/queue") => queue::get(deps, &req).await,
        Some("GET /v1/disputes/{id}") => read::get(deps, &req).await,
        Some("POST /v1/disputes/{id}/acknowledge") => review::acknowledge(deps, &req).await,
        Some("POST /v1/disputes/{id}/start-review") => review::start_review(deps, &req).await,
        Some("POST /v1/disputes/{id}/decision") => review::decision(deps, &req).await,
        Some("GET /v1/reports/disputes") => report::get(deps, &req).await,
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
        queue::get,
        review::acknowledge,
        review::start_review,
        review::decision,
        report::get
    ))]
    struct Doc;

    Doc::openapi()
}

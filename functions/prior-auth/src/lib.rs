//! The prior-auth function: submit with an instant answer per line, UM review,
//! reads and the CMS-0057-F report (HTTP), and the sweeper that keeps the clocks
//! (a scheduled Lambda; a background task in `mso serve`).
//!
//! [`handle`] takes an API Gateway v2 request and always answers: every error is
//! a problem+json response. [`sweeper::sweep`] is the scheduled job.

use std::sync::Arc;

#[cfg(feature = "lambda")]
use mso_api::lambda_env::{LambdaEnv, LambdaEnvError};
use mso_api::{Body, Clock, Problem, Request, Response, Role, route_key};
use mso_domain::policy::Policy;
use mso_store::{RecordStore, WorkQueue};

mod cancel;
mod decide;
mod parse;
mod queue;
mod read;
mod report;
mod submit;
pub mod sweeper;
mod view;

pub use mso_records::auth_events::{AUTH_EVENTS, AuthEvent};
pub use mso_records::prior_auths::AuthSummary;
pub use view::PriorAuthView;

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

/// The AWS adapters the prior-auth API builds once per cold start, from typed
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
    ("POST", "/v1/prior-auths"),
    ("GET", "/v1/prior-auths"),
    ("GET", "/v1/prior-auths/{id}"),
    ("POST", "/v1/prior-auths/{id}/decision"),
    ("POST", "/v1/prior-auths/{id}/cancel"),
    ("GET", "/v1/um/queue"),
    ("GET", "/v1/reports/prior-auth-metrics"),
];

/// Who may submit and cancel: the provider organisation's users.
const SUBMITTERS: &[Role] = &[Role::ProviderUser, Role::SiteAdmin];
/// Who may read an auth: its organisation, and the IPA staff whose work touches
/// auths (UM, claims, disputes, intake).
const READERS: &[Role] = &[
    Role::ProviderUser,
    Role::SiteAdmin,
    Role::UmNurse,
    Role::MedicalDirector,
    Role::ClaimsExaminer,
    Role::DisputeReviewer,
    Role::IntakeClerk,
];
/// Who reviews.
const REVIEWERS: &[Role] = &[Role::UmNurse, Role::MedicalDirector];
/// Who reads the CMS-0057-F figures.
const REPORTERS: &[Role] = &[Role::UmNurse, Role::MedicalDirector, Role::OpsAdmin];

pub async fn handle(deps: &Deps, req: Request) -> Response<Body> {
    match route_key(&req) {
        Some("POST /v1/prior-auths") => submit::post(deps, &req).await,
        Some("GET /v1/prior-auths") => read::list(deps, &req).await,
        Some("GET /v1/prior-auths/{id}") => read::get(deps, &req).await,
        Some("POST /v1/prior-auths/{id}/decision") => decide::post(deps, &req).await,
        Some("POST /v1/prior-auths/{id}/cancel") => cancel::post(deps, &req).await,
        Some("GET /v1/um/queue") => queue::get(deps, &req).await,
        Some("GET /v1/reports/prior-auth-metrics") => report::get(deps, &req).await,
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
        decide::post,
        cancel::post,
        queue::get,
        report::get
    ))]
    struct Doc;

    Doc::openapi()
}

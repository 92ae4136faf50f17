//! The eligibility function: `GET /v1/eligibility` (coverage on a date of service)
//! and `GET /v1/policy` (the public part of the IPA's policy).
//!
//! [`handle`] takes an API Gateway v2 request (from Lambda, or built by `mso serve`)
//! and always answers: every error is a problem+json response.

use std::sync::Arc;

#[cfg(feature = "lambda")]
use mso_api::lambda_env::{LambdaEnv, LambdaEnvError};
use mso_api::{Body, Clock, Problem, Request, Response, route_key};
use mso_domain::policy::Policy;
use mso_store::RecordStore;

mod lookup;
mod policy_view;

pub use lookup::{
    CarveOutView, CoverageView, DelegationView, EligibilityResponse, EntityView, PcpView,
    ReasonView, RenderingProviderView,
};
pub use policy_view::PublicPolicy;

/// What the handlers need, built once per cold start.
#[derive(Clone)]
pub struct Deps {
    pub records: Arc<dyn RecordStore>,
    pub policy: Arc<Policy>,
    pub clock: Arc<dyn Clock>,
}

/// The AWS adapters every eligibility Lambda builds once per cold start, from typed
/// configuration in the environment (a missing variable stops the cold start
/// naming it).
#[cfg(feature = "lambda")]
pub fn aws_deps() -> Result<Deps, LambdaEnvError> {
    let env = LambdaEnv::read()?;
    Ok(Deps {
        records: env.records()?,
        policy: env.policy()?,
        clock: Arc::new(mso_api::SystemClock),
    })
}

/// The routes this function serves, as API Gateway route keys.
pub const ROUTES: &[(&str, &str)] = &[("GET", "/v1/eligibility"), ("GET", "/v1/policy")];

pub async fn handle(deps: &Deps, req: Request) -> Response<Body> {
    match route_key(&req) {
        Some("GET /v1/eligibility") => lookup::get(deps, &req).await,
        Some("GET /v1/policy") => policy_view::get(deps, &req),
        _ => Problem::no_route(req.method().as_str(), req.uri().path()).into_response(),
    }
}

/// This function's part of the OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    use utoipa::OpenApi;

    #[derive(OpenApi)]
    #[openapi(paths(lookup::get, policy_view::get))]
    struct Doc;

    Doc::openapi()
}

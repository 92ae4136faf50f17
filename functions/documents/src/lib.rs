//! The documents function: clinical notes and other files attached to a prior
//! auth (and, as their jobs arrive, claims, disputes and intake items).
//!
//! 1. `POST /v1/documents` checks the declared type and size against the
//!    policy's `attachments`, places the document in a message of its owner,
//!    stores it `awaiting_upload` and answers a presigned PUT bound to that type
//!    and length, valid for [`UPLOAD_URL_LIFETIME`], that only creates.
//! 2. The client uploads the bytes straight to S3 (locally, to `mso serve`).
//! 3. S3's ObjectCreated event runs [`verify::handle`]: the bytes must be what
//!    was declared (`mso_domain::document::verify`); the document becomes
//!    `available` or `rejected` with the reason, and its owner's history says so.
//! 4. `GET /v1/documents/{id}` answers the metadata and, when available, a
//!    presigned GET valid for [`DOWNLOAD_URL_LIFETIME`]; every URL issued is
//!    in the audit trail.
//!
//! [`handle`] takes an API Gateway v2 request and always answers: every error is
//! a problem+json response.

use std::sync::Arc;
use std::time::Duration;

#[cfg(feature = "lambda")]
use mso_api::lambda_env::{LambdaEnv, LambdaEnvError};
use mso_api::{Body, Clock, Principal, Problem, Request, Response, Role, Scope, route_key};
use mso_domain::ids::OrgId;
use mso_domain::policy::Policy;
use mso_records::documents::OwnerKind;
use mso_store::{DocumentStore, RecordStore, WorkQueue};

mod read;
mod upload;
pub mod verify;
mod view;

pub use aws_lambda_events::s3::S3Event;
pub use view::{DocumentView, DownloadView, OwnerView, UploadView};

/// How long an upload URL may be used: long enough to start a 25 MB upload on
/// a slow line, short enough that a leaked URL is soon useless (and it only
/// ever creates the object once).
pub const UPLOAD_URL_LIFETIME: Duration = Duration::from_secs(5 * 60);
/// How long a download URL may be used. Every one issued is audited.
pub const DOWNLOAD_URL_LIFETIME: Duration = Duration::from_secs(5 * 60);

/// What the handlers need, built once per cold start.
#[derive(Clone)]
pub struct Deps {
    pub records: Arc<dyn RecordStore>,
    pub documents: Arc<dyn DocumentStore>,
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

/// The AWS adapters every documents Lambda builds once per cold start, from typed
/// configuration in the environment (a missing variable stops the cold start
/// naming it).
#[cfg(feature = "lambda")]
pub fn aws_deps() -> Result<Deps, LambdaEnvError> {
    let env = LambdaEnv::read()?;
    Ok(Deps {
        records: env.records()?,
        documents: env.bucket("DOCUMENTS_BUCKET")?,
        queue: env.writer_queues(),
        policy: env.policy()?,
        clock: Arc::new(mso_api::SystemClock),
    })
}

/// The routes this function serves, as API Gateway route keys.
pub const ROUTES: &[(&str, &str)] = &[("POST", "/v1/documents"), ("GET", "/v1/documents/{id}")];

/// Who may use the routes: the owner's organisation, and the IPA staff whose
/// job the owner is ([`OwnerKind::staff_roles`], checked per document).
const USERS: &[Role] = &[
    Role::ProviderUser,
    Role::SiteAdmin,
    Role::UmNurse,
    Role::MedicalDirector,
    Role::ClaimsExaminer,
    Role::DisputeReviewer,
    Role::IntakeClerk,
];

/// Whether the caller may see (and attach to) an owner of `kind` that belongs
/// to `org`: a provider user of that organisation, or IPA staff of that kind's job.
fn may_see(principal: &Principal, scope: &Scope, kind: OwnerKind, org: &OrgId) -> bool {
    match scope {
        Scope::Organisation(own) => own == org,
        Scope::Ipa => kind.staff_roles().iter().any(|r| principal.has_role(*r)),
    }
}

pub async fn handle(deps: &Deps, req: Request) -> Response<Body> {
    match route_key(&req) {
        Some("POST /v1/documents") => upload::post(deps, &req).await,
        Some("GET /v1/documents/{id}") => read::get(deps, &req).await,
        _ => Problem::no_route(req.method().as_str(), req.uri().path()).into_response(),
    }
}

/// This function's part of the OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    use utoipa::OpenApi;

    #[derive(OpenApi)]
    #[openapi(paths(upload::post, read::get))]
    struct Doc;

    Doc::openapi()
}

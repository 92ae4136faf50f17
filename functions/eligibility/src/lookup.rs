//! `GET /v1/eligibility?member_id=&dob=&dos=[&npi=]`

use jiff::civil::Date;
use lambda_http::RequestExt;
use lambda_http::http::StatusCode;
use mso_api::audit::{self, AuditEvent};
use mso_api::throttle::Limit;
use mso_api::{
    AuthError, Body, FieldError, FieldErrors, Forbidden, Principal, Problem, Request, RequestInfo,
    Response, Role, directory, json_response,
};
use mso_domain::dates::parse_date;
use mso_domain::eligibility::{self, Determination, Entity};
use mso_domain::ids::{MemberId, Npi};
use mso_store::StoreError;
use serde::Serialize;
use tracing::{Span, instrument};
use utoipa::ToSchema;

use crate::Deps;

/// Who may read eligibility: a provider organisation's users, and the IPA staff
/// whose work needs it. Everyone else (an `ops_admin`, a staff role in a provider
/// organisation's token) is refused.
pub const ALLOWED_ROLES: &[Role] = &[
    Role::ProviderUser,
    Role::SiteAdmin,
    Role::UmNurse,
    Role::MedicalDirector,
    Role::ClaimsExaminer,
    Role::DisputeReviewer,
    Role::IntakeClerk,
];

/// The validated query.
#[derive(Debug)]
struct EligibilityQuery {
    member_id: MemberId,
    dob: Date,
    dos: Date,
    npi: Option<Npi>,
}

impl TryFrom<&Request> for EligibilityQuery {
    type Error = Vec<FieldError>;

    fn try_from(req: &Request) -> Result<Self, Self::Error> {
        let params = req.query_string_parameters_ref();
        let param = |name| params.and_then(|p| p.first(name)).unwrap_or_default();
        let mut errors = FieldErrors::default();
        let member_id = errors.check("member_id", MemberId::parse(param("member_id")));
        let dob = errors.check("dob", parse_date(param("dob")));
        let dos = errors.check("dos", parse_date(param("dos")));
        let npi = match param("npi") {
            "" => Some(None),
            s => errors.check("npi", Npi::parse(s).map(Some)),
        };
        match (member_id, dob, dos, npi) {
            (Some(member_id), Some(dob), Some(dos), Some(npi)) => Ok(EligibilityQuery {
                member_id,
                dob,
                dos,
                npi,
            }),
            _ => Err(errors.into_vec()),
        }
    }
}

/// Everything that can go wrong on this route, mapped to a status in one place.
#[derive(Debug, thiserror::Error)]
enum LookupError {
    #[error(transparent)]
    Unauthenticated(#[from] AuthError),
    #[error("role may not read member data")]
    RoleNotAllowed(#[from] Forbidden),
    #[error("invalid query")]
    InvalidQuery(Vec<FieldError>),
    #[error("too many lookups found no member")]
    TooManyNotFound { retry_after_seconds: u32 },
    #[error("npi is not one of the caller's organisation's providers")]
    NpiNotInOrganisation,
    #[error("storage failed")]
    Store(#[from] StoreError),
}

impl LookupError {
    /// How a refused lookup that named a member is written to the audit trail;
    /// `None` for failures that are not a refusal of the caller.
    fn audit_outcome(&self) -> Option<&'static str> {
        match self {
            LookupError::RoleNotAllowed(_) => Some("refused_role"),
            LookupError::InvalidQuery(_) => Some("refused_invalid_query"),
            LookupError::TooManyNotFound { .. } => Some("refused_rate_limited"),
            LookupError::NpiNotInOrganisation => Some("refused_npi"),
            LookupError::Unauthenticated(_) | LookupError::Store(_) => None,
        }
    }
}

impl From<LookupError> for Problem {
    fn from(e: LookupError) -> Problem {
        match e {
            LookupError::Unauthenticated(e) => Problem::unauthorized(e.to_string()),
            LookupError::RoleNotAllowed(Forbidden::RoleNotAllowed) => {
                Problem::forbidden("Your role does not allow reading member eligibility.")
            }
            LookupError::RoleNotAllowed(other) => other.into(),
            LookupError::InvalidQuery(errors) => Problem::invalid_request(errors),
            LookupError::TooManyNotFound {
                retry_after_seconds,
            } => Problem::too_many_requests(
                "Too many of your recent lookups matched no member. Check the member ID and date of birth on the member's card, then try again after the time in Retry-After.",
                retry_after_seconds,
            ),
            LookupError::NpiNotInOrganisation => Problem::forbidden(
                "The npi is not a provider of your organisation.",
            )
            .with_errors(vec![FieldError {
                field: "npi".into(),
                code: "npi_not_in_organisation".into(),
                message: "must be the NPI of a provider in your organisation".into(),
            }]),
            LookupError::Store(_) => Problem::unavailable(),
        }
    }
}

/// Eligibility of a member with this IPA on a date of service.
#[derive(Debug, Serialize, ToSchema)]
pub struct EligibilityResponse {
    pub eligible: bool,
    pub member_id: String,
    #[schema(value_type = String, format = Date, example = "2026-11-23")]
    pub date_of_service: String,
    /// The member's name as on the roster (null when no member matched).
    pub member_name: Option<String>,
    /// The coverage span on the date of service.
    pub coverage: Option<CoverageView>,
    /// The assigned primary care physician.
    pub pcp: Option<PcpView>,
    /// Who is financially responsible and who authorises (null unless the member is with this IPA).
    pub delegation: Option<DelegationView>,
    /// Present when `npi` was given.
    pub rendering_provider: Option<RenderingProviderView>,
    /// Why the member is not eligible; empty when eligible.
    pub reasons: Vec<ReasonView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CoverageView {
    pub plan_id: String,
    /// Null when this IPA is not delegated for the plan.
    pub plan_name: Option<String>,
    pub health_plan: Option<String>,
    #[schema(example = "medi_cal")]
    pub line_of_business: &'static str,
    #[schema(example = "Medi-Cal")]
    pub line_of_business_label: &'static str,
    #[schema(value_type = String, format = Date)]
    pub start: String,
    /// Last covered day; null when open-ended.
    #[schema(value_type = Option<String>, format = Date)]
    pub end: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PcpView {
    pub npi: String,
    /// Null when the PCP is not in the IPA's provider directory.
    pub name: Option<String>,
    pub in_network: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EntityView {
    /// `ipa` or `health_plan`.
    pub party: &'static str,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DelegationView {
    pub financially_responsible: EntityView,
    pub authorizes: EntityView,
    /// Services the health plan keeps, with who pays and who authorises each.
    pub carve_outs: Vec<CarveOutView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CarveOutView {
    pub service: String,
    pub description: String,
    /// CPT/HCPCS codes and ranges of the carved-out service.
    pub codes: Vec<String>,
    pub financially_responsible: EntityView,
    pub authorizes: EntityView,
    pub administered_by: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RenderingProviderView {
    pub npi: String,
    pub in_network: bool,
    /// Visits to the assigned PCP need no authorisation.
    pub is_assigned_pcp: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReasonView {
    #[schema(example = "terminated")]
    pub code: &'static str,
    #[schema(example = "Coverage terminated on 2026-06-30.")]
    pub message: String,
}

/// Eligibility on a date of service
///
/// Member ID and date of birth must both match; a mismatch answers exactly like an
/// unknown member. Every lookup is recorded in the PHI audit trail.
#[utoipa::path(
    get,
    path = "/v1/eligibility",
    tag = "eligibility",
    security(("bearer" = [])),
    params(
        ("member_id" = String, Query, description = "Member ID from the member's card"),
        ("dob" = String, Query, description = "Date of birth, YYYY-MM-DD"),
        ("dos" = String, Query, description = "Date of service, YYYY-MM-DD"),
        ("npi" = Option<String>, Query, description = "Rendering provider's NPI; must belong to the caller's organisation"),
    ),
    responses(
        (status = 200, description = "The determination (eligible or not, with reasons)", body = EligibilityResponse),
        (status = 400, description = "Invalid query; every bad field is listed", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, expired or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed, or npi not in the caller's organisation", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "This user had too many lookups that matched no member in the policy's window (`eligibility.not_found_limit` per `eligibility.not_found_window_minutes`); `Retry-After` says when to try again", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u32, description = "Seconds until this user may look up again"))),
        (status = 503, description = "Storage unavailable; nothing was disclosed", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(
    name = "eligibility.lookup",
    skip_all,
    fields(request_id, correlation_id, org, outcome)
)]
pub(crate) async fn get(deps: &Deps, req: &Request) -> Response<Body> {
    let info = RequestInfo::of(req);
    let span = Span::current();
    span.record("request_id", info.request_id.as_str());
    span.record("correlation_id", info.correlation_id.as_str());
    let principal = match Principal::from_request(req) {
        Ok(p) => p,
        Err(e) => return refuse(LookupError::from(e)),
    };
    span.record("org", principal.org.as_str());
    match lookup(deps, req, &principal, &info).await {
        Ok(answer) => {
            span.record(
                "outcome",
                if answer.eligible {
                    "eligible"
                } else {
                    "not_eligible"
                },
            );
            json_response(StatusCode::OK, &answer)
        }
        Err(e) => {
            // A refused lookup that named a member is a PHI access attempt too.
            if let (Some(outcome), Some(member_id)) = (e.audit_outcome(), named_member(req)) {
                let event = AuditEvent {
                    actor: &principal,
                    action: "eligibility.lookup",
                    purpose: "eligibility_verification",
                    subject_type: "member",
                    subject_id: member_id.as_str(),
                    outcome,
                    request_id: &info.request_id,
                    at: deps.clock.now(),
                };
                if let Err(store) = audit::record(deps.records.as_ref(), &event).await {
                    tracing::error!(error = %store, outcome, "a refused lookup could not be audited");
                }
            }
            refuse(e)
        }
    }
}

fn refuse(e: LookupError) -> Response<Body> {
    let problem = Problem::from(e);
    Span::current().record("outcome", problem.status);
    tracing::info!(status = problem.status, "eligibility lookup refused");
    problem.into_response()
}

/// The member a request names, when its `member_id` is a valid one.
fn named_member(req: &Request) -> Option<MemberId> {
    let params = req.query_string_parameters_ref()?;
    MemberId::parse(params.first("member_id")?).ok()
}

/// The probing guard of this IPA's policy.
fn not_found_limit(deps: &Deps) -> Limit {
    let p = &deps.policy.eligibility;
    Limit {
        name: "eligibility_not_found",
        limit: p.not_found_limit,
        window_seconds: i64::from(p.not_found_window_minutes) * 60,
    }
}

async fn lookup(
    deps: &Deps,
    req: &Request,
    principal: &Principal,
    info: &RequestInfo,
) -> Result<EligibilityResponse, LookupError> {
    let scope = principal.authorize(&deps.policy.ipa.id, ALLOWED_ROLES)?;
    let query = EligibilityQuery::try_from(req).map_err(LookupError::InvalidQuery)?;
    let store = deps.records.as_ref();
    let now = deps.clock.now();
    let limit = not_found_limit(deps);
    // The probing guard's count, and the member with the rendering provider (one
    // request), are independent: one round trip. Nothing read is used before the
    // guard has been checked.
    let member_id = [&query.member_id];
    let rendering_npi: Vec<&Npi> = query.npi.iter().collect();
    let (retry_after, (members, providers)) = tokio::try_join!(
        limit.retry_after(store, principal, now),
        directory::members_and_providers(store, &member_id, &rendering_npi),
    )?;
    let on_file = members.into_iter().next().flatten();
    let rendering = providers.into_iter().next().flatten();
    if let Some(retry_after_seconds) = retry_after {
        return Err(LookupError::TooManyNotFound {
            retry_after_seconds,
        });
    }
    let rendering = match (&query.npi, rendering) {
        (None, _) => None,
        // Providers ask for their own organisation's NPIs; staff for any known one.
        (Some(_), Some(p)) if scope.covers(&p.org_id) => Some(p),
        (Some(_), _) => return Err(LookupError::NpiNotInOrganisation),
    };
    // Member ID and DOB together identify the member; one without the other is
    // indistinguishable from an unknown member (to the caller; the audit trail
    // tells the two apart).
    let dob_mismatch = on_file.as_ref().is_some_and(|m| m.dob != query.dob);
    let member = on_file.filter(|m| m.dob == query.dob);
    let pcp = match member
        .as_ref()
        .and_then(|m| m.span_on(query.dos))
        .and_then(|s| s.pcp_npi)
    {
        Some(npi) => directory::provider(store, &npi).await?,
        None => None,
    };
    let determination = match &member {
        Some(m) => {
            eligibility::determine(m, query.dos, &deps.policy, pcp.as_ref(), rendering.as_ref())
        }
        None => Determination::member_not_found(),
    };

    let outcome = match determination.reasons.first() {
        _ if dob_mismatch => "dob_mismatch",
        None => "eligible",
        Some(reason) => reason.code(),
    };
    audit::record(
        store,
        &AuditEvent {
            actor: principal,
            action: "eligibility.lookup",
            purpose: "eligibility_verification",
            subject_type: "member",
            subject_id: query.member_id.as_str(),
            outcome,
            request_id: &info.request_id,
            at: now,
        },
    )
    .await?;
    if member.is_none() {
        if dob_mismatch {
            // Counted by a log metric filter and alarmed (infra/template.yaml);
            // the log line names no member.
            tracing::warn!(
                security_event = "eligibility_dob_mismatch",
                "a member ID was looked up with another date of birth"
            );
        }
        limit.count(store, principal, now).await?;
    }

    Ok(view(
        &query,
        member.as_ref(),
        &determination,
        &deps.policy.ipa.name,
    ))
}

fn view(
    query: &EligibilityQuery,
    member: Option<&mso_domain::member::Member>,
    det: &Determination<'_>,
    ipa_name: &str,
) -> EligibilityResponse {
    let coverage = det.coverage.as_ref();
    EligibilityResponse {
        eligible: det.is_eligible(),
        member_id: query.member_id.to_string(),
        date_of_service: query.dos.to_string(),
        member_name: member.map(|m| format!("{} {}", m.first_name, m.last_name)),
        coverage: coverage.map(|c| CoverageView {
            plan_id: c.span.plan_id.to_string(),
            plan_name: c.plan.map(|p| p.name.clone()),
            health_plan: c.plan.map(|p| p.health_plan.clone()),
            line_of_business: c.span.line_of_business.as_str(),
            line_of_business_label: c.span.line_of_business.label(),
            start: c.span.start.to_string(),
            end: c.span.end.map(|d| d.to_string()),
        }),
        pcp: coverage.and_then(|c| {
            c.span.pcp_npi.map(|npi| PcpView {
                npi: npi.to_string(),
                name: c.pcp.map(|p| p.name.clone()),
                in_network: c.pcp.is_some_and(|p| p.is_in_network()),
            })
        }),
        delegation: coverage
            .and_then(|c| c.delegation.as_ref())
            .map(|d| DelegationView {
                financially_responsible: entity(d.financially_responsible),
                authorizes: entity(d.authorizes),
                carve_outs: d
                    .carve_outs
                    .iter()
                    .map(|s| CarveOutView {
                        service: s.carve_out.service.clone(),
                        description: s.carve_out.description.clone(),
                        codes: s.carve_out.codes.iter().map(ToString::to_string).collect(),
                        financially_responsible: entity(s.financially_responsible),
                        authorizes: entity(s.authorizes),
                        administered_by: s.carve_out.administered_by.clone(),
                        phone: s.carve_out.phone.clone(),
                    })
                    .collect(),
            }),
        rendering_provider: det.rendering_provider.map(|r| RenderingProviderView {
            npi: r.npi.to_string(),
            in_network: r.in_network,
            is_assigned_pcp: r.is_assigned_pcp,
        }),
        reasons: det
            .reasons
            .iter()
            .map(|r| ReasonView {
                code: r.code(),
                message: r.message(query.dos, ipa_name),
            })
            .collect(),
    }
}

fn entity(e: Entity<'_>) -> EntityView {
    EntityView {
        party: e.party.as_str(),
        name: e.name.to_owned(),
    }
}

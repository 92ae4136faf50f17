//! `GET /v1/policy`: what a provider office needs to know about this IPA's rules.

use lambda_http::http::StatusCode;
use mso_api::{Body, Principal, Problem, Request, Response, Role, json_response};
use mso_domain::policy::{Contacts, Policy};
use serde::Serialize;
use utoipa::ToSchema;

use crate::Deps;

/// The public part of the IPA policy.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicPolicy {
    pub ipa: PolicyIpa,
    pub prior_auth: PolicyPriorAuth,
    pub attachments: PolicyAttachments,
    pub claims: PolicyClaims,
    pub disputes: PolicyDisputes,
    pub contacts: PolicyContacts,
    pub plans: Vec<PolicyPlan>,
    /// Days the IPA is closed; working-day clocks skip them.
    #[schema(value_type = Vec<String>)]
    pub holidays: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyIpa {
    pub id: String,
    pub name: String,
    pub mso: Option<String>,
    pub timezone: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyPriorAuth {
    /// CPT/HCPCS codes and ranges that need a prior authorisation. Do not submit others.
    pub pa_required_codes: Vec<String>,
    /// Services that never need an authorisation.
    pub no_auth_services: Vec<&'static str>,
    pub validity_days: u32,
    pub specialty_consult_covers_follow_ups: bool,
    /// Visit codes that always need their own authorisation.
    pub specialty_consult_own_auth_codes: Vec<String>,
    pub standing_referrals: bool,
    pub urgent_decision_hours: u32,
    pub routine_decision_working_days: u32,
    pub routine_decision_max_calendar_days: u32,
    pub post_stabilization_deemed_approved_minutes: u32,
    pub inpatient_notification_hours: u32,
    pub clinical_documents_due_working_days: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyAttachments {
    pub max_bytes: u64,
    pub content_types: Vec<String>,
    pub max_per_message: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyClaims {
    pub timely_filing_days: u32,
    pub payment_working_days: u32,
    pub corrected_claims_on_portal: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyDisputes {
    pub filing_window_days: u32,
    /// `remittance_date` or `last_determination`.
    pub filing_window_from: &'static str,
    pub acknowledge_working_days_electronic: u32,
    pub acknowledge_working_days_paper: u32,
    pub decision_working_days: u32,
    /// A second-level dispute goes to the member's health plan within this many days.
    pub second_level_days: u32,
    pub expedited_appeals_on_portal: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyContacts {
    pub um_phone: String,
    pub um_fax: String,
    pub claims_email: String,
    pub claims_phone: Option<String>,
    pub dispute_mailing_address: String,
    pub dispute_email: Option<String>,
    pub expedited_appeal_fax: Option<String>,
    pub provider_services_phone: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyPlan {
    pub id: String,
    pub name: String,
    pub health_plan: String,
    pub line_of_business: &'static str,
}

/// The IPA's public policy
///
/// PA-required codes, services that need no authorisation, attachment limits,
/// filing windows, decision clocks and contacts.
#[utoipa::path(
    get,
    path = "/v1/policy",
    tag = "policy",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The public policy", body = PublicPolicy),
        (status = 401, description = "Missing, expired or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A token mixing IPA staff roles with a provider organisation (or the reverse)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) fn get(deps: &Deps, req: &Request) -> Response<Body> {
    let principal = match Principal::from_request(req) {
        Ok(p) => p,
        Err(e) => return Problem::unauthorized(e.to_string()).into_response(),
    };
    // Every role may read the public policy; a token mixing the IPA's staff roles
    // with a provider organisation is refused here as everywhere.
    match principal.authorize(&deps.policy.ipa.id, &Role::ALL) {
        Ok(_) => json_response(StatusCode::OK, &public_view(&deps.policy)),
        Err(e) => Problem::from(e).into_response(),
    }
}

pub fn public_view(p: &Policy) -> PublicPolicy {
    let Contacts {
        um_phone,
        um_fax,
        claims_email,
        claims_phone,
        dispute_mailing_address,
        dispute_email,
        expedited_appeal_fax,
        provider_services_phone,
    } = p.contacts.clone();
    let pa = &p.prior_auth;
    PublicPolicy {
        ipa: PolicyIpa {
            id: p.ipa.id.clone(),
            name: p.ipa.name.clone(),
            mso: p.ipa.mso.clone(),
            timezone: p.ipa.timezone.clone(),
        },
        prior_auth: PolicyPriorAuth {
            pa_required_codes: pa
                .pa_required_codes
                .iter()
                .map(ToString::to_string)
                .collect(),
            no_auth_services: pa.no_auth_services.iter().map(|s| s.as_str()).collect(),
            validity_days: pa.validity_days,
            specialty_consult_covers_follow_ups: pa
                .specialty_consult
                .initial_auth_covers_follow_ups,
            specialty_consult_own_auth_codes: pa
                .specialty_consult
                .own_auth_codes
                .iter()
                .map(ToString::to_string)
                .collect(),
            standing_referrals: pa.standing_referrals,
            urgent_decision_hours: pa.urgent_decision_hours,
            routine_decision_working_days: pa.routine_decision_working_days,
            routine_decision_max_calendar_days: pa.routine_decision_max_calendar_days,
            post_stabilization_deemed_approved_minutes: pa
                .post_stabilization_deemed_approved_minutes,
            inpatient_notification_hours: pa.inpatient_notification_hours,
            clinical_documents_due_working_days: pa.clinical_documents_due_working_days,
        },
        attachments: PolicyAttachments {
            max_bytes: p.attachments.max_bytes,
            content_types: p.attachments.content_types.clone(),
            max_per_message: p.attachments.max_per_message,
        },
        claims: PolicyClaims {
            timely_filing_days: p.claims.timely_filing_days,
            payment_working_days: p.claims.payment_working_days,
            corrected_claims_on_portal: p.claims.corrected_claims_on_portal,
        },
        disputes: PolicyDisputes {
            filing_window_days: p.disputes.filing_window_days,
            filing_window_from: p.disputes.filing_window_from.as_str(),
            acknowledge_working_days_electronic: p.disputes.acknowledge_working_days_electronic,
            acknowledge_working_days_paper: p.disputes.acknowledge_working_days_paper,
            decision_working_days: p.disputes.decision_working_days,
            second_level_days: p.disputes.second_level_days,
            expedited_appeals_on_portal: p.disputes.expedited_appeals_on_portal,
        },
        contacts: PolicyContacts {
            um_phone,
            um_fax,
            claims_email,
            claims_phone,
            dispute_mailing_address,
            dispute_email,
            expedited_appeal_fax,
            provider_services_phone,
        },
        plans: p
            .plans
            .iter()
            .map(|pl| PolicyPlan {
                id: pl.id.to_string(),
                name: pl.name.clone(),
                health_plan: pl.health_plan.clone(),
                line_of_business: pl.line_of_business.as_str(),
            })
            .collect(),
        holidays: p.holidays().iter().map(ToString::to_string).collect(),
    }
}

//! The policy of one IPA: what differs between IPAs, read from one TOML file.
//!
//! Defaults come from the seed documents and regulations (see POLICY.md in the
//! project's shared notes): a file states what its IPA does differently. Loading
//! validates everything and names the bad key (`plans[1].carve_outs[0].codes[2]`).

use std::fmt;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use crate::Invalid;
use crate::clock::WorkCalendar;
use crate::codes::{CodeRange, DiagnosisRange, PlaceOfService, ProcedureCode};
use crate::document::DocumentType;
use crate::ids::PlanId;
use crate::member::LineOfBusiness;

/// A validated IPA policy.
#[derive(Clone, Debug)]
pub struct Policy {
    pub ipa: Ipa,
    pub contacts: Contacts,
    pub eligibility: EligibilityPolicy,
    pub prior_auth: PriorAuthPolicy,
    pub attachments: AttachmentPolicy,
    pub claims: ClaimsPolicy,
    pub disputes: DisputePolicy,
    pub plans: Vec<PlanPolicy>,
    holidays: Vec<Date>,
    calendar: WorkCalendar,
    time_zone: TimeZone,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ipa {
    /// Short name used for the stack and the policy file (`sunrise`).
    pub id: String,
    /// The IPA's legal or trade name, shown to providers.
    pub name: String,
    /// The managing MSO, when the IPA uses one.
    #[serde(default)]
    pub mso: Option<String>,
    /// IANA time zone in which day-based deadlines end (`America/Los_Angeles`).
    pub timezone: String,
}

/// Where providers reach the IPA. Every seed lists its own.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contacts {
    pub um_phone: String,
    pub um_fax: String,
    pub claims_email: String,
    #[serde(default)]
    pub claims_phone: Option<String>,
    pub dispute_mailing_address: String,
    #[serde(default)]
    pub dispute_email: Option<String>,
    /// Where expedited appeals go, since the portal does not take them.
    #[serde(default)]
    pub expedited_appeal_fax: Option<String>,
    #[serde(default)]
    pub provider_services_phone: Option<String>,
}

/// Services that never need a prior authorisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoAuthService {
    Emergency,
    FamilyPlanning,
    SensitiveServices,
    StdServices,
    HivTesting,
    BasicPrenatalCare,
    RoutineObstetric,
    PediatricPreventive,
    MinorConsent,
    PrimaryAndPreventiveCare,
    ObgynSelfReferral,
    AssignedPcpVisits,
}

impl NoAuthService {
    /// The wire name (as serde writes it).
    pub fn as_str(self) -> &'static str {
        match self {
            NoAuthService::Emergency => "emergency",
            NoAuthService::FamilyPlanning => "family_planning",
            NoAuthService::SensitiveServices => "sensitive_services",
            NoAuthService::StdServices => "std_services",
            NoAuthService::HivTesting => "hiv_testing",
            NoAuthService::BasicPrenatalCare => "basic_prenatal_care",
            NoAuthService::RoutineObstetric => "routine_obstetric",
            NoAuthService::PediatricPreventive => "pediatric_preventive",
            NoAuthService::MinorConsent => "minor_consent",
            NoAuthService::PrimaryAndPreventiveCare => "primary_and_preventive_care",
            NoAuthService::ObgynSelfReferral => "obgyn_self_referral",
            NoAuthService::AssignedPcpVisits => "assigned_pcp_visits",
        }
    }

    pub const ALL: [NoAuthService; 12] = [
        NoAuthService::Emergency,
        NoAuthService::FamilyPlanning,
        NoAuthService::SensitiveServices,
        NoAuthService::StdServices,
        NoAuthService::HivTesting,
        NoAuthService::BasicPrenatalCare,
        NoAuthService::RoutineObstetric,
        NoAuthService::PediatricPreventive,
        NoAuthService::MinorConsent,
        NoAuthService::PrimaryAndPreventiveCare,
        NoAuthService::ObgynSelfReferral,
        NoAuthService::AssignedPcpVisits,
    ];
}

/// Guards on the eligibility lookup. Member IDs are often sequential and there
/// are only ~36,000 plausible dates of birth, so one user may get only so many
/// "no member matches" answers before being made to wait.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EligibilityPolicy {
    /// "No member matches" answers one user may get per window...
    pub not_found_limit: u32,
    /// ...of this many minutes; then 429 until the window ends.
    pub not_found_window_minutes: u32,
}

impl Default for EligibilityPolicy {
    fn default() -> Self {
        EligibilityPolicy {
            not_found_limit: 10,
            not_found_window_minutes: 15,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PriorAuthPolicy {
    /// An approval is valid this many days, and only while the member is eligible.
    pub validity_days: u32,
    /// Codes that need a prior authorisation; a code not listed needs none and is
    /// not submitted.
    pub pa_required_codes: Vec<CodeRange>,
    pub no_auth_services: Vec<NoAuthService>,
    pub specialty_consult: SpecialtyConsultPolicy,
    /// Long-running referrals for disabling, life-threatening or degenerative conditions.
    pub standing_referrals: bool,
    pub urgent_decision_hours: u32,
    pub routine_decision_working_days: u32,
    /// Routine decisions never take longer than this (CA H&S 1367.01).
    pub routine_decision_max_calendar_days: u32,
    /// A post-stabilisation request not answered within this many minutes is deemed approved.
    pub post_stabilization_deemed_approved_minutes: u32,
    pub inpatient_notification_hours: u32,
    /// Clinical documents for a pended request are expected within this many working days.
    pub clinical_documents_due_working_days: u32,
    /// A standing referral is valid this many days (it outlives an ordinary approval).
    pub standing_referral_validity_days: u32,
    /// Rules that approve a line at once when they hold (the "criteria met" path).
    pub criteria: Vec<CriteriaRule>,
}

/// An auto-approval rule: a request line whose code is listed, for a request with
/// one of the listed diagnoses, at an allowed place of service, with an
/// in-network servicing provider when required, and no more than `max_units`, is
/// approved the moment it is submitted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CriteriaRule {
    /// A short stable name (`mri-lumbar-radiculopathy`), shown on approved lines.
    pub id: String,
    pub title: String,
    pub codes: Vec<CodeRange>,
    /// Any one of these on the request; empty means any diagnosis.
    #[serde(default)]
    pub diagnoses: Vec<DiagnosisRange>,
    pub max_units: u32,
    /// Empty means any place of service.
    #[serde(default)]
    pub places_of_service: Vec<PlaceOfService>,
    #[serde(default)]
    pub servicing_in_network: bool,
}

impl Default for PriorAuthPolicy {
    fn default() -> Self {
        PriorAuthPolicy {
            validity_days: 90,
            pa_required_codes: Vec::new(),
            no_auth_services: NoAuthService::ALL.to_vec(),
            specialty_consult: SpecialtyConsultPolicy::default(),
            standing_referrals: true,
            urgent_decision_hours: 72,
            routine_decision_working_days: 5,
            routine_decision_max_calendar_days: 14,
            post_stabilization_deemed_approved_minutes: 60,
            inpatient_notification_hours: 24,
            clinical_documents_due_working_days: 1,
            standing_referral_validity_days: 365,
            criteria: Vec::new(),
        }
    }
}

impl PriorAuthPolicy {
    /// Does this procedure code need a prior authorisation under this policy?
    pub fn requires_auth(&self, code: ProcedureCode) -> bool {
        self.pa_required_codes.iter().any(|r| r.contains(code))
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SpecialtyConsultPolicy {
    /// The initial consult authorisation also covers routine follow-up visits.
    pub initial_auth_covers_follow_ups: bool,
    /// Visit codes that always need their own authorisation (99215 at CalOptima).
    pub own_auth_codes: Vec<ProcedureCode>,
}

impl Default for SpecialtyConsultPolicy {
    fn default() -> Self {
        SpecialtyConsultPolicy {
            initial_auth_covers_follow_ups: true,
            own_auth_codes: ProcedureCode::parse("99215").into_iter().collect(),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AttachmentPolicy {
    pub max_bytes: u64,
    pub content_types: Vec<String>,
    /// Files per message; more go in follow-ups linked by reference ID.
    pub max_per_message: u32,
}

impl AttachmentPolicy {
    /// May providers upload this type? (Entries were checked when the policy loaded.)
    pub fn allows(&self, t: DocumentType) -> bool {
        self.content_types
            .iter()
            .any(|c| DocumentType::parse(c) == Ok(t))
    }

    /// A declared content type, before an upload slot is given: a type the
    /// verifier knows and this IPA accepts.
    pub fn document_type(&self, content_type: &str) -> Result<DocumentType, Invalid> {
        let t = DocumentType::parse(content_type)?;
        if !self.allows(t) {
            return Err(Invalid::owned(
                "content_type_not_allowed",
                format!(
                    "is not accepted by this IPA; accepted: {}",
                    self.content_types.join(", ")
                ),
            ));
        }
        Ok(t)
    }

    /// A declared size, before an upload slot is given: 1 byte up to `max_bytes`.
    pub fn check_size(&self, size: u64) -> Result<(), Invalid> {
        if size == 0 {
            return Err(Invalid::new("empty", "must be at least 1 byte"));
        }
        if size > self.max_bytes {
            return Err(Invalid::owned(
                "too_large",
                format!("must be at most {} bytes", self.max_bytes),
            ));
        }
        Ok(())
    }
}

impl Default for AttachmentPolicy {
    fn default() -> Self {
        AttachmentPolicy {
            max_bytes: 25 * 1024 * 1024,
            // PDF, TIFF, JPEG, PNG, DOCX, XLSX, TXT (EmblemHealth, CareSource).
            content_types: DocumentType::ALL.map(|t| t.as_str().to_owned()).to_vec(),
            max_per_message: 5,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClaimsPolicy {
    /// Claims must arrive within this many days of the date of service.
    pub timely_filing_days: u32,
    /// Pay or contest within this many working days (CA H&S 1371.35: 45 for HMOs).
    pub payment_working_days: u32,
    pub corrected_claims_on_portal: bool,
}

impl Default for ClaimsPolicy {
    fn default() -> Self {
        ClaimsPolicy {
            timely_filing_days: 365,
            payment_working_days: 45,
            corrected_claims_on_portal: false,
        }
    }
}

/// What a dispute's filing window counts from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FilingWindowStart {
    RemittanceDate,
    LastDetermination,
}

impl FilingWindowStart {
    /// The wire name (as serde writes it).
    pub fn as_str(self) -> &'static str {
        match self {
            FilingWindowStart::RemittanceDate => "remittance_date",
            FilingWindowStart::LastDetermination => "last_determination",
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DisputePolicy {
    pub filing_window_days: u32,
    pub filing_window_from: FilingWindowStart,
    pub acknowledge_working_days_electronic: u32,
    pub acknowledge_working_days_paper: u32,
    pub decision_working_days: u32,
    /// A second-level dispute goes to the member's health plan within this many days.
    pub second_level_days: u32,
    pub expedited_appeals_on_portal: bool,
}

impl Default for DisputePolicy {
    fn default() -> Self {
        DisputePolicy {
            filing_window_days: 365,
            filing_window_from: FilingWindowStart::LastDetermination,
            acknowledge_working_days_electronic: 2,
            acknowledge_working_days_paper: 15,
            decision_working_days: 45,
            second_level_days: 180,
            expedited_appeals_on_portal: false,
        }
    }
}

/// Who pays for, or authorises, a service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    Ipa,
    HealthPlan,
}

impl Party {
    /// The wire name (as serde writes it).
    pub fn as_str(self) -> &'static str {
        match self {
            Party::Ipa => "ipa",
            Party::HealthPlan => "health_plan",
        }
    }
}

/// A plan product whose members the IPA is delegated for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanPolicy {
    pub id: PlanId,
    /// The product's name (`Blue Shield Promise Medi-Cal`).
    pub name: String,
    /// The health plan that delegates to the IPA.
    pub health_plan: String,
    pub line_of_business: LineOfBusiness,
    /// Services the health plan keeps (division of financial responsibility).
    #[serde(default)]
    pub carve_outs: Vec<CarveOut>,
}

/// A service the health plan keeps for itself: it pays for it and, usually,
/// authorises it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CarveOut {
    /// A short snake_case name (`behavioral_health`).
    pub service: String,
    pub description: String,
    #[serde(default)]
    pub codes: Vec<CodeRange>,
    pub financially_responsible: Party,
    pub authorizes: Party,
    /// A vendor that runs the service for the plan (`Vision Service Plan`).
    #[serde(default)]
    pub administered_by: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
}

/// The file as written: sections with defaults, before cross-field validation.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    ipa: Ipa,
    contacts: Contacts,
    #[serde(default)]
    calendar: CalendarSection,
    #[serde(default)]
    eligibility: EligibilityPolicy,
    #[serde(default)]
    prior_auth: PriorAuthPolicy,
    #[serde(default)]
    attachments: AttachmentPolicy,
    #[serde(default)]
    claims: ClaimsPolicy,
    #[serde(default)]
    disputes: DisputePolicy,
    plans: Vec<PlanPolicy>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CalendarSection {
    #[serde(default)]
    holidays: Vec<HolidayDate>,
}

#[derive(Deserialize)]
#[serde(transparent)]
struct HolidayDate(#[serde(with = "crate::dates::iso")] Date);

/// A policy file that cannot be used, with every problem found and the key it is at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    pub source_name: String,
    pub problems: Vec<PolicyProblem>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyProblem {
    /// Dotted path of the bad key (`disputes.decision_working_days`); empty for
    /// a syntax error.
    pub key: String,
    pub message: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid IPA policy {}", self.source_name)?;
        for p in &self.problems {
            if p.key.is_empty() {
                write!(f, "\n  - {}", p.message)?;
            } else {
                write!(f, "\n  - key `{}`: {}", p.key, p.message)?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for PolicyError {}

fn syntax_error(source_name: &str, e: &dyn fmt::Display) -> PolicyError {
    PolicyError {
        source_name: source_name.to_owned(),
        problems: vec![PolicyProblem {
            key: String::new(),
            message: e.to_string().trim().to_owned(),
        }],
    }
}

/// Validates a deserialised file; `source_name` appears in every error.
fn checked(file: PolicyFile, source_name: &str) -> Result<Policy, PolicyError> {
    validate(file).map_err(|problems| PolicyError {
        source_name: source_name.to_owned(),
        problems,
    })
}

impl Policy {
    /// Parses and validates a policy file. `source_name` (usually the file path)
    /// appears in every error.
    pub fn from_toml(text: &str, source_name: &str) -> Result<Policy, PolicyError> {
        let table: toml::Table = toml::from_str(text).map_err(|e| syntax_error(source_name, &e))?;
        Self::from_document(toml::Value::Table(table), source_name)
    }

    /// [`Policy::from_toml`] for the same file converted to JSON: what a Lambda
    /// reads, converted when it is built (mso-api's build script), because parsing
    /// JSON takes a fraction of TOML's time on a cold start. Same checks, same
    /// keys in the errors.
    pub fn from_json(text: &str, source_name: &str) -> Result<Policy, PolicyError> {
        // A Lambda's bundled file was checked when it was built, so the plain
        // parse succeeds; the one that tracks where it is, to name a bad key,
        // costs more and runs only for a file that fails.
        if let Ok(file) = serde_json::from_str::<PolicyFile>(text) {
            return checked(file, source_name);
        }
        let mut json = serde_json::Deserializer::from_str(text);
        let policy = Self::from_document(&mut json, source_name)?;
        json.end().map_err(|e| syntax_error(source_name, &e))?;
        Ok(policy)
    }

    /// [`Policy::from_json`] for a file whose parse is known to succeed: a
    /// Lambda's bundled policy, which the build converted from TOML and
    /// mso-api's tests load through `from_json`. A type error is reported with
    /// serde_json's line and column, not the key; the checks after the parse
    /// name their keys as ever. So a Lambda does not link the parse that
    /// tracks keys (serde_path_to_error over every policy type: 0.12 MB of
    /// each binary).
    pub fn from_checked_json(text: &str, source_name: &str) -> Result<Policy, PolicyError> {
        let file =
            serde_json::from_str::<PolicyFile>(text).map_err(|e| syntax_error(source_name, &e))?;
        checked(file, source_name)
    }

    /// Deserialises the file from any format, naming the bad key, then validates it.
    fn from_document<'de, D>(document: D, source_name: &str) -> Result<Policy, PolicyError>
    where
        D: serde::Deserializer<'de>,
        D::Error: fmt::Display,
    {
        let fail = |problems| PolicyError {
            source_name: source_name.to_owned(),
            problems,
        };
        let file: PolicyFile = serde_path_to_error::deserialize(document).map_err(|e| {
            let path = e.path().to_string();
            let message = e.inner().to_string();
            // "missing field `x`" is reported at the parent; name the missing key itself.
            let key = match message
                .strip_prefix("missing field `")
                .and_then(|m| m.split('`').next())
            {
                Some(field) if path == "." || path.is_empty() => field.to_owned(),
                Some(field) => format!("{path}.{field}"),
                None => path,
            };
            fail(vec![PolicyProblem { key, message }])
        })?;
        checked(file, source_name)
    }

    pub fn calendar(&self) -> &WorkCalendar {
        &self.calendar
    }

    pub fn holidays(&self) -> &[Date] {
        &self.holidays
    }

    pub fn time_zone(&self) -> &TimeZone {
        &self.time_zone
    }

    pub fn plan(&self, id: &PlanId) -> Option<&PlanPolicy> {
        self.plans.iter().find(|p| &p.id == id)
    }
}

fn validate(file: PolicyFile) -> Result<Policy, Vec<PolicyProblem>> {
    let mut problems = Vec::new();
    let mut bad = |key: &str, message: &str| {
        problems.push(PolicyProblem {
            key: key.into(),
            message: message.into(),
        })
    };

    if crate::ids::OrgId::parse(&file.ipa.id).is_err() {
        bad(
            "ipa.id",
            "must be 2 to 64 lower-case letters, digits or inner hyphens",
        );
    }
    if file.ipa.name.trim().is_empty() {
        bad("ipa.name", "must not be empty");
    }
    let time_zone = TimeZone::get(&file.ipa.timezone).ok();
    if time_zone.is_none() {
        bad(
            "ipa.timezone",
            "is not an IANA time zone name (e.g. America/Los_Angeles)",
        );
    }

    let c = &file.contacts;
    for (key, value) in [
        ("contacts.um_phone", &c.um_phone),
        ("contacts.um_fax", &c.um_fax),
        ("contacts.claims_email", &c.claims_email),
        (
            "contacts.dispute_mailing_address",
            &c.dispute_mailing_address,
        ),
    ] {
        if value.trim().is_empty() {
            bad(key, "must not be empty");
        }
    }
    if !file.disputes.expedited_appeals_on_portal
        && c.expedited_appeal_fax
            .as_deref()
            .is_none_or(|f| f.trim().is_empty())
    {
        bad(
            "contacts.expedited_appeal_fax",
            "is required when disputes.expedited_appeals_on_portal is false: providers must be told where to send them",
        );
    }

    let pa = &file.prior_auth;
    for (key, value, max) in [
        (
            "eligibility.not_found_limit",
            file.eligibility.not_found_limit,
            1000,
        ),
        (
            "eligibility.not_found_window_minutes",
            file.eligibility.not_found_window_minutes,
            24 * 60,
        ),
        ("prior_auth.validity_days", pa.validity_days, 365),
        (
            "prior_auth.urgent_decision_hours",
            pa.urgent_decision_hours,
            168,
        ),
        (
            "prior_auth.routine_decision_working_days",
            pa.routine_decision_working_days,
            30,
        ),
        (
            "prior_auth.routine_decision_max_calendar_days",
            pa.routine_decision_max_calendar_days,
            30,
        ),
        (
            "prior_auth.post_stabilization_deemed_approved_minutes",
            pa.post_stabilization_deemed_approved_minutes,
            24 * 60,
        ),
        (
            "prior_auth.inpatient_notification_hours",
            pa.inpatient_notification_hours,
            168,
        ),
        (
            "prior_auth.clinical_documents_due_working_days",
            pa.clinical_documents_due_working_days,
            30,
        ),
        (
            "prior_auth.standing_referral_validity_days",
            pa.standing_referral_validity_days,
            3650,
        ),
        (
            "claims.timely_filing_days",
            file.claims.timely_filing_days,
            3650,
        ),
        (
            "claims.payment_working_days",
            file.claims.payment_working_days,
            365,
        ),
        (
            "disputes.filing_window_days",
            file.disputes.filing_window_days,
            3650,
        ),
        (
            "disputes.acknowledge_working_days_electronic",
            file.disputes.acknowledge_working_days_electronic,
            60,
        ),
        (
            "disputes.acknowledge_working_days_paper",
            file.disputes.acknowledge_working_days_paper,
            60,
        ),
        (
            "disputes.decision_working_days",
            file.disputes.decision_working_days,
            365,
        ),
        (
            "disputes.second_level_days",
            file.disputes.second_level_days,
            3650,
        ),
        (
            "attachments.max_per_message",
            file.attachments.max_per_message,
            100,
        ),
    ] {
        if value == 0 || value > max {
            bad(key, &format!("must be between 1 and {max}"));
        }
    }
    if file.attachments.max_bytes == 0 || file.attachments.max_bytes > 5 * 1024 * 1024 * 1024 {
        bad(
            "attachments.max_bytes",
            "must be between 1 byte and 5 GiB (the largest single S3 PUT)",
        );
    }
    // Uploads are verified by their bytes, so only types the verifier knows can be allowed.
    for (i, t) in file.attachments.content_types.iter().enumerate() {
        if let Err(e) = DocumentType::parse(t) {
            bad(&format!("attachments.content_types[{i}]"), &e.message);
        }
    }
    if file.attachments.content_types.is_empty() {
        bad(
            "attachments.content_types",
            "must list at least one type, or be left out for the default seven",
        );
    }

    for (i, rule) in pa.criteria.iter().enumerate() {
        let key = |field: &str| format!("prior_auth.criteria[{i}].{field}");
        if crate::ids::OrgId::parse(&rule.id).is_err() {
            bad(
                &key("id"),
                "must be 2 to 64 lower-case letters, digits or inner hyphens",
            );
        } else if pa.criteria[..i].iter().any(|r| r.id == rule.id) {
            bad(&key("id"), "is listed twice");
        }
        if rule.title.trim().is_empty() {
            bad(&key("title"), "must not be empty");
        }
        if rule.codes.is_empty() {
            bad(&key("codes"), "must list at least one code");
        }
        if rule.max_units == 0 || rule.max_units > 10_000 {
            bad(&key("max_units"), "must be between 1 and 10000");
        }
    }

    if file.plans.is_empty() {
        bad(
            "plans",
            "at least one plan must be listed: the IPA is delegated for some plan",
        );
    }
    for (i, plan) in file.plans.iter().enumerate() {
        if file.plans[..i].iter().any(|p| p.id == plan.id) {
            bad(&format!("plans[{i}].id"), "is listed twice");
        }
        for (j, co) in plan.carve_outs.iter().enumerate() {
            let ok = !co.service.is_empty()
                && co
                    .service
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'_');
            if !ok {
                bad(
                    &format!("plans[{i}].carve_outs[{j}].service"),
                    "must be a snake_case name",
                );
            }
        }
    }

    let holidays: Vec<Date> = file.calendar.holidays.iter().map(|h| h.0).collect();
    match (problems.is_empty(), time_zone) {
        (true, Some(time_zone)) => Ok(Policy {
            ipa: file.ipa,
            contacts: file.contacts,
            eligibility: file.eligibility,
            prior_auth: file.prior_auth,
            attachments: file.attachments,
            claims: file.claims,
            disputes: file.disputes,
            plans: file.plans,
            calendar: WorkCalendar::new(holidays.iter().copied()),
            holidays,
            time_zone,
        }),
        _ => Err(problems),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
[ipa]
id = "test-ipa"
name = "Test IPA"
timezone = "America/Los_Angeles"

[contacts]
um_phone = "555-0100"
um_fax = "555-0101"
claims_email = "claims@example.test"
dispute_mailing_address = "PO Box 1, Town, CA 90000"
expedited_appeal_fax = "555-0102"

[[plans]]
id = "MCAL-1"
name = "Test Medi-Cal"
health_plan = "Test Health Plan"
line_of_business = "medi_cal"
"#;

    fn load(text: &str) -> Result<Policy, PolicyError> {
        Policy::from_toml(text, "ipas/test.toml")
    }

    fn only_problem(text: &str) -> PolicyProblem {
        let err = load(text).unwrap_err();
        assert_eq!(err.source_name, "ipas/test.toml");
        assert_eq!(err.problems.len(), 1, "{err}");
        err.problems.into_iter().next().unwrap()
    }

    #[test]
    fn minimal_file_gets_the_documented_defaults() {
        let p = load(MINIMAL).unwrap();
        assert_eq!(p.eligibility.not_found_limit, 10);
        assert_eq!(p.eligibility.not_found_window_minutes, 15);
        assert_eq!(p.prior_auth.validity_days, 90);
        assert_eq!(p.prior_auth.urgent_decision_hours, 72);
        assert_eq!(p.prior_auth.post_stabilization_deemed_approved_minutes, 60);
        assert_eq!(p.attachments.max_bytes, 25 * 1024 * 1024);
        assert_eq!(p.attachments.max_per_message, 5);
        assert_eq!(p.claims.timely_filing_days, 365);
        assert_eq!(p.disputes.acknowledge_working_days_electronic, 2);
        assert_eq!(p.disputes.acknowledge_working_days_paper, 15);
        assert_eq!(p.disputes.decision_working_days, 45);
        assert_eq!(p.disputes.second_level_days, 180);
        assert_eq!(
            p.prior_auth.no_auth_services.len(),
            NoAuthService::ALL.len()
        );
        assert_eq!(
            p.prior_auth.specialty_consult.own_auth_codes[0].as_str(),
            "99215"
        );
    }

    #[test]
    fn pa_required_list_answers_by_code_and_range() {
        let text =
            format!("{MINIMAL}\n[prior_auth]\npa_required_codes = [\"70551-70553\", \"J3490\"]\n");
        // [prior_auth] after [[plans]] is still a top-level table in TOML.
        let p = load(&text).unwrap();
        let code = |s| ProcedureCode::parse(s).unwrap();
        assert!(p.prior_auth.requires_auth(code("70552")));
        assert!(p.prior_auth.requires_auth(code("J3490")));
        assert!(!p.prior_auth.requires_auth(code("99213")));
    }

    #[test]
    fn criteria_rules_are_read_and_checked() {
        let rule = r#"
[[prior_auth.criteria]]
id = "mri-lumbar-radiculopathy"
title = "MRI lumbar spine for radiculopathy"
codes = ["72148", "72149", "72158"]
diagnoses = ["M54.10-M54.18", "M51.16"]
max_units = 1
places_of_service = ["11", "22"]
servicing_in_network = true
"#;
        let p = load(&format!("{MINIMAL}{rule}")).unwrap();
        let r = &p.prior_auth.criteria[0];
        assert_eq!(r.id, "mri-lumbar-radiculopathy");
        assert_eq!(r.diagnoses.len(), 2);
        assert_eq!(r.places_of_service[1].to_string(), "22");
        let bad = only_problem(&format!(
            "{MINIMAL}{}",
            rule.replace("max_units = 1", "max_units = 0")
        ));
        assert_eq!(bad.key, "prior_auth.criteria[0].max_units");
        let bad_code = only_problem(&format!("{MINIMAL}{}", rule.replace("M51.16", "M5")));
        assert_eq!(bad_code.key, "prior_auth.criteria[0].diagnoses[1]");
        let twice = load(&format!("{MINIMAL}{rule}{rule}")).unwrap_err();
        assert_eq!(twice.problems[0].key, "prior_auth.criteria[1].id");
    }

    #[test]
    fn syntax_errors_say_where() {
        let p = only_problem("[ipa\nid = 1");
        assert_eq!(p.key, "");
        assert!(p.message.contains("line 1"), "{}", p.message);
    }

    #[test]
    fn a_bad_code_names_its_key() {
        let text = format!("{MINIMAL}\n[prior_auth]\npa_required_codes = [\"70551\", \"7055X\"]\n");
        let p = only_problem(&text);
        assert_eq!(p.key, "prior_auth.pa_required_codes[1]");
        assert!(p.message.contains("CPT"), "{}", p.message);
    }

    #[test]
    fn a_missing_key_is_named() {
        let p = only_problem(&MINIMAL.replace("um_fax = \"555-0101\"\n", ""));
        assert_eq!(p.key, "contacts.um_fax");
    }

    #[test]
    fn a_misspelt_key_is_refused() {
        let p = only_problem(&MINIMAL.replace("um_fax", "um_facs"));
        assert_eq!(p.key, "contacts.um_facs");
        assert!(p.message.contains("unknown field"), "{}", p.message);
    }

    /// The smallest valid policy as JSON, with `rest` (`, "key": ...`) added
    /// to its top-level object.
    fn minimal_json(rest: &str) -> String {
        format!(
            r#"{{"ipa": {{"id": "test", "name": "Test IPA", "timezone": "America/Los_Angeles"}},
              "contacts": {{"um_phone": "555-0100", "um_fax": "555-0101",
                "claims_email": "claims@example.test",
                "dispute_mailing_address": "PO Box 1", "expedited_appeal_fax": "555-0102"}},
              "plans": [{{"id": "MCAL-1", "name": "Test Medi-Cal",
                "health_plan": "Test Health Plan", "line_of_business": "medi_cal"}}]{rest}}}"#
        )
    }

    /// The JSON form (what a Lambda reads) names the same keys as the TOML.
    #[test]
    fn the_json_form_names_the_same_keys() {
        let json = |rest: &str| Policy::from_json(&minimal_json(rest), "ipas/test.toml");
        let minimal = json("").unwrap();
        assert_eq!(minimal.prior_auth.validity_days, 90);
        let err = json(r#", "prior_auth": {"pa_required_codes": ["70551", "7055X"]}"#).unwrap_err();
        assert_eq!(err.source_name, "ipas/test.toml");
        assert_eq!(err.problems[0].key, "prior_auth.pa_required_codes[1]");
        let err = json(r#", "calendar": {"holidays": ["2026-02-30"]}"#).unwrap_err();
        assert_eq!(err.problems[0].key, "calendar.holidays[0]");
        let err = json(r#", "disputes": {"filing_window_dayz": 1}"#).unwrap_err();
        assert_eq!(err.problems[0].key, "disputes.filing_window_dayz");
        assert!(json("} trailing").is_err());
        // Well-formed but wrong: the checks after the parse name it too.
        let err = json(r#", "disputes": {"decision_working_days": 0}"#).unwrap_err();
        assert_eq!(err.source_name, "ipas/test.toml");
        assert_eq!(err.problems[0].key, "disputes.decision_working_days");
    }

    /// What a Lambda reads: the same policy as `from_json`; a type error names
    /// the line and column instead of the key, and the checks still name theirs.
    #[test]
    fn checked_json_is_the_same_policy_without_key_tracking() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../infra/ipas/sunrise.toml"
        ))
        .unwrap();
        let toml: toml::Value = toml::from_str(&text).unwrap();
        let json = serde_json::to_string(&toml).unwrap();
        assert_eq!(
            format!("{:?}", Policy::from_checked_json(&json, "sunrise").unwrap()),
            format!("{:?}", Policy::from_json(&json, "sunrise").unwrap())
        );
        let bad_type = minimal_json(r#", "disputes": {"decision_working_days": "ten"}"#);
        let err = Policy::from_checked_json(&bad_type, "ipas/test.toml").unwrap_err();
        assert_eq!(err.source_name, "ipas/test.toml");
        assert_eq!(err.problems[0].key, "");
        assert!(
            err.problems[0].message.contains("at line 6 column "),
            "{}",
            err.problems[0].message
        );
        let bad_value = minimal_json(r#", "disputes": {"decision_working_days": 0}"#);
        let err = Policy::from_checked_json(&bad_value, "ipas/test.toml").unwrap_err();
        assert_eq!(err.problems[0].key, "disputes.decision_working_days");
    }

    #[test]
    fn bad_holiday_is_named() {
        let text = format!("{MINIMAL}\n[calendar]\nholidays = [\"2026-12-25\", \"2026-02-30\"]\n");
        assert_eq!(only_problem(&text).key, "calendar.holidays[1]");
    }

    #[test]
    fn semantic_problems_are_all_reported() {
        let text = MINIMAL
            .replace("America/Los_Angeles", "Mars/Olympus")
            .replace("expedited_appeal_fax = \"555-0102\"\n", "")
            + "\n[disputes]\ndecision_working_days = 0\n";
        let err = load(&text).unwrap_err();
        let keys: Vec<_> = err.problems.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "ipa.timezone",
                "contacts.expedited_appeal_fax",
                "disputes.decision_working_days"
            ]
        );
        let shown = err.to_string();
        assert!(
            shown.starts_with("invalid IPA policy ipas/test.toml"),
            "{shown}"
        );
    }

    #[test]
    fn attachment_types_must_be_ones_the_verifier_knows() {
        let text = format!(
            "{MINIMAL}\n[attachments]\ncontent_types = [\"application/pdf\", \"Image/PNG\", \"text/plain; charset=utf-8\", \"image/gif\", \"pdf\"]\n"
        );
        let err = load(&text).unwrap_err();
        let keys: Vec<_> = err.problems.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "attachments.content_types[3]",
                "attachments.content_types[4]"
            ]
        );
        assert!(err.problems[0].message.contains("application/pdf"), "{err}");

        let text = format!("{MINIMAL}\n[attachments]\ncontent_types = []\n");
        assert_eq!(only_problem(&text).key, "attachments.content_types");
    }

    #[test]
    fn attachments_allow_the_listed_types() {
        let p = load(MINIMAL).unwrap();
        for t in DocumentType::ALL {
            assert!(p.attachments.allows(t), "{t}");
        }
        let text = format!(
            "{MINIMAL}\n[attachments]\ncontent_types = [\"application/PDF\", \"text/plain; charset=utf-8\"]\n"
        );
        let p = load(&text).unwrap();
        assert!(p.attachments.allows(DocumentType::Pdf));
        assert!(p.attachments.allows(DocumentType::Text));
        assert!(!p.attachments.allows(DocumentType::Docx));

        let a = &p.attachments;
        assert_eq!(a.document_type("application/pdf"), Ok(DocumentType::Pdf));
        assert_eq!(a.document_type("TEXT/PLAIN"), Ok(DocumentType::Text));
        let refused = a.document_type(DocumentType::Docx.as_str()).unwrap_err();
        assert_eq!(refused.code, "content_type_not_allowed");
        assert!(refused.message.contains("application/PDF"), "{refused}");
        assert_eq!(
            a.document_type("application/zip").unwrap_err().code,
            "unsupported_content_type"
        );
        assert_eq!(a.check_size(1), Ok(()));
        assert_eq!(a.check_size(25 * 1024 * 1024), Ok(()));
        assert_eq!(a.check_size(0).unwrap_err().code, "empty");
        assert_eq!(
            a.check_size(25 * 1024 * 1024 + 1).unwrap_err().code,
            "too_large"
        );
    }

    #[test]
    fn duplicate_plans_are_refused() {
        let plan = &MINIMAL[MINIMAL.find("[[plans]]").unwrap()..];
        assert_eq!(only_problem(&format!("{MINIMAL}{plan}")).key, "plans[1].id");
    }

    #[test]
    fn wire_names_are_the_serde_names() {
        let serde_name = |v: serde_json::Value| v.as_str().unwrap().to_owned();
        for s in NoAuthService::ALL {
            assert_eq!(s.as_str(), serde_name(serde_json::to_value(s).unwrap()));
        }
        for p in [Party::Ipa, Party::HealthPlan] {
            assert_eq!(p.as_str(), serde_name(serde_json::to_value(p).unwrap()));
        }
        for f in [
            FilingWindowStart::RemittanceDate,
            FilingWindowStart::LastDetermination,
        ] {
            assert_eq!(f.as_str(), serde_name(serde_json::to_value(f).unwrap()));
        }
        use crate::member::LineOfBusiness as L;
        for l in [
            L::MediCal,
            L::MedicareAdvantage,
            L::DualEligible,
            L::CommercialHmo,
        ] {
            assert_eq!(l.as_str(), serde_name(serde_json::to_value(l).unwrap()));
            assert_eq!(L::parse(l.as_str()).unwrap(), l);
        }
    }

    #[test]
    fn holidays_feed_the_work_calendar() {
        let text = format!("{MINIMAL}\n[calendar]\nholidays = [\"2026-11-26\"]\n");
        let p = load(&text).unwrap();
        assert!(
            !p.calendar()
                .is_working_day(Date::new(2026, 11, 26).unwrap())
        );
        assert!(
            p.calendar()
                .is_working_day(Date::new(2026, 11, 25).unwrap())
        );
    }
}

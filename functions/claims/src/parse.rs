//! Request bodies into domain commands, every bad field named at once: the
//! shape of the JSON here (types, dates, money), the codes by the domain's
//! [`validate`], and both lists merged into one answer.

use jiff::civil::Date;
use mso_api::FieldError;
use mso_api::body::{Fields, free_text};
use mso_domain::Invalid;
use mso_domain::claims::{
    ClaimType, Frequency, MAX_DIAGNOSES_INSTITUTIONAL, MAX_LINES_INSTITUTIONAL, MAX_UNITS,
    Submission, SubmittedLine, validate,
};
use mso_domain::dates::parse_date;
use serde_json::{Map, Value};

/// CLM01 is at most 38 characters in an 837.
const MAX_CONTROL_NUMBER: usize = 38;
/// A code field's text before the domain looks at it.
const MAX_CODE: usize = 50;
const MAX_REASON: usize = 2_000;

fn text(max: usize) -> impl Fn(&str) -> Result<String, Invalid> {
    move |s| free_text(s, max, true)
}

/// The body of `POST /v1/claims`: a claim as billed.
pub fn claim(root: &Map<String, Value>) -> Result<Submission, Vec<FieldError>> {
    let mut f = Fields::new(root);
    let claim_type = f.required("claim_type", ClaimType::parse);
    let frequency = f
        .optional_code("frequency", Frequency::parse)
        .map(|v| v.unwrap_or(Frequency::Original));
    let original_claim_id = f.optional("original_claim_id", text(MAX_CODE));
    let patient_control_number = f.optional("patient_control_number", text(MAX_CONTROL_NUMBER));
    let billing = f.object("billing_provider", |b| {
        let npi = b.required("npi", text(MAX_CODE));
        let tin = b.optional("tin", text(MAX_CODE));
        b.deny_unknown(&["npi", "tin"]);
        Some((npi?, tin?))
    });
    let rendering_npi = f.optional("rendering_npi", text(MAX_CODE));
    let referring_npi = f.optional("referring_npi", text(MAX_CODE));
    let member_id = f.required("member_id", text(MAX_CODE));
    let dob = f.required("dob", parse_date);
    let place_of_service = f.optional_code("place_of_service", text(MAX_CODE));
    let type_of_bill = f.optional_code("type_of_bill", text(MAX_CODE));
    let diagnoses = f.list("diagnoses", 1..=MAX_DIAGNOSES_INSTITUTIONAL, |d| {
        d.parse(text(MAX_CODE))
    });
    let prior_auth_id = f.optional("prior_auth_id", text(MAX_CODE));
    let lines = f.list("lines", 1..=MAX_LINES_INSTITUTIONAL, |item| {
        item.object(line)
    });
    f.deny_unknown(&[
        "claim_type",
        "frequency",
        "original_claim_id",
        "patient_control_number",
        "billing_provider",
        "rendering_npi",
        "referring_npi",
        "member_id",
        "dob",
        "place_of_service",
        "type_of_bill",
        "diagnoses",
        "prior_auth_id",
        "lines",
    ]);
    let shape_errors = f.into_errors();

    // Whatever could be read, so the domain can name the bad codes too (a line
    // with a bad shape still has codes to check).
    let (billing_npi, billing_tin) = billing.unwrap_or_default();
    let lines = lines.unwrap_or_else(|| match root.get("lines") {
        Some(Value::Array(items)) => items.iter().map(lenient_line).collect(),
        _ => Vec::new(),
    });
    let total = lines.iter().try_fold(0i64, |sum, l: &SubmittedLine| {
        sum.checked_add(l.charge_cents)
    });
    let submission = Submission {
        claim_type: claim_type.unwrap_or(ClaimType::Professional),
        frequency: frequency.unwrap_or(Frequency::Original),
        original_claim_id: original_claim_id.flatten(),
        patient_control_number: patient_control_number.flatten(),
        billing_npi,
        billing_tin,
        rendering_npi: rendering_npi.flatten(),
        referring_npi: referring_npi.flatten(),
        member_id: member_id.unwrap_or_default(),
        dob: dob.unwrap_or(Date::constant(1900, 1, 1)),
        place_of_service: place_of_service.flatten(),
        type_of_bill: type_of_bill.flatten(),
        diagnoses: diagnoses.unwrap_or_default(),
        prior_auth_id: prior_auth_id.flatten(),
        total_charge_cents: total.unwrap_or(i64::MAX),
        lines,
    };
    let code_errors = match validate(&submission) {
        Ok(_) => Vec::new(),
        Err(problems) => problems,
    };
    if shape_errors.is_empty() && code_errors.is_empty() {
        return Ok(submission);
    }
    // A field whose shape is wrong is named once, for its shape.
    let mut errors = shape_errors;
    let reported: Vec<String> = errors.iter().map(|e| e.field.clone()).collect();
    let already = |field: &str| {
        reported.iter().any(|r| {
            field == r
                || field.starts_with(&format!("{r}."))
                || field.starts_with(&format!("{r}["))
                || r.starts_with(&format!("{field}["))
        })
    };
    for p in code_errors {
        if !already(&p.field) {
            errors.push(FieldError {
                field: p.field,
                code: p.code.into(),
                message: p.message.into_owned(),
            });
        }
    }
    Err(errors)
}

fn line(l: &mut Fields<'_>) -> Option<SubmittedLine> {
    let code = l.optional("code", text(MAX_CODE));
    let modifiers = l
        .list_or_empty("modifiers", 0..=4, |m| m.parse(text(MAX_CODE)))
        .map(Option::unwrap_or_default);
    let revenue_code = l.optional_code("revenue_code", text(MAX_CODE));
    let units = l.required_u32("units", 1..=MAX_UNITS);
    let charge = l.required_money("charge");
    let service_from = l.required("service_from", parse_date);
    let service_to = l.optional("service_to", parse_date);
    let pointers = l
        .list_or_empty("diagnosis_pointers", 0..=4, |p| {
            p.number(1..=MAX_DIAGNOSES_INSTITUTIONAL as u32)
        })
        .map(Option::unwrap_or_default);
    let rendering_npi = l.optional("rendering_npi", text(MAX_CODE));
    let place_of_service = l.optional_code("place_of_service", text(MAX_CODE));
    let prior_auth_id = l.optional("prior_auth_id", text(MAX_CODE));
    l.deny_unknown(&[
        "code",
        "modifiers",
        "revenue_code",
        "units",
        "charge",
        "service_from",
        "service_to",
        "diagnosis_pointers",
        "rendering_npi",
        "place_of_service",
        "prior_auth_id",
    ]);
    let charge = charge?;
    if charge.cents() < 0 {
        l.problem(
            "charge",
            &Invalid::new("invalid_charge", "must not be negative"),
        );
        return None;
    }
    Some(SubmittedLine {
        procedure: code?,
        modifiers: modifiers?,
        revenue_code: revenue_code?,
        units: units?.to_string(),
        charge_cents: charge.cents(),
        service_from: Some(service_from?),
        service_to: service_to?,
        diagnosis_pointers: pointers?
            .into_iter()
            .map(|p| u8::try_from(p).unwrap_or(u8::MAX))
            .collect(),
        rendering_npi: rendering_npi?,
        place_of_service: place_of_service?,
        prior_auth_id: prior_auth_id?,
    })
}

/// A line read for its codes only: what has the right type is kept, the rest
/// left empty (its shape errors are already named).
fn lenient_line(v: &Value) -> SubmittedLine {
    let text = |name: &str| match v.get(name) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) if n.is_u64() => Some(n.to_string()),
        _ => None,
    };
    let date = |name: &str| text(name).and_then(|s| parse_date(&s).ok());
    let list = |name: &str| match v.get(name) {
        Some(Value::Array(items)) => items.clone(),
        _ => Vec::new(),
    };
    SubmittedLine {
        procedure: text("code"),
        modifiers: list("modifiers")
            .iter()
            .filter_map(|m| m.as_str().map(String::from))
            .collect(),
        revenue_code: text("revenue_code"),
        units: text("units").unwrap_or_else(|| "1".into()),
        charge_cents: 0,
        service_from: date("service_from"),
        service_to: date("service_to"),
        diagnosis_pointers: list("diagnosis_pointers")
            .iter()
            .filter_map(|p| p.as_u64().and_then(|p| u8::try_from(p).ok()))
            .collect(),
        rendering_npi: text("rendering_npi"),
        place_of_service: text("place_of_service"),
        prior_auth_id: text("prior_auth_id"),
    }
}

/// The body of `POST /v1/claims/{id}/review`.
pub struct Review {
    pub accept: bool,
    pub reason: String,
    pub medical_necessity: bool,
}

pub fn review(root: &Map<String, Value>) -> Result<Review, Vec<FieldError>> {
    let mut f = Fields::new(root);
    let action = f.required("action", |s| match s.trim() {
        "accept" => Ok(true),
        "reject" => Ok(false),
        _ => Err(Invalid::new(
            "invalid_value",
            "must be one of accept, reject",
        )),
    });
    let reason = f.required_text("reason", MAX_REASON);
    let medical_necessity = f.bool_or("medical_necessity", false);
    f.deny_unknown(&["action", "reason", "medical_necessity"]);
    let errors = f.into_errors();
    match (action, reason, medical_necessity) {
        (Some(accept), Some(reason), Some(medical_necessity)) if errors.is_empty() => Ok(Review {
            accept,
            reason,
            medical_necessity,
        }),
        _ => Err(errors),
    }
}

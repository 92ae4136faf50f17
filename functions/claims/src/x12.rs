//! An 837 claim as the X12 reader built it, as the domain's [`Submission`]: a
//! mapping of loops to fields, nothing decided here. What cannot be mapped (a
//! frequency other than 1, 7 or 8, no date of birth) comes back as a rejecting
//! edit naming the segment, never the value.

use jiff::civil::Date;
use mso_domain::claims::edits::Edit;
use mso_domain::claims::{ClaimType, Frequency, Submission, SubmittedLine};
use mso_x12::claim::{Claim, ClaimKind, DateRange, ServiceLine};

/// The submission of `c`, and the edits that reject it outright if any.
pub fn submission(c: &Claim) -> (Submission, Vec<Edit>) {
    let mut rejections = Vec::new();
    let at = c.position.to_string();
    let frequency = Frequency::parse(&c.frequency).unwrap_or_else(|_| {
        rejections.push(Edit::unreadable(
            "CLM",
            &at,
            "the claim frequency (CLM05-3) must be 1 (original), 7 (replacement) or 8 (void)",
        ));
        Frequency::Original
    });
    let dob = c
        .patient
        .as_ref()
        .map_or(c.subscriber.birth_date, |p| p.birth_date)
        .and_then(date)
        .unwrap_or_else(|| {
            rejections.push(Edit::unreadable(
                "DMG",
                &at,
                "the patient's date of birth is missing",
            ));
            Date::constant(1900, 1, 1)
        });
    let claim_type = match c.kind {
        ClaimKind::Professional => ClaimType::Professional,
        ClaimKind::Institutional => ClaimType::Institutional,
    };
    let p = &c.providers;
    let rendering = p.rendering.as_ref().or(p.attending.as_ref());
    let claim_dates = c.dates.statement.or(c.dates.service);
    let lines = c
        .lines
        .iter()
        .map(|l| line(l, claim_dates, &mut rejections))
        .collect();
    let submission = Submission {
        claim_type,
        frequency,
        original_claim_id: text(c.original_claim_reference.as_deref()),
        patient_control_number: text(Some(&c.patient_control_number)),
        billing_npi: c.billing_provider.npi.as_deref().unwrap_or_default().into(),
        billing_tin: text(c.billing_provider.tin.as_deref()),
        rendering_npi: rendering.and_then(|r| text(r.npi.as_deref())),
        referring_npi: p.referring.as_ref().and_then(|r| text(r.npi.as_deref())),
        member_id: c.subscriber.member_id.to_string(),
        dob,
        place_of_service: (claim_type == ClaimType::Professional)
            .then(|| c.facility_code.to_string()),
        type_of_bill: c.type_of_bill.as_deref().map(String::from).or_else(|| {
            (claim_type == ClaimType::Institutional)
                .then(|| format!("{}{}", c.facility_code, c.frequency))
        }),
        diagnoses: c.diagnoses().map(|d| d.code.to_string()).collect(),
        prior_auth_id: text(c.prior_authorization.as_deref()),
        total_charge_cents: c.total_charge_cents,
        lines,
    };
    (submission, rejections)
}

fn line(
    l: &ServiceLine,
    claim_dates: Option<DateRange>,
    rejections: &mut Vec<Edit>,
) -> SubmittedLine {
    let dates = l.service_date.or(claim_dates);
    if dates.is_none() {
        rejections.push(Edit::unreadable(
            "DTP",
            &l.position.to_string(),
            "the service line has no date of service (DTP*472)",
        ));
    }
    let procedure = l.procedure.as_ref();
    SubmittedLine {
        procedure: procedure.map(|p| p.code.to_string()),
        modifiers: procedure
            .map(|p| p.modifiers.iter().map(ToString::to_string).collect())
            .unwrap_or_default(),
        revenue_code: text(l.revenue_code.as_deref()),
        units: l.units.as_deref().unwrap_or("1").to_string(),
        charge_cents: l.charge_cents,
        service_from: dates.and_then(|d| date(d.from)),
        service_to: dates.and_then(|d| date(d.to)),
        diagnosis_pointers: l.diagnosis_pointers.clone(),
        rendering_npi: l.rendering.as_ref().and_then(|r| text(r.npi.as_deref())),
        place_of_service: text(l.place_of_service.as_deref()),
        prior_auth_id: text(l.prior_authorization.as_deref()),
    }
}

fn text(s: Option<&str>) -> Option<String> {
    s.map(str::trim).filter(|s| !s.is_empty()).map(String::from)
}

fn date(d: mso_x12::Date) -> Option<Date> {
    Date::new(
        i16::try_from(d.year()).ok()?,
        i8::try_from(d.month()).ok()?,
        i8::try_from(d.day()).ok()?,
    )
    .ok()
}

//! The body of a prior-auth request (`POST /v1/prior-auths`, and the clerk's
//! fields when filing one from an intake item) into the domain's [`Request`],
//! every bad field named at once. Shared so both routes read the same fields
//! the same way.

use mso_api::FieldError;
use mso_api::body::{Fields, free_text};
use mso_domain::Invalid;
use mso_domain::codes::{Icd10, Modifier, PlaceOfService, ProcedureCode};
use mso_domain::dates::parse_date;
use mso_domain::ids::{MemberId, Npi};
use mso_domain::prior_auth::{
    Category, Contact, MAX_DIAGNOSES, MAX_LINES, MAX_UNITS, Request, RequestedLine, Setting,
    Urgency,
};
use serde_json::{Map, Value};

/// Free text fields: long enough for a clinical note's summary, short enough to
/// keep records small.
pub const MAX_REASON: usize = 2_000;
pub const MAX_NAME: usize = 200;

pub fn phone(s: &str) -> Result<String, Invalid> {
    let s = free_text(s, 40, true)?;
    let digits = s.bytes().filter(u8::is_ascii_digit).count();
    if !(7..=15).contains(&digits)
        || !s
            .bytes()
            .all(|b| b.is_ascii_digit() || b" +-().".contains(&b))
    {
        return Err(Invalid::new(
            "invalid_phone",
            "must be a phone number of 7 to 15 digits (spaces, +, -, . and parentheses allowed)",
        ));
    }
    Ok(s)
}

pub fn email(s: &str) -> Result<String, Invalid> {
    let s = free_text(s, 254, true)?;
    let ok = s.split_once('@').is_some_and(|(user, domain)| {
        !user.is_empty() && domain.contains('.') && !s.contains(char::is_whitespace)
    });
    if ok {
        Ok(s)
    } else {
        Err(Invalid::new("invalid_email", "must be an email address"))
    }
}

fn instant(s: &str) -> Result<jiff::Timestamp, Invalid> {
    s.trim().parse().map_err(|_| {
        Invalid::new(
            "invalid_instant",
            "must be an RFC 3339 instant with an offset (2026-11-24T03:10:00Z)",
        )
    })
}

/// The body of `POST /v1/prior-auths`.
pub fn request(root: &Map<String, Value>) -> Result<Request, Vec<FieldError>> {
    let mut f = Fields::new(root);
    let member_id = f.required("member_id", MemberId::parse);
    let dob = f.required("dob", parse_date);
    let setting = f.required("setting", Setting::parse);
    let category = f.required("category", Category::parse);
    let urgency = f.required("urgency", Urgency::parse);
    let urgency_reason = f.optional_text("urgency_reason", MAX_REASON);
    let service_from = f.required("service_from", parse_date);
    let service_to = f.required("service_to", parse_date);
    let requesting_npi = f.required("requesting_npi", Npi::parse);
    let servicing_npi = f.required("servicing_npi", Npi::parse);
    let place_of_service = f.required("place_of_service", PlaceOfService::parse);
    let diagnoses = f.list("diagnoses", 1..=MAX_DIAGNOSES, |d| d.parse(Icd10::parse));
    let lines = f.list("lines", 1..=MAX_LINES, |item| {
        item.object(|l| {
            let code = l.required("code", ProcedureCode::parse);
            let modifiers = l
                .list_or_empty("modifiers", 0..=4, |m| m.parse(Modifier::parse))
                .map(Option::unwrap_or_default);
            let units = l.required_u32("units", 1..=MAX_UNITS);
            l.deny_unknown(&["code", "modifiers", "units"]);
            Some(RequestedLine {
                code: code?,
                modifiers: modifiers?,
                units: units?,
            })
        })
    });
    let contact = f.object("contact", |c| {
        let name = c.required_text("name", MAX_NAME);
        let phone_number = c.required("phone", phone);
        let extension = c.optional_text("extension", 10);
        let fax = c.optional("fax", phone);
        let mail = c.optional("email", email);
        c.deny_unknown(&["name", "phone", "extension", "fax", "email"]);
        Some(Contact {
            name: name?,
            phone: phone_number?,
            extension: extension?,
            fax: fax?,
            email: mail?,
        })
    });
    let admitted_at = f.optional("admitted_at", instant);
    f.deny_unknown(&[
        "member_id",
        "dob",
        "setting",
        "category",
        "urgency",
        "urgency_reason",
        "service_from",
        "service_to",
        "requesting_npi",
        "servicing_npi",
        "place_of_service",
        "diagnoses",
        "lines",
        "contact",
        "admitted_at",
    ]);
    let request = (|| {
        Some(Request {
            member_id: member_id?,
            dob: dob?,
            setting: setting?,
            category: category?,
            urgency: urgency?,
            urgency_reason: urgency_reason?,
            service_from: service_from?,
            service_to: service_to?,
            requesting_npi: requesting_npi?,
            servicing_npi: servicing_npi?,
            place_of_service: place_of_service?,
            diagnoses: diagnoses?,
            lines: lines?,
            contact: contact?,
            admitted_at: admitted_at?,
        })
    })();
    match request {
        Some(r) if f.is_valid() => {
            // Rules across fields, once every field is readable.
            for (field, invalid) in r.check() {
                f.problem(field, &invalid);
            }
            if f.is_valid() {
                Ok(r)
            } else {
                Err(f.into_errors())
            }
        }
        _ => Err(f.into_errors()),
    }
}

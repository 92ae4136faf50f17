//! Claims as read from an 837: plain owned values, validated as text (dates
//! `YYYY-MM-DD`, amounts in cents). The claims function turns them into domain
//! types (`Npi::parse`, `Icd10::parse`, ...) and runs its edits.
//!
//! Loops shared by several claims (billing provider, subscriber, payer, patient,
//! envelope) are behind an `Arc`, so a file of many claims shares one copy.

use std::borrow::Cow;
use std::sync::Arc;

use serde::Serialize;

use crate::reader::Position;
pub use crate::text::{Date, Text};

/// 837P (005010X222) or 837I (005010X223).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimKind {
    Professional,
    Institutional,
}

/// Where a claim came from: its envelopes and the 837 header.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Source {
    /// 0-based index of the transaction set in the file (matches [`crate::SetReport`]).
    pub set_index: u64,
    /// ISA05 / ISA06 (trimmed): who sent the interchange.
    pub sender_qualifier: String,
    pub sender_id: String,
    /// ISA07 / ISA08.
    pub receiver_qualifier: String,
    pub receiver_id: String,
    /// ISA13.
    pub interchange_control_number: String,
    /// GS02 / GS03.
    pub group_sender: String,
    pub group_receiver: String,
    /// GS06.
    pub group_control_number: String,
    /// ST02.
    pub set_control_number: String,
    /// ST03, or GS08 when ST03 is absent (`005010X222A1`).
    pub implementation: String,
    /// BHT03: the submitter's reference for this batch.
    pub reference: String,
    /// BHT04, `YYYY-MM-DD`.
    pub created: Option<Date>,
    /// 1000A NM1*41 (with its NM109 submitter ID).
    pub submitter: Option<Party>,
    /// 1000B NM1*40.
    pub receiver: Option<Party>,
}

/// A person or organisation name (NM103..NM107).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Name {
    /// NM102: true for a person (`1`), false for an organisation (`2`).
    pub person: bool,
    /// NM103: last name or organisation name.
    pub last_or_organization: Text,
    pub first: Option<Text>,
    pub middle: Option<Text>,
    pub suffix: Option<Text>,
}

/// N3 / N4.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Address {
    pub line1: Text,
    pub line2: Option<Text>,
    pub city: Text,
    pub state: Option<Text>,
    pub postal_code: Option<Text>,
    pub country: Option<Text>,
}

/// An NM1 party with its identifier (NM108 qualifier, NM109 code).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Party {
    pub name: Name,
    pub id_qualifier: Option<Text>,
    pub id: Option<Text>,
    pub address: Option<Box<Address>>,
}

/// A provider loop: billing (2010AA), pay-to (2010AB), or a claim or line provider.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Provider {
    pub name: Name,
    /// NM109 when NM108 is `XX`.
    pub npi: Option<Text>,
    /// REF*EI (employer identification number).
    pub tin: Option<Text>,
    /// PRV03 taxonomy code.
    pub taxonomy: Option<Text>,
    pub address: Option<Box<Address>>,
}

/// 2000B / 2010BA.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Subscriber {
    /// SBR01: P primary, S secondary, T tertiary...
    pub payer_responsibility: Text,
    /// SBR02: `18` when the subscriber is the patient.
    pub relationship: Option<Text>,
    /// SBR03 group or policy number.
    pub group_number: Option<Text>,
    /// SBR09 claim filing indicator (`CI` commercial, `MB` Medicare B...).
    pub claim_filing_indicator: Option<Text>,
    pub name: Name,
    /// NM109 (NM108 `MI`).
    pub member_id: Text,
    /// DMG02, `YYYY-MM-DD`.
    pub birth_date: Option<Date>,
    /// DMG03: F, M or U.
    pub sex: Option<Text>,
    pub address: Option<Box<Address>>,
}

/// 2000C / 2010CA: a patient who is not the subscriber.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Patient {
    /// PAT01 relationship to the subscriber (`19` child, `01` spouse...).
    pub relationship: Text,
    pub name: Name,
    pub birth_date: Option<Date>,
    pub sex: Option<Text>,
    pub address: Option<Box<Address>>,
}

/// A date or an inclusive range of dates (a single date has `from == to`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct DateRange {
    pub from: Date,
    pub to: Date,
}

/// Claim-level DTP dates.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ClaimDates {
    /// DTP*431 onset of current illness.
    pub onset: Option<Date>,
    /// DTP*434 statement period (837I).
    pub statement: Option<DateRange>,
    /// DTP*435 admission (837I, D8 or DT).
    pub admission: Option<Date>,
    /// DTP*096 discharge.
    pub discharge: Option<Date>,
    /// DTP*472 at claim level, when sent there.
    pub service: Option<DateRange>,
    /// DTP*439 accident.
    pub accident: Option<Date>,
}

/// An HI composite: qualifier (`ABK` principal ICD-10, `ABF` other, `ABJ` admitting,
/// `APR` reason for visit, `BBR` principal procedure...) and code as written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HealthCode {
    pub qualifier: Text,
    pub code: Text,
}

/// Claim-level provider loops (2310x), by role. Boxed: most claims have one or two.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ClaimProviders {
    /// 837P 2310A NM1*DN (or P3 primary care provider).
    pub referring: Option<Box<Provider>>,
    /// 837P 2310B / 837I 2310D NM1*82.
    pub rendering: Option<Box<Provider>>,
    /// 837I 2310A NM1*71.
    pub attending: Option<Box<Provider>>,
    /// 837I 2310B NM1*72.
    pub operating: Option<Box<Provider>>,
    /// 837I 2310C NM1*ZZ.
    pub other_operating: Option<Box<Provider>>,
    /// NM1*77 service facility location.
    pub service_facility: Option<Box<Provider>>,
    /// 837P 2310D NM1*DQ.
    pub supervising: Option<Box<Provider>>,
}

/// 837I CL1: institutional claim codes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Institutional {
    /// CL101 priority (type) of admission.
    pub admission_type: Option<Text>,
    /// CL102 point of origin (source) of admission.
    pub admission_source: Option<Text>,
    /// CL103 patient status (discharge status).
    pub patient_status: Option<Text>,
}

/// SV101 / SV202: a procedure with its modifiers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Procedure {
    /// `HC` (CPT/HCPCS), `ER`, `IV`, `WK`...
    pub qualifier: Text,
    pub code: Text,
    /// Up to four modifiers.
    pub modifiers: Vec<Text>,
}

/// A service line: LX with SV1 (837P) or SV2 (837I), and its DTP, REF and NM1.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ServiceLine {
    pub position: Position,
    /// LX01.
    pub number: u32,
    /// SV201 revenue code (837I).
    pub revenue_code: Option<Text>,
    pub procedure: Option<Procedure>,
    /// SV102 / SV203.
    pub charge_cents: i64,
    /// SV103 / SV204: `UN` units, `MJ` minutes, `DA` days.
    pub unit_basis: Option<Text>,
    /// SV104 / SV205, as written (`1`, `3.00`).
    pub units: Option<Text>,
    /// SV105 place of service, when it differs from the claim's.
    pub place_of_service: Option<Text>,
    /// SV107 diagnosis code pointers, 1-based into the claim's diagnoses.
    pub diagnosis_pointers: Vec<u8>,
    /// DTP*472.
    pub service_date: Option<DateRange>,
    /// REF*G1 at line level.
    pub prior_authorization: Option<Text>,
    /// REF*6R line item control number.
    pub control_number: Option<Text>,
    /// 2420A NM1*82.
    pub rendering: Option<Box<Provider>>,
}

/// One claim (2300 loop) with everything it hangs from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Claim {
    pub source: Arc<Source>,
    /// The CLM segment.
    pub position: Position,
    pub kind: ClaimKind,
    /// CLM01 patient control number: the submitter's claim ID, the 277CA trace number.
    pub patient_control_number: Text,
    /// CLM02.
    pub total_charge_cents: i64,
    /// CLM05-1: place of service (837P) or facility type code (837I).
    pub facility_code: Text,
    /// CLM05-2: `B` (place of service) or `A` (uniform billing facility code).
    pub facility_code_qualifier: Text,
    /// CLM05-3: `1` original, `7` replacement, `8` void...
    pub frequency: Text,
    /// 837I type of bill: facility code + frequency (`111`).
    pub type_of_bill: Option<Text>,
    /// REF*F8: the payer's claim number of the claim replaced or voided.
    pub original_claim_reference: Option<Text>,
    /// REF*G1 at claim level.
    pub prior_authorization: Option<Text>,
    /// REF*9F referral number.
    pub referral_number: Option<Text>,
    pub billing_provider: Arc<Provider>,
    /// 2010AB pay-to address, when sent.
    pub pay_to: Option<Arc<Provider>>,
    pub subscriber: Arc<Subscriber>,
    /// 2010BB NM1*PR.
    pub payer: Arc<Party>,
    /// 2000C, when the patient is not the subscriber.
    pub patient: Option<Arc<Patient>>,
    pub dates: ClaimDates,
    /// Every HI composite in order (diagnoses, and for 837I procedures, occurrence,
    /// value and condition codes).
    pub health_codes: Vec<HealthCode>,
    pub providers: ClaimProviders,
    pub institutional: Option<Institutional>,
    /// 2330B NM1*PR of other payers (coordination of benefits).
    pub other_payers: Vec<Party>,
    pub lines: Vec<ServiceLine>,
}

impl Claim {
    /// The diagnosis codes (ABK principal first, then ABF, and the 4010-style BK/BF).
    pub fn diagnoses(&self) -> impl Iterator<Item = &HealthCode> {
        self.health_codes
            .iter()
            .filter(|h| matches!(h.qualifier.as_str(), "ABK" | "ABF" | "BK" | "BF"))
    }

    /// HI ABK (or BK): the principal diagnosis.
    pub fn principal_diagnosis(&self) -> Option<&str> {
        self.health_codes
            .iter()
            .find(|h| matches!(h.qualifier.as_str(), "ABK" | "BK"))
            .map(|h| h.code.as_str())
    }

    /// The patient's name: 2010CA when there is a patient loop, else the subscriber's.
    pub fn patient_name(&self) -> &Name {
        self.patient
            .as_ref()
            .map_or(&self.subscriber.name, |p| &p.name)
    }
}

/// Why a claim cannot be accepted as read: where, and in plain words (never the
/// value, which may be PHI).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub position: Position,
    /// The segment ID (`CLM`, `DTP`...).
    pub segment_id: String,
    pub reason: Cow<'static, str>,
}

/// A claim that could not be built cleanly. `claim` holds what could be read (empty
/// strings and zero where a value was missing or bad), enough to reject it in a
/// 277CA by its CLM01.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ClaimError {
    pub claim: Box<Claim>,
    pub problems: Vec<Problem>,
}

impl std::fmt::Display for ClaimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "claim at {} has {} problem(s)",
            self.claim.position,
            self.problems.len()
        )?;
        for p in &self.problems {
            write!(f, "; {} at {}: {}", p.segment_id, p.position, p.reason)?;
        }
        Ok(())
    }
}

impl std::error::Error for ClaimError {}

/// A transaction set that yields no claims: not an 837, or not 5010.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NotClaims {
    pub set_index: u64,
    pub position: Position,
    /// ST01.
    pub transaction_set: String,
    /// ST03 or GS08.
    pub implementation: String,
    pub reason: &'static str,
}

//! The 837 claim builder: follows the HL hierarchy (20 billing provider, 22
//! subscriber, 23 patient) and the NM1 qualifiers, and emits each claim as soon as
//! the next CLM, HL or SE shows it is complete. Only the loops a claim hangs from
//! are held, never earlier claims.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::Arc;

use crate::Event;
use crate::claim::*;
use crate::envelope::{SetKind, Validator, kind_of};
use crate::ids;
use crate::reader::{Position, Segment};
use crate::text::{self, opt, own};

/// Service lines kept per claim (837I allows 999, 837P 50).
pub const MAX_LINES: usize = 999;
/// HI composites kept per claim.
pub const MAX_HEALTH_CODES: usize = 200;
/// Problems kept per claim.
pub const MAX_PROBLEMS: usize = 50;
/// Other payers kept per claim.
const MAX_OTHER_PAYERS: usize = 10;

/// Where in the 837 the builder is, by the last HL, NM1, CLM, SBR or LX seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Loop {
    Header,
    Submitter,
    Receiver,
    Billing,
    BillingName,
    PayTo,
    Subscriber,
    SubscriberName,
    PayerName,
    Patient,
    PatientName,
    Claim,
    ClaimProvider(Role),
    /// 2320/2330: other subscribers and payers (coordination of benefits).
    OtherSubscriber,
    OtherPayer,
    Line,
    LineRendering,
    /// 2410/2420 (not rendering)/2430: read past.
    LineOther,
    /// An HL of an unknown level: read past.
    Unknown,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Referring,
    Rendering,
    Attending,
    Operating,
    OtherOperating,
    ServiceFacility,
    Supervising,
    Other,
}

/// A loop value shared with the claims that hang from it. Claims take an `Arc`
/// clone; an edit after that copies it first (`Arc::make_mut`), which the 837 order
/// (a loop's segments before its claims) makes rare.
struct Shared<T> {
    value: Option<Arc<T>>,
    problems: Vec<Problem>,
}

impl<T: Clone> Shared<T> {
    fn new() -> Self {
        Shared {
            value: None,
            problems: Vec::new(),
        }
    }
    fn reset(&mut self) {
        self.value = None;
        self.problems.clear();
    }
    fn start(&mut self, v: T) {
        self.reset();
        self.value = Some(Arc::new(v));
    }
    fn is_none(&self) -> bool {
        self.value.is_none()
    }
    fn edit(&mut self) -> Option<&mut T> {
        self.value.as_mut().map(Arc::make_mut)
    }
    fn get(&self) -> Option<Arc<T>> {
        self.value.clone()
    }
    fn problem(&mut self, seg: &Segment<'_>, reason: impl Into<Cow<'static, str>>) {
        if self.problems.len() < 10 {
            self.problems.push(problem(seg, reason));
        }
    }
}

struct Draft {
    claim: Box<Claim>,
    problems: Vec<Problem>,
}

impl Draft {
    fn problem(&mut self, seg: &Segment<'_>, reason: impl Into<Cow<'static, str>>) {
        self.problem_at(seg.position(), seg_id(seg), reason);
    }
    fn problem_at(
        &mut self,
        position: Position,
        segment_id: String,
        reason: impl Into<Cow<'static, str>>,
    ) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(Problem {
                position,
                segment_id,
                reason: reason.into(),
            });
        }
    }
}

fn problem(seg: &Segment<'_>, reason: impl Into<Cow<'static, str>>) -> Problem {
    Problem {
        position: seg.position(),
        segment_id: seg_id(seg),
        reason: reason.into(),
    }
}

fn seg_id(seg: &Segment<'_>) -> String {
    String::from_utf8_lossy(seg.id()).into_owned()
}

pub(crate) struct ClaimBuilder {
    kind: Option<ClaimKind>,
    source: Source,
    source_shared: Option<Arc<Source>>,
    at: Loop,
    billing: Shared<Provider>,
    pay_to: Shared<Provider>,
    subscriber: Shared<Subscriber>,
    payer: Shared<Party>,
    patient: Shared<Patient>,
    /// Whether the current HL is a patient level (2000C).
    in_patient_level: bool,
    pending_taxonomy: Option<Text>,
    draft: Option<Draft>,
    line: Option<ServiceLine>,
    line_has_service: bool,
}

impl ClaimBuilder {
    pub(crate) fn new() -> Self {
        ClaimBuilder {
            kind: None,
            source: Source::default(),
            source_shared: None,
            at: Loop::Header,
            billing: Shared::new(),
            pay_to: Shared::new(),
            subscriber: Shared::new(),
            payer: Shared::new(),
            patient: Shared::new(),
            in_patient_level: false,
            pending_taxonomy: None,
            draft: None,
            line: None,
            line_has_service: false,
        }
    }

    /// An ST: decides whether this set holds claims, and resets every loop.
    pub(crate) fn start_set(&mut self, st: &Segment<'_>, v: &Validator, out: &mut VecDeque<Event>) {
        self.end_set(out);
        let ic = v.interchange();
        let g = v.group();
        let implementation = opt(st.element(3))
            .map(|t| t.to_string())
            .or_else(|| g.map(|g| g.version.clone()))
            .unwrap_or_default();
        let s =
            |f: fn(&crate::InterchangeReport) -> &String| ic.map(f).cloned().unwrap_or_default();
        self.source = Source {
            set_index: v.set_index(),
            sender_qualifier: s(|i| &i.sender_qualifier),
            sender_id: s(|i| &i.sender_id),
            receiver_qualifier: s(|i| &i.receiver_qualifier),
            receiver_id: s(|i| &i.receiver_id),
            interchange_control_number: s(|i| &i.control_number),
            group_sender: g.map(|g| g.sender.clone()).unwrap_or_default(),
            group_receiver: g.map(|g| g.receiver.clone()).unwrap_or_default(),
            group_control_number: g.map(|g| g.control_number.clone()).unwrap_or_default(),
            set_control_number: own(st.element(2)).to_string(),
            implementation,
            ..Source::default()
        };
        self.source_shared = None;
        self.at = Loop::Header;
        self.kind = match kind_of(st.element(1), self.source.implementation.as_bytes()) {
            SetKind::Professional => Some(ClaimKind::Professional),
            SetKind::Institutional => Some(ClaimKind::Institutional),
            SetKind::Other => {
                let reason = if st.element(1) == b"837" {
                    "an 837 of another version than 5010 (005010X222 or 005010X223)"
                } else {
                    "not an 837 claim transaction"
                };
                out.push_back(Event::NotClaims(NotClaims {
                    set_index: self.source.set_index,
                    position: st.position(),
                    transaction_set: own(st.element(1)).to_string(),
                    implementation: self.source.implementation.clone(),
                    reason,
                }));
                None
            }
        };
    }

    /// SE, or the set ended without one: the last claim is complete.
    pub(crate) fn end_set(&mut self, out: &mut VecDeque<Event>) {
        self.flush_claim(out);
        self.kind = None;
        for l in [&mut self.billing, &mut self.pay_to] {
            l.reset();
        }
        self.subscriber.reset();
        self.payer.reset();
        self.patient.reset();
        self.in_patient_level = false;
        self.pending_taxonomy = None;
    }

    pub(crate) fn segment(&mut self, seg: &Segment<'_>, out: &mut VecDeque<Event>) {
        let Some(kind) = self.kind else { return };
        match seg.code() {
            ids::BHT => {
                self.source.reference = own(seg.element(3)).to_string();
                self.source.created = text::date(seg.element(4));
                self.source_shared = None;
            }
            ids::HL => self.hl(seg, out),
            ids::NM1 => self.nm1(seg),
            ids::N3 => {
                if let Some(a) = self.address() {
                    a.line1 = own(seg.element(1));
                    a.line2 = opt(seg.element(2));
                }
            }
            ids::N4 => {
                if let Some(a) = self.address() {
                    a.city = own(seg.element(1));
                    a.state = opt(seg.element(2));
                    a.postal_code = opt(seg.element(3));
                    a.country = opt(seg.element(4));
                }
            }
            ids::REF => self.reference(seg),
            ids::PRV => self.taxonomy(seg),
            ids::DMG => self.demographics(seg),
            ids::SBR => self.sbr(seg),
            ids::PAT if self.at == Loop::Patient => {
                if let Some(p) = self.patient.edit() {
                    p.relationship = own(seg.element(1));
                }
            }
            ids::CLM => self.clm(seg, kind, out),
            ids::DTP => self.dtp(seg),
            ids::HI => self.hi(seg),
            ids::CL1 => {
                let d = self.claim_for(seg);
                d.claim.institutional = Some(Institutional {
                    admission_type: opt(seg.element(1)),
                    admission_source: opt(seg.element(2)),
                    patient_status: opt(seg.element(3)),
                });
            }
            ids::LX => self.lx(seg),
            ids::SV1 => self.sv1(seg, kind),
            ids::SV2 => self.sv2(seg, kind),
            ids::LIN | ids::SVD if self.line.is_some() => self.at = Loop::LineOther,
            _ => {}
        }
    }

    fn source(&mut self) -> Arc<Source> {
        let s = &self.source;
        self.source_shared
            .get_or_insert_with(|| Arc::new(s.clone()))
            .clone()
    }

    fn hl(&mut self, seg: &Segment<'_>, out: &mut VecDeque<Event>) {
        self.flush_claim(out);
        self.pending_taxonomy = None;
        match seg.element(3) {
            b"20" => {
                self.billing.reset();
                self.pay_to.reset();
                self.subscriber.reset();
                self.payer.reset();
                self.patient.reset();
                self.in_patient_level = false;
                self.at = Loop::Billing;
            }
            b"22" => {
                self.subscriber.start(Subscriber::default());
                self.payer.reset();
                self.patient.reset();
                self.in_patient_level = false;
                self.at = Loop::Subscriber;
            }
            b"23" => {
                self.patient.start(Patient::default());
                self.in_patient_level = true;
                self.at = Loop::Patient;
            }
            _ => self.at = Loop::Unknown,
        }
    }

    fn in_claim(&self) -> bool {
        matches!(self.at, Loop::Claim | Loop::ClaimProvider(_))
    }

    fn in_line(&self) -> bool {
        matches!(self.at, Loop::Line | Loop::LineRendering | Loop::LineOther)
    }

    fn in_cob(&self) -> bool {
        matches!(self.at, Loop::OtherSubscriber | Loop::OtherPayer)
    }

    fn nm1(&mut self, seg: &Segment<'_>) {
        let q = seg.element(1);
        if self.in_line() {
            if q == b"82" {
                if let Some(l) = &mut self.line {
                    l.rendering = Some(Box::new(provider(seg)));
                }
                self.at = Loop::LineRendering;
            } else {
                self.at = Loop::LineOther;
            }
            return;
        }
        if self.in_cob() {
            if q == b"PR" {
                if let Some(d) = &mut self.draft
                    && d.claim.other_payers.len() < MAX_OTHER_PAYERS
                {
                    d.claim.other_payers.push(party(seg));
                }
                self.at = Loop::OtherPayer;
            } else {
                self.at = Loop::OtherSubscriber;
            }
            return;
        }
        if self.in_claim() {
            let role = match q {
                b"DN" | b"P3" => Role::Referring,
                b"82" => Role::Rendering,
                b"71" => Role::Attending,
                b"72" => Role::Operating,
                b"ZZ" => Role::OtherOperating,
                b"77" => Role::ServiceFacility,
                b"DQ" => Role::Supervising,
                _ => Role::Other,
            };
            if let Some(d) = &mut self.draft {
                let p = &mut d.claim.providers;
                let slot = match role {
                    Role::Referring => &mut p.referring,
                    Role::Rendering => &mut p.rendering,
                    Role::Attending => &mut p.attending,
                    Role::Operating => &mut p.operating,
                    Role::OtherOperating => &mut p.other_operating,
                    Role::ServiceFacility => &mut p.service_facility,
                    Role::Supervising => &mut p.supervising,
                    Role::Other => {
                        self.at = Loop::ClaimProvider(role);
                        return;
                    }
                };
                // The first of a role counts (a second DN is the primary care provider).
                if slot.is_none() {
                    *slot = Some(Box::new(provider(seg)));
                }
            }
            self.at = Loop::ClaimProvider(role);
            return;
        }
        match q {
            b"41" => {
                self.source.submitter = Some(party(seg));
                self.source_shared = None;
                self.at = Loop::Submitter;
            }
            b"40" => {
                self.source.receiver = Some(party(seg));
                self.source_shared = None;
                self.at = Loop::Receiver;
            }
            b"85" => {
                let mut p = provider(seg);
                p.taxonomy = self.pending_taxonomy.take();
                self.billing.start(p);
                if seg.element(8) != b"XX" || seg.element(9).is_empty() {
                    self.billing
                        .problem(seg, "billing provider NPI is missing (NM108 XX with NM109)");
                }
                self.at = Loop::BillingName;
            }
            b"87" => {
                self.pay_to.start(provider(seg));
                self.at = Loop::PayTo;
            }
            b"IL" => {
                if self.subscriber.is_none() {
                    self.subscriber.start(Subscriber::default());
                }
                if let Some(s) = self.subscriber.edit() {
                    s.name = name(seg);
                    s.member_id = own(seg.element(9));
                }
                if seg.element(9).is_empty() {
                    self.subscriber
                        .problem(seg, "subscriber member ID (2010BA NM109) is missing");
                }
                self.at = Loop::SubscriberName;
            }
            b"PR" => {
                self.payer.start(party(seg));
                self.at = Loop::PayerName;
            }
            b"QC" => {
                if self.patient.is_none() {
                    self.patient.start(Patient::default());
                }
                if let Some(p) = self.patient.edit() {
                    p.name = name(seg);
                }
                self.at = Loop::PatientName;
            }
            _ => {
                // Another 2010 loop (pay-to plan PE, property and casualty...).
                self.at = match self.at {
                    Loop::Submitter | Loop::Receiver | Loop::Header => Loop::Header,
                    Loop::Billing | Loop::BillingName | Loop::PayTo => Loop::Billing,
                    Loop::Patient | Loop::PatientName => Loop::Patient,
                    Loop::Unknown => Loop::Unknown,
                    _ => Loop::Subscriber,
                };
            }
        }
    }

    /// The address that N3/N4 now fill.
    fn address(&mut self) -> Option<&mut Address> {
        let a = match self.at {
            Loop::BillingName => &mut self.billing.edit()?.address,
            Loop::PayTo => &mut self.pay_to.edit()?.address,
            Loop::SubscriberName => &mut self.subscriber.edit()?.address,
            Loop::PayerName => &mut self.payer.edit()?.address,
            Loop::PatientName => &mut self.patient.edit()?.address,
            Loop::ClaimProvider(Role::ServiceFacility) => {
                &mut self
                    .draft
                    .as_mut()?
                    .claim
                    .providers
                    .service_facility
                    .as_mut()?
                    .address
            }
            _ => return None,
        };
        Some(a.get_or_insert_with(Box::default))
    }

    fn reference(&mut self, seg: &Segment<'_>) {
        let (q, v) = (seg.element(1), opt(seg.element(2)));
        match self.at {
            Loop::BillingName if q == b"EI" => {
                if let Some(b) = self.billing.edit() {
                    b.tin = v;
                }
            }
            Loop::Claim => {
                if let Some(d) = &mut self.draft {
                    match q {
                        b"F8" => d.claim.original_claim_reference = v,
                        b"G1" => d.claim.prior_authorization = v,
                        b"9F" => d.claim.referral_number = v,
                        _ => {}
                    }
                }
            }
            Loop::Line => {
                if let Some(l) = &mut self.line {
                    match q {
                        b"G1" => l.prior_authorization = v,
                        b"6R" => l.control_number = v,
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }

    fn taxonomy(&mut self, seg: &Segment<'_>) {
        let t = opt(seg.element(3));
        match self.at {
            Loop::Billing => self.pending_taxonomy = t,
            Loop::BillingName => {
                if let Some(b) = self.billing.edit() {
                    b.taxonomy = t;
                }
            }
            Loop::ClaimProvider(role) => {
                if let Some(d) = &mut self.draft {
                    let p = &mut d.claim.providers;
                    let slot = match role {
                        Role::Referring => &mut p.referring,
                        Role::Rendering => &mut p.rendering,
                        Role::Attending => &mut p.attending,
                        Role::Operating => &mut p.operating,
                        Role::OtherOperating => &mut p.other_operating,
                        Role::ServiceFacility => &mut p.service_facility,
                        Role::Supervising => &mut p.supervising,
                        Role::Other => return,
                    };
                    if let Some(p) = slot {
                        p.taxonomy = t;
                    }
                }
            }
            Loop::LineRendering => {
                if let Some(r) = self.line.as_mut().and_then(|l| l.rendering.as_mut()) {
                    r.taxonomy = t;
                }
            }
            _ => {}
        }
    }

    fn demographics(&mut self, seg: &Segment<'_>) {
        let raw = seg.element(2);
        let dob = text::date(raw);
        let bad = !raw.is_empty() && dob.is_none();
        let sex = opt(seg.element(3));
        match self.at {
            Loop::SubscriberName => {
                if let Some(s) = self.subscriber.edit() {
                    s.birth_date = dob;
                    s.sex = sex;
                }
                if bad {
                    self.subscriber.problem(
                        seg,
                        "subscriber date of birth (DMG02) is not a real date CCYYMMDD",
                    );
                }
            }
            Loop::PatientName => {
                if let Some(p) = self.patient.edit() {
                    p.birth_date = dob;
                    p.sex = sex;
                }
                if bad {
                    self.patient.problem(
                        seg,
                        "patient date of birth (DMG02) is not a real date CCYYMMDD",
                    );
                }
            }
            _ => {}
        }
    }

    fn sbr(&mut self, seg: &Segment<'_>) {
        if self.at == Loop::Subscriber {
            if let Some(s) = self.subscriber.edit() {
                s.payer_responsibility = own(seg.element(1));
                s.relationship = opt(seg.element(2));
                s.group_number = opt(seg.element(3));
                s.claim_filing_indicator = opt(seg.element(9));
            }
        } else if self.draft.is_some() {
            self.flush_line();
            self.at = Loop::OtherSubscriber;
        }
    }

    fn clm(&mut self, seg: &Segment<'_>, kind: ClaimKind, out: &mut VecDeque<Event>) {
        self.flush_claim(out);
        let mut d = self.new_draft(seg, kind);
        let c = &mut d.claim;
        c.patient_control_number = own(seg.element(1));
        if c.patient_control_number.is_empty() {
            d.problem(seg, "CLM01 patient control number is missing");
        }
        match text::cents(seg.element(2)) {
            Some(cents) => d.claim.total_charge_cents = cents,
            None if seg.element(2).is_empty() => {
                d.problem(seg, "CLM02 total claim charge is missing")
            }
            None => d.problem(seg, "CLM02 total claim charge is not a dollar amount"),
        }
        let c = &mut d.claim;
        c.facility_code = own(seg.component(5, 1));
        c.facility_code_qualifier = own(seg.component(5, 2));
        c.frequency = own(seg.component(5, 3));
        if kind == ClaimKind::Institutional
            && !c.facility_code.is_empty()
            && !c.frequency.is_empty()
        {
            c.type_of_bill = Some(format!("{}{}", c.facility_code, c.frequency).into());
        }
        if d.claim.facility_code.is_empty() {
            d.problem(
                seg,
                match kind {
                    ClaimKind::Professional => "CLM05-1 place of service is missing",
                    ClaimKind::Institutional => "CLM05-1 facility type code is missing",
                },
            );
        }
        if d.claim.frequency.is_empty() {
            d.problem(seg, "CLM05-3 claim frequency code is missing");
        }
        self.draft = Some(d);
        self.at = Loop::Claim;
    }

    /// A claim with the loops it hangs from; problems for any that are missing.
    fn new_draft(&mut self, seg: &Segment<'_>, kind: ClaimKind) -> Draft {
        let mut problems = Vec::new();
        let billing = self.billing.get();
        if billing.is_none() {
            problems.push(problem(
                seg,
                "no billing provider (2010AA NM1*85) before the claim",
            ));
        }
        problems.extend(self.billing.problems.iter().cloned());
        let subscriber = self.subscriber.get();
        match &subscriber {
            None => problems.push(problem(seg, "no subscriber (2000B HL*22) before the claim")),
            Some(s) if s.member_id.is_empty() && self.subscriber.problems.is_empty() => problems
                .push(problem(
                    seg,
                    "no subscriber name and member ID (2010BA NM1*IL) before the claim",
                )),
            Some(_) => {}
        }
        problems.extend(self.subscriber.problems.iter().cloned());
        let payer = self.payer.get();
        if payer.is_none() {
            problems.push(problem(seg, "no payer (2010BB NM1*PR) before the claim"));
        }
        let patient = if self.in_patient_level {
            self.patient.get()
        } else {
            None
        };
        if self.in_patient_level {
            match &patient {
                Some(p) if !p.name.last_or_organization.is_empty() => {}
                _ => problems.push(problem(
                    seg,
                    "no patient name (2010CA NM1*QC) in the patient loop",
                )),
            }
            problems.extend(self.patient.problems.iter().cloned());
        }
        problems.truncate(MAX_PROBLEMS);
        Draft {
            claim: Box::new(Claim {
                source: self.source(),
                position: seg.position(),
                kind,
                patient_control_number: Text::default(),
                total_charge_cents: 0,
                facility_code: Text::default(),
                facility_code_qualifier: Text::default(),
                frequency: Text::default(),
                type_of_bill: None,
                original_claim_reference: None,
                prior_authorization: None,
                referral_number: None,
                billing_provider: billing.unwrap_or_default(),
                pay_to: self.pay_to.get(),
                subscriber: subscriber.unwrap_or_default(),
                payer: payer.unwrap_or_default(),
                patient,
                dates: ClaimDates::default(),
                health_codes: Vec::new(),
                providers: ClaimProviders::default(),
                institutional: None,
                other_payers: Vec::new(),
                lines: Vec::new(),
            }),
            problems,
        }
    }

    /// The open claim, or (for a claim segment before any CLM) a claim that will be
    /// rejected for its missing CLM.
    fn claim_for(&mut self, seg: &Segment<'_>) -> &mut Draft {
        match self.draft {
            Some(ref mut d) => d,
            None => {
                let kind = self.kind.unwrap_or(ClaimKind::Professional);
                let mut d = self.new_draft(seg, kind);
                d.problem(
                    seg,
                    "claim information before any CLM segment (the CLM is missing)",
                );
                self.at = Loop::Claim;
                self.draft.insert(d)
            }
        }
    }

    fn dtp(&mut self, seg: &Segment<'_>) {
        let in_claim = self.in_claim();
        let in_line = self.at == Loop::Line;
        if !in_claim && !in_line {
            return;
        }
        let qualifier = seg.element(1);
        let range = date_range(seg);
        let Some(d) = self.draft.as_mut() else { return };
        let range = match range {
            Ok(r) => r,
            Err(reason) => {
                let q = String::from_utf8_lossy(qualifier).into_owned();
                d.problem(seg, format!("DTP*{q} date {reason}"));
                return;
            }
        };
        if in_line {
            if qualifier == b"472"
                && let Some(l) = &mut self.line
            {
                l.service_date = range;
            }
            return;
        }
        let dates = &mut d.claim.dates;
        let single = range.map(|r| r.from);
        match qualifier {
            b"431" => dates.onset = single,
            b"434" => dates.statement = range,
            b"435" => dates.admission = single,
            b"096" => dates.discharge = single,
            b"472" => dates.service = range,
            b"439" => dates.accident = single,
            _ => {}
        }
    }

    fn hi(&mut self, seg: &Segment<'_>) {
        if self.in_cob() {
            return;
        }
        let d = self.claim_for(seg);
        for n in 1..=seg.element_count().min(24) {
            if seg.element(n).is_empty() || d.claim.health_codes.len() >= MAX_HEALTH_CODES {
                continue;
            }
            d.claim.health_codes.push(HealthCode {
                qualifier: own(seg.component(n, 1)),
                code: own(seg.component(n, 2)),
            });
        }
    }

    fn lx(&mut self, seg: &Segment<'_>) {
        self.claim_for(seg);
        self.flush_line();
        let number = text::lossy(seg.element(1)).parse().unwrap_or(0);
        self.line = Some(ServiceLine {
            position: seg.position(),
            number,
            ..ServiceLine::default()
        });
        self.line_has_service = false;
        self.at = Loop::Line;
    }

    /// The line SV1/SV2 fills (one is started, with a problem, when LX is missing).
    fn line_for(&mut self, seg: &Segment<'_>) -> Option<&mut ServiceLine> {
        if self.line.is_none() || self.line_has_service {
            self.claim_for(seg)
                .problem(seg, "service line without its LX segment");
            self.flush_line();
            self.line = Some(ServiceLine {
                position: seg.position(),
                ..ServiceLine::default()
            });
            self.at = Loop::Line;
        }
        self.line_has_service = true;
        self.line.as_mut()
    }

    fn sv1(&mut self, seg: &Segment<'_>, kind: ClaimKind) {
        let mut problems: Vec<&'static str> = Vec::new();
        if kind != ClaimKind::Professional {
            problems.push("SV1 (professional service) in an institutional claim");
        }
        let procedure = procedure(seg, 1);
        if procedure.is_none() {
            problems.push("SV101 procedure code is missing");
        }
        let charge = text::cents(seg.element(2));
        if charge.is_none() {
            problems.push("SV102 line charge is missing or not a dollar amount");
        }
        let units = seg.element(4);
        if !text::is_decimal(units) {
            problems.push("SV104 service units are missing or not a number");
        }
        let mut pointers = Vec::new();
        for p in seg.components(7).take(4) {
            match text::lossy(p).parse::<u8>() {
                Ok(n @ 1..=12) => pointers.push(n),
                _ => problems.push("SV107 diagnosis pointer is not 1 to 12"),
            }
        }
        let Some(line) = self.line_for(seg) else {
            return;
        };
        line.procedure = procedure;
        line.charge_cents = charge.unwrap_or(0);
        line.unit_basis = opt(seg.element(3));
        line.units = opt(units);
        line.place_of_service = opt(seg.element(5));
        line.diagnosis_pointers = pointers;
        if let Some(d) = &mut self.draft {
            for p in problems {
                d.problem(seg, p);
            }
        }
    }

    fn sv2(&mut self, seg: &Segment<'_>, kind: ClaimKind) {
        let mut problems: Vec<&'static str> = Vec::new();
        if kind != ClaimKind::Institutional {
            problems.push("SV2 (institutional service) in a professional claim");
        }
        let revenue = opt(seg.element(1));
        if revenue.is_none() {
            problems.push("SV201 revenue code is missing");
        }
        let charge = text::cents(seg.element(3));
        if charge.is_none() {
            problems.push("SV203 line charge is missing or not a dollar amount");
        }
        let units = seg.element(5);
        if !units.is_empty() && !text::is_decimal(units) {
            problems.push("SV205 service units are not a number");
        }
        let procedure = procedure(seg, 2);
        let Some(line) = self.line_for(seg) else {
            return;
        };
        line.revenue_code = revenue;
        line.procedure = procedure;
        line.charge_cents = charge.unwrap_or(0);
        line.unit_basis = opt(seg.element(4));
        line.units = opt(units);
        if let Some(d) = &mut self.draft {
            for p in problems {
                d.problem(seg, p);
            }
        }
    }

    fn flush_line(&mut self) {
        let Some(line) = self.line.take() else { return };
        let Some(d) = &mut self.draft else { return };
        if !self.line_has_service {
            d.problem_at(
                line.position,
                "LX".into(),
                "service line has no SV1 or SV2 service segment",
            );
        }
        if d.claim.kind == ClaimKind::Professional
            && line.service_date.is_none()
            && self.line_has_service
        {
            d.problem_at(
                line.position,
                "LX".into(),
                "service line has no service date (DTP*472)",
            );
        }
        if d.claim.lines.len() < MAX_LINES {
            d.claim.lines.push(line);
        } else if d.claim.lines.len() == MAX_LINES {
            d.problem_at(line.position, "LX".into(), "more than 999 service lines");
        }
        self.line_has_service = false;
    }

    fn flush_claim(&mut self, out: &mut VecDeque<Event>) {
        self.flush_line();
        let Some(mut d) = self.draft.take() else {
            return;
        };
        let pos = d.claim.position;
        if d.claim.lines.is_empty() {
            d.problem_at(
                pos,
                "CLM".into(),
                "claim has no service lines (LX with SV1 or SV2)",
            );
        }
        if matches!(d.claim.frequency.as_str(), "7" | "8")
            && d.claim.original_claim_reference.is_none()
        {
            d.problem_at(
                pos,
                "CLM".into(),
                "a replacement (7) or void (8) needs the original claim number (REF*F8)",
            );
        }
        if d.claim.kind == ClaimKind::Institutional && d.claim.dates.statement.is_none() {
            d.problem_at(
                pos,
                "CLM".into(),
                "institutional claim has no statement dates (DTP*434)",
            );
        }
        if matches!(
            self.at,
            Loop::Claim
                | Loop::ClaimProvider(_)
                | Loop::OtherSubscriber
                | Loop::OtherPayer
                | Loop::Line
                | Loop::LineRendering
                | Loop::LineOther
        ) {
            self.at = if self.in_patient_level {
                Loop::Patient
            } else {
                Loop::Subscriber
            };
        }
        out.push_back(if d.problems.is_empty() {
            Event::Claim(d.claim)
        } else {
            Event::ClaimError(ClaimError {
                claim: d.claim,
                problems: d.problems,
            })
        });
    }
}

fn name(seg: &Segment<'_>) -> Name {
    Name {
        person: seg.element(2) == b"1",
        last_or_organization: own(seg.element(3)),
        first: opt(seg.element(4)),
        middle: opt(seg.element(5)),
        suffix: opt(seg.element(7)),
    }
}

fn party(seg: &Segment<'_>) -> Party {
    Party {
        name: name(seg),
        id_qualifier: opt(seg.element(8)),
        id: opt(seg.element(9)),
        address: None,
    }
}

fn provider(seg: &Segment<'_>) -> Provider {
    Provider {
        name: name(seg),
        npi: if seg.element(8) == b"XX" {
            opt(seg.element(9))
        } else {
            None
        },
        tin: None,
        taxonomy: None,
        address: None,
    }
}

/// SV101 / SV202: `HC:99213:25:59`.
fn procedure(seg: &Segment<'_>, n: usize) -> Option<Procedure> {
    let mut parts = seg.components(n);
    let qualifier = own(parts.next()?);
    let code = own(parts.next()?);
    if code.is_empty() {
        return None;
    }
    let modifiers = parts.take(4).filter(|m| !m.is_empty()).map(own).collect();
    Some(Procedure {
        qualifier,
        code,
        modifiers,
    })
}

/// DTP02/DTP03 as a range: `D8` one date, `RD8` from-to, `DT` date and time. Other
/// formats (`TM` a time) carry no date: `Ok(None)`.
fn date_range(seg: &Segment<'_>) -> Result<Option<DateRange>, &'static str> {
    let v = seg.element(3);
    let one = |b: &[u8]| text::date(b).ok_or("is not a real date CCYYMMDD");
    match seg.element(2) {
        b"D8" => {
            let d = one(v)?;
            Ok(Some(DateRange { from: d, to: d }))
        }
        b"RD8" => {
            if v.len() != 17 || v[8] != b'-' {
                return Err("range is not CCYYMMDD-CCYYMMDD");
            }
            let (from, to) = (one(&v[..8])?, one(&v[9..])?);
            if to < from {
                return Err("range ends before it starts");
            }
            Ok(Some(DateRange { from, to }))
        }
        b"DT" => {
            if v.len() != 12 || !text::is_time(&v[8..]) {
                return Err("is not a date and time CCYYMMDDHHMM");
            }
            let d = one(&v[..8])?;
            Ok(Some(DateRange { from: d, to: d }))
        }
        b"" => Err("has no format qualifier (DTP02)"),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use crate::{Event, Parser};

    fn run(body: &str) -> Vec<Event> {
        let isa = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *240101*1200*^*00501*000000001*0*T*:~";
        let data = format!(
            "{isa}GS*HC*S*R*20240101*1200*1*X*005010X222A1~ST*837*0001*005010X222A1~{body}SE*2*0001~GE*1*1~IEA*1*000000001~"
        );
        Parser::from_slice(data.as_bytes())
            .filter_map(Result::ok)
            .collect()
    }

    const HEAD: &str = "BHT*0019*00*REF1*20240101*1200*CH~NM1*41*2*SUB*****46*S1~NM1*40*2*RCV*****46*R1~HL*1**20*1~NM1*85*2*CLINIC*****XX*1234567893~REF*EI*123456789~HL*2*1*22*0~SBR*P*18*G1******CI~NM1*IL*1*DOE*JANE****MI*M123~DMG*D8*19800101*F~NM1*PR*2*PLAN*****PI*P1~";

    fn claims(events: &[Event]) -> Vec<Result<&crate::Claim, &crate::ClaimError>> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::Claim(c) => Some(Ok(&**c)),
                Event::ClaimError(e) => Some(Err(e)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn builds_a_professional_claim() {
        let ev = run(&format!(
            "{HEAD}CLM*PCN1*150.5***11:B:1*Y*A*Y*Y~DTP*431*D8*20231231~REF*G1*AUTH9~HI*ABK:E119*ABF:I10~NM1*82*1*WHO*DR****XX*1234567893~PRV*PE*PXC*207Q00000X~LX*1~SV1*HC:99213:25:59*150.5*UN*1*11**1:2~DTP*472*RD8*20240102-20240103~REF*G1*LINEAUTH~"
        ));
        let c = claims(&ev);
        let c = c[0].as_ref().unwrap();
        assert_eq!(c.patient_control_number, "PCN1");
        assert_eq!(c.total_charge_cents, 15050);
        assert_eq!(
            (c.facility_code.as_str(), c.frequency.as_str()),
            ("11", "1")
        );
        assert_eq!(c.prior_authorization.as_deref(), Some("AUTH9"));
        assert_eq!(c.dates.onset.unwrap(), "2023-12-31");
        assert_eq!(c.principal_diagnosis(), Some("E119"));
        assert_eq!(c.billing_provider.npi.as_deref(), Some("1234567893"));
        assert_eq!(c.billing_provider.tin.as_deref(), Some("123456789"));
        assert_eq!(c.subscriber.member_id, "M123");
        assert_eq!(c.subscriber.birth_date.unwrap(), "1980-01-01");
        assert_eq!(c.payer.id.as_deref(), Some("P1"));
        assert!(c.patient.is_none());
        let r = c.providers.rendering.as_ref().unwrap();
        assert_eq!(
            (r.npi.as_deref(), r.taxonomy.as_deref()),
            (Some("1234567893"), Some("207Q00000X"))
        );
        let l = &c.lines[0];
        let p = l.procedure.as_ref().unwrap();
        assert_eq!(p.code, "99213");
        assert_eq!(p.modifiers, ["25", "59"]);
        assert_eq!(l.diagnosis_pointers, [1, 2]);
        assert_eq!(l.service_date.unwrap().to, "2024-01-03");
        assert_eq!(l.prior_authorization.as_deref(), Some("LINEAUTH"));
        assert_eq!(c.source.reference, "REF1");
        assert_eq!(
            c.source.submitter.as_ref().unwrap().id.as_deref(),
            Some("S1")
        );
    }

    #[test]
    fn a_bad_claim_is_rejected_alone_with_its_positions() {
        let ev = run(&format!(
            "{HEAD}CLM*BAD*12x***11:B:7*Y~DTP*431*D8*20230230~LX*1~SV1*HC:99213*10*UN*1~DTP*472*D8*20240101~CLM*GOOD*10***11:B:1~LX*1~SV1*HC:99213*10*UN*1~DTP*472*D8*20240101~"
        ));
        let c = claims(&ev);
        assert_eq!(c.len(), 2);
        let bad = c[0].as_ref().unwrap_err();
        assert_eq!(bad.claim.patient_control_number, "BAD");
        let reasons: Vec<_> = bad
            .problems
            .iter()
            .map(|p| (p.segment_id.as_str(), p.reason.as_ref(), p.position.in_set))
            .collect();
        assert!(
            reasons.contains(&("CLM", "CLM02 total claim charge is not a dollar amount", 13)),
            "{reasons:?}"
        );
        assert!(
            reasons
                .iter()
                .any(|r| r.0 == "DTP" && r.1.contains("not a real date") && r.2 == 14),
            "{reasons:?}"
        );
        assert!(
            reasons.iter().any(|r| r.1.contains("REF*F8")),
            "{reasons:?}"
        );
        assert_eq!(c[1].as_ref().unwrap().patient_control_number, "GOOD");
    }

    #[test]
    fn the_patient_loop_and_cob_payers_do_not_replace_the_subscriber() {
        let ev = run(&format!(
            "{}HL*3*2*23*0~PAT*19~NM1*QC*1*DOE*KID~DMG*D8*20100101*M~CLM*P2*20***11:B:1~SBR*S*01******CI~NM1*IL*1*OTHER*SUB****MI*X9~NM1*PR*2*OTHER PLAN*****PI*OP~LX*1~SV1*HC:99213*20*UN*1~DTP*472*D8*20240101~",
            HEAD.replace("HL*2*1*22*0~SBR*P*18", "HL*2*1*22*1~SBR*P*")
        ));
        let c = claims(&ev);
        let c = c[0].as_ref().unwrap();
        assert_eq!(c.subscriber.member_id, "M123");
        assert_eq!(c.payer.id.as_deref(), Some("P1"));
        let p = c.patient.as_ref().unwrap();
        assert_eq!(
            (p.relationship.as_str(), p.name.first.as_deref()),
            ("19", Some("KID"))
        );
        assert_eq!(p.birth_date.unwrap(), "2010-01-01");
        assert_eq!(c.other_payers[0].id.as_deref(), Some("OP"));
        assert_eq!(c.lines.len(), 1);
    }

    #[test]
    fn claim_segments_without_a_clm_make_a_rejected_claim() {
        let ev = run(&format!(
            "{HEAD}HI*ABK:E119~LX*1~SV1*HC:99213*10*UN*1~DTP*472*D8*20240101~"
        ));
        let c = claims(&ev);
        let e = c[0].as_ref().unwrap_err();
        assert!(
            e.problems
                .iter()
                .any(|p| p.reason.contains("CLM is missing"))
        );
    }
}

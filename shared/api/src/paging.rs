//! Paged lists: `?limit=&cursor=` in, `{items, next_cursor}` out. Cursors are the
//! store's sealed ones (see `mso_store::CursorKey`): opaque to the client and
//! refused (400) when altered.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use lambda_http::{Request, RequestExt};
use mso_domain::Invalid;
use mso_domain::clock::Deadline;
use mso_domain::dates::parse_date;
use mso_domain::ids::MemberId;
use mso_store::{Query, Record, RecordStore, StoreError};
use serde::Serialize;

use crate::audit::sortable_instant;
use crate::{FieldError, FieldErrors};

/// Items per page unless the client asks otherwise, and at most.
pub const DEFAULT_LIMIT: usize = 25;
pub const MAX_LIMIT: usize = 100;
/// Most records one request reads while filtering, so a sparse filter cannot
/// make one request scan a whole partition; the client continues with the cursor.
pub const MAX_SCANNED: usize = 1_000;

/// What page a client asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: usize,
    pub cursor: Option<String>,
}

impl PageRequest {
    /// Reads `limit` and `cursor` from the query string, recording bad ones.
    pub fn of(req: &Request, errors: &mut FieldErrors) -> Option<PageRequest> {
        let params = req.query_string_parameters_ref();
        let param = |name| params.and_then(|p| p.first(name));
        let limit = match param("limit") {
            None | Some("") => Some(DEFAULT_LIMIT),
            Some(s) => errors.check(
                "limit",
                s.parse::<usize>()
                    .ok()
                    .filter(|n| (1..=MAX_LIMIT).contains(n))
                    .ok_or(Invalid::new(
                        "invalid_limit",
                        "must be a whole number from 1 to 100",
                    )),
            ),
        };
        let cursor = param("cursor").filter(|c| !c.is_empty()).map(String::from);
        Some(PageRequest {
            limit: limit?,
            cursor,
        })
    }
}

/// The filters of a list of records by receipt (prior auths, claims):
/// `member_id`, `status`, and `from`/`to` receipt dates in the IPA's time zone,
/// with the page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceiptFilter<S> {
    pub member_id: Option<MemberId>,
    pub status: Option<S>,
    pub from: Option<Date>,
    pub to: Option<Date>,
    pub page: PageRequest,
}

impl<S> ReceiptFilter<S> {
    /// Reads the query string, naming every bad parameter; `status` parses the
    /// list's own statuses.
    pub fn of(
        req: &Request,
        status: impl FnOnce(&str) -> Result<S, Invalid>,
    ) -> Result<ReceiptFilter<S>, Vec<FieldError>> {
        let params = req.query_string_parameters_ref();
        let param = |name| params.and_then(|p| p.first(name)).filter(|v| !v.is_empty());
        let mut errors = FieldErrors::default();
        let member_id = param("member_id").map(|m| errors.check("member_id", MemberId::parse(m)));
        let status = param("status").map(|s| errors.check("status", status(s)));
        let from = param("from").map(|d| errors.check("from", parse_date(d)));
        let to = param("to").map(|d| errors.check("to", parse_date(d)));
        let page = PageRequest::of(req, &mut errors);
        if let (Some(Some(from)), Some(Some(to))) = (from, to)
            && to < from
        {
            errors.check::<()>(
                "to",
                Err(Invalid::new("before_from", "must not be before from")),
            );
        }
        match page {
            Some(page) if errors.is_empty() => Ok(ReceiptFilter {
                member_id: member_id.flatten(),
                status: status.flatten(),
                from: from.flatten(),
                to: to.flatten(),
                page,
            }),
            _ => Err(errors.into_vec()),
        }
    }

    /// The query of list rows keyed `<received rfc3339>#<id>` in `partition`,
    /// newest first, within the receipt dates.
    pub fn query(&self, partition: String, tz: &TimeZone) -> Query {
        received_between(partition, self.from, self.to, tz).descending()
    }
}

/// List rows keyed `<received rfc3339>#<id>` in `partition` received on the
/// dates `from` to `to` (either end open), in the IPA's time zone `tz`.
fn received_between(
    partition: String,
    from: Option<Date>,
    to: Option<Date>,
    tz: &TimeZone,
) -> Query {
    let from = from
        .and_then(|d| d.to_zoned_datetime(tz.clone()).ok())
        .map(|z| sortable_instant(z.timestamp()))
        .unwrap_or_default();
    let to = match to {
        Some(d) => format!(
            "{}#~",
            sortable_instant(Deadline::end_of_day(d, tz).instant())
        ),
        None => "~".to_string(),
    };
    Query::between(partition, from, to)
}

/// The period of a report (`?from=&to=`, both required, at most 366 days).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReportPeriod {
    pub from: Date,
    pub to: Date,
}

impl ReportPeriod {
    /// Reads `from` and `to`, naming every bad one.
    pub fn of(req: &Request) -> Result<ReportPeriod, Vec<FieldError>> {
        let params = req.query_string_parameters_ref();
        let param = |name| params.and_then(|p| p.first(name)).unwrap_or_default();
        let mut errors = FieldErrors::default();
        let from = errors.check("from", parse_date(param("from")));
        let to = errors.check("to", parse_date(param("to")));
        let (Some(from), Some(to)) = (from, to) else {
            return Err(errors.into_vec());
        };
        let days = from.until(to).map(|s| s.get_days()).unwrap_or(-1);
        if !(0..=366).contains(&days) {
            errors.check::<()>(
                "to",
                Err(Invalid::new(
                    "invalid_period",
                    "must be on or after from, and at most 366 days later",
                )),
            );
            return Err(errors.into_vec());
        }
        Ok(ReportPeriod { from, to })
    }

    /// The list rows of `partition` received in the period, oldest first.
    pub fn query(&self, partition: &str, tz: &TimeZone) -> Query {
        received_between(partition.to_string(), Some(self.from), Some(self.to), tz)
    }
}

/// Every record of `query`, page after page, kept as `keep` maps them (for
/// reports, which must see the whole period).
pub async fn read_all<T>(
    store: &dyn RecordStore,
    query: Query,
    mut keep: impl FnMut(Record) -> Option<T>,
) -> Result<Vec<T>, StoreError> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .query(query.clone().limit(1_000).after(cursor.take()))
            .await?;
        out.extend(page.records.into_iter().filter_map(&mut keep));
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(out),
        }
    }
}

/// The answer to a cursor that is not one of the list's (altered, or of another
/// query): 400, start again without it.
pub fn invalid_cursor() -> crate::Problem {
    crate::Problem::invalid_request(vec![FieldError {
        field: "cursor".into(),
        code: "invalid_cursor".into(),
        message: "is not a cursor of this list; start again without it".into(),
    }])
}

/// One page of a list.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Listing<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Reads `query` from the requested position, keeping what `keep` maps to an
/// item, until the page is full, the records run out, or [`MAX_SCANNED`]
/// records were read (then the page may be short, with a cursor to go on).
/// Every store page asks for no more than the items still missing, so the
/// cursor never skips a record that was read but not returned.
pub async fn collect<T>(
    store: &dyn RecordStore,
    query: Query,
    page: &PageRequest,
    mut keep: impl FnMut(Record) -> Option<T>,
) -> Result<Listing<T>, StoreError> {
    let mut items = Vec::with_capacity(page.limit);
    let mut cursor = page.cursor.clone();
    let mut scanned = 0;
    loop {
        let wanted = page.limit - items.len();
        let result = store
            .query(query.clone().limit(wanted).after(cursor.take()))
            .await?;
        scanned += result.records.len();
        items.extend(result.records.into_iter().filter_map(&mut keep));
        match result.next {
            Some(next) if items.len() < page.limit && scanned < MAX_SCANNED => cursor = Some(next),
            next => {
                return Ok(Listing {
                    items,
                    next_cursor: next,
                });
            }
        }
    }
}

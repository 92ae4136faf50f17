//! Mapping SDK errors onto [`StoreError`], keeping the SDK error as the source.

use std::error::Error;

// Every SDK crate re-exports the same smithy types; naming them through one crate
// keeps this helper usable by all three adapters.
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

use crate::StoreError;

/// Error codes that mean "try again later" on DynamoDB, S3 or SQS.
const RETRYABLE_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "SlowDown",
    "InternalServerError",
    "InternalError",
    "InternalFailure",
    "ServiceUnavailable",
    "TransactionConflictException",
    "TransactionInProgressException",
    "RequestTimeout",
    "RequestTimeoutException",
    // S3: a conditional write met another write to the same key in flight.
    "ConditionalRequestConflict",
];

pub(crate) fn is_retryable_code(code: Option<&str>) -> bool {
    code.is_some_and(|code| RETRYABLE_CODES.contains(&code))
}

/// `Unavailable` for timeouts, connection failures, throttling and 5xx; `Backend`
/// for everything else.
pub(crate) fn classify<E>(context: &'static str, err: SdkError<E, HttpResponse>) -> StoreError
where
    E: ProvideErrorMetadata + Error + Send + Sync + 'static,
{
    let retryable = match &err {
        SdkError::TimeoutError(_) | SdkError::ResponseError(_) => true,
        // A request the client itself could not build or send as configured
        // (bad endpoint, missing credentials) will not heal by itself.
        SdkError::DispatchFailure(failure) => !failure.is_user(),
        SdkError::ServiceError(service) => {
            service.raw().status().as_u16() >= 500
                || service.raw().status().as_u16() == 429
                || is_retryable_code(err.code())
        }
        _ => false,
    };
    if retryable {
        StoreError::unavailable(context, err)
    } else {
        StoreError::backend(context, err)
    }
}
